// The pages tgetty sendfax makes of its files, by content: raw G3 as it is (a DigiFax
// header skipped), PBM coded and fitted to 1728 pixels, TIFF class F decoded and coded
// again as MH; bad input is a clear FAX_BAD_IMAGE.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bitmapsEqual, blankBitmap, formatPbm, getRow } from './codec/bitmap.js';
import { decodeG3, encodeG3 } from './codec/t4.js';
import { pageFromG3 } from './page.js';
import { writeTiffF } from './tiff.js';
import { fitWidth, g3Page, inResolution, inputKind, pagesFromBytes } from './send-input.js';
import { randomPage, testPage } from '../../test/helpers/fax-pages.js';
import { isTgettyError } from '../core/errors.js';

const b = (s: string): Buffer => Buffer.from(s, 'latin1');

test('files are told apart by their first bytes', () => {
  assert.equal(inputKind(b('II*\0....')), 'tiff');
  assert.equal(inputKind(b('MM\0*....')), 'tiff');
  assert.equal(inputKind(b('%PDF-1.4')), 'pdf');
  assert.equal(inputKind(b('%!PS-Adobe')), 'postscript');
  assert.equal(inputKind(b('P4\n1728 10\n')), 'pbm');
  assert.equal(inputKind(b('P1 8 1 ')), 'pbm');
  assert.equal(inputKind(Uint8Array.of(0x00, 0x01, 0x59)), 'g3');
});

test('raw G3 is sent as it is; a DigiFax header (gs -sDEVICE=dfaxhigh) is skipped', () => {
  const g3 = encodeG3(testPage(1728, 20));
  assert.deepEqual(new Uint8Array(pagesFromBytes(Buffer.from(g3), 'x.g3').pages[0]?.data ?? []), g3);
  const header = Buffer.alloc(64);
  header.write('\0PC Research, Inc', 'latin1');
  const p = g3Page(Buffer.concat([header, g3]));
  assert.deepEqual(new Uint8Array(p.data), g3);
  assert.equal(p.note, 'DigiFax header skipped');
});

test('PBM: coded as MH; wider pages are cut and narrower ones padded to 1728 pixels', () => {
  const page = randomPage(2, 1728, 40);
  const got = pagesFromBytes(formatPbm(page), 'p.pbm');
  assert.ok(bitmapsEqual(decodeG3(got.pages[0]?.data ?? new Uint8Array(0), { width: 1728, strict: true }).bitmap, page));
  const narrow = randomPage(3, 1000, 5);
  const fitted = fitWidth(narrow);
  assert.equal(fitted.width, 1728);
  for (let y = 0; y < 5; y++) {
    assert.deepEqual(getRow(fitted, y).subarray(0, 125), getRow(narrow, y).subarray(0, 125));
    assert.ok(getRow(fitted, y).subarray(125).every((x) => x === 0), 'padded white');
  }
  const wide = randomPage(4, 2000, 3);
  const cut = fitWidth(wide);
  assert.deepEqual(getRow(cut, 1), getRow(wide, 1).subarray(0, 216));
  const odd = fitWidth({ ...blankBitmap(1731, 1), data: Uint8Array.from({ length: 217 }, () => 0xff) });
  assert.ok(getRow(odd, 0).every((x) => x === 0xff));
  assert.deepEqual(pagesFromBytes(formatPbm(narrow), 'n.pbm').notes, ['1000 pixels wide: padded to 1728']);
});

test('TIFF class F: every page, decoded and coded again (MR pages become MH)', () => {
  const pages = [testPage(1728, 30), randomPage(5, 1728, 25)];
  const tif = writeTiffF([
    pageFromG3(encodeG3(pages[0] ?? testPage()), { width: 1728, twoD: false, fine: true, lsbFirst: false }),
    pageFromG3(encodeG3(pages[1] ?? testPage(), { k: 2 }), { width: 1728, twoD: true, fine: false, lsbFirst: false }),
  ]);
  const got = pagesFromBytes(tif, 'f.tif');
  assert.equal(got.kind, 'tiff');
  assert.equal(got.pages.length, 2);
  got.pages.forEach((p, i) => {
    assert.equal(p.pageInFile, i + 1);
    assert.ok(bitmapsEqual(decodeG3(p.data, { width: 1728, strict: true }).bitmap, pages[i] ?? testPage()), `page ${i + 1}`);
  });
});

test('bad input: an empty file, a broken TIFF, a PBM the codec cannot read, a PDF without Ghostscript', () => {
  for (const [buf, re] of [
    [Buffer.alloc(0), /empty file/],
    [b('II*\0\x08\0\0\0\x01'), /truncated TIFF/],
    [b('P4\nxx\n'), /not a PBM/],
    [b('%PDF-1.4\n'), /needs Ghostscript/],
  ] as const) {
    assert.throws(() => pagesFromBytes(buf, 'bad'), (e: unknown) => isTgettyError(e, 'FAX_BAD_IMAGE') && re.test(e.message));
  }
});

test('a TIFF page in the other resolution is converted: normal -> fine doubles each line, fine -> normal keeps every other one', () => {
  const normal = randomPage(6, 1728, 21);
  const tif = writeTiffF([pageFromG3(encodeG3(normal), { width: 1728, twoD: false, fine: false, lsbFirst: false })]);
  const [p] = pagesFromBytes(tif, 'n.tif').pages;
  assert.ok(p !== undefined);
  assert.equal(p.fine, false);
  assert.equal(inResolution(p, false).converted, false);
  const fine = inResolution(p, true);
  assert.equal(fine.converted, true);
  const up = decodeG3(fine.page.data, { width: 1728, strict: true }).bitmap;
  assert.equal(up.height, 42);
  for (let y = 0; y < 42; y++) assert.deepEqual(getRow(up, y), getRow(normal, y >> 1));
  const down = decodeG3(inResolution(fine.page, false).page.data, { width: 1728, strict: true }).bitmap;
  assert.ok(bitmapsEqual(down, normal));
  // Raw G3 does not say: left as it is.
  const raw = pagesFromBytes(Buffer.from(encodeG3(normal)), 'r.g3').pages[0];
  assert.ok(raw !== undefined && !inResolution(raw, true).converted);
});
