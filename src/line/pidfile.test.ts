import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTgettyError } from '../core/errors.js';
import { pidFilePath, readPidFile, removePidFile, writePidFile } from './pidfile.js';

function tempDir(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tgetty-pid-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('write: <runDir>/tgetty.pid.<devId>, pid + LF, mode 0644, no temp left', (t) => {
  const dir = tempDir(t);
  const old = process.umask(0o077);
  try {
    assert.equal(writePidFile(dir, 'ttyS3', 12345), join(dir, 'tgetty.pid.ttyS3'));
  } finally {
    process.umask(old);
  }
  assert.equal(readFileSync(join(dir, 'tgetty.pid.ttyS3'), 'latin1'), '12345\n');
  assert.equal(statSync(join(dir, 'tgetty.pid.ttyS3')).mode & 0o777, 0o644);
  assert.deepEqual(readdirSync(dir), ['tgetty.pid.ttyS3']);
  assert.equal(readPidFile(dir, 'ttyS3'), 12345);
  assert.equal(pidFilePath('/run', 'pts/4'), '/run/tgetty.pid.pts-4');
});

test('default pid is ours; rewriting replaces the content', (t) => {
  const dir = tempDir(t);
  writePidFile(dir, 'ttyS0', 1);
  writePidFile(dir, 'ttyS0');
  assert.equal(readPidFile(dir, 'ttyS0'), process.pid);
});

test('remove only when the file names our pid', (t) => {
  const dir = tempDir(t);
  writePidFile(dir, 'ttyS1', 777);
  assert.equal(removePidFile(dir, 'ttyS1'), false, "someone else's");
  assert.equal(readPidFile(dir, 'ttyS1'), 777);
  assert.equal(removePidFile(dir, 'ttyS1', 777), true);
  assert.deepEqual(readdirSync(dir), []);
  assert.equal(removePidFile(dir, 'ttyS1', 777), false, 'already gone');
});

test('readPidFile: missing or garbage -> undefined', (t) => {
  const dir = tempDir(t);
  assert.equal(readPidFile(dir, 'none'), undefined);
  for (const bad of ['', 'abc\n', '0\n', '12 13\n']) {
    writeFileSync(pidFilePath(dir, 'x'), bad);
    assert.equal(readPidFile(dir, 'x'), undefined, JSON.stringify(bad));
  }
});

test('unwritable run dir -> PIDFILE_FAILED naming the file', (t) => {
  const dir = tempDir(t);
  assert.throws(() => writePidFile(join(dir, 'missing'), 'ttyS0', 1), (e: unknown) => {
    assert.ok(isTgettyError(e, 'PIDFILE_FAILED'));
    assert.equal(e.context.errno, 'ENOENT');
    assert.match(e.message, /cannot write pid file .*missing\/tgetty\.pid\.ttyS0 \(ENOENT\)/);
    return true;
  });
});

test('a FIFO or a symlink planted as the pid file: read at once as "no pid" (no blocking open), not removed; writing replaces the name', (t) => {
  const dir = tempDir(t);
  const fifo = pidFilePath(dir, 'ttyF');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const target = join(dir, 'target');
  writeFileSync(target, `${process.pid}\n`);
  symlinkSync(target, pidFilePath(dir, 'ttyL'));
  // In a child with a time limit: before the fix the FIFO blocked the process in open(2) for good.
  const url = new URL('./pidfile.js', import.meta.url).href;
  const script = `const { readPidFile, removePidFile } = await import(${JSON.stringify(url)});
    const d = process.argv[1];
    process.stdout.write(JSON.stringify([readPidFile(d, 'ttyF') ?? null, removePidFile(d, 'ttyF'), readPidFile(d, 'ttyL') ?? null, removePidFile(d, 'ttyL', ${process.pid})]));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, dir], { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL' });
  assert.equal(r.signal, null, `the child hung and was killed ${r.stderr}`);
  assert.deepEqual(JSON.parse(r.stdout), [null, false, null, false]);
  assert.ok(lstatSync(fifo).isFIFO());
  assert.ok(lstatSync(pidFilePath(dir, 'ttyL')).isSymbolicLink());
  // Writing replaces the planted name itself (rename(2)), never writing through the link.
  writePidFile(dir, 'ttyL', 4242);
  assert.equal(readFileSync(target, 'latin1'), `${process.pid}\n`);
  assert.equal(readPidFile(dir, 'ttyL'), 4242);
});
