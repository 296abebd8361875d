import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  ANSWER_ABORTS,
  ChatScript,
  DEFAULT_ANSWER_CHAT,
  DEFAULT_ANSWER_CHAT_TIMEOUT_MS,
  DEFAULT_INIT_CHAT,
  INIT_ABORTS,
  INIT_CHAT_TIMEOUT_MS,
  type ChatAction,
  type ChatStep,
} from './script.js';
import { sendBytes } from './send.js';
import { applyCallerIdLine, newCallData } from '../modem/callerid.js';
import { bytes, cutAt, everyChunking, text } from '../modem/chunks.js';

interface Trace {
  /** What happened, in order: `send:<bytes>` / `found:<expect>`. */
  trace: string[];
  lines: string[];
  final: ChatStep<ChatAction>;
  leftover: string;
}

/**
 * A minimal runner: performs sends (records their bytes), feeds the next input chunk
 * during an expect, and calls timeout() when the input is used up.
 */
function drive(script: ChatScript, chunks: Uint8Array[]): Trace {
  const trace: string[] = [];
  const lines: string[] = [];
  let queue = [...chunks];
  let u = script.start();
  for (let guard = 0; guard < 10_000; guard++) {
    lines.push(...u.lines.map((l) => l.text));
    trace.push(...u.found.map((f) => `found:${f}`));
    const s = u.step;
    if (s.kind === 'done' || s.kind === 'failed') return { trace, lines, final: s, leftover: text(script.leftover()) + queue.map(text).join('') };
    if (s.kind === 'send') {
      trace.push(`send:${text(sendBytes(s.ops))}`);
      u = script.sent();
    } else if (queue.length > 0) {
      const [c, ...more] = queue;
      queue = more;
      u = script.feed(c ?? new Uint8Array(0));
    } else u = script.timeout();
  }
  throw new Error('runner loop did not end');
}

const answer = (): ChatScript => new ChatScript(DEFAULT_ANSWER_CHAT, { aborts: ANSWER_ABORTS, timeoutMs: DEFAULT_ANSWER_CHAT_TIMEOUT_MS });
const init = (): ChatScript => new ChatScript(DEFAULT_INIT_CHAT, { aborts: INIT_ABORTS, timeoutMs: INIT_CHAT_TIMEOUT_MS });

test('answer-chat: ATA, CONNECT, then the whole CONNECT line is read (every split)', () => {
  const input = bytes('ATA\r\r\nCONNECT 33600/ARQ\r\nlogin data');
  for (const chunks of everyChunking(input)) {
    const t = drive(answer(), chunks);
    assert.deepEqual(t.final, { kind: 'done' });
    assert.deepEqual(t.trace, ['send:ATA\r', 'found:CONNECT', 'send:', 'found:\n']);
    assert.deepEqual(t.lines, ['ATA', 'CONNECT 33600/ARQ']);
    const d = newCallData();
    for (const l of t.lines) applyCallerIdLine(d, l);
    assert.equal(d.connect, '33600/ARQ');
    assert.equal(t.leftover, 'login data');
  }
});

test('answer-chat: NO CARRIER fails, FAX means fax (every split)', () => {
  for (const chunks of everyChunking(bytes('ATA\r\r\nNO CARRIER\r\n'))) {
    const t = drive(answer(), chunks);
    assert.deepEqual(t.final, { kind: 'failed', reason: 'abort', action: 'fail', abortText: 'NO CARRIER', expect: 'CONNECT', index: 2 });
    assert.equal(t.leftover, '\r\n');
  }
  for (const chunks of everyChunking(bytes('ATA\r\r\n+FCON\r\n'))) {
    const t = drive(answer(), chunks);
    assert.ok(t.final.kind === 'failed' && t.final.action === 'fax');
  }
});

test('answer-chat: silence is a timeout on CONNECT', () => {
  const t = drive(answer(), []);
  assert.deepEqual(t.final, { kind: 'failed', reason: 'timeout', expect: 'CONNECT', index: 2 });
});

test('init-chat (Debian): pause then ATQ0V1H0, OK, AT, OK; expects carry the chat timeout', () => {
  const s = init();
  const first = s.start().step;
  assert.equal(first.kind, 'send');
  if (first.kind === 'send') assert.deepEqual(first.ops, [{ kind: 'delay', ms: 50 }, { kind: 'delay', ms: 500 }, { kind: 'bytes', data: bytes('ATQ0V1H0\r') }]);
  const e = s.sent().step;
  assert.deepEqual(e, { kind: 'expect', index: 2, text: 'OK', timeoutMs: 20_000 });
  for (const chunks of everyChunking(bytes('ATQ0V1H0\r\r\nOK\r\nAT\r\r\nOK\r\n'))) {
    const t = drive(init(), chunks);
    assert.deepEqual(t.final, { kind: 'done' });
    assert.deepEqual(t.trace, ['send:ATQ0V1H0\r', 'found:OK', 'send:AT\r', 'found:OK']);
    assert.equal(t.leftover, '\r\n');
  }
});

test('init-chat: ERROR aborts', () => {
  const t = drive(init(), [bytes('ATQ0V1H0\r\r\nERROR\r\n')]);
  assert.ok(t.final.kind === 'failed' && t.final.reason === 'abort' && t.final.abortText === 'ERROR');
});

test('a chat ending in a send just sends; an empty chat is done at once', () => {
  const t = drive(new ChatScript(['', 'ATZ'], { timeoutMs: 1000 }), []);
  assert.deepEqual(t.trace, ['send:ATZ\r']);
  assert.deepEqual(t.final, { kind: 'done' });
  assert.deepEqual(new ChatScript([], { timeoutMs: 1000 }).start().step, { kind: 'done' });
  assert.deepEqual(new ChatScript([''], { timeoutMs: 1000 }).start().step, { kind: 'done' });
});

test('a chat starting with a real expect waits before sending', () => {
  const t = drive(new ChatScript(['RING', 'ATA'], { timeoutMs: 1000 }), [bytes('\r\nRI'), bytes('NG\r\n')]);
  assert.deepEqual(t.trace, ['found:RING', 'send:ATA\r']);
  assert.deepEqual(t.lines, []);
  assert.equal(t.leftover, '\r\n');
});

test('bytes arriving during a send are kept for the next expect', () => {
  const s = new ChatScript(['', 'AT', 'OK'], { timeoutMs: 1000 });
  assert.equal(s.start().step.kind, 'send');
  s.feed(bytes('AT\r\r\nOK\r\n'));
  const u = s.sent();
  assert.deepEqual(u.step, { kind: 'done' });
  assert.deepEqual(
    u.lines.map((l) => l.text),
    ['AT'],
  );
  assert.equal(text(s.leftover()), '\r\n');
});

test('each new step is a new object (the runner re-arms its timer on change), a pending one is the same', () => {
  const s = new ChatScript(['OK', 'A', 'OK'], { timeoutMs: 5 });
  const a = s.start().step;
  assert.equal(s.feed(bytes('O')).step, a);
  const send = s.feed(bytes('K')).step;
  assert.equal(send.kind, 'send');
  const b = s.sent().step;
  assert.ok(b.kind === 'expect' && b !== a && b.index === 2);
  assert.deepEqual(s.virtualRing().step, b, 'SIGUSR1 only completes RING expects');
  assert.ok(s.timeout().step.kind === 'failed');
  assert.equal(s.sent().step.kind, 'failed', 'calls after the end change nothing');
});

test('virtual RING completes an expect for RING', () => {
  const s = new ChatScript(['RING', 'ATA'], { timeoutMs: 5 });
  s.start();
  assert.equal(s.virtualRing().step.kind, 'send');
});

test('send diagnostics reach the runner', () => {
  const s = new ChatScript(['', 'AT\\'], { timeoutMs: 5 });
  const st = s.start().step;
  assert.ok(st.kind === 'send' && st.diagnostics.length === 1);
});

test('step before start() is a programming error', () => {
  assert.throws(() => new ChatScript([], { timeoutMs: 1 }).step, /start/);
});

test('property: any input, any chunking: same trace and outcome; leftover bounded by the input', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom('A', 'T', 'O', 'K', 'E', '\r', '\n', ' ', 'X', 'OK', 'CONNECT', 'NO CARRIER', 'FAX', 'ATE'), { maxLength: 100 }).map((a) => a.join('')),
      fc.array(fc.nat({ max: 700 })),
      (input, cuts) => {
        const data = bytes(input);
        const chat = ['', 'AT', 'OK', 'ATE', 'CONNECT', '\\c', '\n'];
        const whole = drive(new ChatScript(chat, { aborts: ANSWER_ABORTS, timeoutMs: 5 }), [data]);
        const cut = drive(new ChatScript(chat, { aborts: ANSWER_ABORTS, timeoutMs: 5 }), cutAt(data, cuts));
        assert.deepEqual(cut, whole);
        assert.ok(whole.leftover.length <= data.length);
      },
    ),
  );
});
