// Fuzz: the chat interpreter with random scripts, input and runner actions in any order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chunk, cutPoints, fuzzParams, latin1String, protocolBytes } from '../../test/helpers/fuzz.js';
import { ANSWER_ABORTS, ChatScript, type ChatAction, type ChatStep } from './script.js';

const ELEMENTS = ['', 'OK', 'AT', 'ATZ', 'CONNECT', '\\c', '\n', 'RING', 'ATA', '\\dAT\\d', 'ERROR', 'AT\\', 'K', 'O'];
const script = fc.array(fc.constantFrom(...ELEMENTS), { maxLength: 9 });

type Action = { kind: 'feed'; data: Uint8Array } | { kind: 'sent' } | { kind: 'timeout' } | { kind: 'ring' };
const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: protocolBytes({ maxParts: 8, words: ELEMENTS }).map((data) => ({ kind: 'feed' as const, data })), weight: 4 },
  { arbitrary: fc.constant({ kind: 'sent' as const }), weight: 3 },
  { arbitrary: fc.constant({ kind: 'timeout' as const }), weight: 1 },
  { arbitrary: fc.constant({ kind: 'ring' as const }), weight: 1 },
);

const terminal = (s: ChatStep<ChatAction>): boolean => s.kind === 'done' || s.kind === 'failed';
const indexOf = (s: ChatStep<ChatAction>, n: number): number => (s.kind === 'done' ? n : s.index);

test('fuzz: any script, any runner actions in any order: no throw, steps only move forward, the end is final', () => {
  fc.assert(
    fc.property(script, fc.array(action, { maxLength: 20 }), (elements, actions) => {
      const s = new ChatScript<ChatAction>(elements, { aborts: ANSWER_ABORTS, timeoutMs: 1000 });
      let step = s.start().step;
      let fed = 0;
      for (const a of actions) {
        const u =
          a.kind === 'feed' ? s.feed(a.data) : a.kind === 'sent' ? s.sent() : a.kind === 'timeout' ? s.timeout() : s.virtualRing();
        if (a.kind === 'feed') fed += a.data.length;
        if (terminal(step)) assert.deepEqual(u.step, step, 'a finished chat stays finished');
        assert.ok(indexOf(u.step, elements.length) >= indexOf(step, elements.length), 'steps never go back');
        for (const f of u.found) assert.ok(elements.includes(f) && f !== '');
        if (u.step.kind === 'expect') assert.ok(u.step.index % 2 === 0 && u.step.text === elements[u.step.index] && u.step.text !== '');
        if (u.step.kind === 'send') assert.ok(u.step.index % 2 === 1 && u.step.element === elements[u.step.index]);
        const st = u.step;
        if (st.kind === 'failed' && st.reason === 'abort') assert.ok(ANSWER_ABORTS.some((r) => r.text === st.abortText));
        step = u.step;
        assert.deepEqual(s.step, step);
      }
      assert.ok(s.leftover().length <= fed);
      assert.ok(s.partialLine.length <= 512);
    }),
    fuzzParams(1000),
  );
});

/** A runner that performs each send at once: feed chunks, call sent() whenever the step is a send. */
function drive(elements: string[], chunks: Uint8Array[]): unknown {
  const s = new ChatScript<ChatAction>(elements, { aborts: ANSWER_ABORTS, timeoutMs: 1000 });
  // One update reports lines and found expects separately, so compare each sequence on its own.
  const trace: unknown[] = [];
  const lines: string[] = [];
  const note = (u: ReturnType<ChatScript<ChatAction>['start']>): void => {
    trace.push(...u.found.map((f) => ['found', f]));
    lines.push(...u.lines.map((l) => l.text));
    if (u.step.kind === 'send') trace.push(['send', u.step.index]);
  };
  let u = s.start();
  note(u);
  const flushSends = (): void => {
    while (s.step.kind === 'send') {
      u = s.sent();
      note(u);
    }
  };
  flushSends();
  // Once the chat is over the runner reads no more: later input stays unread, after the leftover.
  let unread = '';
  for (const c of chunks) {
    if (terminal(s.step)) {
      unread += latin1String(c);
      continue;
    }
    note(s.feed(c));
    flushSends();
  }
  return { trace, lines, end: s.step, unread: latin1String(s.leftover()) + unread };
}

test('fuzz: random scripts: the trace, outcome and leftover do not depend on how input is cut', () => {
  fc.assert(
    fc.property(script, protocolBytes({ maxParts: 40, words: ELEMENTS }), cutPoints(300), (elements, data, cuts) => {
      assert.deepEqual(drive(elements, chunk(data, cuts)), drive(elements, [data]));
    }),
    fuzzParams(500, 0.5),
  );
});

test('bounded: input during a long send is kept up to 64 KiB, the excess counted', () => {
  const s = new ChatScript<ChatAction>(['', 'AT', 'OK'], { timeoutMs: 1000 });
  assert.equal(s.start().step.kind, 'send');
  let fed = 0;
  for (let i = 0; i < 64; i++) {
    const c = new Uint8Array(4096).fill(0x41 + (i % 26));
    s.feed(c);
    fed += c.length;
    assert.ok(s.leftover().length <= 65_536);
  }
  assert.equal(s.leftover().length + s.droppedBytes, fed);
});
