import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileStamp, stampedNames, stampOf } from './file-stamps.js';

/** Wait (event loop turns, no fixed sleep) until the stamp of `path` differs from `than`. */
async function changed(path: string, than: number | undefined, ms = 5_000): Promise<number | undefined> {
  const end = Date.now() + ms;
  for (;;) {
    const now = fileStamp(path);
    if (now !== than) return now;
    if (Date.now() > end) throw new Error(`the stamp of ${path} did not change in ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('fileStamp: the same while nothing happens; new after create, write, chmod, rename and delete of that file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-stamps-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'nologin.ttyS0');
  const s0 = fileStamp(path);
  assert.equal(typeof s0, 'number');
  assert.equal(fileStamp(path), s0);
  assert.equal(stampOf(dir, 'nologin.ttyS0'), s0);

  writeFileSync(path, '');
  const s1 = await changed(path, s0);
  writeFileSync(path, 'go away\n');
  const s2 = await changed(path, s1);
  chmodSync(path, 0o600);
  const s3 = await changed(path, s2);
  renameSync(path, `${path}.off`);
  const s4 = await changed(path, s3);
  writeFileSync(`${path}.new`, '');
  renameSync(`${path}.new`, path);
  const s5 = await changed(path, s4);
  rmSync(path);
  const s6 = await changed(path, s5);
  assert.equal(new Set([s0, s1, s2, s3, s4, s5, s6]).size, 7, 'a stamp never repeats');
});

test('fileStamp: another file of the directory leaves the stamp alone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-stamps-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'dialin.config');
  const other = join(dir, 'mgetty.config');
  const s0 = fileStamp(path);
  const o0 = fileStamp(other);
  writeFileSync(other, 'debug 4\n');
  await changed(other, o0);
  assert.equal(fileStamp(path), s0);
});

test('fileStamp: none for a directory that cannot be watched; a removed and re-made directory gets a new stamp', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-stamps-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  assert.equal(fileStamp(join(root, 'missing', 'nologin.ttyS0')), undefined);
  const dir = join(root, 'etc');
  mkdirSync(dir);
  const path = join(dir, 'nologin.ttyS0');
  const s0 = fileStamp(path);
  rmSync(dir, { recursive: true });
  mkdirSync(dir);
  // The old watch saw its directory go; the next look watches the new one.
  const s1 = await changed(path, s0);
  assert.equal(typeof s1, 'number');
  writeFileSync(path, '');
  await changed(path, s1);
});

test('fileStamp: files nobody asked about do not grow the watch (a busy /etc stays bounded)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-stamps-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'nologin.ttyS0');
  const s0 = fileStamp(path);
  // resolv.conf-style writes: a temp file with a fresh name each time, renamed over.
  for (let i = 0; i < 200; i++) {
    writeFileSync(join(dir, `resolv.conf.tmp${i}`), 'nameserver 192.0.2.1\n');
    renameSync(join(dir, `resolv.conf.tmp${i}`), join(dir, 'resolv.conf'));
  }
  // A change of the asked-for file after them: once its stamp moves, every earlier event was seen.
  writeFileSync(path, '');
  await changed(path, s0);
  assert.equal(stampedNames(dir), 1, 'only the name that was asked about');
});
