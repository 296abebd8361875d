// Fuzz: the incremental EXPECT matcher: reference model on short input, chunking invariance, bounded buffer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytewise, chunk, cutPoints, feedGarbage, fuzzParams, heapAllowance, latin1String, protocolBytes } from '../../test/helpers/fuzz.js';
import { EXPECT_BUFFER_BYTES, ExpectMatcher, type AbortRule, type ExpectState } from './expect.js';
import type { ModemLine } from '../modem/lines.js';

const ABORTS: AbortRule<string>[] = [
  { text: 'NO CARRIER', action: 'fail' },
  { text: 'BUSY', action: 'fail' },
  { text: 'FAX', action: 'fax' },
  { text: '', action: 'never' },
];
const EXPECTS = ['OK', 'CONNECT', '\n', 'RING', 'K\r', 'ERROR', 'O', 'NO CARRIER'];

interface Played {
  state: ExpectState<string>;
  lines: ModemLine[];
  tail: string;
}

function play(expect: string, chunks: Uint8Array[]): Played {
  const m = new ExpectMatcher(expect, ABORTS);
  const lines: ModemLine[] = [];
  let tail = '';
  for (const c of chunks) {
    const r = m.feed(c);
    lines.push(...r.lines);
    if (r.state.status !== 'pending') tail += latin1String(r.rest);
    else assert.equal(r.rest.length, 0);
    assert.ok(m.buffered < EXPECT_BUFFER_BYTES);
  }
  return { state: m.state, lines, tail };
}

/** §6.2 restated for input shorter than the buffer: after each byte, expect first, then each abort in order. */
function reference(expect: string, data: string): { state: ExpectState<string>; consumed: number } {
  if (expect === '') return { state: { status: 'found' }, consumed: 0 };
  for (let i = 1; i <= data.length; i++) {
    const seen = data.slice(0, i);
    if (seen.endsWith(expect)) return { state: { status: 'found' }, consumed: i };
    const a = ABORTS.find((x) => x.text !== '' && seen.endsWith(x.text));
    if (a !== undefined) return { state: { status: 'abort', action: a.action, text: a.text }, consumed: i };
  }
  return { state: { status: 'pending' }, consumed: data.length };
}

test('fuzz: ExpectMatcher equals the reference, at any chunking (input under the buffer size)', () => {
  fc.assert(
    fc.property(fc.constantFrom(...EXPECTS, ''), protocolBytes({ maxParts: 30, words: EXPECTS }), cutPoints(250), (expect, raw, cuts) => {
      const data = raw.subarray(0, EXPECT_BUFFER_BYTES / 2);
      const ref = reference(expect, latin1String(data));
      const whole = play(expect, [data]);
      assert.deepEqual(whole.state, ref.state);
      if (expect !== '') assert.equal(whole.tail, latin1String(data.subarray(ref.consumed)));
      assert.deepEqual(play(expect, chunk(data, cuts)), whole);
    }),
    fuzzParams(1000),
  );
});

test('fuzz: long input: chunking and byte-by-byte feeding change nothing; buffer stays bounded', () => {
  fc.assert(
    fc.property(fc.constantFrom(...EXPECTS), protocolBytes({ maxParts: 400, words: EXPECTS }), cutPoints(3000), (expect, data, cuts) => {
      const whole = play(expect, [data]);
      assert.deepEqual(play(expect, chunk(data, cuts)), whole);
      assert.deepEqual(play(expect, bytewise(data)), whole);
    }),
    fuzzParams(200, 0.05),
  );
});

test('fuzz: timeout and virtual RING only end a pending expect', () => {
  fc.assert(
    fc.property(fc.constantFrom(...EXPECTS, 'RING 2', ''), protocolBytes({ maxParts: 10 }), fc.boolean(), (expect, data, ring) => {
      const m = new ExpectMatcher(expect, ABORTS);
      const before = m.feed(data).state;
      const after = ring ? m.virtualRing() : m.timeout();
      if (before.status !== 'pending') assert.deepEqual(after, before);
      else if (ring) assert.equal(after.status, expect.startsWith('RING') ? 'found' : 'pending');
      else assert.equal(after.status, 'timeout');
    }),
    fuzzParams(300, 0.05),
  );
});

test('bounded: 10 MB that never matches keeps the buffer under EXPECT_BUFFER_BYTES', () => {
  const m = new ExpectMatcher('\x00never\x00', [{ text: '\x01nope', action: 'x' }]);
  const r = feedGarbage((c) => m.feed(c), () => m.buffered + m.lines.partial.length, { style: 'endless-line' });
  assert.equal(m.state.status, 'pending');
  assert.ok(r.maxProbe <= EXPECT_BUFFER_BYTES + 512, String(r.maxProbe));
  assert.ok(r.heapGrowth < heapAllowance(r.fed), `heap grew ${r.heapGrowth}`);
});
