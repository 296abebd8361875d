import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SEND_PAUSE_MS, SEND_PRE_DELAY_MS, expandSend, sendBytes, sendDelayMs, type SendOp } from './send.js';
import { DEFAULT_FORCE_INIT_CHAT } from './script.js';
import { bytes, text } from '../modem/chunks.js';

/**
 * Test-only stand-in for the config layer's chat splitter (spec §6.1; the real one is
 * in src/config): quotes toggle, blanks split, \r \n \t \\ \" resolved, any other
 * backslash pair kept. Input is already whitespace-folded.
 */
function splitChat(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let started = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charAt(i);
    if (c === '"') {
      quoted = !quoted;
      started = true;
    } else if (c === ' ' && !quoted) {
      if (started) out.push(cur);
      cur = '';
      started = false;
    } else if (c === '\\' && i + 1 < value.length) {
      const n = value.charAt(++i);
      const map: Record<string, string> = { r: '\r', n: '\n', t: '\t', '\\': '\\', '"': '"' };
      cur += map[n] ?? `\\${n}`;
      started = true;
    } else {
      cur += c;
      started = true;
    }
  }
  if (started) out.push(cur);
  return out;
}

/** A readable rendering of ops: `+50ms`, bytes as text. */
function show(ops: readonly SendOp[]): string[] {
  return ops.map((o) => (o.kind === 'delay' ? `+${o.ms}ms` : text(o.data)));
}

test('the test splitter does what §6.1 says (sanity)', () => {
  assert.deepEqual(splitChat('"" AT\\\\Q3 OK "AT Y" AT\\ OK'), ['', 'AT\\Q3', 'OK', 'AT Y', 'AT\\ OK']);
});

test('§6.3 observed init-chat: every send element expands as mgetty sent it', () => {
  const chat = splitChat('"" AT\\\\\\\\Q3 OK AT\\d\\dX\\\\r OK "AT Y" OK ATT\\t\\"z\\" OK ATP\\pQ OK \\\\dATD OK ATNOCR\\c "" ATE OK');
  const sends = chat.filter((_, i) => i % 2 === 1);
  assert.deepEqual(
    sends.map((e) => show(expandSend(e).ops)),
    [
      ['+50ms', 'AT\\Q3\r'],
      ['+50ms', 'AT', '+500ms', '+500ms', 'Xr\r'],
      ['+50ms', 'AT Y\r'],
      ['+50ms', 'ATT\t"z"\r'],
      ['+50ms', 'ATPpQ\r'],
      ['+50ms', '+500ms', 'ATD\r'],
      ['+50ms', 'ATNOCR'],
      ['+50ms', 'ATE\r'],
    ],
  );
  for (const e of sends) assert.deepEqual(expandSend(e).diagnostics, []);
});

test('an empty element sends just CR after the 50 ms pause', () => {
  assert.deepEqual(show(expandSend('').ops), ['+50ms', '\r']);
});

test('\\c anywhere suppresses the CR; \\c alone sends nothing', () => {
  assert.deepEqual(show(expandSend('A\\cB').ops), ['+50ms', 'AB']);
  assert.deepEqual(show(expandSend('\\c').ops), ['+50ms']);
});

test('Q8: \\x sends x for any other character (no \\p pause, \\r is a plain r here)', () => {
  assert.equal(text(sendBytes(expandSend('\\p\\r\\n\\\\\\ ').ops)), 'prn\\ \r');
});

test('Q8 (deliberate difference): a lone trailing backslash sends nothing and is reported', () => {
  const plan = expandSend('ATZ\\');
  assert.deepEqual(show(plan.ops), ['+50ms', 'ATZ\r']);
  assert.equal(plan.diagnostics.length, 1);
  assert.equal(plan.diagnostics[0]?.code, 'CHAT_SYNTAX');
  assert.equal(plan.diagnostics[0]?.element, 'ATZ\\');
  assert.match(plan.diagnostics[0]?.message ?? '', /lone backslash/);
  // an escaped backslash at the end is fine
  assert.deepEqual(expandSend('ATZ\\\\').diagnostics, []);
});

test('force-init-chat: DLE ETX at 0.55 s, +++ 1.5 s later, CR 1.5 s later, ATQ0V1H0 CR 0.5 s later', () => {
  const ops = expandSend(DEFAULT_FORCE_INIT_CHAT[1] ?? '').ops;
  const timeline: [number, string][] = [];
  let t = 0;
  for (const o of ops) {
    if (o.kind === 'delay') t += o.ms;
    else timeline.push([t, text(o.data)]);
  }
  assert.deepEqual(timeline, [
    [550, '\x10\x03'],
    [2050, '+++'],
    [3550, '\r'],
    [4050, 'ATQ0V1H0\r'],
  ]);
});

test('sendBytes / sendDelayMs sum up the ops', () => {
  const ops = expandSend('\\dAT\\dZ').ops;
  assert.deepEqual(sendBytes(ops), bytes('ATZ\r'));
  assert.equal(sendDelayMs(ops), SEND_PRE_DELAY_MS + 2 * SEND_PAUSE_MS);
});

test('property: any element expands without throwing; pre-delay first; output no longer than input + CR', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('\\', 'd', 'c', 'A', 'T', '\r', ' ', '\x00', '\xff'), maxLength: 60 }), (el) => {
      const plan = expandSend(el);
      assert.deepEqual(plan.ops[0], { kind: 'delay', ms: SEND_PRE_DELAY_MS });
      assert.ok(sendBytes(plan.ops).length <= el.length + 1);
      assert.equal(plan.diagnostics.length > 0, /(^|[^\\])(\\\\)*\\$/.test(el));
      for (const o of plan.ops) if (o.kind === 'bytes') assert.ok(o.data.length > 0);
    }),
  );
});
