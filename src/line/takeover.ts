/**
 * Taking a line back at line start (issue 15 item 4). A daemon killed with SIGKILL mid-call
 * leaves its session behind: the program (and anything it started) keeps fds on the tty
 * and its utmp record. A reader left there swallows the modem's answers to the init chat;
 * one that only holds an fd could read the next caller's typing.
 *
 * Once the line's lock is ours, before the line is opened for the init chat:
 * 1. find every process on the tty: its controlling tty is the device (`/proc/PID/stat`
 *    tty_nr) or it holds an fd on it (`/proc/PID/fd/*`);
 * 2. end the sessions of an earlier getty: processes whose controlling tty is the line,
 *    and the line's LOGIN_PROCESS/USER_PROCESS utmp pids (with their sessions), but only
 *    while they are on the line, never ourselves or our own session: SIGHUP (and SIGCONT,
 *    as the kernel's hang-up does), SIGKILL to those still there after a grace;
 * 3. mark the line's LOGIN_PROCESS/USER_PROCESS records DEAD_PROCESS (unless their process survived);
 * 4. revoke every old fd on the tty (TIOCVHANGUP: reads then give EOF, writes EIO), so
 *    processes that merely hold an fd (logged in step 1) can no longer use it. The caller
 *    then opens the line with a fresh fd.
 *
 * Target selection (`planTakeover`) and the signal sequence (`endProcesses`) are pure
 * or take their I/O and clock as parameters, so unit tests use a fake /proc tree and a
 * FakeClock.
 */
import { closeSync, constants as fsConstants, fstatSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../core/clock.js';
import { toTgettyError } from '../core/errors.js';
import { LOGIN_PROCESS, USER_PROCESS, type UtmpRecord } from '../os/utmp.js';
import { vhangupFd } from './libc.js';

/** What the takeover logs through (a subset of src/log's Logger). */
export interface TakeoverLog {
  mesg(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  noise(msg: string): void;
}

/** One process seen on the line. */
export interface ProcEntry {
  pid: number;
  /** State letter from stat (`Z` = zombie). */
  state: string;
  pgid: number;
  sid: number;
  /** Controlling tty as the kernel encodes it in stat (0 = none). */
  ttyNr: number;
  /** Start time in clock ticks since boot: with the pid, it names one process (pids are reused). */
  startTime: string;
  /** argv joined by spaces (or the comm name for processes without argv). */
  cmd: string;
  /** It holds at least one fd on the device. */
  holdsFd: boolean;
}

/** The parts of /proc/PID/stat used here. The comm field may hold spaces and `)`. */
export function parseStat(text: string): { state: string; pgid: number; sid: number; ttyNr: number; startTime: string; comm: string } | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const f = text.slice(close + 2).trim().split(/\s+/);
  // f[0] is field 3 (state): field n is f[n - 3].
  if (f.length < 20) return undefined;
  const num = (s: string | undefined): number => (s !== undefined && /^-?\d+$/.test(s) ? Number(s) : NaN);
  const pgid = num(f[2]);
  const sid = num(f[3]);
  const ttyNr = num(f[4]);
  const startTime = f[19] ?? '';
  if (Number.isNaN(pgid) || Number.isNaN(sid) || Number.isNaN(ttyNr) || !/^\d+$/.test(startTime)) return undefined;
  return { state: f[0] ?? '?', pgid, sid, ttyNr, startTime, comm: text.slice(open + 1, close) };
}

/** major/minor of a tty_nr (the kernel's new_encode_dev). */
function ttyNrParts(n: number): [number, number] {
  return [(n >>> 8) & 0xfff, (n & 0xff) | ((n >>> 12) & 0xfff00)];
}

/** major/minor of a st_rdev (glibc's dev_t encoding). */
function rdevParts(d: number): [number, number] {
  const hi = Math.floor(d / 2 ** 32);
  const lo = d >>> 0;
  return [((lo >>> 8) & 0xfff) | ((hi & 0xfffff000) >>> 0), (lo & 0xff) | ((lo >>> 12) & 0xfffff00)];
}

/** Is `ttyNr` (from stat) the device `rdev` (from stat(2))? */
export function sameTty(ttyNr: number, rdev: number): boolean {
  if (ttyNr === 0) return false;
  const [a, b] = ttyNrParts(ttyNr);
  const [c, d] = rdevParts(rdev);
  return a === c && b === d;
}

/** The device a line is: its real path (`/dev/pts/5` behind a simulator symlink), st_rdev, and the node's st_dev/st_ino. */
export interface TtyDevice {
  path: string;
  rdev: number;
  /** The device node itself: another devpts instance (a container) has its own pts/5 with the same rdev. */
  dev: number;
  ino: number;
}

/** Unix98 pty slaves (majors 136-143): their numbers repeat in every devpts instance. */
export function isPtySlave(rdev: number): boolean {
  const major = rdevParts(rdev)[0];
  return major >= 136 && major <= 143;
}

/**
 * Every process on the device: controlling tty or an fd on it. `procDir` is /proc (tests: a
 * fake tree with `PID/stat`, `PID/cmdline` and `PID/fd/N` symlinks). Processes that exit
 * during the scan, and those whose fds we may not read, are skipped. Asynchronous: with
 * hundreds of processes the scan takes tens of ms, which must not stall the other lines.
 * `skipPid`: the scanning process itself (planTakeover never picks it), whose fds are the
 * most on a busy daemon (a few per line).
 */
export async function scanProc(procDir: string, dev: TtyDevice, skipPid?: number): Promise<ProcEntry[]> {
  return (await scanProcFor(procDir, [dev], skipPid))[0] ?? [];
}

/** One pass over /proc for several devices: `out[i]` are the processes on `devs[i]`. */
export async function scanProcFor(procDir: string, devs: readonly TtyDevice[], skipPid?: number): Promise<ProcEntry[][]> {
  const out: ProcEntry[][] = devs.map(() => []);
  let names: string[];
  try {
    names = (await readdir(procDir)).filter((n) => /^\d+$/.test(n) && Number(n) !== skipPid);
  } catch {
    return out;
  }
  // A few at a time: libuv's thread pool is small and shared with the rest of the daemon.
  for (let i = 0; i < names.length; i += 16) {
    const found = await Promise.all(names.slice(i, i + 16).map((n) => scanOne(join(procDir, n), Number(n), devs)));
    for (const p of found) p?.forEach((e, d) => e !== undefined && out[d]?.push(e));
  }
  return out;
}

/**
 * Scans of one /proc coalesced: the lines that ask while no pass has started share the next
 * one (64 lines back from their calls at once cost one or two passes, not 64). A pass that
 * has started never answers a later request: it may have read a process before the
 * request's session ended.
 */
const waitingScans = new Map<string, { dev: TtyDevice; skipPid: number | undefined; resolve: (p: ProcEntry[]) => void }[]>();
const runningScans = new Set<string>();

export function scanProcShared(procDir: string, dev: TtyDevice, skipPid?: number): Promise<ProcEntry[]> {
  return new Promise((resolve) => {
    const q = waitingScans.get(procDir) ?? [];
    waitingScans.set(procDir, q);
    q.push({ dev, skipPid, resolve });
    if (!runningScans.has(procDir)) setImmediate(() => void runScans(procDir));
  });
}

async function runScans(procDir: string): Promise<void> {
  if (runningScans.has(procDir)) return;
  runningScans.add(procDir);
  try {
    for (;;) {
      const batch = waitingScans.get(procDir) ?? [];
      waitingScans.delete(procDir);
      if (batch.length === 0) return;
      // Skip a pid only when every request of the pass skips it (in practice: the daemon).
      const skip = batch.every((r) => r.skipPid === batch[0]?.skipPid) ? batch[0]?.skipPid : undefined;
      const found = await scanProcFor(procDir, batch.map((r) => r.dev), skip);
      batch.forEach((r, i) => r.resolve((found[i] ?? []).filter((p) => p.pid !== r.skipPid)));
    }
  } finally {
    runningScans.delete(procDir);
  }
}

/** Enough for /proc/PID/stat (under 1 kB) and for a command line in a log message. */
const PROC_READ_MAX = 4095;

/**
 * The start of a /proc file (up to PROC_READ_MAX bytes), in one read into a small buffer.
 * Not fs.promises.readFile: /proc files report size 0, so it reads them through a 64 kB
 * buffer each; a daemon starting 64 lines scanned /proc through those buffers (in glibc's
 * main arena, malloc'd on the main thread) and was left holding ~135 MB of free heap
 * (~30 MB of RSS) after start-up (issue 21).
 */
async function readProcFile(path: string, encoding: 'latin1' | 'utf8'): Promise<string> {
  const fh = await open(path, 'r');
  try {
    // Under 4 kB: a slice of Node's shared buffer pool, no allocation of its own.
    const buf = Buffer.allocUnsafe(PROC_READ_MAX);
    const { bytesRead } = await fh.read(buf, 0, PROC_READ_MAX, 0);
    return buf.toString(encoding, 0, bytesRead);
  } finally {
    await fh.close();
  }
}

/** The entry of one process for each device it is on (undefined where it is not). */
async function scanOne(dir: string, pid: number, devs: readonly TtyDevice[]): Promise<(ProcEntry | undefined)[] | undefined> {
  let st: ReturnType<typeof parseStat>;
  try {
    st = parseStat(await readProcFile(join(dir, 'stat'), 'latin1'));
  } catch {
    return undefined;
  }
  if (st === undefined) return undefined;
  const held = await devicesHeld(join(dir, 'fd'), devs);
  const on = devs.map((d, i) => held[i] === true || sameTty(st.ttyNr, d.rdev));
  if (!on.includes(true)) return undefined;
  let cmd = '';
  try {
    cmd = (await readProcFile(join(dir, 'cmdline'), 'utf8')).replace(/\0+$/, '').split('\0').join(' ');
  } catch {
    // gone, or not ours to read: the comm name will do
  }
  const base = { pid, state: st.state, pgid: st.pgid, sid: st.sid, ttyNr: st.ttyNr, startTime: st.startTime, cmd: cmd === '' ? `[${st.comm}]` : cmd };
  return on.map((yes, i) => (yes ? { ...base, holdsFd: held[i] === true } : undefined));
}

/**
 * Pty masters: every open of /dev/ptmx reads back as this path, and a master (rdev 5:2) is
 * never a line's device, so its stat is not needed. A daemon or simulator beside it may
 * hold hundreds of them.
 */
const PTY_MASTERS = new Set(['/dev/ptmx', '/dev/pts/ptmx']);

/**
 * Which of `devs` the process holds an fd on. An fd is on a device when the file it opened
 * is the device node itself (st_dev, st_ino), not merely a path that reads the same.
 * The fd list and the links are read synchronously: procfs answers those from the process's
 * fd table without touching the files (no wait on a slow file system), and one promise per
 * fd cost the event loop far more than the syscalls (thousands per scan). The stat, which
 * follows the link to the file, stays asynchronous.
 */
async function devicesHeld(fdDir: string, devs: readonly TtyDevice[]): Promise<boolean[]> {
  const held = devs.map(() => false);
  let fds: string[];
  try {
    fds = readdirSync(fdDir);
  } catch {
    return held;
  }
  const candidates: string[] = [];
  for (const fd of fds) {
    try {
      // Cheap filter first: a tty opened anywhere shows as a /dev path.
      const target = readlinkSync(join(fdDir, fd));
      if (target.startsWith('/dev/') && !PTY_MASTERS.has(target)) candidates.push(fd);
    } catch {
      // closed meanwhile
    }
  }
  for (const fd of candidates) {
    try {
      const s = await stat(join(fdDir, fd));
      if (!s.isCharacterDevice()) continue;
      devs.forEach((d, i) => {
        if (s.rdev === d.rdev && s.dev === d.dev && s.ino === d.ino) held[i] = true;
      });
    } catch {
      // closed meanwhile
    }
  }
  return held;
}

/** What to do on a line (pure). */
export interface TakeoverPlan {
  /** Sessions of an earlier getty on the line: to be ended (SIGHUP, then SIGKILL). */
  targets: ProcEntry[];
  /** Others holding an fd on the tty: logged, and revoked by the hang-up. */
  holders: ProcEntry[];
  /** The line's LOGIN_PROCESS and USER_PROCESS records: stale, as the line is ours now. */
  records: UtmpRecord[];
}

/**
 * Which processes to end. A target must be on the line (controlling tty or an fd on it):
 * a utmp pid that is no longer on the line may be a reused pid and is left alone. Never
 * ourselves, our own session (whoever started us) or pid 1; zombies are already dead.
 */
export function planTakeover(o: { procs: readonly ProcEntry[]; records: readonly UtmpRecord[]; utLine: string; rdev: number; self: { pid: number; sid: number } }): TakeoverPlan {
  const records = o.records.filter((r) => r.line === o.utLine && (r.type === LOGIN_PROCESS || r.type === USER_PROCESS));
  const utmpPids = new Set(records.map((r) => r.pid).filter((p) => p > 1));
  const targets: ProcEntry[] = [];
  const holders: ProcEntry[] = [];
  // A pty's number repeats in every devpts instance, so for a pty line a controlling tty
  // counts only in a session that also holds an fd on this very node.
  const pty = isPtySlave(o.rdev);
  const fdSessions = new Set(o.procs.filter((p) => p.holdsFd).map((p) => p.sid));
  for (const p of o.procs) {
    const ctty = sameTty(p.ttyNr, o.rdev) && (!pty || fdSessions.has(p.sid));
    if (!ctty && !p.holdsFd) continue; // not on the line
    if (p.pid === o.self.pid || p.pid <= 1) continue;
    if (p.state === 'Z') continue;
    const ownSession = p.sid === o.self.sid;
    if (!ownSession && (ctty || utmpPids.has(p.pid) || utmpPids.has(p.sid))) targets.push(p);
    else if (p.holdsFd) holders.push(p);
  }
  return { targets, holders, records };
}

/** A command line for the log: quoted, with quotes, backslashes and control characters escaped. */
export function showCmd(cmd: string): string {
  return JSON.stringify(cmd.length > 200 ? `${cmd.slice(0, 200)}...` : cmd);
}

export interface EndDeps {
  clock: Clock;
  log: TakeoverLog;
  /** SIGHUP -> SIGKILL grace. */
  graceMs: number;
  /** How often to look whether they are gone (default 100 ms). */
  pollMs?: number;
  /** How long to wait for the SIGKILLed to disappear (default 2 s). */
  killWaitMs?: number;
  kill: (pid: number, sig: NodeJS.Signals) => void;
  /** Is this very process (pid and start time) still there and not a zombie? */
  alive: (p: ProcEntry) => boolean;
}

function wait(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimeout(resolve, ms));
}

async function waitGone(ps: ProcEntry[], d: EndDeps, ms: number): Promise<ProcEntry[]> {
  const poll = d.pollMs ?? 100;
  let left = ps.filter((p) => d.alive(p));
  for (let waited = 0; left.length > 0 && waited < ms; waited += poll) {
    await wait(d.clock, poll);
    left = left.filter((p) => d.alive(p));
  }
  return left;
}

/** SIGHUP (+ SIGCONT) to each target, SIGKILL to those still there after the grace. Returns the survivors. */
export async function endProcesses(targets: readonly ProcEntry[], d: EndDeps): Promise<ProcEntry[]> {
  if (targets.length === 0) return [];
  const send = (p: ProcEntry, sig: NodeJS.Signals): void => {
    try {
      d.kill(p.pid, sig);
    } catch {
      // gone already (ESRCH)
    }
  };
  for (const p of targets) {
    send(p, 'SIGHUP');
    send(p, 'SIGCONT'); // a stopped process handles its SIGHUP only when it runs
  }
  const stubborn = await waitGone([...targets], d, d.graceMs);
  if (stubborn.length === 0) return [];
  for (const p of stubborn) {
    d.log.warn(`takeover: pid ${p.pid} (${showCmd(p.cmd)}) still running ${Math.round(d.graceMs / 100) / 10} s after SIGHUP: SIGKILL`);
    send(p, 'SIGKILL');
  }
  const left = await waitGone(stubborn, d, d.killWaitMs ?? 2_000);
  for (const p of left) d.log.error(`takeover: pid ${p.pid} (${showCmd(p.cmd)}) survived SIGKILL`);
  return left;
}

/** Is `p` (same pid, same start time) still running? Reads `procDir/PID/stat`. */
export function aliveIn(procDir: string): (p: ProcEntry) => boolean {
  return (p) => {
    try {
      const st = parseStat(readFileSync(join(procDir, String(p.pid), 'stat'), 'latin1'));
      return st !== undefined && st.startTime === p.startTime && st.state !== 'Z' && st.state !== 'X';
    } catch {
      return false;
    }
  };
}

export type RevokeResult = 'revoked' | 'not-permitted' | 'failed';

/**
 * vhangup(2) for a tty that is not our controlling tty: TIOCVHANGUP on an fd of it, then
 * close that fd (it is revoked too). The device is opened without following a symlink,
 * without becoming our controlling tty, and must still be the device that was scanned.
 */
export function revokeTty(dev: TtyDevice, log: TakeoverLog, ioctl: (fd: number) => void = vhangupFd): RevokeResult {
  let fd: number;
  try {
    fd = openSync(dev.path, fsConstants.O_RDWR | fsConstants.O_NOCTTY | fsConstants.O_NONBLOCK | fsConstants.O_NOFOLLOW);
  } catch (err) {
    log.error(`takeover: cannot open ${dev.path} to revoke its fds: ${toTgettyError(err).message}`);
    return 'failed';
  }
  try {
    const st = fstatSync(fd);
    if (!st.isCharacterDevice() || st.rdev !== dev.rdev || st.ino !== dev.ino) {
      log.error(`takeover: ${dev.path} is no longer the line's device: not revoked`);
      return 'failed';
    }
    ioctl(fd);
    return 'revoked';
  } catch (err) {
    const e = toTgettyError(err);
    if (e.context.errno === 1 /* EPERM */) return 'not-permitted';
    log.error(`takeover: cannot revoke the fds on ${dev.path}: ${e.message}`);
    return 'failed';
  } finally {
    closeSync(fd);
  }
}

export interface TakeoverOptions {
  /** The line as configured (a simulator symlink is followed to its pty). */
  path: string;
  clock: Clock;
  log: TakeoverLog;
  /** SIGHUP -> SIGKILL grace for the processes of an earlier session. */
  graceMs: number;
  /** The utmp records of the line (ut_line; more may come, they are filtered again), and the DEAD_PROCESS writer (false: it failed and said why). */
  utmp: { read: (utLine: string) => readonly UtmpRecord[]; markDead: (r: UtmpRecord) => boolean };
  /** Default /proc. */
  procDir?: string;
  /** Default: this process and its session. */
  self?: { pid: number; sid: number };
  kill?: (pid: number, sig: NodeJS.Signals) => void;
  /** Default: TIOCVHANGUP if root, else 'not-permitted' without trying. */
  revoke?: (dev: TtyDevice) => RevokeResult;
}

export interface TakeoverReport {
  ended: number[];
  survivors: number[];
  holders: number[];
  deadRecords: number[];
  revoked: RevokeResult | 'skipped';
}

function ownSession(procDir: string): number {
  try {
    return parseStat(readFileSync(join(procDir, 'self', 'stat'), 'latin1'))?.sid ?? -1;
  } catch {
    return -1;
  }
}

/**
 * Take the line back (the lock must be ours): end what an earlier getty left on it, mark
 * its utmp records dead, revoke every old fd. Never throws: a line is served even when
 * this fails (it logs why).
 */
export async function takeOverLine(o: TakeoverOptions): Promise<TakeoverReport> {
  const report: TakeoverReport = { ended: [], survivors: [], holders: [], deadRecords: [], revoked: 'skipped' };
  const procDir = o.procDir ?? '/proc';
  let dev: TtyDevice;
  try {
    const path = realpathSync(o.path);
    const st = statSync(path);
    if (!st.isCharacterDevice()) return report; // not a tty: nothing can hold it as one
    dev = { path, rdev: st.rdev, dev: st.dev, ino: st.ino };
  } catch (err) {
    o.log.noise(`takeover: cannot stat ${o.path}: ${toTgettyError(err).message}`);
    return report;
  }
  const utLine = dev.path.startsWith('/dev/') ? dev.path.slice(5) : dev.path;
  let records: readonly UtmpRecord[] = [];
  try {
    records = o.utmp.read(utLine);
  } catch (err) {
    o.log.warn(`takeover: cannot read utmp: ${toTgettyError(err).message}`);
  }
  const self = o.self ?? { pid: process.pid, sid: ownSession(procDir) };
  const plan = planTakeover({ procs: await scanProcShared(procDir, dev, self.pid), records, utLine, rdev: dev.rdev, self });
  for (const p of plan.targets) {
    const why = sameTty(p.ttyNr, dev.rdev) ? 'its controlling tty is the line' : 'in the utmp record of the line';
    o.log.mesg(`takeover: ending pid ${p.pid} (session ${p.sid}, ${showCmd(p.cmd)}) left on ${dev.path} by an earlier session (${why}): SIGHUP`);
  }
  for (const p of plan.holders) {
    o.log.mesg(`takeover: pid ${p.pid} (session ${p.sid}, ${showCmd(p.cmd)}) holds an fd on ${dev.path}: revoked by the hang-up`);
  }
  report.holders = plan.holders.map((p) => p.pid);
  const survivors = await endProcesses(plan.targets, {
    clock: o.clock,
    log: o.log,
    graceMs: o.graceMs,
    kill: o.kill ?? ((pid, sig) => process.kill(pid, sig)),
    alive: aliveIn(procDir),
  });
  report.survivors = survivors.map((p) => p.pid);
  report.ended = plan.targets.map((p) => p.pid).filter((p) => !report.survivors.includes(p));
  for (const r of plan.records) {
    if (report.survivors.includes(r.pid)) continue;
    const kind = r.type === USER_PROCESS ? 'USER_PROCESS' : 'LOGIN_PROCESS';
    if (o.utmp.markDead(r)) {
      report.deadRecords.push(r.pid);
      o.log.mesg(`takeover: stale utmp record of pid ${r.pid} on ${r.line} (${kind}, user ${showCmd(r.user)}) marked DEAD_PROCESS`);
    } else o.log.error(`takeover: cannot mark the ${kind} record of pid ${r.pid} on ${r.line} dead`);
  }
  const revoke = o.revoke ?? ((d: TtyDevice) => (process.getuid?.() === 0 ? revokeTty(d, o.log) : 'not-permitted'));
  report.revoked = revoke(dev);
  const others = plan.holders.length + report.survivors.length;
  if (report.revoked === 'revoked') {
    const msg = `takeover: revoked every open fd on ${dev.path} (TIOCVHANGUP)`;
    if (others > 0) o.log.mesg(msg);
    else o.log.noise(msg);
  } else if (report.revoked === 'not-permitted') {
    const msg = `takeover: not root (TIOCVHANGUP needs CAP_SYS_ADMIN): old fds on ${dev.path} cannot be revoked`;
    if (others > 0) o.log.warn(msg);
    else o.log.noise(msg);
  }
  return report;
}
