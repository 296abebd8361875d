/**
 * Security round 2 (issue 15, 1 and 2): a local user plants something under a lock's name
 * in the lock dir. The real binary (`tgetty serve`, and single-line `tgetty`) on simulator
 * lines; the attacker steps run as user nobody (setpriv). Every path is a temp dir passed on
 * the command line, so no mount namespace is needed: the lock dir is made world-writable and
 * sticky (as /run/lock) for the FIFO, and group-writable without the sticky bit (a uucp-group
 * lock dir) for the symlink, where fs.protected_symlinks does not apply whatever its setting.
 * The daemon runs in a session of its own (setsid), as under systemd: no controlling tty
 * unless it opens one. See docs/security.md, "Paths in directories others can write".
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { closeFd, openPty } from '../../src/line/libc.js';
import { getpwnam, getgrnam } from '../../src/os/passwd.js';
import { createBank } from '../../src/sim/index.js';
import { startChild, type Child } from '../helpers/child.js';
import { waitFor as pollUntil } from '../helpers/leaks.js';
import { which } from '../helpers/lock-namespace.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');
const nobody = getpwnam('nobody');
const nogroup = getgrnam('nogroup');
const skip =
  process.getuid?.() !== 0 ? 'needs root (the attacker steps run as user nobody)'
  : nobody === undefined || nogroup === undefined ? 'needs user nobody and group nogroup'
  : !which('setpriv') || !which('setsid') || !which('mkfifo') ? 'needs setpriv, setsid and mkfifo (util-linux, coreutils)'
  : undefined;

const waitFor = (cond: () => boolean, what: string, ms = 10_000): Promise<void> => pollUntil(cond, ms, what);

/** Run a command as user nobody, group nogroup, no supplementary groups. */
function asNobody(cmd: string, ...args: string[]): void {
  const r = spawnSync('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', cmd, ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `as nobody: ${cmd} ${args.join(' ')}: ${r.stderr}`);
}

/** A tgetty process in a session of its own; killed (by pid) when the test ends. */
function startOwnSession(t: TestContext, args: string[]): Child {
  // setsid execs node in place (the child is no group leader), so the pid is tgetty's.
  const c = startChild('setsid', [process.execPath, BIN, ...args]);
  t.after(() => c.stop({ signal: 'SIGKILL' }));
  return c;
}

interface Tree {
  root: string;
  sim: string;
  etc: string;
  lock: string;
  log: string;
  run: string;
  args: string[];
}

/** Every path in one temp root that nobody can traverse (0755); the lock dir's mode set by the test. */
function tree(t: TestContext, prefix: string): Tree {
  const root = mkdtempSync(join(tmpdir(), prefix));
  chmodSync(root, 0o755);
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const d = { root, sim: join(root, 'sim'), etc: join(root, 'etc'), lock: join(root, 'lock'), log: join(root, 'log'), run: join(root, 'run') };
  for (const x of [d.sim, d.etc, d.lock, d.log, d.run]) mkdirSync(x);
  writeFileSync(join(root, 'utmp'), '');
  writeFileSync(join(root, 'wtmp'), '');
  writeFileSync(join(d.etc, 'mgetty.config'), 'toggle-dtr no\nfido-send-emsi no\nlogin-prompt login:\n');
  return {
    ...d,
    args: ['--config-dir', d.etc, '--lock-dir', d.lock, '--log-dir', d.log, '--run-dir', d.run, '--utmp', join(root, 'utmp'), '--wtmp', join(root, 'wtmp')],
  };
}

function status(run: string): { status: number | null; stdout: string; stderr: string; signal: string | null } {
  return spawnSync(process.execPath, [BIN, 'status', '--json', '--run-dir', run], { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL' });
}

function lineLog(d: Tree, device: string): string {
  const f = join(d.log, `${device}.log`);
  return existsSync(f) ? readFileSync(f, 'utf8') : '';
}

/** Field 7 of /proc/<pid>/stat: the controlling tty's device number, 0 = none. */
function ttyNr(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[4]);
}

test('a FIFO as a lock file at daemon start-up: the status socket appears, status shows the line held, another line answers a call', { skip, timeout: 60_000 }, async (t) => {
  const d = tree(t, 'tgetty-sec-lockfifo-');
  chmodSync(d.lock, 0o1777); // as /run/lock
  const bank = await createBank({ lines: 2, dir: d.sim });
  t.after(() => bank.close());
  const fifo = join(d.lock, 'LCK..ttySIM0');
  asNobody('mkfifo', fifo);

  const serve = startOwnSession(t, ['serve', ...d.args, '--records', join(d.root, 'calls.sqlite'), '--lines', `${join(d.sim, 'ttySIM0')},${join(d.sim, 'ttySIM1')}`]);
  const sock = join(d.run, 'tgetty.sock');
  await waitFor(() => existsSync(sock), `the status socket (the daemon blocked in open of the FIFO?) ${serve.output()}`);

  // The held line is seen as held by a foreign lock (state dialout), the refusal logged.
  await waitFor(() => /is not a regular file \(fifo\): not reading or removing it; treating the line as locked/.test(lineLog(d, 'ttySIM0')), `the refusal in ttySIM0.log: ${lineLog(d, 'ttySIM0')}`);
  let lines: { line: string; state: string; detail?: string }[] = [];
  await waitFor(() => {
    const s = status(d.run);
    if (s.status !== 0) return false;
    lines = (JSON.parse(s.stdout) as { lines: { line: string; state: string; detail?: string }[] }).lines;
    return lines.find((l) => l.line === 'ttySIM0')?.state === 'dialout';
  }, `status shows ttySIM0 held (dialout): ${JSON.stringify(lines)}`);

  // The other line answers a call.
  await bank.line(1).waitForDte(/AT\r/, 10_000);
  await new Promise((res) => setTimeout(res, 600));
  const call = bank.line(1).call({ cidFormat: 'none' });
  await call.waitFor(/login:/, 15_000);
  call.hangup();

  assert.ok(lstatSync(fifo).isFIFO(), 'the FIFO is left where it is');
  assert.equal(serve.proc.exitCode, null, 'the daemon still runs');
  serve.proc.kill('SIGTERM');
  assert.equal(await serve.exited, 0, serve.output());
  assert.ok(lstatSync(fifo).isFIFO(), 'the FIFO is not removed at shut-down either');
});

test('a symlink to the attacker\'s pty as a lock file: the daemon gets no controlling tty, and a ^C on that pty does not stop it', { skip, timeout: 60_000 }, async (t) => {
  const d = tree(t, 'tgetty-sec-locklink-');
  // A uucp-style group lock dir without the sticky bit: protected_symlinks would not help here.
  chownSync(d.lock, 0, nogroup?.gid ?? 65534);
  chmodSync(d.lock, 0o775);
  const bank = await createBank({ lines: 1, dir: d.sim });
  t.after(() => bank.close());
  // The attacker's terminal: a pty given to nobody (as their login session's would be).
  const pty = openPty();
  t.after(() => closeFd(pty.master));
  chownSync(pty.slave, nobody?.uid ?? 65534, nogroup?.gid ?? 65534);
  const link = join(d.lock, 'LCK..ttySIM0');
  asNobody('ln', '-s', pty.slave, link);

  const serve = startOwnSession(t, ['serve', ...d.args, '--records', join(d.root, 'calls.sqlite'), '--lines', join(d.sim, 'ttySIM0')]);
  const pid = serve.proc.pid as number;
  // Any verdict on the lock means the daemon has looked at it (before the fix: opened it).
  await waitFor(() => /lock file .*LCK\.\.ttySIM0 .*treating the line as locked/.test(lineLog(d, 'ttySIM0')), `the lock verdict in ttySIM0.log: ${serve.output()}`);
  assert.equal(ttyNr(pid), 0, 'the daemon has no controlling tty');
  assert.match(lineLog(d, 'ttySIM0'), /LCK\.\.ttySIM0 is a symbolic link: not reading or removing it; treating the line as locked/);

  // ^C on the attacker's pty: with the pty as its controlling tty, SIGINT stopped the daemon.
  writeSync(pty.master, '\x03');
  await new Promise((res) => setTimeout(res, 1000));
  assert.equal(serve.proc.exitCode, null, `the daemon still runs: ${serve.output()}`);
  assert.equal(serve.proc.signalCode, null);
  const s = status(d.run);
  assert.equal(s.status, 0, s.stderr);
  assert.ok(lstatSync(link).isSymbolicLink(), 'the link is left where it is');

  // The attacker removes the link: the line is taken and initialised.
  asNobody('rm', link);
  await bank.line(0).waitForDte(/AT\r/, 15_000);
  serve.proc.kill('SIGTERM');
  assert.equal(await serve.exited, 0, serve.output());
});

test('single-line tgetty with a FIFO as its lock file: does not hang, stays off the line, takes it when the FIFO goes', { skip, timeout: 60_000 }, async (t) => {
  const d = tree(t, 'tgetty-sec-lockfifo1-');
  chmodSync(d.lock, 0o1777);
  const bank = await createBank({ lines: 1, dir: d.sim });
  t.after(() => bank.close());
  const fifo = join(d.lock, 'LCK..ttySIM0');
  asNobody('mkfifo', fifo);
  const tg = startOwnSession(t, [...d.args, join(d.sim, 'ttySIM0')]);
  await waitFor(() => /is not a regular file \(fifo\): not reading or removing it/.test(lineLog(d, 'ttySIM0')), `the refusal in ttySIM0.log (hung in open?): ${lineLog(d, 'ttySIM0')} ${tg.output()}`);
  assert.equal(tg.proc.exitCode, null, `still running: ${tg.output()}`);
  assert.ok(lstatSync(fifo).isFIFO(), 'the FIFO is left where it is');
  asNobody('rm', fifo);
  await bank.line(0).waitForDte(/AT\r/, 15_000);
  tg.proc.kill('SIGTERM');
  const code = await Promise.race([tg.exited, new Promise<string>((res) => setTimeout(() => res('no exit within 10 s'), 10_000))]);
  assert.equal(code, 10, tg.output());
});
