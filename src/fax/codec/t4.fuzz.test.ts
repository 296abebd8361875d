// Fuzz: any page survives MH and MR; any bytes decode to a bounded result or a clear
// FAX_BAD_G3 error (strict), never another exception; a bit flipped in a valid page
// costs at most the lines around it, and the line count stays right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fuzzParams } from '../../../test/helpers/fuzz.js';
import { isTgettyError } from '../../core/errors.js';
import { bitmapsEqual, blankBitmap, fillBlack, getRow, type Bitmap } from './bitmap.js';
import { decodeG3, encodeG3 } from './t4.js';

/** A page from generated runs: widths of every size class, runs up to past 2560. */
const page: fc.Arbitrary<Bitmap> = fc
  .record({
    width: fc.oneof(fc.constantFrom(1728, 2048, 2432), fc.integer({ min: 1, max: 3000 })),
    rows: fc.array(fc.array(fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 3000 })), { maxLength: 40 }), { minLength: 1, maxLength: 12 }),
  })
  .map(({ width, rows }) => {
    const b = blankBitmap(width, rows.length);
    rows.forEach((runs, y) => {
      let x = 0;
      runs.forEach((run, i) => {
        if (i % 2 === 1) fillBlack(getRow(b, y), Math.min(x, width), Math.min(x + run, width));
        x += run;
      });
    });
    return b;
  });

const opts = fc.record({ k: fc.constantFrom(undefined, 2 as const, 4 as const), alignEol: fc.boolean(), lsbFirst: fc.boolean() });

test('fuzz: every page round-trips through MH and MR in both bit orders', () => {
  fc.assert(
    fc.property(page, opts, (p, o) => {
      const enc = encodeG3(p, { ...(o.k !== undefined ? { k: o.k } : {}), alignEol: o.alignEol, lsbFirst: o.lsbFirst });
      const back = decodeG3(enc, { width: p.width, twoD: o.k !== undefined, lsbFirst: o.lsbFirst, strict: true });
      return bitmapsEqual(back.bitmap, p) && back.rtc;
    }),
    fuzzParams(300),
  );
});

test('fuzz: any bytes give a bounded page or, strict, a FAX_BAD_G3 error', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4000 }), fc.boolean(), fc.boolean(), (data, twoD, strict) => {
      try {
        const r = decodeG3(data, { width: 1728, twoD, strict, maxLines: 3000 });
        assert.ok(r.bitmap.height <= 3000);
        assert.ok(r.badLines <= r.bitmap.height);
      } catch (e) {
        assert.ok(strict && isTgettyError(e, 'FAX_BAD_G3'), String(e));
      }
    }),
    fuzzParams(500),
  );
});

test('fuzz: one flipped bit in an MH page keeps the line count (it can only merge or spoil lines next to it)', () => {
  fc.assert(
    fc.property(page, fc.nat(), (p, at) => {
      const enc = Buffer.from(encodeG3(p, { alignEol: true }));
      const bit = at % (enc.length * 8);
      enc[bit >> 3] = (enc[bit >> 3] ?? 0) ^ (0x80 >> (bit & 7));
      const r = decodeG3(enc, { width: p.width, maxLines: p.height + 8 });
      // An EOL destroyed merges two lines, one made from zeros adds at most one: never more.
      assert.ok(Math.abs(r.bitmap.height - p.height) <= 1, `${r.bitmap.height} vs ${p.height}`);
    }),
    fuzzParams(300, 0.5),
  );
});
