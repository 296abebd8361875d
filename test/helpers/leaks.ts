/**
 * Leak accounting for fault-injection tests and the soak bench: what a process holds
 * (open fds, children, zombies, memory) and what a getty leaves on disk (lock files,
 * utmp records still LOGIN/USER). Take a snapshot before, one after, and compare.
 * Everything is read from /proc and the files themselves (Linux).
 */
import { chmodSync, existsSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { LOGIN_PROCESS, USER_PROCESS, readUtmp, type UtmpRecord } from '../../src/os/utmp.js';
import { isLockTemplate } from '../../src/line/lock.js';
import { mem } from './proc-stats.js';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createBank, type SimBank } from '../../src/sim/index.js';
import type { ModemFaults } from '../../src/sim/modem.js';
import type { CallOptions } from '../../src/sim/bank.js';
import { Daemon } from '../../src/daemon/daemon.js';
import type { DaemonEvent } from '../../src/daemon/events.js';
import type { RestartPolicyConfig } from '../../src/daemon/restart-policy.js';
import { createLogger } from '../../src/log/logger.js';
import { tempSystem, type TempSystem } from './temp-system.js';

/** Open fds of a process: how many, and what each points to (`/dev/pts/3`, `socket:[123]`, ...). */
export interface FdInfo {
  count: number;
  /** fd number -> target. */
  targets: Map<number, string>;
}

export function openFds(pid: number = process.pid): FdInfo {
  const dir = `/proc/${pid}/fd`;
  const targets = new Map<number, string>();
  for (const name of readdirSync(dir)) {
    try {
      targets.set(Number(name), readlinkSync(`${dir}/${name}`));
    } catch {
      // Closed between readdir and readlink (the fd of readdir itself, or a race): not held.
    }
  }
  return { count: targets.size, targets };
}

export interface ProcEntry {
  pid: number;
  ppid: number;
  /** One-letter state from /proc/PID/stat: R, S, D, Z, T, ... */
  state: string;
  comm: string;
}

function readStat(pid: number): ProcEntry | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm may contain spaces and parentheses: it ends at the LAST ')'.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const rest = text.slice(close + 2).split(' ');
  return { pid, comm: text.slice(open + 1, close), state: rest[0] ?? '?', ppid: Number(rest[1]) };
}

/** Direct children of `pid` (zombies included). */
export function childrenOf(pid: number = process.pid): ProcEntry[] {
  const out: ProcEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const e = readStat(Number(name));
    if (e !== undefined && e.ppid === pid) out.push(e);
  }
  return out;
}

/** All descendants of `pid` (children, their children, ...). */
export function descendantsOf(pid: number = process.pid): ProcEntry[] {
  const all: ProcEntry[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const e = readStat(Number(name));
    if (e !== undefined) all.push(e);
  }
  const out: ProcEntry[] = [];
  const wanted = new Set([pid]);
  // Parents come in any order in /proc: repeat until no new descendant shows up.
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of all) {
      if (wanted.has(e.ppid) && !wanted.has(e.pid)) {
        wanted.add(e.pid);
        out.push(e);
        grew = true;
      }
    }
  }
  return out;
}

/** Names in a lock dir that `keep` accepts, sorted; none when the dir is missing or unreadable. */
function lockDirNames(lockDir: string, keep: (name: string) => boolean): string[] {
  if (!existsSync(lockDir)) return [];
  try {
    return readdirSync(lockDir).filter(keep).sort();
  } catch {
    return [];
  }
}

/**
 * Lock templates (`LTMP.tgetty.*`, src/line/lock.ts LockTemplate) in a lock dir: an idle
 * line keeps one, so they count as left behind only once the getty has stopped.
 */
export function lockTemplates(lockDir: string): string[] {
  return lockDirNames(lockDir, isLockTemplate);
}

/** Lock files (`LCK..*`, and temp files `LCK..TM.*`) in a lock dir. */
export function lockFiles(lockDir: string): string[] {
  return lockDirNames(lockDir, (n) => n.startsWith('LCK..'));
}

/** utmp records still LOGIN_PROCESS or USER_PROCESS: a session that was never closed. */
export function liveUtmp(utmpFile: string): UtmpRecord[] {
  return readUtmp(utmpFile).filter((r) => r.type === LOGIN_PROCESS || r.type === USER_PROCESS);
}

export interface Snapshot {
  pid: number;
  fds: FdInfo;
  children: ProcEntry[];
  locks: string[];
  utmp: UtmpRecord[];
  rssKb: number;
  pssKb: number;
}

export interface SnapshotOptions {
  pid?: number;
  lockDir?: string;
  utmp?: string;
  /** Child pids that are expected to exist (e.g. a sim process the test started): not counted. */
  ignoreChildren?: readonly number[];
}

export function snapshot(o: SnapshotOptions = {}): Snapshot {
  const pid = o.pid ?? process.pid;
  const ignore = new Set(o.ignoreChildren ?? []);
  const m = mem(pid);
  return {
    pid,
    fds: openFds(pid),
    children: childrenOf(pid).filter((c) => !ignore.has(c.pid)),
    // Taken before the getty starts and after it stops: a template then is left behind too.
    locks: o.lockDir !== undefined ? [...lockFiles(o.lockDir), ...lockTemplates(o.lockDir)] : [],
    utmp: o.utmp !== undefined ? liveUtmp(o.utmp) : [],
    rssKb: m.rss,
    pssKb: m.pss,
  };
}

export interface LeakReport {
  /** Open fds now minus before (may be negative). */
  fdDelta: number;
  /** Fds open now that were not open before (fd -> target). */
  newFds: [number, string][];
  children: ProcEntry[];
  zombies: ProcEntry[];
  locks: string[];
  utmp: UtmpRecord[];
  rssDeltaKb: number;
  pssDeltaKb: number;
}

export function compare(before: Snapshot, after: Snapshot): LeakReport {
  const newFds: [number, string][] = [];
  for (const [fd, target] of after.fds.targets) {
    if (before.fds.targets.get(fd) !== target) newFds.push([fd, target]);
  }
  const existed = new Set(before.children.map((c) => c.pid));
  const fresh = after.children.filter((c) => !existed.has(c.pid));
  return {
    fdDelta: after.fds.count - before.fds.count,
    newFds,
    children: fresh.filter((c) => c.state !== 'Z'),
    zombies: after.children.filter((c) => c.state === 'Z'),
    locks: after.locks.filter((l) => !before.locks.includes(l)),
    utmp: after.utmp,
    rssDeltaKb: after.rssKb - before.rssKb,
    pssDeltaKb: after.pssKb - before.pssKb,
  };
}

/**
 * Problems in a report, as sentences ([] = clean). `fdTolerance`: how many more fds
 * may be open after than before without counting as a leak (see the callers for why).
 */
export function leaks(r: LeakReport, opts: { fdTolerance?: number; ignoreFdTargets?: RegExp } = {}): string[] {
  const out: string[] = [];
  const tol = opts.fdTolerance ?? 0;
  const ignored = opts.ignoreFdTargets === undefined ? 0 : r.newFds.filter(([, t]) => opts.ignoreFdTargets?.test(t) === true).length;
  const delta = r.fdDelta - ignored;
  if (delta > tol) out.push(`${delta} more open fds (tolerance ${tol}): ${r.newFds.map(([fd, t]) => `${fd}->${t}`).join(', ')}`);
  if (r.children.length > 0) out.push(`children left: ${r.children.map((c) => `${c.pid} ${c.comm} (${c.state})`).join(', ')}`);
  if (r.zombies.length > 0) out.push(`zombies: ${r.zombies.map((c) => `${c.pid} ${c.comm}`).join(', ')}`);
  if (r.locks.length > 0) out.push(`lock files left: ${r.locks.join(', ')}`);
  if (r.utmp.length > 0) out.push(`utmp records still open: ${r.utmp.map((u) => `${u.line} pid ${u.pid} type ${u.type} user '${u.user}'`).join(', ')}`);
  return out;
}

// ---------------------------------------------------------------- a daemon to break

/**
 * The Daemon in this process on simulated lines (real ptys, real children), every system
 * path in a temp dir, for fault-injection tests: break something, then `inService(i)`
 * proves the line answers a normal call again, and `finish()` stops everything and
 * proves nothing was left behind.
 */

/** The login program of a normal call: prints who it is for, then exits 0 (after $SLEEP s). */
const REC = '#!/bin/sh\necho "REC $* on $DEVICE"\nsleep "${SLEEP:-0}"\nexit 0\n';
/** A session that stays until it is hung up (SIGHUP ends sleep and the shell). */
const SLEEPER = '#!/bin/sh\necho "SLEEPING $$"\nexec sleep 60\n';

export const FAST_POLICY: RestartPolicyConfig = { backoffBaseMs: 200, backoffMaxMs: 1000, maxFailures: 10, windowMs: 120_000, restMs: 300_000 };

export interface DaemonRigOptions {
  lines?: number;
  /** Config lines before the port sections. */
  extraConfig?: string;
  /** Extra login.config lines, before the catch-all `*` entry. `{ETC}` = the config dir. */
  loginEntries?: string;
  /** Faults every modem has from power-on (before the daemon's first init). */
  faults?: ModemFaults;
  /** Change the temp tree before the daemon starts (break a dir, plant a lock). */
  setup?: (paths: RigPaths) => void;
  /** Class 2 / 2.0 fax modems (the bank's `fax`). */
  fax?: boolean;
}

export type RigPaths = TempSystem;

export interface DaemonRig {
  bank: SimBank;
  daemon: Daemon;
  paths: RigPaths;
  events: DaemonEvent[];
  /** Daemon-level log lines (reload, ...). */
  daemonLog: string[];
  writeConfig(text: string): void;
  /** The per-line log file's text ('' if none). */
  logText(line: number): string;
  state(line: number): string | undefined;
  waitState(line: number, state: string, ms: number): Promise<void>;
  waitLog(line: number, re: RegExp, ms: number): Promise<void>;
  /**
   * The line is back in service: a normal call (RING, ATA, CONNECT, prompt, name, the
   * program runs and exits) goes through, the line is idle again, holds no lock and left
   * no LOGIN/USER utmp record.
   */
  inService(line: number, call?: CallOptions): Promise<void>;
  /** Stop the daemon and the bank; throw if any fd, child, zombie, lock or utmp record is left. */
  finish(): Promise<void>;
}

export async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * libuv creates its SIGCHLD pipe and a few internal fds on the first child process of
 * the process; do that before the baseline, so it does not look like a leak.
 */
async function warmUp(): Promise<void> {
  await new Promise<void>((res) => {
    const c = spawn('/bin/true', [], { stdio: 'ignore' });
    c.on('exit', () => res());
    c.on('error', () => res());
  });
}

/**
 * Fds that may appear after the baseline without being a leak of ours: libuv creates ONE
 * inotify fd for every fs.watch of the process (the lock-dir watch of an idle line) on
 * first use and keeps it for the life of the process. Nothing else is tolerated.
 */
export const FD_IGNORE = /^anon_inode:inotify$/;

export async function daemonRig(t: TestContext, o: DaemonRigOptions = {}): Promise<DaemonRig> {
  await warmUp();
  const p: RigPaths = tempSystem('tgetty-faults-');
  const root = p.root;
  for (const [name, text] of [['rec.sh', REC], ['sleeper.sh', SLEEPER]] as const) {
    writeFileSync(join(p.etc, name), text);
    chmodSync(join(p.etc, name), 0o755);
  }
  writeFileSync(join(p.etc, 'login.config'), `${(o.loginEntries ?? '').replaceAll('{ETC}', p.etc)}sleeper - - ${p.etc}/sleeper.sh\n* - - ${p.etc}/rec.sh login @\n`);
  chmodSync(join(p.etc, 'login.config'), 0o600);
  const n = o.lines ?? 1;
  const writeConfig = (text: string): void => writeFileSync(join(p.etc, 'mgetty.config'), text);
  const ports = Array.from({ length: n }, (_, i) => `port ttySIM${i}\n`).join('');
  writeConfig(`toggle-dtr no\nfido-send-emsi no\nlogin-prompt login:\nissue-file Line \\P\nhangup-grace 2\n${o.extraConfig ?? ''}${ports}`);
  const base = snapshot({ lockDir: p.lock, utmp: p.utmp });
  const bank = await createBank({ lines: n, dir: p.sim, ...(o.faults !== undefined ? { faults: o.faults } : {}), ...(o.fax === true ? { fax: true } : {}) });
  o.setup?.(p);
  const events: DaemonEvent[] = [];
  const daemonLog: string[] = [];
  const daemon = new Daemon({
    paths: p.paths,
    lines: Array.from({ length: n }, (_, i) => join(p.sim, `ttySIM${i}`)),
    sinks: [{ emit: (e) => events.push(e) }],
    policy: FAST_POLICY,
    log: createLogger({ device: 'tgetty', file: null, audit: 'none', stderr: (s) => daemonLog.push(s) }),
  });
  let finished = false;
  const stopAll = async (): Promise<void> => {
    if (finished) return;
    finished = true;
    await daemon.stop();
    await bank.close();
  };
  t.after(async () => {
    await stopAll();
    rmSync(root, { recursive: true, force: true });
  });
  daemon.start();

  const name = (i: number): string => `ttySIM${i}`;
  const logText = (i: number): string => {
    try {
      return readFileSync(join(p.log, `${name(i)}.log`), 'utf8');
    } catch {
      return '';
    }
  };
  const state = (i: number): string | undefined => daemon.status().lines.find((l) => l.line === name(i))?.state;
  const rig: DaemonRig = {
    bank,
    daemon,
    paths: p,
    events,
    daemonLog,
    writeConfig,
    logText,
    state,
    waitState: (i, s, ms) => waitFor(() => state(i) === s, ms, `${name(i)} ${s} (is ${state(i)})`),
    waitLog: (i, re, ms) =>
      waitFor(() => re.test(logText(i)), ms, `${re} in the log of ${name(i)}`).catch((err: unknown) => {
        throw new Error(`${err instanceof Error ? err.message : String(err)}; the log ends:\n${logText(i).split('\n').slice(-25).join('\n')}`);
      }),
    async inService(i, opts = {}) {
      await rig.waitState(i, 'idle', 30_000);
      const ends = events.filter((e) => e.type === 'call-end' && e.line === name(i)).length;
      const call = bank.line(i).call({ cidFormat: 'none', ...opts });
      await call.waitFor(/login:/, 15_000);
      const who = `back${i}`;
      call.write(`${who}\r`);
      await call.waitFor(new RegExp(`REC login ${who} on ${name(i)}`), 10_000);
      await waitFor(() => events.filter((e) => e.type === 'call-end' && e.line === name(i)).length > ends, 15_000, `the follow-up call on ${name(i)} to end`);
      const end = events.filter((e) => e.type === 'call-end' && e.line === name(i)).at(-1);
      if (end?.type !== 'call-end' || end.outcome !== 'completed' || end.exitStatus !== 0) {
        throw new Error(`follow-up call on ${name(i)} ended ${JSON.stringify(end)}`);
      }
      await rig.waitState(i, 'idle', 30_000);
      const idleLocks = lockFiles(p.lock).filter((l) => l === `LCK..${name(i)}`);
      if (idleLocks.length > 0) throw new Error(`${name(i)} is idle but its lock file is still there`);
      const live = liveUtmp(p.utmp);
      if (live.length > 0) throw new Error(`utmp records still open after the call: ${JSON.stringify(live)}`);
    },
    async finish() {
      await stopAll();
      // A session's DEAD_PROCESS and the reaping of children finish just after the exit event.
      let problems: string[] = [];
      for (let k = 0; k < 40; k++) {
        const report = compare(base, snapshot({ lockDir: p.lock, utmp: p.utmp }));
        problems = leaks(report, { ignoreFdTargets: FD_IGNORE });
        if (problems.length === 0) {
          t.diagnostic(`after stop: fd delta ${report.fdDelta}, children ${report.children.length}, zombies ${report.zombies.length}, locks ${report.locks.length}, open utmp records ${report.utmp.length}${report.newFds.length > 0 ? ` (new fds: ${report.newFds.map(([fd, tg]) => `${fd}->${tg}`).join(", ")})` : ""}`);
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`left behind after the daemon stopped:\n  ${problems.join('\n  ')}`);
    },
  };
  return rig;
}
