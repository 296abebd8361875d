import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, constants as fsc, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotRegularFileError, createExclusive, openAppend, readSmallFile } from './safe-open.js';

function tempDir(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tgetty-safe-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('readSmallFile: a small file is read; missing is ENOENT; too big is refused unless truncate', (t) => {
  const dir = tempDir(t);
  const f = join(dir, 'f');
  writeFileSync(f, 'hello world');
  const r = readSmallFile(f, 64);
  assert.ok(r.ok);
  assert.equal(r.data.toString(), 'hello world');
  assert.deepEqual(readSmallFile(join(dir, 'none'), 64), { ok: false, code: 'ENOENT' });
  const big = readSmallFile(f, 5);
  assert.equal(big.ok, false);
  assert.equal(big.ok ? '' : big.code, 'EFBIG');
  const cut = readSmallFile(f, 5, { truncate: true });
  assert.ok(cut.ok);
  assert.equal(cut.data.toString(), 'hello');
});

test('readSmallFile: a FIFO (even with a writer), a symlink and a directory are refused without blocking', (t) => {
  const dir = tempDir(t);
  const fifo = join(dir, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const noWriter = readSmallFile(fifo, 64);
  assert.equal(noWriter.ok ? '' : noWriter.code, 'ENOTREG');
  // A writer that never writes: a read would block; the fstat check comes first.
  const w = openSync(fifo, fsc.O_RDWR | fsc.O_NONBLOCK);
  t.after(() => closeSync(w));
  const withWriter = readSmallFile(fifo, 64);
  assert.equal(withWriter.ok ? '' : withWriter.code, 'ENOTREG');
  symlinkSync('/etc/hostname', join(dir, 'link'));
  const link = readSmallFile(join(dir, 'link'), 64);
  assert.equal(link.ok ? '' : link.code, 'ELOOP');
  const d = readSmallFile(dir, 64);
  assert.equal(d.ok ? '' : d.code, 'EISDIR');
});

test('createExclusive: exact mode whatever the umask; a planted file or symlink fails EEXIST and its target is untouched', (t) => {
  const dir = tempDir(t);
  const old = process.umask(0o077);
  try {
    const { fd, id } = createExclusive(join(dir, 'new'), 0o644);
    assert.equal(fstatSync(fd).ino, id.ino);
    closeSync(fd);
  } finally {
    process.umask(old);
  }
  assert.equal(statSync(join(dir, 'new')).mode & 0o777, 0o644);
  const victim = join(dir, 'victim');
  writeFileSync(victim, 'keep');
  symlinkSync(victim, join(dir, 'planted'));
  assert.throws(() => createExclusive(join(dir, 'planted'), 0o644), (e: NodeJS.ErrnoException) => e.code === 'EEXIST');
  // A dangling symlink: O_CREAT alone would create its target.
  symlinkSync(join(dir, 'would-be-created'), join(dir, 'dangling'));
  assert.throws(() => createExclusive(join(dir, 'dangling'), 0o644), (e: NodeJS.ErrnoException) => e.code === 'EEXIST');
  assert.throws(() => statSync(join(dir, 'would-be-created')));
  assert.equal(readFileSync(victim, 'utf8'), 'keep');
});

test('openAppend: creates or appends to a regular file; a symlink is ELOOP, a FIFO with a reader NotRegularFileError, a char device only when allowed', (t) => {
  const dir = tempDir(t);
  const f = join(dir, 'log');
  const a = openAppend(f, 0o640);
  assert.ok(a.st.isFile());
  closeSync(a.fd);
  symlinkSync(f, join(dir, 'link'));
  assert.throws(() => openAppend(join(dir, 'link'), 0o640), (e: NodeJS.ErrnoException) => e.code === 'ELOOP');
  const fifo = join(dir, 'fifo');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  assert.throws(() => openAppend(fifo, 0o640), (e: NodeJS.ErrnoException) => e.code === 'ENXIO', 'no reader: ENXIO, not a block');
  const r = openSync(fifo, fsc.O_RDONLY | fsc.O_NONBLOCK);
  t.after(() => closeSync(r));
  assert.throws(() => openAppend(fifo, 0o640), (e: unknown) => e instanceof NotRegularFileError && e.kind === 'fifo');
  assert.throws(() => openAppend('/dev/null', 0o640), (e: unknown) => e instanceof NotRegularFileError && e.kind === 'char-device');
  const dev = openAppend('/dev/null', 0o640, { charDevice: true });
  closeSync(dev.fd);
});
