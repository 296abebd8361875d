/**
 * Security review, "the ownership checks on login.config and dialin.config": the real
 * tgetty binary on a simulator line.
 * - login.config writable by others is ignored: its program never runs, the built-in
 *   default `/bin/login @` does. So that no real login runs (it would write btmp and
 *   syslog), tgetty runs in a private mount namespace where a recorder is bound over
 *   /bin/login; the machine's own /bin/login is untouched.
 * - dialin.config writable by others is not trusted: every call is refused (fail closed).
 * See docs/security.md.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBank } from '../../src/sim/index.js';
import { startTgetty } from '../helpers/tgetty-run.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');
const CONFIG = 'login-prompt sim login:\nfido-send-emsi no\ntoggle-dtr no\n';

function nsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (mount namespace)';
  if (spawnSync('unshare', ['--version']).status !== 0) return 'unshare (util-linux) missing';
  if (!existsSync('/bin/login')) return 'no /bin/login to stand in for';
  return undefined;
}

test('login.config writable by others is ignored: its program never runs, /bin/login @ does, and the log says why', { skip: nsUnavailable() }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-sec-conf-'));
  const d = { sim: join(root, 'sim'), etc: join(root, 'etc'), lock: join(root, 'lock'), log: join(root, 'log'), run: join(root, 'run') };
  for (const x of Object.values(d)) mkdirSync(x);
  writeFileSync(join(root, 'utmp'), '');
  writeFileSync(join(root, 'wtmp'), '');
  writeFileSync(join(d.etc, 'mgetty.config'), CONFIG);
  const evil = join(root, 'evil.sh');
  writeFileSync(evil, `#!/bin/sh\ntouch '${root}/evil-ran'\n`);
  chmodSync(evil, 0o755);
  const loginConfig = join(d.etc, 'login.config');
  writeFileSync(loginConfig, `* - - ${evil}\n`);
  chmodSync(loginConfig, 0o666);
  const fakeLogin = join(root, 'fake-login');
  writeFileSync(fakeLogin, `#!/bin/sh\nfor a in "$@"; do printf '<%s>' "$a"; done > '${root}/login-argv'\nexit 0\n`);
  chmodSync(fakeLogin, 0o755);

  const bank = await createBank({ lines: 1, dir: d.sim });
  const tgArgs = [BIN, '--config-dir', d.etc, '--lock-dir', d.lock, '--log-dir', d.log, '--run-dir', d.run,
    '--utmp', join(root, 'utmp'), '--wtmp', join(root, 'wtmp'), join(d.sim, 'ttySIM0')];
  // The bind mount exists only in the child's private namespace (unshare -m makes it private).
  const child = spawn('unshare', ['-m', '--', '/bin/sh', '-c', 'mount --bind "$1" /bin/login || exit 99; shift; exec "$@"', 'sh', fakeLogin, process.execPath, ...tgArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
    await bank.close();
    rmSync(root, { recursive: true, force: true });
  });

  await bank.line(0).waitForDte(/ATQ0V1H0\r[^]*AT\r/, 10_000);
  await new Promise((r) => setTimeout(r, 600));
  const call = bank.line(0).call({ cidFormat: 'none' });
  await call.waitFor(/sim login:/, 10_000);
  call.write('joe\r');
  assert.equal(await exited, 0, out);
  const log = readFileSync(join(d.log, 'ttySIM0.log'), 'utf8');
  assert.equal(existsSync(join(root, 'evil-ran')), false, 'the program of the insecure login.config must not run');
  assert.equal(readFileSync(join(root, 'login-argv'), 'utf8'), '<joe>', '/bin/login got the name (built-in default)');
  assert.match(log, /login\.config:0: ignored because its mode 0666 gives group or others access/);
  assert.match(log, /the built-in default '\* - - \/bin\/login @' is used instead/);
  assert.match(log, /##### data dev=ttySIM0, .*cmd='\/bin\/login', user='joe'/);
  assert.equal(readFileSync('/bin/login').subarray(0, 2).toString(), '\x7fE', "outside the namespace /bin/login is the machine's own");
});

test('dialin.config writable by others: CONFIG_INSECURE, and every call is refused (fail closed)', { skip: process.getuid?.() === 0 ? undefined : 'needs root (login.config owned by root)' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-sec-dialin-'));
  const bank = await createBank({ lines: 1, dir });
  // A file that would accept everybody: writable by others, so not to be trusted.
  const tg = startTgetty({ tty: join(dir, 'ttySIM0'), config: `${CONFIG}rings 1\n`, dialinConfig: 'all\n', loginConfig: '* - - /bin/true\n' });
  chmodSync(join(tg.paths.config, 'dialin.config'), 0o666);
  t.after(async () => {
    await tg.stop();
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await bank.line(0).waitForDte(/ATQ0V1H0\r[^]*AT\r/, 10_000);
  await new Promise((r) => setTimeout(r, 600));
  const call = bank.line(0).call({ callerId: '5551234', cidFormat: 'ring-number', maxRings: 3, ringCadenceMs: 1500 });
  assert.equal(await call.ended, 'not-answered');
  assert.doesNotMatch(bank.line(0).fromDte.all, /ATA/, 'the getty never answered');
  const log = tg.logText('ttySIM0');
  assert.match(log, /denied caller \(.*dialin\.config \(insecure\):0: '!all' matches caller '5551234': reject\)/);
});
