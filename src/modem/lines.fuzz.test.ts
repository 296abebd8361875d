// Fuzz: the modem line splitter against a one-line reference model, at every chunking; bounded on garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chunk, cutPoints, feedGarbage, fuzzParams, heapAllowance, protocolBytes } from '../../test/helpers/fuzz.js';
import { LineSplitter, type ModemLine } from './lines.js';

/** The splitter's contract restated: cut at CR/LF, drop leading blanks, skip empty lines, cap at max. */
function reference(data: Uint8Array, max: number): { lines: ModemLine[]; partial: string; discarded: number } {
  const lines: ModemLine[] = [];
  let discarded = 0;
  const segment = (seg: number[]): { text: string; discarded: number } | undefined => {
    let a = 0;
    while (a < seg.length && [0x20, 0x09, 0x0b, 0x0c].includes(seg[a] ?? 0)) a++;
    const body = seg.slice(a);
    if (body.length === 0) return undefined;
    const over = Math.max(0, body.length - max);
    discarded += over;
    return { text: String.fromCharCode(...body.slice(0, max)), discarded: over };
  };
  let seg: number[] = [];
  for (const b of data) {
    if (b === 0x0d || b === 0x0a) {
      const l = segment(seg);
      if (l !== undefined) lines.push(l);
      seg = [];
    } else seg.push(b);
  }
  const last = segment(seg);
  return { lines, partial: last?.text ?? '', discarded };
}

test('fuzz: LineSplitter equals the reference model at any chunking and cap', () => {
  fc.assert(
    fc.property(protocolBytes({ maxParts: 60 }), cutPoints(400), fc.integer({ min: 1, max: 40 }), (data, cuts, max) => {
      const s = new LineSplitter(max);
      const lines: ModemLine[] = [];
      for (const c of chunk(data, cuts)) lines.push(...s.feed(c));
      const ref = reference(data, max);
      assert.deepEqual(lines, ref.lines);
      assert.equal(s.partial, ref.partial);
      assert.equal(s.discardedBytes, ref.discarded);
      // The string form of the input is read the same way.
      const t = new LineSplitter(max);
      assert.deepEqual(t.feed(String.fromCharCode(...data)), ref.lines);
    }),
    fuzzParams(1000),
  );
});

test('fuzz: a bad cap is a RangeError, nothing else', () => {
  fc.assert(
    fc.property(fc.oneof(fc.integer(), fc.double()), (max) => {
      try {
        const s = new LineSplitter(max);
        assert.ok(Number.isInteger(max) && max >= 1);
        assert.equal(s.maxLine, max);
      } catch (e) {
        assert.ok(e instanceof RangeError, String(e));
        assert.ok(!(Number.isInteger(max) && max >= 1));
      }
    }),
    fuzzParams(300, 0.05),
  );
});

test('bounded: garbage and one endless line never grow the partial line past the cap', () => {
  for (const style of ['protocol', 'random', 'endless-line'] as const) {
    const s = new LineSplitter();
    const r = feedGarbage((c) => s.feed(c), () => s.partial.length, { style });
    assert.ok(r.maxProbe <= s.maxLine, `${style}: partial ${r.maxProbe}`);
    assert.ok(r.heapGrowth < heapAllowance(r.fed), `${style}: heap grew ${r.heapGrowth}`);
    if (style === 'endless-line') assert.equal(s.discardedBytes, r.fed - s.maxLine);
  }
});
