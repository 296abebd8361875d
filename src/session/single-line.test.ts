import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentDialinConfig, nologinPresent } from './single-line.js';
import { fileStamp } from './file-stamps.js';

/**
 * The caches below trust the directory's inotify watch: a change is seen once the event
 * loop has read its event (in a getty, before the RING that follows). Wait for that.
 */
async function seen(path: string, before: number | undefined): Promise<void> {
  const end = Date.now() + 5_000;
  while (fileStamp(path) === before) {
    if (Date.now() > end) throw new Error(`no inotify event for ${path}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function change(path: string, fn: () => void): Promise<void> {
  const before = fileStamp(path);
  fn();
  await seen(path, before);
}

test('currentDialinConfig: reused while unchanged, re-read after an edit, a chmod or removal', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-dialin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'dialin.config');
  assert.equal(currentDialinConfig(path).parsed, undefined);

  await change(path, () => {
    writeFileSync(path, '!5551234\n');
    chmodSync(path, 0o600);
  });
  const a = currentDialinConfig(path);
  assert.equal(a.secure, true);
  assert.equal(a.parsed?.tokens[0]?.token, '5551234');
  assert.equal(currentDialinConfig(path), a, 'same file: the parsed result is reused');

  await change(path, () => writeFileSync(path, '!5559999\n'));
  const b = currentDialinConfig(path);
  assert.notEqual(b, a);
  assert.equal(b.parsed?.tokens[0]?.token, '5559999');

  // A world-writable file is no longer trusted: the chmod alone must be noticed.
  await change(path, () => chmodSync(path, 0o666));
  const c = currentDialinConfig(path);
  assert.equal(c.secure, false);

  await change(path, () => rmSync(path));
  assert.equal(currentDialinConfig(path).parsed, undefined);
});

test('currentDialinConfig: a symlinked file is checked with stat(2) every time (its target is out of the watch\'s sight)', (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-dialin-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const etc = join(root, 'etc');
  const real = join(root, 'real');
  mkdirSync(etc);
  mkdirSync(real);
  const target = join(real, 'dialin.config');
  writeFileSync(target, '!5551234\n');
  chmodSync(target, 0o600);
  const path = join(etc, 'dialin.config');
  symlinkSync(target, path);
  assert.equal(currentDialinConfig(path).parsed?.tokens[0]?.token, '5551234');
  // No event in etc/ for this edit, and no turn of the event loop either.
  writeFileSync(target, '!5550000 !5559999\n');
  assert.equal(currentDialinConfig(path).parsed?.tokens[1]?.token, '5559999');
});

test('nologinPresent: follows the file as it comes and goes; a symlink is looked at every time', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-nologin-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const etc = join(root, 'etc');
  mkdirSync(etc);
  const path = join(etc, 'nologin.ttyS0');
  assert.equal(nologinPresent(etc, 'nologin.ttyS0'), false);
  assert.equal(nologinPresent(etc, 'nologin.ttyS0'), false, 'asked again: the same (from the cache)');
  await change(path, () => writeFileSync(path, ''));
  assert.equal(nologinPresent(etc, 'nologin.ttyS0'), true);
  await change(path, () => rmSync(path));
  assert.equal(nologinPresent(etc, 'nologin.ttyS0'), false);

  // A symlink to a file elsewhere: creating the target makes no event in etc/.
  const elsewhere = join(root, 'maint-flag');
  await change(path, () => symlinkSync(elsewhere, path));
  assert.equal(nologinPresent(etc, 'nologin.ttyS0'), false, 'a dangling symlink is no nologin file');
  writeFileSync(elsewhere, '');
  assert.equal(nologinPresent(etc, 'nologin.ttyS0'), true);

  // Without a watchable directory: looked at every time.
  assert.equal(nologinPresent(join(root, 'missing'), 'nologin.ttyS0'), false);
});
