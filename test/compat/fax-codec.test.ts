// The T.4 codec against programs nobody here wrote: netpbm's pbmtog3/g3topbm (MH, both
// bit orders), libtiff's fax2tiff (MR) and Ghostscript's faxg3 device (a rendered text
// page). Each direction must give the same pixels. Skips when a program is absent
// (CI installs netpbm, libtiff-tools and ghostscript).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitmapsEqual, formatPbm, parsePbm, type Bitmap } from '../../src/fax/codec/bitmap.js';
import { decodeG3, encodeG3 } from '../../src/fax/codec/t4.js';
import { testPage } from '../helpers/fax-pages.js';

function has(prog: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${prog}`]).status === 0;
}

function run(prog: string, args: readonly string[], input?: Uint8Array): Buffer {
  const r = spawnSync(prog, args, { input, maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `${prog} ${args.join(' ')}: ${r.stderr.toString()}`);
  return r.stdout;
}

const missing = (progs: string[]): string | undefined => {
  const m = progs.filter((p) => !has(p));
  return m.length > 0 ? `needs ${m.join(', ')} (Debian netpbm, libtiff-tools, ghostscript)` : undefined;
};

function withTemp<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-fax-codec-'));
  try {
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const PAGE: Bitmap = testPage(1728, 120);

test('MH: our encoding decodes with g3topbm to the same pixels, in both bit orders', { skip: missing(['g3topbm']) }, () => {
  for (const lsbFirst of [false, true]) {
    for (const alignEol of [false, true]) {
      const g3 = encodeG3(PAGE, { lsbFirst, alignEol });
      const pbm = run('g3topbm', [...(lsbFirst ? ['-reversebits'] : []), '-stop_error'], g3);
      assert.ok(bitmapsEqual(parsePbm(pbm), PAGE), `lsbFirst ${lsbFirst} alignEol ${alignEol}`);
    }
  }
});

test('MH: pbmtog3\'s encoding decodes with ours to the same pixels, in both bit orders', { skip: missing(['pbmtog3']) }, () => {
  for (const lsbFirst of [false, true]) {
    const g3 = run('pbmtog3', lsbFirst ? ['-reversebits'] : [], formatPbm(PAGE));
    const res = decodeG3(g3, { width: 1728, lsbFirst, strict: true });
    assert.ok(bitmapsEqual(res.bitmap, PAGE), `lsbFirst ${lsbFirst}`);
    assert.equal(res.rtc, true);
  }
});

test('MR (K=2 and 4): our encoding reads back through fax2tiff -2 and tifftopnm to the same pixels', { skip: missing(['fax2tiff', 'tifftopnm']) }, () => {
  withTemp((dir) => {
    for (const k of [2, 4] as const) {
      const g3 = join(dir, `p${k}.g3`);
      const tif = join(dir, `p${k}.tif`);
      // fax2tiff reads the EOLs of an RTC as blank rows, so it gets the page without one.
      writeFileSync(g3, encodeG3(PAGE, { k, alignEol: true, rtc: false }));
      run('fax2tiff', ['-2', '-M', '-X', '1728', '-o', tif, g3]);
      const pbm = run('tifftopnm', ['-quiet', tif]);
      assert.ok(bitmapsEqual(parsePbm(pbm), PAGE), `K=${k}`);
    }
  });
});

test('a text page rendered by Ghostscript (faxg3 device) decodes to the pixels of its pbmraw rendering', { skip: missing(['gs']) }, () => {
  withTemp((dir) => {
    const ps = join(dir, 'page.ps');
    writeFileSync(ps, '%!PS\n/Helvetica findfont 36 scalefont setfont\n72 700 moveto (tgetty fax codec: MH 0123456789) show\n72 600 moveto (The quick brown fox jumps over the lazy dog) show\n0 0 moveto 612 792 lineto stroke\nshowpage\n');
    const common = ['-q', '-dNOPAUSE', '-dBATCH', '-dSAFER', '-r204x196', '-g1728x2200'];
    run('gs', [...common, '-sDEVICE=faxg3', `-sOutputFile=${join(dir, 'p.g3')}`, ps]);
    run('gs', [...common, '-sDEVICE=pbmraw', `-sOutputFile=${join(dir, 'p.pbm')}`, ps]);
    const want = parsePbm(readFileSync(join(dir, 'p.pbm')));
    const got = decodeG3(readFileSync(join(dir, 'p.g3')), { width: 1728, strict: true });
    assert.equal(got.bitmap.height, want.height);
    assert.ok(bitmapsEqual(got.bitmap, want));
    // And back: our encoding of that page through g3topbm, when netpbm is there.
    if (has('g3topbm')) assert.ok(bitmapsEqual(parsePbm(run('g3topbm', ['-stop_error'], encodeG3(want))), want));
  });
});
