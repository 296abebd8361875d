import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdtempSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLoginConfig } from '../config/load.js';
import { LoginConfigCache, loginConfigEntries, loginConfigOf } from './login-config-cache.js';

function setup(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-logincache-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const root = process.getuid?.() === 0;

test('login.config is read once while the file stays the same, again after an edit', (t) => {
  const dir = setup(t);
  const path = join(dir, 'login.config');
  writeFileSync(path, '* - - /bin/login @\n', { mode: 0o600 });
  const cache = new LoginConfigCache();
  const a = cache.get(path);
  assert.equal(cache.get(path), a);
  assert.equal(cache.get(path), a);
  assert.equal(cache.loads, 1);
  writeFileSync(path, '* - - /bin/false @\n');
  const b = cache.get(path);
  assert.equal(cache.loads, 2);
  assert.equal(b.parsed?.entries[0]?.program, '/bin/false');
});

test('an edit that keeps the size and puts the mtime back is still seen (ctime), as is a replaced file', (t) => {
  const dir = setup(t);
  const path = join(dir, 'login.config');
  writeFileSync(path, '* - - /bin/aaaa @\n', { mode: 0o600 });
  const before = statSync(path);
  const cache = new LoginConfigCache();
  assert.equal(cache.get(path).parsed?.entries[0]?.program, '/bin/aaaa');
  writeFileSync(path, '* - - /bin/bbbb @\n');
  utimesSync(path, before.atime, before.mtime);
  assert.equal(cache.get(path).parsed?.entries[0]?.program, '/bin/bbbb');
  const other = join(dir, 'new');
  writeFileSync(other, '* - - /bin/cccc @\n', { mode: 0o600 });
  renameSync(other, path);
  assert.equal(cache.get(path).parsed?.entries[0]?.program, '/bin/cccc');
  assert.equal(cache.loads, 3);
});

test('the ownership/mode check is made again on every change: a chmod or chown makes a cached file unusable', { skip: root ? false : 'needs root (login.config must be owned by root)' }, (t) => {
  const dir = setup(t);
  const path = join(dir, 'login.config');
  writeFileSync(path, '* - - /bin/sh @\n', { mode: 0o600 });
  const cache = new LoginConfigCache();
  assert.equal(cache.get(path).usable, true);
  chmodSync(path, 0o666);
  const loose = cache.get(path);
  assert.equal(loose.usable, false);
  assert.ok(loose.diagnostics.some((d) => d.kind === 'insecure'));
  chmodSync(path, 0o600);
  assert.equal(cache.get(path).usable, true);
  chownSync(path, 65534, 65534);
  assert.equal(cache.get(path).usable, false);
  const log: string[] = [];
  assert.deepEqual(loginConfigEntries(cache, dir, 'login.config', { warn: (m) => log.push(m) }), []);
  assert.ok(log.some((m) => m.includes('built-in default')), log.join('\n'));
});

test('a missing file is remembered as missing until it appears', (t) => {
  const dir = setup(t);
  const path = join(dir, 'login.config');
  const cache = new LoginConfigCache();
  assert.equal(cache.get(path).parsed, undefined);
  assert.equal(cache.get(path).parsed, undefined);
  assert.equal(cache.loads, 1);
  writeFileSync(path, '* - - /bin/login @\n', { mode: 0o600 });
  assert.equal(cache.get(path).parsed?.entries.length, 1);
});

test('one cache per config generation: a new generation reads the file again', (t) => {
  const dir = setup(t);
  const path = join(dir, 'login.config');
  writeFileSync(path, '* - - /bin/login @\n', { mode: 0o600 });
  const gen1 = {};
  const gen2 = {};
  assert.equal(loginConfigOf(gen1), loginConfigOf(gen1));
  assert.notEqual(loginConfigOf(gen1), loginConfigOf(gen2));
  const c = loginConfigOf(gen2);
  c.get(path);
  c.get(path);
  assert.equal(c.loads, 1);
  assert.deepEqual(loginConfigOf(gen1).get(path), loadLoginConfig(path));
});
