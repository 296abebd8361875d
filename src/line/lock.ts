/**
 * UUCP (HDB) lock files: `<lockDir>/LCK..<name>` holding the owner's pid as ASCII,
 * right-aligned in 10 characters plus LF. cu, minicom, pppd and mgetty all honour
 * them, so a getty that holds the lock keeps dial-out programs off the line and steps
 * aside when one of them holds it.
 *
 * Decisions (see docs/logging.md, "Lock files"):
 * - ASCII wins: a 4-byte file is read as a binary pid only when it is not `<digits>`
 *   (+ optional blanks/LF); mgetty reads `123\n` as binary (Q15), we read 123.
 * - Empty / garbage / pid-0 files ("invalid") are counted as held while younger than
 *   INVALID_LOCK_GRACE_MS (a program that creates with O_EXCL and then writes may be
 *   between the two), and as stale afterwards.
 * - An unreadable lock (EACCES, a directory) is held: when in doubt, stay off the line.
 * - The lock dir is world-writable: anything but a small regular file under the lock's
 *   name (a FIFO, a symlink, a device, a directory, a huge file) is never opened in a way
 *   that can block or give us a controlling tty, is never removed, and keeps us off the
 *   line (src/line/safe-open.ts; docs/security.md).
 */
import { accessSync, closeSync, constants as fsConstants, linkSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, watch, writeSync, lstatSync } from 'node:fs';
import type { FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';
import { TgettyError, errnoCode } from '../core/errors.js';
import { lockName } from '../core/device.js';
import { createExclusive, readSmallFile, sameFile, type FileId } from '../os/safe-open.js';

/** Default lock directory (Debian: /var/lock -> /run/lock). */
export const DEFAULT_LOCK_DIR = '/var/lock';
/** How long an empty or garbage lock file is respected before it counts as stale. */
export const INVALID_LOCK_GRACE_MS = 10_000;
/** Longest owner command line reported (mgetty logs up to 59-60 chars). */
export const OWNER_CMD_MAX = 60;
/** Largest lock file read (HDB locks are 11 bytes; some programs add a name): a bigger one is refused, and held. */
export const MAX_LOCK_BYTES = 1024;

/** What a getty logs while handling locks; a tgetty Logger fits. */
export interface LockLog {
  warn(msg: string): void;
  mesg(msg: string): void;
}

export interface LockOptions {
  /** Our pid (default process.pid). */
  pid?: number;
  log?: LockLog;
  /** Wall clock for the age of invalid lock files (default Date.now). */
  now?: () => number;
  /** Where to read owners' command lines (default /proc). */
  procDir?: string;
}

export type LockContent =
  | { state: 'absent' }
  | { state: 'pid'; pid: number; format: 'ascii' | 'binary' }
  /** Empty, garbage or pid 0. */
  | { state: 'invalid'; mtimeMs: number; size: number }
  /** Cannot be read, or refused (`detail`: a FIFO, symlink, device, directory or huge file). Held, never removed. */
  | { state: 'unreadable'; code: string; detail?: string };

/** A lock that keeps us off the line. pid 0 = owner unknown (unreadable or invalid lock). */
export interface LockOwner {
  pid: number;
  cmd: string;
  /** live owner; unreadable or invalid file; stale = dead owner whose lock we could not remove. */
  reason: 'live' | 'unreadable' | 'invalid' | 'stale';
}

export type LockResult =
  | { ok: true; path: string }
  | { ok: false; path: string; ownerPid: number; ownerCmd: string; reason: LockOwner['reason']; error: TgettyError };

/** Name part of a lock: the device after the last `/` (`/dev/pts/3` -> `3`, as cu does). */
export { lockName };

/** Lock paths made so far: path.join's normalising is a part of every RING's lock (64 at once). */
const lockPaths = new Map<string, string>();

export function lockPath(lockDir: string, device: string): string {
  const key = `${lockDir}\0${device}`;
  let p = lockPaths.get(key);
  if (p === undefined) {
    // Bounded: a daemon has a few hundred lines at most; tests make many temp dirs.
    if (lockPaths.size >= 1024) lockPaths.clear();
    p = join(lockDir, `LCK..${lockName(device)}`);
    lockPaths.set(key, p);
  }
  return p;
}

/** HDB ASCII lock content: the pid right-aligned in 10 characters, then LF. */
export function formatLockPid(pid: number): string {
  return `${String(pid).padStart(10, ' ')}\n`;
}

const MAX_PID = 0x7fffffff;

/**
 * Decode lock file bytes. ASCII `<blanks><digits>` followed by end or whitespace is a
 * pid; otherwise exactly 4 bytes are a binary host-order pid. Undefined = invalid.
 */
export function parseLockContent(data: Uint8Array): { pid: number; format: 'ascii' | 'binary' } | undefined {
  const text = Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
  const m = /^[ \t]*(\d+)(?:\s|\0|$)/.exec(text);
  if (m !== null) {
    const pid = Number(m[1]);
    return pid > 0 && pid <= MAX_PID ? { pid, format: 'ascii' } : undefined;
  }
  if (data.byteLength === 4) {
    const pid = Buffer.from(data.buffer, data.byteOffset, 4).readInt32LE(0);
    return pid > 0 ? { pid, format: 'binary' } : undefined;
  }
  return undefined;
}

/** Read and decode a lock file. Never throws, never blocks, never follows a symlink. */
export function readLock(path: string): LockContent {
  return inspectLock(path).content;
}

/** readLock() plus the identity of the file read, so that a removal can check it removes that file. */
function inspectLock(path: string): { content: LockContent; id?: FileId } {
  const r = readSmallFile(path, MAX_LOCK_BYTES);
  if (!r.ok) {
    // ENOTDIR: the lock dir is not a directory, so no lock can exist in it; taking the
    // lock then fails with a clear "lock directory" error instead of a phantom owner.
    if (!('refused' in r)) return { content: { state: 'absent' } };
    return { content: { state: 'unreadable', code: r.code, detail: r.refused } };
  }
  const id = { dev: r.st.dev, ino: r.st.ino };
  const parsed = parseLockContent(r.data);
  return { content: parsed === undefined ? { state: 'invalid', mtimeMs: r.st.mtimeMs, size: r.st.size } : { state: 'pid', ...parsed }, id };
}

/** Does the process exist? EPERM (someone else's process) counts as alive. */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0 || pid > MAX_PID) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoCode(err) === 'EPERM';
  }
}

/** The owner's command line from /proc, NULs as spaces, at most OWNER_CMD_MAX chars ('' if gone). */
export function processCommand(pid: number, procDir = '/proc'): string {
  if (pid <= 0) return '';
  try {
    const raw = readFileSync(join(procDir, String(pid), 'cmdline'), 'latin1');
    return raw.replace(/\0/g, ' ').trimEnd().slice(0, OWNER_CMD_MAX);
  } catch {
    return '';
  }
}

type Verdict = { kind: 'retry' } | { kind: 'ours' } | { kind: 'held'; owner: LockOwner };

/**
 * Decide about an existing lock: ours, held by someone, or gone/stale (removed -> retry).
 */
function judge(path: string, device: string, o: Required<Omit<LockOptions, 'log'>> & { log?: LockLog }): Verdict {
  const { content: c, id } = inspectLock(path);
  switch (c.state) {
    case 'absent':
      return { kind: 'retry' };
    case 'unreadable':
      o.log?.warn(
        c.detail !== undefined
          ? `lock file ${path} is ${c.detail}: not reading or removing it; treating the line as locked`
          : `lock file ${path} exists but cannot be read (${c.code}); treating the line as locked`,
      );
      return { kind: 'held', owner: { pid: 0, cmd: '', reason: 'unreadable' } };
    case 'invalid': {
      const age = o.now() - c.mtimeMs;
      if (age < INVALID_LOCK_GRACE_MS) return { kind: 'held', owner: { pid: 0, cmd: '', reason: 'invalid' } };
      o.log?.mesg(`removing invalid lock file ${path} (${c.size} bytes, no pid)`);
      return removeIfUnchanged(path, c, id, o.pid) ? { kind: 'retry' } : { kind: 'held', owner: { pid: 0, cmd: '', reason: 'invalid' } };
    }
    case 'pid':
      if (c.pid === o.pid) return { kind: 'ours' };
      if (isProcessAlive(c.pid)) return { kind: 'held', owner: { pid: c.pid, cmd: processCommand(c.pid, o.procDir), reason: 'live' } };
      o.log?.mesg(`removing stale lock file ${path} of dead process ${c.pid} (${device})`);
      if (removeIfUnchanged(path, c, id, o.pid)) return { kind: 'retry' };
      o.log?.warn(`cannot remove stale lock file ${path}; treating the line as locked`);
      return { kind: 'held', owner: { pid: c.pid, cmd: '', reason: 'stale' } };
  }
}

/**
 * Remove a stale lock only if the name still holds the very file we judged (`seen`,
 * `id`). unlink(2) by name could remove a fresh lock that another getty or cu made after
 * it removed the stale one itself, so the file is first moved aside with rename(2) to a
 * name of ours (atomic: what we moved is what we then check), and put back with link(2)
 * if it turns out to be another file. Something that is not a small regular file never
 * gets here (it is held, not stale).
 */
function removeIfUnchanged(path: string, seen: LockContent, id: FileId | undefined, pid: number): boolean {
  if (id === undefined) return false;
  const aside = join(dirname(path), `LTMP.tgetty.${pid}.rm${(++tempSeq).toString(36)}`);
  try {
    renameSync(path, aside);
  } catch (err) {
    // Gone already: someone else removed it; try to take the lock again.
    return errnoCode(err) === 'ENOENT';
  }
  let st;
  try {
    st = lstatSync(aside);
  } catch {
    return true; // moved and gone: nothing of ours to clean up
  }
  const { content } = st.isFile() ? inspectLock(aside) : { content: undefined };
  if (st.isFile() && sameFile(st, id) && content !== undefined && sameContent(content, seen)) {
    unlinkQuiet(aside);
    return true;
  }
  // Another file took the name between our read and the rename: give it back unless a third locker was faster.
  try {
    linkSync(aside, path);
  } catch {
    // EEXIST: the line has a new lock anyway; the moved file is a lock that lost the race.
  }
  unlinkQuiet(aside);
  return true;
}

function sameContent(a: LockContent, b: LockContent): boolean {
  if (a.state === 'pid' && b.state === 'pid') return a.pid === b.pid;
  if (a.state === 'invalid' && b.state === 'invalid') return a.mtimeMs === b.mtimeMs && a.size === b.size;
  return false;
}

/** What is wrong with the lock directory, in words, for an errno code. */
function lockDirHint(lockDir: string, code: string): string {
  const create = 'create it (mode 1777, or owned by group uucp with mode 775) or configure another lock directory';
  return code === 'ENOENT' ? `lock directory ${lockDir} does not exist; ${create}`
    : code === 'ENOTDIR' ? `lock directory ${lockDir} is not a directory; ${create}`
    : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? `lock directory ${lockDir} is not writable (${code}); run as root or give it mode 1777 / group uucp`
    : `cannot create a lock file in ${lockDir} (${code})`;
}

function lockFailed(lockDir: string, device: string, err: unknown): TgettyError {
  const code = errnoCode(err) ?? 'EIO';
  return new TgettyError('LOCK_FAILED', `cannot lock ${device}: ${lockDirHint(lockDir, code)}`, { port: device, file: lockDir, errno: code }, { cause: err });
}

/**
 * Why no lock file can be made in `lockDir` (missing, not a directory, not writable), or
 * undefined when it is usable. A configuration error, not a lock held by someone: the
 * daemon reports it as such instead of stepping aside as for a dial-out.
 */
export function lockDirProblem(lockDir: string): string | undefined {
  try {
    if (!statSync(lockDir).isDirectory()) return lockDirHint(lockDir, 'ENOTDIR');
    // W_OK also catches a read-only file system (EROFS), even for root.
    accessSync(lockDir, fsConstants.W_OK | fsConstants.X_OK);
    return undefined;
  } catch (err) {
    return lockDirHint(lockDir, errnoCode(err) ?? 'EIO');
  }
}

function resolve(opts: LockOptions): Required<Omit<LockOptions, 'log'>> & { log?: LockLog } {
  return { pid: opts.pid ?? process.pid, now: opts.now ?? Date.now, procDir: opts.procDir ?? '/proc', ...(opts.log ? { log: opts.log } : {}) };
}

let tempSeq = 0;

/**
 * Write our pid to a fresh temp file next to the lock (mode 0644 whatever the umask).
 * The name is pid + counter (unique among live processes; random bytes cost more than the
 * rest of the lock); a leftover of a dead process with our pid is skipped by trying the next.
 */
function writeTemp(lockDir: string, pid: number, prefix = `LCK..TM.${pid.toString(36)}.`): { path: string; id: FileId } {
  let tmp = '';
  let made: { fd: number; id: FileId } | undefined;
  for (let attempt = 0; made === undefined; attempt++) {
    tmp = join(lockDir, `${prefix}${(++tempSeq).toString(36)}`);
    try {
      // O_EXCL|O_NOFOLLOW: a file or symlink planted under this name is skipped, never written through.
      made = createExclusive(tmp, 0o644);
    } catch (err) {
      if (errnoCode(err) !== 'EEXIST' || attempt >= 8) throw err;
    }
  }
  try {
    const data = Buffer.from(formatLockPid(pid), 'latin1');
    writeSync(made.fd, data, 0, data.length);
  } catch (err) {
    closeSync(made.fd);
    unlinkQuiet(tmp);
    throw err;
  }
  closeSync(made.fd);
  return { path: tmp, id: made.id };
}

/** Templates are `LTMP.tgetty.<pid>.<n>`: after HDB's LTMP temp files, and never read as a lock (LCK..*). */
const TEMPLATE_RE = /^LTMP\.tgetty\.(\d+)\.[0-9a-z]+$/;
/** Lock dirs already swept of dead processes' templates by this process. */
const sweptDirs = new Set<string>();

/**
 * Our lock file's content, written ahead of time (while the line is idle) to a temp file
 * in the lock dir, so that taking the lock when a call comes is one link(2), not open,
 * fchmod, write, close, link and unlink: with 64 lines ringing at once that is 64 times
 * five syscalls fewer before the last ATA. The file is kept for the next lock and removed
 * by dispose(). A lock taken from it is a hard link to it, so its mtime is the template's
 * (nothing judges a lock with a live pid by its age). Templates left by a process that
 * died are removed the first time a template is prepared in that lock dir.
 */
export class LockTemplate {
  private path: string | undefined;
  private fileId: FileId | undefined;

  constructor(
    private readonly lockDir: string,
    private readonly pid: number = process.pid,
  ) {}

  /** The template file, if prepared. */
  get file(): string | undefined {
    return this.path;
  }

  /** Identity of the file we wrote (a lock linked from it must be this file). */
  get id(): FileId | undefined {
    return this.fileId;
  }

  /** Make the file unless it is there; false (no file) when the lock dir refuses: locks are then made the slow way, which reports why. */
  prepare(): boolean {
    if (this.path !== undefined) return true;
    if (!sweptDirs.has(this.lockDir)) {
      sweptDirs.add(this.lockDir);
      sweepTemplates(this.lockDir);
    }
    try {
      const t = writeTemp(this.lockDir, this.pid, `LTMP.tgetty.${this.pid}.`);
      this.path = t.path;
      this.fileId = t.id;
      return true;
    } catch {
      return false;
    }
  }

  /** The file is gone (removed behind our back): make a new one at the next prepare(). */
  forget(): void {
    this.path = undefined;
    this.fileId = undefined;
  }

  dispose(): void {
    // Only our own file: in a dir others can write, the name may now hold theirs.
    if (this.path !== undefined && this.fileId !== undefined && nameHolds(this.path, this.fileId)) unlinkQuiet(this.path);
    this.forget();
  }
}

/** Remove the templates of processes that are gone (a daemon killed while its lines were idle). */
function sweepTemplates(lockDir: string): void {
  let names: string[];
  try {
    names = readdirSync(lockDir);
  } catch {
    return;
  }
  for (const n of names) {
    const m = TEMPLATE_RE.exec(n);
    if (m !== null && !isProcessAlive(Number(m[1]))) unlinkQuiet(join(lockDir, n));
  }
}

/** Whether a file name in a lock dir is a lock template (LockTemplate): for leak checks. */
export function isLockTemplate(name: string): boolean {
  return TEMPLATE_RE.test(name);
}

/** Does `path` (not followed) still name the file `id`? */
function nameHolds(path: string, id: FileId): boolean {
  try {
    const st = lstatSync(path);
    return st.isFile() && sameFile(st, id);
  } catch {
    return false;
  }
}

/** Unlink `path` if it (not followed) names the same file as `other`: a link we just made from it. */
function unlinkIfSame(path: string, other: string): void {
  try {
    if (sameFile(lstatSync(path), lstatSync(other))) unlinkSync(path);
  } catch {
    // one of them is gone: nothing of ours to undo
  }
}

function unlinkQuiet(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

/**
 * Take the lock for `device`: atomic via link(2) from a temp file. Our own lock counts
 * as taken; a dead owner's lock is removed and the lock retried. Throws LOCK_FAILED
 * when the lock directory is missing or not writable.
 */
export function makeLock(lockDir: string, device: string, opts: LockOptions & { template?: LockTemplate } = {}): LockResult {
  const o = resolve(opts);
  const path = lockPath(lockDir, device);
  // Only kept if every round lost a race against other lockers.
  let owner: LockOwner = { pid: 0, cmd: '', reason: 'stale' };
  // A few rounds: each one either takes the lock, finds it held, or removed a stale one.
  for (let round = 0; round < 3; round++) {
    // The prepared template if there is one (one link(2)), else a temp file of this round.
    const prepared = opts.template?.file;
    const preparedId = opts.template?.id;
    let tmp: { path: string; id: FileId };
    if (prepared !== undefined && preparedId !== undefined) tmp = { path: prepared, id: preparedId };
    else {
      try {
        tmp = writeTemp(lockDir, o.pid);
      } catch (err) {
        throw lockFailed(lockDir, device, err);
      }
    }
    const fromTemplate = tmp.path === prepared;
    try {
      // link(2) never follows a symlink at the new name (EEXIST), nor at the old one on Linux.
      linkSync(tmp.path, path);
      if (nameHolds(path, tmp.id)) return { ok: true, path };
      // The template was swapped for another file (a dir others can write): what we just linked
      // is not our lock. Remove that link of ours, drop the template, and try again the slow way.
      o.log?.warn(`lock template ${tmp.path} was replaced behind our back; making a fresh lock`);
      unlinkIfSame(path, tmp.path);
      opts.template?.forget();
      continue;
    } catch (err) {
      const code = errnoCode(err);
      if (fromTemplate && code === 'ENOENT') {
        // The template was removed behind our back: this round again, the slow way.
        opts.template?.forget();
        round--;
        continue;
      }
      if (code !== 'EEXIST') throw lockFailed(lockDir, device, err);
    } finally {
      if (!fromTemplate) unlinkQuiet(tmp.path);
    }
    const v = judge(path, device, o);
    if (v.kind === 'ours') return { ok: true, path };
    if (v.kind === 'held') {
      owner = v.owner;
      break;
    }
  }
  const who = owner.pid > 0 ? `process ${owner.pid}${owner.cmd !== '' ? ` (${owner.cmd})` : ''}` : `an unknown owner (${owner.reason} lock file)`;
  const error = new TgettyError('LOCK_HELD', `${device} is locked by ${who}`, {
    port: device, file: path, pid: owner.pid, cmd: owner.cmd, reason: owner.reason,
  });
  return { ok: false, path, ownerPid: owner.pid, ownerCmd: owner.cmd, reason: owner.reason, error };
}

/** Remove the lock if it is ours. Returns true if a lock of ours was removed. */
export function removeLock(lockDir: string, device: string, opts: { pid?: number } = {}): boolean {
  const path = lockPath(lockDir, device);
  const { content: c, id } = inspectLock(path);
  if (c.state !== 'pid' || c.pid !== (opts.pid ?? process.pid) || id === undefined || !nameHolds(path, id)) return false;
  try {
    unlinkSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The "valid foreign lock" test: is someone else keeping us off the line? A stale lock
 * (dead owner, or an old invalid file) is deleted and reported as no lock.
 */
export function foreignLockOwner(lockDir: string, device: string, opts: LockOptions = {}): LockOwner | undefined {
  const o = resolve(opts);
  const path = lockPath(lockDir, device);
  const v = judge(path, device, o);
  return v.kind === 'held' ? v.owner : undefined;
}

export interface LockWatch {
  /** Whether the lock file existed at the last event. */
  readonly present: boolean;
  close(): void;
}

export interface WatchLockOptions {
  /** Keep the process alive while watching (default true: a getty waits for events). */
  persistent?: boolean;
  /** Called if the watch breaks (lock dir removed, inotify limits). */
  onError?: (err: TgettyError) => void;
}

/** One subscription to a shared lock-dir watch. */
interface WatchSub {
  present: boolean;
  cb: (present: boolean) => void;
  onError?: (err: TgettyError) => void;
  device: string;
}

/** One inotify watch per lock dir, shared by every line that waits on it (a daemon with 64 idle lines). */
interface DirWatch {
  key: string;
  watcher: FSWatcher;
  /** Subscriptions by lock file name (`LCK..ttyS0`). */
  subs: Map<string, Set<WatchSub>>;
  count: number;
}

const dirWatches = new Map<string, DirWatch>();

function lockExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function openDirWatch(lockDir: string, persistent: boolean, device: string): DirWatch {
  const key = `${persistent ? 'p' : 'n'}:${lockDir}`;
  const have = dirWatches.get(key);
  if (have !== undefined) return have;
  let watcher: FSWatcher;
  try {
    watcher = watch(lockDir, { persistent });
  } catch (err) {
    throw lockFailed(lockDir, device, err);
  }
  const dw: DirWatch = { key, watcher, subs: new Map(), count: 0 };
  const check = (name: string, subs: Set<WatchSub>): void => {
    const now = lockExists(join(lockDir, name));
    for (const sub of [...subs]) {
      if (now === sub.present || !subs.has(sub)) continue;
      sub.present = now;
      sub.cb(now);
    }
  };
  watcher.on('change', (_type, filename) => {
    if (filename === null) {
      // No name (queue overflow): look at every watched lock.
      for (const [name, subs] of [...dw.subs]) check(name, subs);
      return;
    }
    const subs = dw.subs.get(filename.toString());
    if (subs !== undefined) check(filename.toString(), subs);
  });
  watcher.on('error', (err) => {
    // The watch is gone (lock dir removed, inotify limits): tell everyone; the next subscriber starts a new one.
    if (dirWatches.get(key) === dw) dirWatches.delete(key);
    watcher.close();
    for (const [name, subs] of dw.subs) {
      for (const sub of subs) sub.onError?.(new TgettyError('LOCK_FAILED', `watching ${lockDir} for ${name} failed: ${err.message}`, { port: sub.device, file: lockDir }, { cause: err }));
    }
  });
  dirWatches.set(key, dw);
  return dw;
}

/** The last subscriber left: close the shared watch (no handle may keep a getty alive). */
function releaseDirWatch(dw: DirWatch): void {
  if (dw.count > 0) return;
  if (dirWatches.get(dw.key) === dw) dirWatches.delete(dw.key);
  dw.watcher.close();
}

/**
 * Call `cb(present)` whenever the lock file of `device` appears or disappears. Event
 * driven (inotify on the lock directory), no polling. The callback only says that the
 * file changed; callers use foreignLockOwner() to judge whether it is a valid lock.
 * Every watcher of one lock directory shares one inotify watch: subscribing and leaving
 * are map operations, not syscalls, on the way from idle to ATA.
 */
export function watchLock(lockDir: string, device: string, cb: (present: boolean) => void, opts: WatchLockOptions = {}): LockWatch {
  const name = `LCK..${lockName(device)}`;
  const dw = openDirWatch(lockDir, opts.persistent ?? true, device);
  // Watch first, then read the state, so a change in between is not missed.
  const sub: WatchSub = { present: lockExists(join(lockDir, name)), cb, device, ...(opts.onError !== undefined ? { onError: opts.onError } : {}) };
  let subs = dw.subs.get(name);
  if (subs === undefined) {
    subs = new Set();
    dw.subs.set(name, subs);
  }
  subs.add(sub);
  dw.count++;
  let closed = false;
  return {
    get present() {
      return sub.present;
    },
    close() {
      if (closed) return;
      closed = true;
      const set = dw.subs.get(name);
      set?.delete(sub);
      if (set !== undefined && set.size === 0) dw.subs.delete(name);
      dw.count--;
      releaseDirWatch(dw);
    },
  };
}
