// The T.4 codec: the code tables are prefix-free and complete, pages survive MH and MR
// round trips in every option combination, and bad input is reported, not crashed on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTgettyError } from '../../core/errors.js';
import { blankBitmap, bitmapsEqual, fillBlack, formatPbm, getRow, parsePbm } from './bitmap.js';
import { lcg, randomPage, testPage } from '../../../test/helpers/fax-pages.js';
import { reverseBits } from './bits.js';
import { decodeG3, encodeG3, type EncodeOptions } from './t4.js';
import { BLACK_MAKEUP, BLACK_TERMINATING, EOL, EXTENDED_MAKEUP, MODE, WHITE_MAKEUP, WHITE_TERMINATING } from './tables.js';

function prefixFree(words: readonly string[]): string | undefined {
  for (const a of words) for (const b of words) if (a !== b && b.startsWith(a)) return `${a} is a prefix of ${b}`;
  return undefined;
}

test('tables: each colour\'s codes (with EOL) and the mode codes are prefix-free, with the counts of T.4', () => {
  assert.equal(WHITE_TERMINATING.length, 64);
  assert.equal(BLACK_TERMINATING.length, 64);
  assert.equal(WHITE_MAKEUP.length, 27);
  assert.equal(BLACK_MAKEUP.length, 27);
  assert.equal(EXTENDED_MAKEUP.length, 13);
  assert.equal(prefixFree([...WHITE_TERMINATING, ...WHITE_MAKEUP, ...EXTENDED_MAKEUP, EOL]), undefined);
  assert.equal(prefixFree([...BLACK_TERMINATING, ...BLACK_MAKEUP, ...EXTENDED_MAKEUP, EOL]), undefined);
  assert.equal(prefixFree([MODE.pass, MODE.horizontal, ...MODE.vertical.values(), EOL]), undefined);
  // Kraft sum of a complete code is 1; T.4's white and black sets leave room only for EOL and the unused prefixes.
  const kraft = (ws: readonly string[]): number => ws.reduce((s, w) => s + 2 ** -w.length, 0);
  assert.ok(kraft([...WHITE_TERMINATING, ...WHITE_MAKEUP, ...EXTENDED_MAKEUP]) < 1);
  assert.ok(kraft([...WHITE_TERMINATING, ...WHITE_MAKEUP, ...EXTENDED_MAKEUP]) > 0.99);
});

const OPTION_SETS: EncodeOptions[] = [
  {},
  { alignEol: true },
  { lsbFirst: true },
  { k: 2 },
  { k: 4, alignEol: true, lsbFirst: true },
  { minLineBits: 400 },
  { k: 2, minLineBits: 96, alignEol: true },
];

test('round trip: the test page through MH and MR in every option set decodes to itself', () => {
  for (const width of [1728, 2048, 2432, 13]) {
    const page = testPage(width, 48);
    for (const o of OPTION_SETS) {
      const g3 = encodeG3(page, o);
      const back = decodeG3(g3, { width, twoD: o.k !== undefined, lsbFirst: o.lsbFirst === true, strict: true });
      assert.equal(back.badLines, 0, JSON.stringify(o));
      assert.equal(back.rtc, true, JSON.stringify(o));
      assert.ok(bitmapsEqual(back.bitmap, page), `width ${width} ${JSON.stringify(o)}`);
    }
  }
});

test('round trip: random pages (runs of every length up to 3000, repeated lines) in MH and MR', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const width = [1728, 1, 7, 8, 9, 64, 2432][seed % 7] ?? 1728;
    const page = randomPage(seed, width, 1 + (seed % 23));
    for (const o of OPTION_SETS) {
      const back = decodeG3(encodeG3(page, o), { width, twoD: o.k !== undefined, lsbFirst: o.lsbFirst === true, strict: true });
      assert.ok(bitmapsEqual(back.bitmap, page), `seed ${seed} width ${width} ${JSON.stringify(o)}`);
    }
  }
});

test('MH: a known line codes as T.4 says (EOL, white 8, black 8) and EOLs can be byte-aligned', () => {
  const page = blankBitmap(16, 1);
  fillBlack(getRow(page, 0), 8, 16);
  const bits = (u: Uint8Array): string => [...u].map((x) => x.toString(2).padStart(8, '0')).join('');
  // EOL, white run 8 (10011), black run 8 (000101), then RTC.
  assert.ok(bits(encodeG3(page, { rtc: false })).startsWith('000000000001' + '10011' + '000101'));
  const aligned = encodeG3(page, { alignEol: true });
  const s = bits(aligned);
  // The first EOL ends on a byte boundary: 4 fill bits, then the EOL.
  assert.equal(s.slice(0, 16), '0000' + '000000000001');
  assert.deepEqual(encodeG3(page, { lsbFirst: true }), reverseBits(encodeG3(page)));
});

test('decode: a corrupted line is repeated from the line before and decoding resumes at the next EOL', () => {
  const page = testPage(1728, 20);
  const g3 = Buffer.from(encodeG3(page, { alignEol: true }));
  // The first seven lines, byte-aligned, are a prefix of the page. Line 7 (odd: a row
  // of dots, 300+ bits) follows its EOL; one byte well inside it is garbled, so its
  // codes break but its EOL and the next line's survive.
  const head = encodeG3({ width: 1728, height: 7, data: page.data.subarray(0, 7 * 216) }, { alignEol: true, rtc: false });
  assert.deepEqual(g3.subarray(0, head.length - 1), Buffer.from(head.subarray(0, head.length - 1)));
  g3[head.length + 6] = 0xff;
  const res = decodeG3(g3, { width: 1728 });
  assert.equal(res.bitmap.height, 20);
  assert.equal(res.badLines, 1);
  // The damaged line repeats the one before; every other line is intact.
  for (let y = 0; y < 20; y++) assert.deepEqual(getRow(res.bitmap, y), getRow(page, y === 7 ? 6 : y), `line ${y}`);
  assert.throws(() => decodeG3(g3, { width: 1728, strict: true }), (e: unknown) => isTgettyError(e, 'FAX_BAD_G3') && /G3 line \d+/.test(e.message));
});

test('decode: garbage, empty input, all zeros and all ones end with a result, never a crash', () => {
  const rnd = lcg(7);
  const inputs: Uint8Array[] = [new Uint8Array(0), new Uint8Array(1000), new Uint8Array(1000).fill(0xff)];
  for (let i = 0; i < 200; i++) inputs.push(Uint8Array.from({ length: rnd() % 3000 }, () => rnd() & 0xff));
  for (const data of inputs) {
    for (const twoD of [false, true]) {
      const res = decodeG3(data, { width: 1728, twoD, maxLines: 5000 });
      assert.ok(res.bitmap.height <= 5000);
      assert.equal(res.bitmap.data.length, res.bitmap.height * 216);
    }
  }
  assert.throws(() => decodeG3(new Uint8Array(4), { width: 0 }), (e: unknown) => isTgettyError(e, 'FAX_BAD_G3'));
});

test('PBM: P4 and P1 parse to the same bitmap, format round-trips, bad files are refused', () => {
  const page = testPage(37, 5);
  assert.ok(bitmapsEqual(parsePbm(formatPbm(page)), page));
  const plain = `P1\n# a comment\n37 5\n${[...Array(5).keys()].map((y) => [...Array(37).keys()].map((x) => ((getRow(page, y)[x >> 3] ?? 0) >> (7 - (x & 7))) & 1).join(' ')).join('\n')}\n`;
  assert.ok(bitmapsEqual(parsePbm(Buffer.from(plain)), page));
  assert.throws(() => parsePbm(Buffer.from('P5\n1 1\n255\n\0')), (e: unknown) => isTgettyError(e, 'FAX_BAD_IMAGE'));
  assert.throws(() => parsePbm(Buffer.from('P4\n100 100\n\0\0')), (e: unknown) => isTgettyError(e, 'FAX_BAD_IMAGE') && /truncated/.test(e.message));
});
