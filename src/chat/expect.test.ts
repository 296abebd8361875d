import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { EXPECT_BUFFER_BYTES, ExpectMatcher, type AbortRule, type ExpectState } from './expect.js';
import { ANSWER_ABORTS, INIT_ABORTS, type ChatAction } from './script.js';
import { bytes, cutAt, everyChunking, text } from '../modem/chunks.js';

interface Run {
  state: ExpectState<ChatAction>;
  lines: string[];
  after: string;
}

function run(expect: string, aborts: readonly AbortRule<ChatAction>[], chunks: Uint8Array[]): Run {
  const m = new ExpectMatcher(expect, aborts);
  const lines: string[] = [];
  let after = '';
  for (const c of chunks) {
    if (m.state.status !== 'pending') {
      after += text(c);
      continue;
    }
    const r = m.feed(c);
    lines.push(...r.lines.map((l) => l.text));
    after += text(r.rest);
  }
  return { state: m.state, lines, after };
}

test('found when the received bytes end with the expect string (echo is just stream)', () => {
  for (const chunks of everyChunking(bytes('ATA\r\r\nCONNECT 33600/ARQ\r\n'))) {
    const r = run('CONNECT', ANSWER_ABORTS, chunks);
    assert.deepEqual(r.state, { status: 'found' });
    assert.deepEqual(r.lines, ['ATA']);
    assert.equal(r.after, ' 33600/ARQ\r\n');
  }
});

test('no line anchoring: OK inside an echo matches', () => {
  assert.deepEqual(run('OK', [], [bytes('ATLOOK\r')]).state, { status: 'found' });
  assert.equal(run('OK', [], [bytes('ATLOOK\r')]).after, '\r');
});

test('abort strings fail the expect with their action', () => {
  for (const chunks of everyChunking(bytes('ATA\r\r\nNO CARRIER\r\n'))) {
    const r = run('CONNECT', ANSWER_ABORTS, chunks);
    assert.deepEqual(r.state, { status: 'abort', action: 'fail', text: 'NO CARRIER' });
    assert.equal(r.after, '\r\n');
  }
  assert.deepEqual(run('OK', INIT_ABORTS, [bytes('ERROR\r\n')]).state, { status: 'abort', action: 'fail', text: 'ERROR' });
});

test('Q23: abort strings match anywhere in the raw stream (FAX inside a line means fax)', () => {
  assert.deepEqual(run('CONNECT', ANSWER_ABORTS, [bytes('xxFAXyy')]).state, { status: 'abort', action: 'fax', text: 'FAX' });
  assert.deepEqual(run('CONNECT', ANSWER_ABORTS, [bytes('\r\n+FCON\r\n')]).state, { status: 'abort', action: 'fax', text: '+FCON' });
  assert.deepEqual(run('CONNECT', ANSWER_ABORTS, [bytes('+FCO\r')]).state, { status: 'abort', action: 'fax', text: '+FCO\r' });
  assert.deepEqual(run('CONNECT', ANSWER_ABORTS, [bytes('+FHNG: 0')]).state, { status: 'abort', action: 'fail', text: '+FHNG:' });
});

test('the expect string is tested before the abort strings', () => {
  assert.deepEqual(run('ERROR', INIT_ABORTS, [bytes('ERROR')]).state, { status: 'found' });
  // an expect that ends with an abort string wins over it
  assert.deepEqual(run('MY BUSY', INIT_ABORTS, [bytes('MY BUSY')]).state, { status: 'found' });
});

test('an empty expect is found at once and consumes nothing', () => {
  const m = new ExpectMatcher('', INIT_ABORTS);
  assert.deepEqual(m.state, { status: 'found' });
  const r = m.feed(bytes('OK\r\n'));
  assert.deepEqual(r.lines, []);
  assert.equal(text(r.rest), 'OK\r\n');
});

test('timeout and virtual RING (SIGUSR1)', () => {
  const m = new ExpectMatcher('OK', INIT_ABORTS);
  m.feed(bytes('junk'));
  assert.deepEqual(m.timeout(), { status: 'timeout' });
  assert.deepEqual(m.feed(bytes('OK')).state, { status: 'timeout' }, 'finished stays finished');
  assert.deepEqual(new ExpectMatcher('OK').virtualRing(), { status: 'pending' });
  assert.deepEqual(new ExpectMatcher('RING').virtualRing(), { status: 'found' });
  const done = new ExpectMatcher('A');
  done.feed(bytes('A'));
  assert.deepEqual(done.timeout(), { status: 'found' });
});

test('the expect may span the buffer trim (older half dropped, newer kept)', () => {
  const junk = 'x'.repeat(EXPECT_BUFFER_BYTES - 3);
  const r = run('CONNECT', [], [bytes(`${junk}CONNECT`)]);
  assert.deepEqual(r.state, { status: 'found' });
});

test('property: random junk never matches early, the expect at the end always does, memory bounded', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('a', 'O', '\r', '\n', ' ', 'E', 'R'), maxLength: 3000 }), fc.array(fc.nat({ max: 3000 })), (junk, cuts) => {
      const input = bytes(`${junk}OKAY`);
      const m = new ExpectMatcher('OKAY', []);
      for (const c of cutAt(input, cuts)) {
        m.feed(c);
        assert.ok(m.buffered < EXPECT_BUFFER_BYTES);
      }
      assert.deepEqual(m.state, { status: 'found' });
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4000 }), fc.array(fc.nat({ max: 4000 })), (data, cuts) => {
      const whole = run('CONNECT', ANSWER_ABORTS, [data]);
      const cut = run('CONNECT', ANSWER_ABORTS, cutAt(data, cuts));
      assert.deepEqual(cut, whole);
    }),
  );
});
