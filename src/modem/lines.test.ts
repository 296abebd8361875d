import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineSplitter, type ModemLine } from './lines.js';
import { bytes, cutAt, everyChunking } from './chunks.js';

function run(chunks: Uint8Array[], max?: number): { lines: ModemLine[]; partial: string; discarded: number } {
  const s = new LineSplitter(max);
  const lines = chunks.flatMap((c) => s.feed(c));
  return { lines, partial: s.partial, discarded: s.discardedBytes };
}

test('CR or LF ends a line; empty lines and leading blanks are dropped; partial line kept', () => {
  const input = bytes('\r\nRING\r\n\r\n  \tNMBR = 0555\rX\nabc');
  for (const chunks of everyChunking(input)) {
    const r = run(chunks);
    assert.deepEqual(
      r.lines.map((l) => l.text),
      ['RING', 'NMBR = 0555', 'X'],
    );
    assert.equal(r.partial, 'abc');
    assert.ok(r.lines.every((l) => l.discarded === 0));
  }
});

test('a line of blanks only is an empty line; trailing blanks are kept', () => {
  const r = run([bytes('   \r\nOK  \r\n')]);
  assert.deepEqual(r.lines, [{ text: 'OK  ', discarded: 0 }]);
});

test('string chunks are read as latin1 bytes', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.feed('caf\xe9\r'), [{ text: 'caf\xe9', discarded: 0 }]);
});

test('Q30: overlong lines are cut at the cap and the dropped bytes are reported', () => {
  const input = bytes('A'.repeat(600) + '\r\nRING\r\n');
  for (const chunks of everyChunking(input).filter((_, i) => i % 37 === 0)) {
    const r = run(chunks);
    assert.equal(r.lines.length, 2);
    assert.equal(r.lines[0]?.text, 'A'.repeat(512));
    assert.equal(r.lines[0]?.discarded, 88);
    assert.deepEqual(r.lines[1], { text: 'RING', discarded: 0 });
    assert.equal(r.discarded, 88);
  }
  const small = run([bytes('abcdef\n')], 4);
  assert.deepEqual(small.lines, [{ text: 'abcd', discarded: 2 }]);
});

test('maxLine must be a positive integer', () => {
  assert.throws(() => new LineSplitter(0), RangeError);
  assert.throws(() => new LineSplitter(1.5), RangeError);
});

test('clear() forgets the partial line only', () => {
  const s = new LineSplitter();
  s.feed('CONNE');
  s.clear();
  assert.equal(s.partial, '');
  assert.deepEqual(s.feed('X\r'), [{ text: 'X', discarded: 0 }]);
});

test('property: any chunking gives the same lines, and memory stays bounded', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat({ max: 2000 })), fc.integer({ min: 1, max: 64 }), (data, cuts, max) => {
      const whole = run([data], max);
      const cut = run(cutAt(data, cuts), max);
      assert.deepEqual(cut, whole);
      assert.ok(whole.partial.length <= max);
      for (const l of whole.lines) assert.ok(l.text.length <= max && l.text.length + l.discarded > 0);
      // every byte is accounted for: kept in a line/partial, dropped and counted, or a terminator/leading blank
      const kept = whole.lines.reduce((n, l) => n + l.text.length + l.discarded, 0) + whole.partial.length;
      assert.ok(kept <= data.length);
    }),
  );
});
