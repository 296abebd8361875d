import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { DIAGRAM_BEGIN, DIAGRAM_END, diagramBlock, exploreMachine, extractDiagramBlock, machineDiagram, spliceDiagram } from './diagram.js';
import { STATE_NAMES } from './machine.js';

// docs/architecture.md embeds the generated diagram between the marker comments. After
// changing src/session/machine.ts, rebuild and regenerate it in place:
//   npx tsc -p tsconfig.json && node -e "import('./dist/src/session/diagram.js').then(m=>{const f='docs/architecture.md',fs=require('fs');fs.writeFileSync(f,m.spliceDiagram(fs.readFileSync(f,'utf8')))})"
test('docs/architecture.md holds exactly the generated state diagram (no drift)', () => {
  const doc = readFileSync(new URL('../../../docs/architecture.md', import.meta.url), 'utf8');
  const block = extractDiagramBlock(doc);
  assert.notEqual(block, undefined, `${DIAGRAM_BEGIN} ... ${DIAGRAM_END} missing in docs/architecture.md`);
  assert.equal(block, diagramBlock());
  assert.equal(spliceDiagram(doc), doc);
});

test('the exploration reaches every state of the machine', () => {
  // No state is unreachable: wait-dsr needs need-dsr, post-init statistics/post-init
  // chats, nologin and nologin-refuse the nologin file, dialout a foreign lock.
  const { reached } = exploreMachine();
  assert.deepEqual([...reached].sort(), [...STATE_NAMES].sort());
  const text = machineDiagram();
  for (const s of STATE_NAMES) assert.ok(text.includes(` ${s.replace(/-/g, '_')}`), s);
});

test('the diagram carries the key edges of the call flow', () => {
  const edges = new Map(exploreMachine().edges.map((e) => [`${e.from} -> ${e.to}`, e.inputs]));
  const has = (from: string, to: string, input: string): void => {
    assert.ok(edges.get(`${from} -> ${to}`)?.includes(input), `${from} --${input}--> ${to}`);
  };
  has('starting', 'init', 'opened');
  has('starting', 'reset', 'opened'); // direct line: no init chat
  has('init', 'force-init', 'chat-failed');
  has('init', 'wait-dsr', 'chat-failed');
  has('reset', 'idle', 'quiet-done');
  has('idle', 'ringing', 'activity');
  has('idle', 'dialout', 'lock-held');
  has('dialout', 'starting', 'lock-free');
  has('ringing', 'screening', 'ring');
  has('ringing', 'nologin', 'lock-free');
  has('nologin', 'nologin-refuse', 'modem-line');
  has('screening', 'answering', 'screened');
  has('screening', 'reset', 'screened');
  has('answering', 'connected', 'chat-ok');
  has('idle', 'ended', 'signal');
  // Ignored inputs (e.g. SIGHUP while idle, Q28) are not drawn as self-loops.
  assert.equal(edges.has('idle -> idle'), false);
  // The end states are final: the runner stops there.
  for (const key of edges.keys()) assert.ok(!key.startsWith('connected ->') && !key.startsWith('ended ->'), key);
});

test('the diagram is deterministic and valid Mermaid state syntax', () => {
  const a = machineDiagram();
  assert.equal(machineDiagram(), a);
  const lines = a.trimEnd().split('\n');
  assert.equal(lines[0], 'stateDiagram-v2');
  for (const l of lines.slice(1)) {
    assert.match(l, /^ {4}(state "[a-z-]+" as [a-z_]+|\[\*\] --> [a-z_]+|[a-z_]+ --> \[\*\]|[a-z_]+ --> [a-z_]+: [a-z-]+(, [a-z-]+)*)$/, l);
  }
});

test('spliceDiagram replaces only the text between the markers', () => {
  const md = `# T\n\nbefore\n${DIAGRAM_BEGIN}\nold\n${DIAGRAM_END}\nafter\n`;
  const out = spliceDiagram(md);
  assert.ok(out.startsWith(`# T\n\nbefore\n${DIAGRAM_BEGIN}\n\`\`\`mermaid\nstateDiagram-v2\n`));
  assert.ok(out.endsWith(`\`\`\`\n${DIAGRAM_END}\nafter\n`));
  assert.equal(spliceDiagram(out), out);
  assert.throws(() => spliceDiagram('# no markers\n'), { name: 'TgettyError', code: 'INTERNAL' });
});
