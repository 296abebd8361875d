/**
 * The direct hand-off (one exec, issue 16) on a pty: posix_spawn with setsid() and the tty
 * made the controlling terminal in the child (src/os/spawn.ts `sessionWithTty`), the
 * fallback to the sh gate and `setsid -c` when the tty is still another session's
 * terminal, and the utmp records around it (a LOGIN record with the program's pid before
 * /bin/login would look for it). No root needed except for the fallback's takeover
 * (TIOCSCTTY with force), which skips without it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tty from 'node:tty';
import { O_NOCTTY, O_NONBLOCK, O_RDWR, closeFd, openFd, openPty } from '../../src/line/libc.js';
import { ENXIO, spawnChild, watchExit } from '../../src/os/spawn.js';
import { LOGIN_PROCESS, DEAD_PROCESS, readUtmp } from '../../src/os/utmp.js';
import { openTtyLine } from '../../src/line/tty-line.js';
import { TgettyError } from '../../src/core/errors.js';
import { UtmpWriter, startSession } from '../../src/login/index.js';
import { startStandbyGate } from '../../src/login/standby-gate.js';
import type { SessionLog } from '../../src/login/index.js';

const GUARD_MS = 20_000;

/** A pty whose master we read (the caller), with an extra slave fd held so the pty outlives its sessions. */
function makePty(t: { after(fn: () => void): void }): { slave: string; output(): string; waitFor(re: RegExp): Promise<void> } {
  const pty = openPty();
  const hold = openFd(pty.slave, O_RDWR | O_NOCTTY | O_NONBLOCK);
  const master = new tty.ReadStream(pty.master);
  let out = '';
  master.on('data', (b: Buffer) => (out += b.toString('latin1')));
  master.on('error', () => undefined);
  t.after(() => {
    master.destroy();
    closeFd(hold);
  });
  return {
    slave: pty.slave,
    output: () => out,
    waitFor: (re) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          master.off('data', check);
          reject(new Error(`never saw ${String(re)}; got ${JSON.stringify(out)}`));
        }, GUARD_MS);
        const check = (): void => {
          if (!re.test(out)) return;
          clearTimeout(timer);
          master.off('data', check);
          resolve();
        };
        master.on('data', check);
        check();
      }),
  };
}

/** sid, tty_nr, tpgid of a live process, from /proc/PID/stat. */
function statOf(pid: number): { sid: number; ttyNr: number; tpgid: number } {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return { sid: Number(f[3]), ttyNr: Number(f[4]), tpgid: Number(f[5]) };
}

/** Linux tty_nr of a device: major in bits 8-15, minor in 0-7 and 20-31. */
function ttyNr(rdev: number): number {
  const major = Math.floor(rdev / 256) & 0xfff;
  const minor = (rdev & 0xff) | ((Math.floor(rdev / 4096) & 0xfff00));
  return (major << 8) | (minor & 0xff) | ((minor & ~0xff) << 12);
}

/** SIGKILL `pid` (a child this test started) after the test, unless it is gone already. */
function killAfter(t: { after(fn: () => void): void }, pid: number): void {
  t.after(() => {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  });
}

/** A temp dir removed after the test. */
function tempDir(t: { after(fn: () => void): void }, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A session leader (sh) that holds the pty as its controlling terminal until killed (killed after the test in any case). */
async function holdAsTerminal(t: { after(fn: () => void): void }, p: { waitFor(re: RegExp): Promise<void> }, fd: number): Promise<{ pid: number; exited: Promise<unknown> }> {
  const pid = await spawnChild({ path: '/bin/sh', argv: ['/bin/sh', '-c', 'echo holding; exec sleep 60'], env: {}, cwd: '/', fds: [fd, fd, fd], sessionWithTty: true });
  const exited = watchExit(pid);
  killAfter(t, pid);
  await p.waitFor(/holding/);
  return { pid, exited };
}

const quiet: SessionLog = { error: () => undefined, warn: () => undefined, noise: () => undefined, audit: () => undefined };

test('sessionWithTty: the child is a session leader in the foreground of the tty it got as fd 0-2, with no other fd', async (t) => {
  const p = makePty(t);
  const fd = openFd(p.slave, O_RDWR | O_NOCTTY);
  let pid: number;
  try {
    pid = await spawnChild({
      path: '/bin/sh',
      // ls lists its own fds: 0-2 and its directory fd 3, unless something leaked in before it.
      argv: ['/bin/sh', '-c', 'echo "fds=$(ls /proc/self/fd | sort -n | tr "\\n" " ")"; echo ready; read -r _'],
      env: {},
      cwd: '/',
      fds: [fd, fd, fd],
      sessionWithTty: true,
    });
  } finally {
    closeFd(fd);
  }
  const exited = watchExit(pid);
  killAfter(t, pid);
  await p.waitFor(/ready/);
  const st = statOf(pid);
  assert.equal(st.sid, pid, 'a session leader');
  assert.equal(st.ttyNr, ttyNr(statSync(p.slave).rdev), 'the pty is its controlling terminal');
  assert.equal(st.tpgid, pid, 'its process group is the foreground one');
  const fds = /fds=([^\r\n]*)/.exec(p.output())?.[1]?.trim().split(' ').map(Number) ?? [];
  // 0-2 and ls's own directory fd: the /proc/self/fd/0 and /dev/tty opens were closed again.
  assert.deepEqual(fds, [0, 1, 2, 3], `only the line (ls's own dir fd is 3): ${fds.join(' ')}`);
  process.kill(pid, 'SIGHUP');
  assert.equal((await exited).signal, 'SIGHUP');
});

test('sessionWithTty on a tty that is still another session\'s terminal: ENXIO and the program never runs', async (t) => {
  const p = makePty(t);
  const dir = tempDir(t, 'tgetty-direct-');
  const fd = openFd(p.slave, O_RDWR | O_NOCTTY);
  t.after(() => closeFd(fd));
  const { pid: holder, exited: held } = await holdAsTerminal(t, p, fd);
  const marker = join(dir, 'ran');
  await assert.rejects(
    spawnChild({ path: '/bin/sh', argv: ['/bin/sh', '-c', `: > ${marker}`], env: {}, cwd: '/', fds: [fd, fd, fd], sessionWithTty: true }),
    (e: unknown) => e instanceof TgettyError && e.context.errno === ENXIO,
  );
  assert.equal(existsSync(marker), false, 'nothing ran');
  process.kill(holder, 'SIGKILL');
  await held;
});

test('startSession, direct with loginRecord: the program is the session leader, LOGIN in utmp and wtmp with its pid, DEAD after; the port mode is back', async (t) => {
  const p = makePty(t);
  const dir = tempDir(t, 'tgetty-direct-');
  const utmpFile = join(dir, 'utmp');
  const wtmpFile = join(dir, 'wtmp');
  writeFileSync(wtmpFile, '');
  const prog = join(dir, 'prog.sh');
  writeFileSync(prog, '#!/bin/sh\necho "pid=$$"; read -r _\n');
  chmodSync(prog, 0o755);
  const line = openTtyLine(p.slave);
  t.after(() => line.close());
  const modeBefore = statSync(p.slave).mode & 0o7777;
  const warnings: string[] = [];
  const r = await startSession({
    line,
    mode: { mode: 'login', endedWith: 'cr', clocal: true },
    program: prog,
    argv: ['prog.sh'],
    env: { CONNECT: '33600', CALLER_ID: 'none' },
    utmp: { writer: new UtmpWriter({ utmpFile, wtmpFile }), loginRecord: true },
    portMode: { during: 0o600 },
    log: { ...quiet, warn: (m) => warnings.push(m) },
  });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  await p.waitFor(/pid=\d+/);
  const pid = r.session.pid;
  assert.match(p.output(), new RegExp(`pid=${pid}\\b`), 'the session leader is the program itself (the gate exec\'d it)');
  const st = statOf(pid);
  assert.equal(st.sid, pid);
  assert.equal(st.ttyNr, ttyNr(statSync(p.slave).rdev));
  assert.equal(statSync(p.slave).mode & 0o7777, 0o600);
  const logins = readUtmp(utmpFile).filter((x) => x.type === LOGIN_PROCESS);
  assert.deepEqual(logins.map((x) => [x.pid, x.user, x.host]), [[pid, 'LOGIN', '33600']]);
  assert.deepEqual(readUtmp(wtmpFile).map((x) => [x.type, x.pid]), [[LOGIN_PROCESS, pid]], 'wtmp: one LOGIN record');
  r.session.kill('SIGHUP');
  await r.session.exited;
  assert.deepEqual(readUtmp(utmpFile).map((x) => [x.type, x.pid]), [[DEAD_PROCESS, pid]]);
  assert.equal(statSync(p.slave).mode & 0o7777, modeBefore);
  assert.deepEqual(warnings, []);
});

test('startSession, direct: a program the kernel cannot execute fails before anything runs; no utmp record, the mode is back, the line is still ours', async (t) => {
  const p = makePty(t);
  const dir = tempDir(t, 'tgetty-direct-');
  const utmpFile = join(dir, 'utmp');
  const prog = join(dir, 'not-a-program');
  writeFileSync(prog, Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 0])); // a broken ELF header: ENOEXEC
  chmodSync(prog, 0o755);
  const line = openTtyLine(p.slave);
  t.after(() => line.close());
  const modeBefore = statSync(p.slave).mode & 0o7777;
  const r = await startSession({
    line,
    program: prog,
    argv: ['x'],
    env: {},
    // No loginRecord: the program itself is exec'd by the spawn, so the spawn fails.
    utmp: { writer: new UtmpWriter({ utmpFile }), loginRecord: false, userRecord: 'x' },
    portMode: { during: 0o600 },
    log: quiet,
  });
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.error.code, 'LOGIN_EXEC_FAILED');
  assert.notEqual(r.error.context.released, true);
  assert.match(r.lineText, /cannot execute/);
  assert.deepEqual(existsSync(utmpFile) ? readUtmp(utmpFile) : [], [], 'no record for a program that never ran');
  assert.equal(statSync(p.slave).mode & 0o7777, modeBefore);
  await line.write('still ours\r\n');
  await p.waitFor(/still ours/);
});

test('startSession: a tty still held as another session\'s terminal falls back to the sh gate and setsid -c, which takes it over', { skip: process.getuid?.() !== 0 ? 'needs root (TIOCSCTTY with force)' : false }, async (t) => {
  const p = makePty(t);
  const fd = openFd(p.slave, O_RDWR | O_NOCTTY);
  t.after(() => closeFd(fd));
  const { pid: holder, exited: held } = await holdAsTerminal(t, p, fd);
  const line = openTtyLine(p.slave);
  t.after(() => line.close());
  const warnings: string[] = [];
  const r = await startSession({
    line,
    program: '/bin/sh',
    argv: ['sh', '-c', 'echo "taken=$$"; read -r _'],
    env: {},
    log: { ...quiet, warn: (m) => warnings.push(m) },
  });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  await p.waitFor(/taken=\d+/);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0] ?? '', /still the controlling terminal of another session: handing over through .*setsid -c/);
  const st = statOf(r.session.pid);
  assert.equal(st.sid, r.session.pid);
  assert.equal(st.ttyNr, ttyNr(statSync(p.slave).rdev), 'setsid -c took the tty over');
  r.session.kill('SIGKILL');
  await r.session.exited;
  process.kill(holder, 'SIGKILL');
  await held;
});

test('startSession, direct without loginRecord: one exec, the program at once, USER_PROCESS with its pid', async (t) => {
  const p = makePty(t);
  const dir = tempDir(t, 'tgetty-direct-');
  const utmpFile = join(dir, 'utmp');
  const line = openTtyLine(p.slave);
  t.after(() => line.close());
  const r = await startSession({
    line,
    program: '/bin/sh',
    argv: ['sh', '-c', 'echo "pid=$$ fds=$(ls /proc/self/fd | sort -n | tr "\\n" " ")"; read -r _'],
    env: { CONNECT: '33600' },
    utmp: { writer: new UtmpWriter({ utmpFile }), loginRecord: false, userRecord: 'a_ppp' },
    log: quiet,
  });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  await p.waitFor(/pid=\d+ fds=[^\r\n]*\r?\n/);
  assert.match(p.output(), new RegExp(`pid=${r.session.pid}\\b`));
  const fds = /fds=([^\r\n]*)/.exec(p.output())?.[1]?.trim().split(' ').map(Number) ?? [];
  assert.deepEqual(fds, [0, 1, 2, 3], `no gate pipe or other fd in the program (ls's own dir fd is 3): ${fds.join(' ')}`);
  assert.deepEqual(readUtmp(utmpFile).map((x) => [x.type, x.pid, x.user, x.host]), [[7, r.session.pid, 'a_ppp', '33600']]);
  r.session.kill('SIGHUP');
  await r.session.exited;
  assert.deepEqual(readUtmp(utmpFile).map((x) => [x.type, x.pid]), [[DEAD_PROCESS, r.session.pid]]);
});

test('standby gate: started before the name, it becomes the program at the go: same pid, the tty as its terminal, argv and env exactly, only fds 0-2', async (t) => {
  const p = makePty(t);
  const dir = tempDir(t, 'tgetty-standby-');
  const utmpFile = join(dir, 'utmp');
  const out = join(dir, 'out');
  const prog = join(dir, 'prog.sh');
  writeFileSync(prog, `#!/bin/sh\n{ echo "pid=$$"; for a in "$@"; do echo "arg=[$a]"; done; env | sort | sed 's/^/env=/'; } > ${out}\nls /proc/self/fd | sort -n | tr '\\n' ' ' | sed 's/^/fds=/' >> ${out}\necho written; read -r _\n`);
  chmodSync(prog, 0o755);
  const line = openTtyLine(p.slave);
  t.after(() => line.close());
  const sb = await startStandbyGate(line);
  assert.ok(sb !== undefined, 'the gate starts on a pty');
  t.after(() => void sb.cancel());
  assert.equal(statOf(sb.pid).sid, sb.pid, 'waiting as a session leader');
  const r = await startSession({
    line,
    mode: { mode: 'login', endedWith: 'cr', clocal: true },
    program: prog,
    argv: ['prog.sh', 'joe $(id) `x` *', '', '-f', 'back\\slash'],
    env: { CALLER_ID: 'none', CONNECT: '33600/ARQ' },
    utmp: { writer: new UtmpWriter({ utmpFile }), loginRecord: true },
    standby: sb,
    log: quiet,
  });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal(r.session.pid, sb.pid, 'no spawn after the name: the gate is the session');
  await p.waitFor(/written/);
  const text = readFileSync(out, 'utf8');
  assert.match(text, new RegExp(`^pid=${sb.pid}$`, 'm'));
  assert.deepEqual(text.split('\n').filter((l) => l.startsWith('arg=')), ['arg=[joe $(id) `x` *]', 'arg=[]', 'arg=[-f]', 'arg=[back\\slash]']);
  const env = text.split('\n').filter((l) => l.startsWith('env=')).map((l) => l.slice(4)).filter((l) => !l.startsWith('PWD='));
  assert.deepEqual(env, ['CALLER_ID=none', 'CONNECT=33600/ARQ'], 'the environment given and nothing else (the shells add PWD)');
  const fds = /fds=([^\n]*)/.exec(text)?.[1]?.trim().split(' ').map(Number) ?? [];
  assert.deepEqual(fds, [0, 1, 2, 3], `only the line reached the program (ls's own dir fd is 3): ${fds.join(' ')}`);
  const st = statOf(sb.pid);
  assert.equal(st.ttyNr, ttyNr(statSync(p.slave).rdev));
  assert.deepEqual(readUtmp(utmpFile).map((x) => [x.type, x.pid]), [[LOGIN_PROCESS, sb.pid]]);
  r.session.kill('SIGHUP');
  await r.session.exited;
  assert.deepEqual(readUtmp(utmpFile).map((x) => [x.type, x.pid]), [[DEAD_PROCESS, sb.pid]]);
});

test('standby gate: cancelled, it is killed and reaped and nothing runs; a word it cannot carry makes the hand-off spawn instead', async (t) => {
  const p = makePty(t);
  const line = openTtyLine(p.slave);
  t.after(() => line.close());
  const first = await startStandbyGate(line);
  assert.ok(first !== undefined);
  await first.cancel();
  assert.equal(first.usable(), false);
  assert.equal((await first.exited).signal, 'SIGKILL');
  assert.equal(existsSync(`/proc/${first.pid}`), false, 'reaped');

  const second = await startStandbyGate(line);
  assert.ok(second !== undefined);
  const r = await startSession({ line, program: '/bin/sh', argv: ['sh', '-c', 'echo "ran=$$"; read -r _', 'x\ny'], env: {}, standby: second, log: quiet });
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal((await second.exited).signal, 'SIGKILL', 'the gate that could not carry the newline was cancelled');
  await p.waitFor(/ran=\d+/);
  assert.notEqual(r.session.pid, second.pid);
  r.session.kill('SIGKILL');
  await r.session.exited;
});

test('standby gate: a hangup at the prompt ends it (SIGHUP to the session leader); the hand-off then spawns', async (t) => {
  const pty = openPty();
  const hold = openFd(pty.slave, O_RDWR | O_NOCTTY | O_NONBLOCK);
  t.after(() => closeFd(hold));
  const line = openTtyLine(pty.slave);
  t.after(() => line.close());
  const sb = await startStandbyGate(line);
  assert.ok(sb !== undefined);
  closeFd(pty.master); // the caller hangs up
  assert.equal((await sb.exited).signal, 'SIGHUP');
  assert.equal(sb.usable(), false);
});
