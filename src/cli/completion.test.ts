import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { commandTree } from './main.js';
import { renderBashCompletion, renderZshCompletion, specFromCommand, type CmdSpec } from './completion.js';

// contrib/completion/ is generated from main.ts. After changing a command or option, rebuild and run
//   node scripts/generate-docs.mjs
const spec = specFromCommand(commandTree());
const committed = (name: string): string => readFileSync(new URL(`../../../contrib/completion/${name}`, import.meta.url), 'utf8');

function all(s: CmdSpec, path: string[] = []): { path: string[]; spec: CmdSpec }[] {
  return [{ path, spec: s }, ...s.subcommands.flatMap((c) => all(c, [...path, c.name]))];
}

test('contrib/completion/tgetty.bash and _tgetty are what main.ts generates (no drift)', () => {
  assert.equal(committed('tgetty.bash'), renderBashCompletion(spec));
  assert.equal(committed('_tgetty'), renderZshCompletion(spec));
});

test('the spec has every subcommand and option of the CLI', () => {
  const names = spec.subcommands.map((c) => c.name);
  for (const c of ['serve', 'status', 'reload', 'calls', 'config', 'sim', 'demo', 'version']) assert.ok(names.includes(c), c);
  assert.deepEqual(spec.subcommands.find((c) => c.name === 'config')?.subcommands.map((c) => c.name), ['check']);
  assert.equal(spec.tty, true);
  const serve = spec.subcommands.find((c) => c.name === 'serve');
  assert.ok(serve);
  assert.deepEqual(serve.options.find((o) => o.flags.includes('--metrics-port'))?.arg, 'port');
  assert.equal(serve.options.find((o) => o.flags.includes('--no-records'))?.arg, undefined);
  assert.deepEqual(serve.options.find((o) => o.flags.includes('--help'))?.flags, ['-h', '--help']);
});

test('both scripts name every command path and every option of it', () => {
  const bash = renderBashCompletion(spec);
  const zsh = renderZshCompletion(spec);
  for (const n of all(spec)) {
    const path = n.path.map((p) => `/${p}`).join('');
    const line = bash.split('\n').find((l) => l.startsWith(`    '${path}')`));
    assert.ok(line !== undefined, `bash: ${path}`);
    const fn = `_tgetty${n.path.map((p) => `__${p}`).join('')}() {`;
    const body = zsh.slice(zsh.indexOf(fn), zsh.indexOf('\n}\n', zsh.indexOf(fn)));
    assert.ok(zsh.includes(fn), `zsh: ${fn}`);
    for (const o of n.spec.options) {
      for (const f of o.flags) {
        assert.match(line, new RegExp(`_tgetty_o='[^']*(?<=[' ])${f}(?=[' ])`), `bash ${path} ${f}`);
        assert.ok(body.includes(`'${f}[`) || body.includes(`{${o.flags.join(',')}}`), `zsh ${path} ${f}`);
      }
      if (o.arg !== undefined) for (const f of o.flags) assert.match(line, new RegExp(`_tgetty_a='[^']*(?<=[' ])${f}(?=[' ])`), `bash arg ${f}`);
    }
    for (const c of n.spec.subcommands) assert.ok(body.includes(`\n        ${c.name}) `), `zsh ${path} -> ${c.name}`);
  }
});

test("zsh descriptions cannot break out of their quotes or brackets", () => {
  const zsh = renderZshCompletion({
    name: 't', description: '', tty: false, subcommands: [],
    options: [{ flags: ['--x'], arg: 'dir', description: "it's [a]: b\\c" }],
  });
  assert.ok(zsh.includes("'--x[it'\\''s \\[a\\]\\: b\\\\c]:dir:_files -/'"), zsh);
});
