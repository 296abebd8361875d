/**
 * Starting a child without forking the daemon: glibc's posix_spawn(3), which clones with
 * CLONE_VM|CLONE_VFORK (no copy of the parent's page tables) and returns once the child
 * has exec'd. Node's child_process forks (libuv), and a fork of a daemon with a V8 heap
 * costs milliseconds of event loop per child (issue 21); this costs a few hundred µs.
 *
 * What libuv does in its child is done here by the spawn attributes: every signal back to
 * its default disposition (Node ignores SIGPIPE), an empty signal mask, the fds the caller
 * names dup2()ed into place (dup2 clears FD_CLOEXEC on the copy), every other fd >= the
 * first free one closed (closefrom, glibc 2.34) on top of the daemon's close-on-exec, and
 * the working directory. No uid/gid change: posix_spawn has none (the hand-off uses setpriv).
 *
 * A child started here is not known to libuv, so nobody else reaps it: `watchExit` waits
 * for it with waitpid(pid, WNOHANG) on every SIGCHLD, and keeps the event loop alive
 * while any such child runs (as a ChildProcess handle would).
 */
import { constants as osConstants } from 'node:os';
import { TgettyError } from '../core/errors.js';
import { lib, strerror } from './ffi.js';

type Fn = ReturnType<typeof lib.func>;

/** The libc functions, bound on first use (nothing to pay at start-up for a getty that never hands off). */
interface Bound {
  posix_spawn: Fn;
  fa_init: Fn;
  fa_destroy: Fn;
  fa_adddup2: Fn;
  fa_addopen: Fn;
  fa_addclose: Fn;
  fa_addchdir: Fn;
  /** glibc 2.34; older: undefined, and close-on-exec alone keeps the fds from the child. */
  fa_addclosefrom: Fn | undefined;
  attr_init: Fn;
  attr_destroy: Fn;
  attr_setflags: Fn;
  attr_setsigmask: Fn;
  attr_setsigdefault: Fn;
  sigemptyset: Fn;
  waitpid: Fn;
  pipe2: Fn;
}

let bound: Bound | undefined;

function optional(proto: string): Fn | undefined {
  try {
    return lib.func(proto);
  } catch {
    return undefined;
  }
}

function c(): Bound {
  bound ??= {
    posix_spawn: lib.func('int posix_spawn(_Out_ int *pid, const char *path, void *fa, void *attr, const char **argv, const char **envp)'),
    fa_init: lib.func('int posix_spawn_file_actions_init(void *fa)'),
    fa_destroy: lib.func('int posix_spawn_file_actions_destroy(void *fa)'),
    fa_adddup2: lib.func('int posix_spawn_file_actions_adddup2(void *fa, int fd, int newfd)'),
    fa_addopen: lib.func('int posix_spawn_file_actions_addopen(void *fa, int fd, const char *path, int oflag, uint32_t mode)'),
    fa_addclose: lib.func('int posix_spawn_file_actions_addclose(void *fa, int fd)'),
    fa_addchdir: lib.func('int posix_spawn_file_actions_addchdir_np(void *fa, const char *path)'),
    fa_addclosefrom: optional('int posix_spawn_file_actions_addclosefrom_np(void *fa, int from)'),
    attr_init: lib.func('int posix_spawnattr_init(void *attr)'),
    attr_destroy: lib.func('int posix_spawnattr_destroy(void *attr)'),
    attr_setflags: lib.func('int posix_spawnattr_setflags(void *attr, short flags)'),
    attr_setsigmask: lib.func('int posix_spawnattr_setsigmask(void *attr, const void *set)'),
    attr_setsigdefault: lib.func('int posix_spawnattr_setsigdefault(void *attr, const void *set)'),
    sigemptyset: lib.func('int sigemptyset(void *set)'),
    waitpid: lib.func('int waitpid(int pid, _Out_ int *status, int options)'),
    pipe2: lib.func('int pipe2(_Out_ int *fds, int flags)'),
  };
  return bound;
}

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
/** glibc 2.26: setsid() in the child before the file actions run. */
const POSIX_SPAWN_SETSID = 0x80;
const O_RDWR = 0o2;
const O_NOCTTY = 0o400;
const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const WNOHANG = 1;
/** Larger than glibc's posix_spawn_file_actions_t (80 bytes), posix_spawnattr_t (336) and sigset_t (128) on x86_64 and arm64. */
const OPAQUE_BYTES = 512;

export interface SpawnRequest {
  /** Absolute path of the program (no PATH search). */
  path: string;
  /** The complete argv, argv[0] included. */
  argv: readonly string[];
  /** The complete environment. */
  env: Readonly<Record<string, string>>;
  /** Working directory of the child. */
  cwd: string;
  /** `fds[i]` becomes the child's fd i (every fd of the parent is close-on-exec; these are the only ones passed). */
  fds: readonly number[];
  /**
   * A new session whose controlling terminal is the child's fd 0 (a tty), what
   * `setsid -c` does, without its exec: setsid() in the child, then fd 0's tty opened
   * again through /proc/self/fd/0 without O_NOCTTY (a session leader without a terminal
   * acquires the tty it opens), then /dev/tty opened as the proof. If the tty is still
   * another session's terminal, that open fails with ENXIO, the child never execs and
   * spawnChild rejects with errno ENXIO.
   */
  sessionWithTty?: boolean;
}

/** errno of a session spawn whose tty could not become the controlling terminal. */
export const ENXIO = 6;

function check(rc: number, what: string): void {
  if (rc !== 0) throw new TgettyError('LOGIN_EXEC_FAILED', `${what}: ${strerror(rc)}`, { errno: rc });
}

interface Prepared {
  fa: Buffer;
  attr: Buffer;
  /** Kept referenced until the call is over. */
  sets: Buffer[];
  argv: (string | null)[];
  envp: (string | null)[];
}

function destroy(p: Prepared): void {
  c().attr_destroy(p.attr);
  c().fa_destroy(p.fa);
}

/** The file actions and attributes of one spawn. Throws (nothing to free then). */
function prepare(req: SpawnRequest): Prepared {
  const fa = Buffer.alloc(OPAQUE_BYTES);
  const attr = Buffer.alloc(OPAQUE_BYTES);
  check(c().fa_init(fa) as number, 'posix_spawn_file_actions_init');
  const rc = c().attr_init(attr) as number;
  if (rc !== 0) {
    c().fa_destroy(fa);
    check(rc, 'posix_spawnattr_init');
  }
  const p: Prepared = { fa, attr, sets: [], argv: [...req.argv, null], envp: [...Object.entries(req.env).map(([k, v]) => `${k}=${v}`), null] };
  try {
    // fd i <- fds[i], in order. A source that is an earlier target would be overwritten
    // before its own turn (the daemon's 0-2 are always open, so sources are >= 3); a
    // source equal to its target keeps its fd (glibc clears FD_CLOEXEC then).
    req.fds.forEach((from, to) => {
      if (from < to && req.fds[from] !== from) {
        throw new TgettyError('LOGIN_EXEC_FAILED', `fd ${from} would be overwritten before it becomes fd ${to}`, { fd: from });
      }
      check(c().fa_adddup2(fa, from, to) as number, 'posix_spawn_file_actions_adddup2');
    });
    const closefrom = c().fa_addclosefrom;
    if (closefrom !== undefined) check(closefrom(fa, req.fds.length) as number, 'posix_spawn_file_actions_addclosefrom_np');
    if (req.sessionWithTty === true) {
      // O_NONBLOCK: never wait for carrier in open(). Both fds are closed again before the
      // exec (an explicit close: a close-on-exec flag would not survive glibc's dup2).
      const spare = req.fds.length;
      check(c().fa_addopen(fa, spare, '/proc/self/fd/0', O_RDWR | O_NONBLOCK, 0) as number, 'posix_spawn_file_actions_addopen');
      check(c().fa_addclose(fa, spare) as number, 'posix_spawn_file_actions_addclose');
      check(c().fa_addopen(fa, spare, '/dev/tty', O_RDWR | O_NOCTTY | O_NONBLOCK, 0) as number, 'posix_spawn_file_actions_addopen');
      check(c().fa_addclose(fa, spare) as number, 'posix_spawn_file_actions_addclose');
    }
    check(c().fa_addchdir(fa, req.cwd) as number, 'posix_spawn_file_actions_addchdir_np');
    // Every signal 1-64 back to SIG_DFL, glibc's own 32 and 33 (SIGCANCEL, SIGSETXID)
    // included: sigfillset leaves those two out, and then glibc's child sets them to
    // SIG_IGN, which would survive the exec (libuv's child resets all 64 by hand too).
    const all = Buffer.alloc(OPAQUE_BYTES);
    all.fill(0xff, 0, 8);
    const none = Buffer.alloc(OPAQUE_BYTES);
    c().sigemptyset(none);
    p.sets.push(all, none);
    check(c().attr_setsigdefault(attr, all) as number, 'posix_spawnattr_setsigdefault');
    check(c().attr_setsigmask(attr, none) as number, 'posix_spawnattr_setsigmask');
    const flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | (req.sessionWithTty === true ? POSIX_SPAWN_SETSID : 0);
    check(c().attr_setflags(attr, flags) as number, 'posix_spawnattr_setflags');
    return p;
  } catch (e) {
    destroy(p);
    throw e;
  }
}

/**
 * Spawns run on libuv's thread pool (koffi's async call), so the event loop never waits
 * for the clone and the child's exec, which on a busy machine can take milliseconds. At
 * most this many at once: the pool (4 threads) also serves the file system.
 */
const MAX_IN_FLIGHT = 2;
let inFlight = 0;
const queue: (() => void)[] = [];

function runNext(): void {
  while (inFlight < MAX_IN_FLIGHT) {
    const next = queue.shift();
    if (next === undefined) return;
    inFlight++;
    next();
  }
}

/**
 * Start `req.path`; resolves with its pid once it has exec'd. Rejects (LOGIN_EXEC_FAILED,
 * with errno) if it could not: nothing runs then. The caller must `watchExit(pid)` at once.
 */
export function spawnChild(req: SpawnRequest): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    queue.push(() => {
      const done = (): void => {
        inFlight--;
        runNext();
      };
      let p: Prepared;
      try {
        p = prepare(req);
      } catch (e) {
        done();
        reject(e instanceof Error ? e : new Error(String(e)));
        return;
      }
      const pid = new Int32Array(1);
      (c().posix_spawn.async as (...a: unknown[]) => void)(pid, req.path, p.fa, p.attr, p.argv, p.envp, (err: unknown, rc: number) => {
        destroy(p);
        done();
        if (err !== null && err !== undefined) reject(err instanceof Error ? err : new TgettyError('LOGIN_EXEC_FAILED', `posix_spawn ${req.path} failed`, { input: req.path }));
        else if (rc !== 0) reject(new TgettyError('LOGIN_EXEC_FAILED', `posix_spawn ${req.path}: ${strerror(rc)}`, { errno: rc, input: req.path }));
        else resolve(pid[0] ?? -1);
      });
    });
    runNext();
  });
}

/**
 * Bind the libc functions now, so the first hand-off does not pay for it: the login stage
 * calls this while it waits for the caller (issue 16: CR -> program).
 */
export function prebindSpawn(): void {
  c();
  // Build and free one set of file actions and attributes: the first hand-off then runs
  // code that is compiled already.
  destroy(prepare({ path: '/', argv: [], env: {}, cwd: '/', fds: [0, 1, 2], sessionWithTty: true }));
}

/**
 * Signal `pid` (a child from spawnChild) unless `isDone()` says it was reaped: a reaped
 * pid may belong to a stranger by now. False if it was, or the kill failed.
 */
export function signalChild(isDone: () => boolean, pid: number): (signal: NodeJS.Signals) => boolean {
  return (signal) => {
    if (isDone()) return false;
    try {
      process.kill(pid, signal);
      return true;
    } catch {
      return false;
    }
  };
}

/** A pipe, both ends close-on-exec: [read, write]. */
export function pipeCloexec(): [number, number] {
  const fds = new Int32Array(2);
  if ((c().pipe2(fds, O_CLOEXEC) as number) !== 0) throw new TgettyError('LOGIN_EXEC_FAILED', 'pipe2 failed', {});
  return [fds[0] ?? -1, fds[1] ?? -1];
}

export interface ChildExit {
  /** Exit status, or null if killed by a signal. */
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A wait(2) status as Node's 'exit' event gives it. Pure. */
export function decodeWaitStatus(status: number): ChildExit {
  const sig = status & 0x7f;
  if (sig === 0) return { code: (status >> 8) & 0xff, signal: null };
  const name = Object.entries(osConstants.signals).find(([, n]) => n === sig)?.[0] as NodeJS.Signals | undefined;
  return { code: null, signal: name ?? null };
}

const waiting = new Map<number, (e: ChildExit) => void>();
let listening = false;
/** A ref'd timer while children run: the SIGCHLD listener alone does not keep Node alive. */
let keepAlive: NodeJS.Timeout | undefined;

function reap(): void {
  for (const [pid, done] of waiting) {
    const st = new Int32Array(1);
    const r = c().waitpid(pid, st, WNOHANG) as number;
    // 0: still running. -1 (ECHILD): someone reaped it after all; report it as gone.
    if (r === 0) continue;
    waiting.delete(pid);
    done(r === pid ? decodeWaitStatus(st[0] ?? 0) : { code: null, signal: null });
  }
  if (waiting.size === 0 && keepAlive !== undefined) {
    clearInterval(keepAlive);
    keepAlive = undefined;
  }
}

/**
 * Resolves once `pid` (a child from spawnChild) has exited, and reaps it. Until then its
 * pid cannot be reused, so signalling it is safe while the promise is pending.
 */
export function watchExit(pid: number): Promise<ChildExit> {
  if (!listening) {
    process.on('SIGCHLD', reap);
    listening = true;
  }
  const p = new Promise<ChildExit>((res) => waiting.set(pid, res));
  // Never fires in practice (2^31-1 ms); a child that exited before the listener ran is
  // caught by the reap below, which runs on the next turn.
  keepAlive ??= setInterval(() => undefined, 0x7fffffff);
  setImmediate(reap);
  return p;
}
