/**
 * System test: contrib/logrotate/tgetty is accepted by the installed logrotate, and a forced
 * rotation of a copy pointed at a temp dir rotates a log the way the file's comment says
 * (copied away, the open file truncated in place).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const file = fileURLToPath(new URL('../../../contrib/logrotate/tgetty', import.meta.url));
const skip = spawnSync('sh', ['-c', 'command -v logrotate']).status === 0 ? false : 'logrotate is not installed (apt-get install logrotate)';

test('logrotate -d accepts contrib/logrotate/tgetty', { skip }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-logrotate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const r = spawnSync('logrotate', ['-d', '-s', join(dir, 'state'), file], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stdout + r.stderr, /^error:/m);
  assert.match(r.stdout + r.stderr, /rotating pattern: \/var\/log\/tgetty\/\*\.log/);
});

test('a forced rotation copies the log away and truncates the open file', { skip }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-logrotate-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755);
  const conf = join(dir, 'tgetty.conf');
  writeFileSync(conf, readFileSync(file, 'utf8').replaceAll('/var/log/tgetty/', `${dir}/`), { mode: 0o644 });
  const log = join(dir, 'ttyS3.log');
  writeFileSync(log, 'one entry\n');
  const inode = statSync(log).ino;
  const r = spawnSync('logrotate', ['-f', '-s', join(dir, 'state'), conf], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(`${log}.1`, 'utf8'), 'one entry\n'); // delaycompress: the newest one stays plain
  assert.equal(statSync(log).ino, inode, 'the open file stays where tgetty writes');
  assert.equal(statSync(log).size, 0);
  assert.ok(!existsSync(`${log}.1.gz`));
});
