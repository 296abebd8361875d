// The spool writer in temp dirs: the first usable dir wins, names are mgetty's, files
// get fax-mode whatever the umask, a planted symlink or file is never written through,
// and a failed write leaves no file under a page name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTgettyError } from '../core/errors.js';
import { FaxSpoolWriter, pickSpoolDir } from './spool.js';

const T = Date.UTC(2026, 11, 2, 15, 40, 0);
const PARTS = { fine: true, time: T, device: 'ttyS1', senderId: 'far end' };

function temp(): string {
  return mkdtempSync(join(tmpdir(), 'tgetty-spool-'));
}

test('pickSpoolDir: a missing dir, a file and a dir short of space are passed over, with reasons', () => {
  const root = temp();
  try {
    const file = join(root, 'file');
    writeFileSync(file, '');
    const good = join(root, 'in');
    mkdirSync(good);
    const r = pickSpoolDir({ dirs: [join(root, 'nope'), file, good], minFreeKb: 1, mode: 0o640 });
    assert.equal(r.dir, good);
    assert.deepEqual(r.skipped.map((s) => s.dir), [join(root, 'nope'), file]);
    const full = pickSpoolDir({ dirs: [good], minFreeKb: Number.MAX_SAFE_INTEGER, mode: 0o640 });
    assert.equal(full.dir, undefined);
    assert.match(full.skipped[0]?.reason ?? '', /diskspace/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('FaxSpoolWriter: pages, PDF and TIFF under one stem with fax-mode; no temp files left', () => {
  const dir = temp();
  const old = process.umask(0);
  try {
    const w = FaxSpoolWriter.open(dir, PARTS, { dirs: [dir], minFreeKb: 0, mode: 0o640 });
    const p1 = w.writePage(1, Buffer.from('page one'));
    w.writePage(2, Buffer.from('page two'));
    w.writePdf(Buffer.from('%PDF'));
    w.writeTiff(Buffer.from('II*'));
    assert.equal(readFileSync(p1.path, 'latin1'), 'page one');
    assert.deepEqual(readdirSync(dir).sort(), [`${w.stem}.01`, `${w.stem}.02`, `${w.stem}.pdf`, `${w.stem}.tif`].sort());
    for (const f of readdirSync(dir)) assert.equal(lstatSync(join(dir, f)).mode & 0o777, 0o640);
    assert.match(w.stem, /^ff[0-9a-f]{7}S1-far-end$/);
  } finally {
    process.umask(old);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FaxSpoolWriter: a planted symlink at a page name is never written through; a taken stem moves on', () => {
  const dir = temp();
  try {
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'keep');
    const first = FaxSpoolWriter.open(dir, PARTS, { dirs: [dir], minFreeKb: 0, mode: 0o600 });
    // Someone plants page 2's name after the stem was chosen.
    symlinkSync(victim, join(dir, `${first.stem}.02`));
    first.writePage(1, Buffer.from('one'));
    assert.throws(() => first.writePage(2, Buffer.from('two')), (e: unknown) => isTgettyError(e, 'FAX_SPOOL_FAILED') && /EEXIST/.test(e.message));
    assert.equal(readFileSync(victim, 'latin1'), 'keep');
    // The next fax in the same second gets another stem, as page 1 is taken.
    const second = FaxSpoolWriter.open(dir, PARTS, { dirs: [dir], minFreeKb: 0, mode: 0o600 });
    assert.notEqual(second.stem, first.stem);
    assert.ok(readdirSync(dir).every((f) => !f.endsWith('.tmp')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FaxSpoolWriter: a write that fails (disk full: /dev/full stands in via a read-only dir) leaves no page file', { skip: process.getuid?.() === 0 ? 'root ignores directory modes; the disk-full case runs in test/system/fax-receive' : false }, () => {
  const dir = temp();
  try {
    const w = FaxSpoolWriter.open(dir, PARTS, { dirs: [dir], minFreeKb: 0, mode: 0o600 });
    chmodSync(dir, 0o500);
    assert.throws(() => w.writePage(1, Buffer.from('x')), (e: unknown) => isTgettyError(e, 'FAX_SPOOL_FAILED'));
    chmodSync(dir, 0o700);
    assert.equal(existsSync(join(dir, `${w.stem}.01`)), false);
  } finally {
    chmodSync(dir, 0o700);
    rmSync(dir, { recursive: true, force: true });
  }
});
