import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
