// The fax's PDF and TIFF, read by programs nobody here wrote: poppler (pdfinfo,
// pdfimages: its own CCITT decoder) and libtiff (tiffinfo, tiffsplit, tifftopnm). Every
// page must come out with the pixels that were sent, MH and MR, normal and fine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitmapsEqual, parsePbm, type Bitmap } from '../../src/fax/codec/bitmap.js';
import { encodeG3 } from '../../src/fax/codec/t4.js';
import { pageFromG3, type FaxPage } from '../../src/fax/page.js';
import { writePdf } from '../../src/fax/pdf.js';
import { writeTiffF } from '../../src/fax/tiff.js';
import { randomPage, testPage } from '../helpers/fax-pages.js';

function missing(progs: string[]): string | undefined {
  const m = progs.filter((p) => spawnSync('sh', ['-c', `command -v ${p}`]).status !== 0);
  return m.length > 0 ? `needs ${m.join(', ')} (Debian poppler-utils, libtiff-tools, netpbm)` : undefined;
}

function run(prog: string, args: readonly string[]): Buffer {
  const r = spawnSync(prog, args, { maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${prog} ${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout;
}

const BITMAPS: Bitmap[] = [testPage(1728, 100), testPage(1728, 60), randomPage(3, 1728, 40)];
/** As a modem delivers them: LSB first; page 2 MR; pages 2 and 3 fine. */
const PAGES: FaxPage[] = BITMAPS.map((b, i) =>
  pageFromG3(encodeG3(b, { ...(i === 1 ? { k: 2 as const } : {}), lsbFirst: true, alignEol: i === 2 }), { width: 1728, twoD: i === 1, fine: i !== 0, lsbFirst: true }),
);

function inTemp(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-fax-files-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('PDF: poppler sees 3 pages of CCITT images at 204x98 / 204x196 dpi, and decodes each to the sent pixels', { skip: missing(['pdfinfo', 'pdfimages']) }, () => {
  inTemp((dir) => {
    const pdf = join(dir, 'fax.pdf');
    writeFileSync(pdf, writePdf(PAGES, { title: 'fax from +49 (30) 1234', producer: 'tgetty', creationDate: 'D:20261202154000Z' }));
    const info = run('pdfinfo', [pdf]).toString();
    assert.match(info, /^Pages:\s+3$/m);
    assert.match(info, /^Title:\s+fax from \+49 \(30\) 1234$/m);
    const list = run('pdfimages', ['-list', pdf]).toString();
    assert.equal((list.match(/ ccitt /g) ?? []).length, 3, list);
    assert.match(list, / 204 +98 /);
    assert.match(list, / 204 +196 /);
    run('pdfimages', [pdf, join(dir, 'img')]);
    const files = readdirSync(dir).filter((f) => f.startsWith('img-')).sort();
    assert.equal(files.length, 3);
    files.forEach((f, i) => assert.ok(bitmapsEqual(parsePbm(readFileSync(join(dir, f))), BITMAPS[i] ?? BITMAPS[0]), `page ${i + 1}`));
  });
});

test('TIFF Class F: libtiff reads 3 directories with the fax tags, and each page decodes to the sent pixels', { skip: missing(['tiffinfo', 'tiffsplit', 'tifftopnm']) }, () => {
  inTemp((dir) => {
    const tif = join(dir, 'fax.tif');
    writeFileSync(tif, writeTiffF(PAGES, { description: 'sender\u0007id', software: 'tgetty', dateTime: '2026:12:02 15:40:00' }));
    const info = run('tiffinfo', [tif]).toString();
    assert.equal((info.match(/=== TIFF directory/g) ?? []).length, 3);
    assert.match(info, /Compression Scheme: CCITT Group 3/);
    assert.match(info, /Page Number: 2-3/);
    assert.match(info, /Resolution: 204, 196 pixels\/inch/);
    assert.match(info, /ImageDescription: sender\?id/); // a control character from the far end never lands in the file
    run('tiffsplit', [tif, join(dir, 'pg')]);
    const parts = readdirSync(dir).filter((f) => f.startsWith('pg')).sort();
    assert.equal(parts.length, 3);
    parts.forEach((f, i) => assert.ok(bitmapsEqual(parsePbm(run('tifftopnm', ['-quiet', join(dir, f)])), BITMAPS[i] ?? BITMAPS[0]), `page ${i + 1}`));
  });
});
