import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../core/clock.js';
import { DEAD_PROCESS, LOGIN_PROCESS, USER_PROCESS, type UtmpRecord } from '../os/utmp.js';
import { O_NOCTTY, O_RDWR, closeFd, openFd, openPty } from './libc.js';
import { aliveIn, endProcesses, parseStat, planTakeover, revokeTty, sameTty, scanProc, takeOverLine, type ProcEntry, type TakeoverLog, scanProcFor, scanProcShared } from './takeover.js';

// The line in the fake /proc trees: /dev/null (a character device every machine has: 1:3),
// so that the fake fd links lead to a real node, as /proc/PID/fd links do. /dev/zero
// stands for another tty. pts/5 (136:5) for the pure pty cases.
const NULLST = statSync('/dev/null');
const NUL = NULLST.rdev;
const ZERO = statSync('/dev/zero').rdev;
const LINE = { path: '/dev/null', rdev: NUL, dev: NULLST.dev, ino: NULLST.ino };
const PTS5 = 136 * 256 + 5;

interface FakeProc {
  pid: number;
  sid: number;
  pgid?: number;
  tty?: number;
  state?: string;
  start?: number;
  comm?: string;
  cmd?: string[];
  fds?: string[];
}

function stat(p: FakeProc): string {
  // pid (comm) state ppid pgrp session tty_nr tpgid flags ... starttime (field 22) ...
  const rest = [p.state ?? 'S', 1, p.pgid ?? p.sid, p.sid, p.tty ?? 0, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 20, 0, 1, 0, p.start ?? 1000 + p.pid, 0, 0];
  return `${p.pid} (${p.comm ?? 'sh'}) ${rest.join(' ')}\n`;
}

function fakeProc(t: TestContext, procs: FakeProc[], selfSid?: number): { dir: string; remove: (pid: number) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-proc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const p of procs) {
    const d = join(dir, String(p.pid));
    mkdirSync(join(d, 'fd'), { recursive: true });
    writeFileSync(join(d, 'stat'), stat(p));
    writeFileSync(join(d, 'cmdline'), (p.cmd ?? []).map((a) => `${a}\0`).join(''));
    (p.fds ?? []).forEach((target, i) => symlinkSync(target, join(d, 'fd', String(i))));
  }
  if (selfSid !== undefined) {
    mkdirSync(join(dir, 'self'));
    writeFileSync(join(dir, 'self', 'stat'), stat({ pid: 4242, sid: selfSid }));
  }
  return { dir, remove: (pid) => rmSync(join(dir, String(pid)), { recursive: true, force: true }) };
}

function rec(type: number, pid: number, line: string, user = 'LOGIN'): UtmpRecord {
  return { type, pid, line, id: line.slice(-4), user, host: '', time: 0 };
}

function memLog(): TakeoverLog & { lines: string[] } {
  const lines: string[] = [];
  const add = (lvl: string) => (m: string) => void lines.push(`${lvl} ${m}`);
  return { lines, mesg: add('mesg'), warn: add('warn'), error: add('error'), noise: add('noise') };
}

test('parseStat: a comm with spaces and parentheses, the fields after it', () => {
  const s = parseStat('77 (a) b (c)) S 1 70 60 34821 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 98765 0 0\n');
  assert.deepEqual(s, { state: 'S', pgid: 70, sid: 60, ttyNr: 34821, startTime: '98765', comm: 'a) b (c)' });
  assert.equal(parseStat('garbage'), undefined);
  assert.equal(parseStat('1 (x) S 1 2'), undefined);
});

test('sameTty: stat tty_nr against st_rdev, also for minors above 255', () => {
  assert.ok(sameTty(PTS5, PTS5));
  assert.ok(!sameTty(0, PTS5));
  assert.ok(!sameTty(136 * 256 + 6, PTS5));
  // pts/300: the kernel puts minor bits 8.. at bit 20; glibc's makedev does the same.
  const nr = (300 & 0xff) | (136 << 8) | ((300 & ~0xff) << 12);
  assert.ok(sameTty(nr, nr));
  assert.ok(!sameTty(136 * 256 + 44, nr));
  // A real device: /dev/null is 1:3 in both encodings.
  assert.ok(sameTty(1 * 256 + 3, statSync('/dev/null').rdev));
});

// The line after a `kill -9` of the getty: its session (100, 101), a holder in a
// session of its own (102), a utmp pid that was reused by a process off the line (103),
// a process on another tty (104), ourselves (105), our own session's holder (106, the
// process that started us), a zombie (107), a utmp pid with only an fd (108).
const SCENE: FakeProc[] = [
  { pid: 100, sid: 100, tty: NUL, cmd: ['/etc/mgetty/reader.sh'], fds: ['/dev/null', '/dev/null'] },
  { pid: 101, sid: 100, pgid: 101, tty: NUL, comm: 'cat', cmd: ['cat'], fds: ['/dev/null'] },
  { pid: 102, sid: 102, tty: 0, cmd: ['sleep', '1000'], fds: ['/dev/zero', '/dev/null'] },
  { pid: 103, sid: 103, tty: 0, cmd: ['unrelated'], fds: ['/dev/zero', '/etc/passwd'] },
  { pid: 104, sid: 104, tty: ZERO, cmd: ['bash'], fds: ['/dev/zero'] },
  { pid: 105, sid: 9, tty: 0, cmd: ['tgetty'], fds: ['/dev/null'] },
  { pid: 106, sid: 9, tty: NUL, cmd: ['node', 'sim'], fds: ['/dev/null'] },
  { pid: 107, sid: 100, tty: NUL, state: 'Z', comm: 'dead' },
  { pid: 108, sid: 108, tty: 0, cmd: ['pppd'], fds: ['/dev/null'] },
  { pid: 1, sid: 1, tty: NUL, cmd: ['init'], fds: ['/dev/null'] },
];
const RECORDS = [
  rec(LOGIN_PROCESS, 100, 'null'),
  rec(USER_PROCESS, 103, 'null', 'bob'),
  rec(USER_PROCESS, 108, 'null', 'ppp'),
  rec(LOGIN_PROCESS, 104, 'zero'),
  rec(DEAD_PROCESS, 99, 'null', ''),
];

test('scanProc: only the processes on the device node (controlling tty or an fd), with their command', async (t) => {
  const proc = fakeProc(t, SCENE);
  const found = await scanProc(proc.dir, LINE);
  assert.deepEqual(found.map((p) => p.pid).sort((a, b) => a - b), [1, 100, 101, 102, 105, 106, 107, 108]);
  const p101 = found.find((p) => p.pid === 101);
  assert.deepEqual(p101, { pid: 101, state: 'S', pgid: 101, sid: 100, ttyNr: NUL, startTime: '1101', cmd: 'cat', holdsFd: true });
  assert.equal(found.find((p) => p.pid === 107)?.cmd, '[dead]', 'no argv: the comm name');
  assert.equal(found.find((p) => p.pid === 107)?.holdsFd, false);
  // Same rdev, another node (as pts/5 of another devpts instance would be): no fd match.
  const other = await scanProc(proc.dir, { ...LINE, ino: LINE.ino + 1 });
  assert.deepEqual(other.map((p) => p.pid).sort((a, b) => a - b), [1, 100, 101, 106, 107], 'only the controlling-tty numbers match');
  assert.ok(other.every((p) => !p.holdsFd));
  // The scanning process itself is skipped (it never is a target).
  const withoutSelf = await scanProc(proc.dir, LINE, 105);
  assert.deepEqual(withoutSelf.map((p) => p.pid).sort((a, b) => a - b), [1, 100, 101, 102, 106, 107, 108]);
});

test('scanProcShared: lines that ask at once share one pass over /proc, each gets what is on its own device', async (t) => {
  const proc = fakeProc(t, SCENE);
  const other = { ...LINE, ino: LINE.ino + 1 };
  const alone = [await scanProc(proc.dir, LINE, 105), await scanProc(proc.dir, other)];
  const [a, b] = await Promise.all([scanProcShared(proc.dir, LINE, 105), scanProcShared(proc.dir, other)]);
  assert.deepEqual(a, alone[0]);
  assert.deepEqual(b, alone[1]);
  // Both in one pass: the same as scanning for the two devices together.
  const both = await scanProcFor(proc.dir, [LINE, other]);
  assert.deepEqual(both[1], alone[1]);
  assert.deepEqual(both[0]?.filter((p) => p.pid !== 105), alone[0]);
});

test('scanProcShared: lines asking in the same turn share one scan, each gets its own device\'s processes; a scan that has begun is not joined', async (t) => {
  const proc = fakeProc(t, SCENE);
  const otherNode = { ...LINE, ino: LINE.ino + 1 };
  // Asked together: one batch (both answers come from the same read of the tree).
  const [a, b] = await Promise.all([scanProcShared(proc.dir, LINE), scanProcShared(proc.dir, otherNode)]);
  assert.deepEqual(a.map((p) => p.pid).sort((x, y) => x - y), [1, 100, 101, 102, 105, 106, 107, 108]);
  assert.deepEqual(b.map((p) => p.pid).sort((x, y) => x - y), [1, 100, 101, 106, 107]);
  // A line asking while a scan runs gets a scan of its own, after it: it sees a process gone
  // since the first one began.
  const first = scanProcShared(proc.dir, LINE);
  await new Promise<void>((r) => setImmediate(r));
  proc.remove(102);
  const second = scanProcShared(proc.dir, LINE);
  const [one, two] = await Promise.all([first, second]);
  assert.ok(one.length >= two.length);
  assert.ok(!two.some((p) => p.pid === 102), 'the later scan began after the removal');
});

test('planTakeover: ends the earlier session and the line\'s utmp pids on the line, never us, our session, pid 1 or a reused pid', async (t) => {
  const proc = fakeProc(t, SCENE);
  const plan = planTakeover({ procs: await scanProc(proc.dir, LINE), records: RECORDS, utLine: 'null', rdev: NUL, self: { pid: 105, sid: 9 } });
  assert.deepEqual(plan.targets.map((p) => p.pid).sort((a, b) => a - b), [100, 101, 108]);
  assert.deepEqual(plan.holders.map((p) => p.pid).sort((a, b) => a - b), [102, 106]);
  assert.deepEqual(plan.records.map((r) => r.pid), [100, 103, 108], 'LOGIN/USER records of this line only');
});

test('planTakeover: a utmp pid off the line is never a target (pid reuse)', () => {
  const off: ProcEntry = { pid: 103, state: 'S', pgid: 103, sid: 103, ttyNr: 0, startTime: '1', cmd: 'x', holdsFd: false };
  const plan = planTakeover({ procs: [off], records: RECORDS, utLine: 'null', rdev: NUL, self: { pid: 1, sid: 1 } });
  assert.deepEqual(plan.targets, []);
  assert.deepEqual(plan.holders, []);
});

test('planTakeover: on a pty line, a controlling tty counts only in a session that holds an fd on the node (pty numbers repeat per devpts instance)', () => {
  const p = (pid: number, sid: number, holdsFd: boolean): ProcEntry => ({ pid, state: 'S', pgid: pid, sid, ttyNr: PTS5, startTime: '1', cmd: 'sh', holdsFd });
  // 200/201: our line's orphaned session (one of them holds an fd); 300: a shell on pts/5 of a container.
  const plan = planTakeover({ procs: [p(200, 200, true), p(201, 200, false), p(300, 300, false)], records: [], utLine: 'pts/5', rdev: PTS5, self: { pid: 9, sid: 9 } });
  assert.deepEqual(plan.targets.map((x) => x.pid), [200, 201]);
  assert.deepEqual(plan.holders, []);
});

/** Advance the fake clock in steps, letting the awaited continuations run between them. */
async function tick(clock: FakeClock, ms: number, step = 50): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(step);
    await new Promise((r) => setImmediate(r));
  }
}

function entry(pid: number): ProcEntry {
  return { pid, state: 'S', pgid: pid, sid: pid, ttyNr: PTS5, startTime: String(pid), cmd: `prog ${pid}`, holdsFd: true };
}

test('endProcesses: SIGHUP and SIGCONT to all, SIGKILL only to those still there after the grace', async () => {
  const clock = new FakeClock();
  const log = memLog();
  const alive = new Set([10, 11]);
  const sent: { pid: number; sig: string; at: number }[] = [];
  const start = clock.now();
  const kill = (pid: number, sig: NodeJS.Signals): void => {
    sent.push({ pid, sig, at: clock.now() - start });
    if (sig === 'SIGKILL' || (sig === 'SIGHUP' && pid === 10)) alive.delete(pid); // 11 traps SIGHUP
  };
  const done = endProcesses([entry(10), entry(11)], { clock, log, graceMs: 3000, kill, alive: (p) => alive.has(p.pid) });
  await tick(clock, 2900);
  assert.deepEqual(sent.map((s) => `${s.pid} ${s.sig}`), ['10 SIGHUP', '10 SIGCONT', '11 SIGHUP', '11 SIGCONT'], 'no SIGKILL within the grace');
  await tick(clock, 300);
  const survivors = await done;
  assert.deepEqual(survivors, []);
  const k = sent.filter((s) => s.sig === 'SIGKILL');
  assert.deepEqual(k.map((s) => s.pid), [11]);
  assert.ok((k[0]?.at ?? 0) >= 3000, `SIGKILL at ${k[0]?.at} ms`);
  assert.match(log.lines.join('\n'), /pid 11 \("prog 11"\) still running 3 s after SIGHUP: SIGKILL/);
});

test('endProcesses: all gone on SIGHUP: no SIGKILL, no waiting out the grace', async () => {
  const clock = new FakeClock();
  const alive = new Set([10]);
  const sent: string[] = [];
  const done = endProcesses([entry(10)], { clock, log: memLog(), graceMs: 5000, kill: (pid, sig) => { sent.push(sig); if (sig === 'SIGHUP') alive.delete(pid); }, alive: (p) => alive.has(p.pid) });
  assert.deepEqual(await done, []);
  assert.deepEqual(sent, ['SIGHUP', 'SIGCONT']);
  assert.equal(clock.pending, 0);
});

test('endProcesses: a process that survives SIGKILL is reported, not waited on forever', async () => {
  const clock = new FakeClock();
  const log = memLog();
  const done = endProcesses([entry(12)], { clock, log, graceMs: 1000, killWaitMs: 500, kill: () => undefined, alive: () => true });
  await tick(clock, 1700);
  assert.deepEqual((await done).map((p) => p.pid), [12]);
  assert.match(log.lines.join('\n'), /pid 12 .*survived SIGKILL/);
});

test('aliveIn: same pid with another start time is another process; zombies are dead', (t) => {
  const proc = fakeProc(t, [{ pid: 20, sid: 20, start: 500 }, { pid: 21, sid: 21, state: 'Z' }]);
  const alive = aliveIn(proc.dir);
  assert.equal(alive({ ...entry(20), startTime: '500' }), true);
  assert.equal(alive({ ...entry(20), startTime: '501' }), false);
  assert.equal(alive({ ...entry(21), startTime: '1021' }), false);
  assert.equal(alive(entry(22)), false);
});

test('takeOverLine: signals only the targets, marks the stale records dead, revokes, logs each step with escaped commands', async (t) => {
  // /dev/null stands in for the line (a character device every machine has: 1:3).
  const NULL = NUL;
  const proc = fakeProc(t, [
    { pid: 300, sid: 300, tty: NULL, cmd: ['reader', "x', cmd='/bin/sh\n"], fds: ['/dev/null'] },
    { pid: 301, sid: 301, tty: 0, cmd: ['holder'], fds: ['/dev/null'] },
    { pid: 302, sid: 7, tty: NULL, cmd: ['our parent'], fds: ['/dev/null'] },
    { pid: 303, sid: 303, tty: 0, cmd: ['elsewhere'], fds: ['/dev/zero'] },
  ], 7);
  const clock = new FakeClock();
  const log = memLog();
  const sent: string[] = [];
  const dead: UtmpRecord[] = [];
  const done = takeOverLine({
    path: '/dev/null',
    clock,
    log,
    graceMs: 2000,
    procDir: proc.dir,
    utmp: { read: () => [rec(LOGIN_PROCESS, 300, 'null'), rec(USER_PROCESS, 303, 'null', 'eve'), rec(LOGIN_PROCESS, 400, 'pts/9')], markDead: (r) => (dead.push(r), true) },
    kill: (pid, sig) => {
      sent.push(`${pid} ${sig}`);
      if (sig === 'SIGHUP') proc.remove(pid);
    },
    revoke: () => 'revoked',
  });
  await tick(clock, 500);
  const report = await done;
  assert.deepEqual(sent, ['300 SIGHUP', '300 SIGCONT'], 'only the earlier session: not 301 (holder), 302 (our session), 303 (off the line)');
  assert.deepEqual(report, { ended: [300], survivors: [], holders: [301, 302], deadRecords: [300, 303], revoked: 'revoked' });
  assert.deepEqual(dead.map((r) => r.pid), [300, 303]);
  const text = log.lines.join('\n');
  assert.match(text, /ending pid 300 \(session 300, "reader x', cmd='\/bin\/sh\\n"\) left on \/dev\/null by an earlier session \(its controlling tty is the line\): SIGHUP/);
  assert.match(text, /pid 301 \(session 301, "holder"\) holds an fd on \/dev\/null: revoked by the hang-up/);
  assert.match(text, /stale utmp record of pid 303 on null \(USER_PROCESS, user "eve"\) marked DEAD_PROCESS/);
  assert.match(text, /mesg takeover: revoked every open fd on \/dev\/null/);
  assert.ok(!text.includes('\n\n'), 'no raw newline from a command line');
});

test('takeOverLine: not root: says that old fds cannot be revoked, and goes on', async (t) => {
  const NULL = statSync('/dev/null').rdev;
  const proc = fakeProc(t, [{ pid: 301, sid: 301, tty: 0, cmd: ['holder'], fds: ['/dev/null'] }], 7);
  const log = memLog();
  const report = await takeOverLine({
    path: '/dev/null', clock: new FakeClock(), log, graceMs: 2000, procDir: proc.dir,
    utmp: { read: () => [], markDead: () => true }, kill: () => assert.fail('nothing to signal'), revoke: () => 'not-permitted',
  });
  assert.equal(report.revoked, 'not-permitted');
  assert.match(log.lines.join('\n'), /warn takeover: not root \(TIOCVHANGUP needs CAP_SYS_ADMIN\): old fds on \/dev\/null cannot be revoked/);
  assert.equal(NULL, statSync('/dev/null').rdev);
});

const skipRoot = process.getuid?.() === 0 ? undefined : 'needs root (TIOCVHANGUP needs CAP_SYS_ADMIN)';

test('revokeTty on a pty slave: an old fd reads EOF and writes EIO afterwards; a fresh fd works; the master lives on', { skip: skipRoot }, (t) => {
  const pty = openPty();
  const old = openFd(pty.slave, O_RDWR | O_NOCTTY);
  let fresh = -1;
  t.after(() => {
    for (const fd of [old, fresh, pty.master]) if (fd >= 0) closeFd(fd);
  });
  const st = statSync(pty.slave);
  const dev = { path: pty.slave, rdev: st.rdev, dev: st.dev, ino: st.ino };
  assert.equal(revokeTty(dev, memLog()), 'revoked');
  const b = Buffer.alloc(16);
  assert.equal(readSync(old, b), 0, 'the old fd reads EOF at once (it would block before)');
  assert.throws(() => writeSync(old, 'x'), /EIO/);
  fresh = openFd(pty.slave, O_RDWR | O_NOCTTY);
  assert.equal(writeSync(fresh, 'ok'), 2);
  assert.equal(readSync(pty.master, b), 2, 'the master still reads what the fresh fd writes');
  assert.equal(b.subarray(0, 2).toString(), 'ok');
});

test('revokeTty: a path that is no longer the scanned device is not touched', () => {
  const log = memLog();
  assert.equal(revokeTty({ ...LINE, rdev: 12345 }, log, () => assert.fail('no ioctl')), 'failed');
  assert.match(log.lines.join('\n'), /no longer the line's device/);
});
