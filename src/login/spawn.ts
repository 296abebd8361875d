/**
 * The hand-off after CONNECT: run login (or pppd, or any login.config program) on the
 * line as a new session whose controlling terminal is the line, then get out of the way.
 *
 * The direct way (issue 16): posix_spawn with setsid() and the tty made the controlling
 * terminal in the child before the exec (src/os/spawn.ts `sessionWithTty`), of
 *   program args                                 (or setpriv --reuid --regid
 *                                                  --init-groups -- program args)
 * or, when the program writes its own utmp record (/bin/login: `loginRecord`), of
 *   /bin/sh -c GATE -> exec program args        (so LOGIN_PROCESS carries its pid first)
 * The port mode (0600) is set before anything runs.
 *
 * The gate way (three execs), when the direct one cannot be used: Node's spawn (setpriv
 * missing: libuv switches uid/gid), or a tty that is still another session's terminal
 * (util-linux `setsid -c` takes it over, as root):
 *   /bin/sh -c GATE  ->  exec setsid -c -- [setpriv --reuid --regid --init-groups --] program args
 * - The sh gate waits for one line on fd 3, so utmp's LOGIN_PROCESS can carry the pid
 *   /bin/login will have before login starts looking for it.
 * - `setsid -c` makes the process a session leader and the tty (its stdin) its
 *   controlling terminal; the spawn must NOT be detached (then setsid would fork).
 * Either way the child gets signal dispositions reset and nothing blocked, only fds 0-2,
 * and the allow-listed environment. The parent keeps no fd on the tty afterwards: data
 * never passes through tgetty.
 */
import { spawn } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants as fsConstants, existsSync, statSync, writeSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { Writable } from 'node:stream';
import { TgettyError, errnoCode, toTgettyError } from '../core/errors.js';
import { closeFd } from '../line/libc.js';
import { logField } from '../log/format.js';
import { ENXIO, pipeCloexec, prebindSpawn, signalChild, spawnChild, watchExit } from '../os/spawn.js';
import type { Line, LineMode } from '../line/line.js';
import { warmUtmp } from '../os/utmp.js';
import { encodeStandby, type StandbyGate } from './standby-gate.js';
import { loginHost } from './utmp.js';
import type { UtmpWriter } from './utmp.js';

/** What the hand-off logs through (a subset of src/log's Logger). */
export interface SessionLog {
  error(msg: string): void;
  warn(msg: string): void;
  noise(msg: string): void;
  audit(msg: string): void;
}

export interface SessionUser {
  uid: number;
  gid: number;
  name: string;
}

/** Absolute paths of the helper programs (no PATH search anywhere). */
export interface HandoffTools {
  sh: string;
  setsid: string;
  /** undefined or missing on disk: fall back to spawn's uid/gid (no supplementary groups). */
  setpriv: string | undefined;
}

export const DEFAULT_TOOLS: HandoffTools = { sh: '/bin/sh', setsid: '/usr/bin/setsid', setpriv: '/usr/bin/setpriv' };

/**
 * The gate: wait for the parent's go (EOF = abort: never run the program), close the
 * pipe so the program does not inherit it, then become the chain. `$@` is passed as
 * argv words: nothing of the caller's input is ever parsed by a shell.
 */
export const GATE_SCRIPT = 'read -r _ <&3 || exit 111; exec 3<&-; exec "$@"';

export interface StartSessionOptions {
  /** The line, still open in the parent. It is released (all parent fds closed) once the child holds the tty. */
  line: Line;
  /**
   * Termios for the session, applied before the child starts. The runner passes
   * `{ mode: 'login', endedWith, clocal: ignoreCarrier }` (cooked, HUPCL, CLOCAL off).
   * Omit only when the line already has it.
   */
  mode?: LineMode;
  /** Program path (login.config column 4). A relative path is taken relative to `cwd`, like execv. */
  program: string;
  /** argv as from expandArgs: argv[0] (the base name) is not used, the rest are the arguments. */
  argv: readonly string[];
  /** The complete environment (see loginEnv). CALLER_ID and CONNECT also feed the utmp host. */
  env: Readonly<Record<string, string>>;
  /** Run as this user (uid, gid, supplementary groups); undefined = stay root. */
  user?: SessionUser;
  utmp?: {
    writer: UtmpWriter;
    /** /bin/login style: LOGIN_PROCESS (user LOGIN) with the child's pid, written before the program runs. */
    loginRecord: boolean;
    /** login.config utmp column: a USER_PROCESS with this user text and host = CONNECT. */
    userRecord?: string;
  };
  /** Device mode while the session runs (mgetty: 0600), and after it (default: what it was before). */
  portMode?: { during: number; restore?: number };
  /**
   * Device name for utmp/wtmp (ut_line), default line.device. A line opened through a
   * symlink passes the real tty here, so who/last/login find it under /dev.
   */
  utmpDevice?: string;
  /** Device name for the audit line (the configured line name), default the utmp device. */
  auditDevice?: string;
  /** The login name, for the audit line only. */
  loginName?: string;
  /** Working directory of the child (default `/`). */
  cwd?: string;
  tools?: Partial<HandoffTools>;
  /** Hand over through the sh gate and `setsid -c` even when the direct way could be used (tests). */
  gate?: boolean;
  /**
   * A gate started while the caller was at the prompt (standby-gate.ts): used when it is
   * still waiting and can carry the words, else cancelled and the hand-off spawns.
   */
  standby?: StandbyGate;
  /** The LOGIN_PROCESS record the login stage wrote at CONNECT for the standby gate's pid, if any. */
  gateRecord?: GateRecord;
  log?: SessionLog;
}

/**
 * The LOGIN_PROCESS record written at CONNECT for the standby gate's pid (mgetty writes
 * its own then). `open` while nobody else has taken it over: the login stage ends it
 * with DEAD_PROCESS when the call ends. It is taken over once a session's exit watch is
 * on that pid (onExit writes the DEAD then) or a record for another pid replaces it.
 */
export interface GateRecord {
  readonly pid: number;
  open: boolean;
}

export interface SessionExit {
  /**
   * Exit status, or null if killed by a signal. 126/127 come from setsid/setpriv when the
   * final exec failed (they printed why on the line), or from the program itself.
   */
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface Session {
  /** Pid of the session leader (the program itself; also the session and process-group id). */
  readonly pid: number;
  /** Resolves once the leader exited, DEAD_PROCESS is written and the port mode restored. Never rejects. */
  readonly exited: Promise<SessionExit>;
  /** Signal the session leader (default SIGHUP, as a hangup would). False if it already exited. */
  kill(signal?: NodeJS.Signals): boolean;
}

export type StartResult =
  | { ok: true; session: Session }
  /**
   * The program did not start. Unless `error.context.released` is true the line is still
   * open: tell the caller `lineText` (empty: nothing useful to say), hang up, re-init the port.
   */
  | { ok: false; error: TgettyError; lineText: string };

/** What the direct hand-off executes: the program, or setpriv in front of it for a user switch. Pure. */
export function directArgv(program: string, args: readonly string[], user: SessionUser | undefined, tools: HandoffTools): { path: string; argv: string[] } {
  if (user !== undefined && tools.setpriv !== undefined) {
    return { path: tools.setpriv, argv: [tools.setpriv, `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--', program, ...args] };
  }
  return { path: program, argv: [program, ...args] };
}

/**
 * Get the first hand-off's one-time costs out of its way (binding libc's posix_spawn
 * functions): the login stage calls this while it waits for the caller.
 */
export function prepareHandoff(): void {
  if (handoffPrepared) return;
  handoffPrepared = true;
  prebindSpawn();
  warmUtmp();
}

/** Once a process is enough: the daemon's later calls find it all compiled and bound. */
let handoffPrepared = false;

/** argv for `sh -c GATE` (everything after `-c`). Pure. */
export function gateArgv(program: string, args: readonly string[], user: SessionUser | undefined, tools: HandoffTools): string[] {
  const chain = [tools.setsid, '-c', '--'];
  if (user !== undefined && tools.setpriv !== undefined) {
    chain.push(tools.setpriv, `--reuid=${user.uid}`, `--regid=${user.gid}`, '--init-groups', '--');
  }
  return [GATE_SCRIPT, 'tgetty-handoff', ...chain, program, ...args];
}

/**
 * Why `program` cannot run (as `user`), or undefined. The check runs before anything is
 * spawned, so the runner can still talk to the caller on its own line.
 */
export function execProblem(program: string, user: SessionUser | undefined): string | undefined {
  let st;
  try {
    st = statSync(program);
  } catch (e) {
    return errnoCode(e) === 'ENOENT' ? 'No such file or directory' : e instanceof Error ? e.message : String(e);
  }
  if (!st.isFile()) return 'not a regular file';
  try {
    accessSync(program, fsConstants.X_OK);
  } catch {
    return 'Permission denied (not executable)';
  }
  if (user !== undefined && user.uid !== 0) {
    // Supplementary groups are not known here, so any group x bit is accepted; a real
    // refusal then shows as setpriv's exit 126 with its message on the line.
    const mode = st.mode;
    const ok = (st.uid === user.uid ? mode & 0o100 : 0) !== 0 || (mode & 0o010) !== 0 || (mode & 0o001) !== 0;
    if (!ok) return `Permission denied (not executable for ${user.name})`;
  }
  return undefined;
}

function failure(program: string, reason: string, port: string, cause?: unknown): StartResult {
  const error = new TgettyError('LOGIN_EXEC_FAILED', `cannot execute '${program}': ${reason}`, { port, input: program }, { cause });
  return { ok: false, error, lineText: `\r\ncannot execute '${program}': ${reason}\r\n` };
}

/** What the hand-off runs: the program, its arguments, the user switch and the tools. */
interface RunPlan {
  device: string;
  tools: HandoffTools;
  cwd: string;
  program: string;
  args: string[];
  user: SessionUser | undefined;
  /** spawn's own uid/gid, when setpriv is missing (no supplementary groups then). */
  spawnIds: { uid: number; gid: number } | undefined;
}

/** Resolve the program, check that it can run, and choose how to switch user. */
function planRun(opts: StartSessionOptions): RunPlan | StartResult {
  const { line, log } = opts;
  const device = opts.utmpDevice ?? line.device;
  const tools: HandoffTools = { ...DEFAULT_TOOLS, ...opts.tools };
  const cwd = opts.cwd ?? '/';
  const program = isAbsolute(opts.program) ? opts.program : resolve(cwd, opts.program);
  const problem = execProblem(program, opts.user);
  if (problem !== undefined) {
    log?.error(`cannot execute '${program}': ${problem}`);
    return failure(program, problem, device);
  }
  let user = opts.user;
  let spawnIds: { uid: number; gid: number } | undefined;
  if (user !== undefined && (tools.setpriv === undefined || !existsSync(tools.setpriv))) {
    log?.warn(`${tools.setpriv ?? 'setpriv'} missing: running as uid ${user.uid} gid ${user.gid} without supplementary groups`);
    spawnIds = { uid: user.uid, gid: user.gid };
    tools.setpriv = undefined;
  }
  if (user?.uid === 0 && user.gid === 0) user = undefined; // root: nothing to switch
  return { device, tools, cwd, program, args: opts.argv.slice(1), user, spawnIds };
}

/**
 * The gate child: its pid (from the spawn on, the session leader's pid too), its end, the
 * go (or the abort: the gate exits 111 and the program never runs), and signals.
 */
interface Gate {
  readonly pid: number;
  /** Resolves once the child exited (reaped). Never rejects. */
  readonly exited: Promise<SessionExit>;
  /** Write the go and close the pipe. */
  go(): void;
  /** Close the pipe without a go. */
  abort(): void;
  /** Signal the child; false once it has exited (its pid is never signalled after it was reaped). */
  kill(signal: NodeJS.Signals): boolean;
}

/**
 * The gate through posix_spawn (src/os/spawn.ts): no fork of the daemon, no time on the
 * event loop beyond the clone and the gate's exec. fds 0-2 the line, 3 the gate pipe,
 * nothing else; signals default, none blocked; the environment as given.
 */
async function posixGate(opts: StartSessionOptions, plan: RunPlan, childFd: number): Promise<Gate> {
  const { tools, program, args } = plan;
  const [r, w] = pipeCloexec();
  let pid: number;
  try {
    pid = await spawnChild({ path: tools.sh, argv: [tools.sh, '-c', ...gateArgv(program, args, plan.user, tools)], env: opts.env, cwd: plan.cwd, fds: [childFd, childFd, childFd, r] });
  } catch (e) {
    closeFd(w);
    throw e;
  } finally {
    closeFd(r);
  }
  let done = false;
  const exited = watchExit(pid).then((e) => {
    done = true;
    return e;
  });
  let open = true;
  const close = (text: string | undefined): void => {
    if (!open) return;
    open = false;
    try {
      if (text !== undefined) writeSync(w, text);
    } catch (e) {
      // EPIPE: the gate died first (its exit is reported as usual).
      opts.log?.noise(`gate of ${pid}: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      closeFd(w);
    }
  };
  return {
    pid,
    exited,
    go: () => close('go\n'),
    abort: () => close(undefined),
    kill: signalChild(() => done, pid),
  };
}

/**
 * The gate through Node's spawn: only when setpriv is missing and the user switch needs
 * libuv's uid/gid options (posix_spawn cannot switch user).
 */
async function nodeGate(opts: StartSessionOptions, plan: RunPlan, childFd: number): Promise<Gate> {
  const { tools, program, args } = plan;
  const child = spawn(tools.sh, ['-c', ...gateArgv(program, args, plan.user, tools)], {
    stdio: [childFd, childFd, childFd, 'pipe'],
    env: opts.env,
    cwd: plan.cwd,
    ...(plan.spawnIds ?? {}),
  });
  await new Promise<void>((res, rej) => {
    child.once('spawn', res);
    child.once('error', rej);
  });
  const pid = child.pid as number;
  let done = false;
  // A later 'error' (e.g. a failed kill) must not become an uncaught exception.
  child.on('error', (e) => opts.log?.warn(`session ${pid}: ${e.message}`));
  const exited = new Promise<SessionExit>((res) => {
    child.once('exit', (code, signal) => {
      done = true;
      res({ code, signal });
    });
  });
  const pipe = child.stdio[3] as Writable;
  pipe.on('error', (e) => opts.log?.noise(`gate of ${pid}: ${e.message}`)); // EPIPE if the child died first
  return {
    pid,
    exited,
    go: () => pipe.end('go\n'),
    abort: () => pipe.destroy(),
    kill: (signal) => (done ? false : child.kill(signal)),
  };
}

/** The session's termios, then a fresh blocking fd on the line for the child, or why not. */
function openForChild(opts: StartSessionOptions, device: string): number | StartResult {
  try {
    if (opts.mode !== undefined) opts.line.applyMode(opts.mode);
    return opts.line.openChildFd();
  } catch (e) {
    const err = toTgettyError(e, 'LOGIN_EXEC_FAILED', { port: device });
    opts.log?.error(`hand-off on ${device} failed: ${err.message}`);
    return { ok: false, error: err, lineText: '' };
  }
}

/** Start the sh gate on the line's fd; the program waits for the go. */
async function spawnGate(opts: StartSessionOptions, plan: RunPlan): Promise<{ gate: Gate; childFd: number } | StartResult> {
  const { log } = opts;
  const { device, tools, program, args } = plan;
  const childFd = openForChild(opts, device);
  if (typeof childFd !== 'number') return childFd;
  log?.noise(`calling login: cmd=${logField(program)}, argv[]=${logField([program, ...args].join(' '))}`);
  try {
    const gate = plan.spawnIds === undefined ? await posixGate(opts, plan, childFd) : await nodeGate(opts, plan, childFd);
    return { gate, childFd };
  } catch (e) {
    closeFd(childFd);
    log?.error(`cannot start ${tools.sh}: ${e instanceof Error ? e.message : String(e)}`);
    return failure(program, `cannot start ${tools.sh}: ${e instanceof Error ? e.message : String(e)}`, device, e);
  }
}

/** Mode 0600 (or as configured) on the port while the session runs; remembers what it was. Throws. */
function setPortMode(opts: StartSessionOptions, progress: Progress): void {
  if (opts.portMode === undefined) return;
  const st = statSync(opts.line.path);
  progress.before = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  chmodSync(opts.line.path, opts.portMode.during);
}

/** A hand-off that failed before the program ran: the port's mode as it was (not portMode.restore). */
function putPortBack(opts: StartSessionOptions, progress: Progress): void {
  if (opts.portMode !== undefined && progress.before !== undefined) restorePort(opts.line.path, progress.before.mode, progress.before, opts.log);
}

/**
 * The result of a hand-off that failed in our own steps (logged): nothing useful to tell the
 * caller; `released` says whether the line is still ours to close.
 */
function handOffFailed(log: SessionLog | undefined, device: string, e: unknown, released?: boolean): StartResult {
  log?.error(`hand-off on ${device} failed: ${e instanceof Error ? e.message : String(e)}`);
  const context = released !== undefined ? { port: device, released } : { port: device };
  return { ok: false, error: toTgettyError(e, 'LOGIN_EXEC_FAILED', context), lineText: '' };
}

/** Let go of the line (the child holds the tty: closing ours does not hang it up). Throws. */
function releaseLine(opts: StartSessionOptions, childFd: number, progress: Progress): void {
  if (childFd >= 0) closeFd(childFd);
  // HUPCL fires on the last close only, and the child holds the tty now.
  opts.line.release();
  progress.released = true;
}

/** The child's utmp (and wtmp) records with its pid. Never throws (UtmpWriter logs). */
function recordPid(opts: StartSessionOptions, device: string, pid: number): void {
  const u = opts.utmp;
  if (u === undefined) return;
  // Another pid's record takes the line's utmp entry over from the gate's.
  if (opts.gateRecord !== undefined && opts.gateRecord.pid !== pid) opts.gateRecord.open = false;
  if (u.loginRecord) u.writer.loginProcess(device, pid, loginHost(opts.env.CALLER_ID, opts.env.CONNECT));
  if (u.userRecord !== undefined) u.writer.userProcess(device, pid, u.userRecord, opts.env.CONNECT ?? '');
}

/** Let go of the line and name the child in utmp. Throws. */
function letGo(opts: StartSessionOptions, device: string, pid: number, childFd: number, progress: Progress): void {
  releaseLine(opts, childFd, progress);
  recordPid(opts, device, pid);
}

/** The gate's go: the program runs from now on. */
function openGate(w: number, pid: number, log: SessionLog | undefined): void {
  try {
    writeSync(w, 'go\n');
  } catch (e) {
    // EPIPE: the gate died first (its exit is reported as usual).
    log?.noise(`gate of ${pid}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    closeFd(w);
  }
}

interface PortOwner {
  mode: number;
  uid: number;
  gid: number;
}

interface Progress {
  released: boolean;
  before?: PortOwner;
}

/** Once the leader exits: DEAD_PROCESS, the port mode back. Attached as soon as the pid is known. */
function onExit(opts: StartSessionOptions, device: string, pid: number, progress: Progress, exit: Promise<SessionExit>): Promise<SessionExit> {
  // From here on this pid's DEAD_PROCESS is ours, not the login stage's.
  if (opts.gateRecord?.pid === pid) opts.gateRecord.open = false;
  return exit.then(({ code, signal }) => {
    opts.log?.noise(`session ${pid} on ${device} ended: code=${code} signal=${signal}`);
    opts.utmp?.writer.deadProcess(device, pid);
    if (opts.portMode !== undefined && progress.before !== undefined) restorePort(opts.line.path, opts.portMode.restore ?? progress.before.mode, progress.before, opts.log);
    return { code, signal };
  });
}

function audit(opts: StartSessionOptions, device: string, pid: number, program: string): void {
  opts.log?.audit(
    // mgetty's fields: name = the caller's name (caller ID), user = the login name. Each
    // one escaped (logField): a login name with quotes cannot forge further fields.
    `data dev=${opts.auditDevice ?? device}, pid=${pid}, caller=${logField(opts.env.CALLER_ID)}, conn=${logField(opts.env.CONNECT)}, ` +
      `name=${logField(opts.env.CALLER_NAME)}, cmd=${logField(program)}, user=${logField(opts.loginName)}`,
  );
}

function started(pid: number, exited: Promise<SessionExit>, kill: (signal: NodeJS.Signals) => boolean): StartResult {
  return { ok: true, session: { pid, exited, kill: (signal: NodeJS.Signals = 'SIGHUP'): boolean => kill(signal) } };
}

/**
 * The direct hand-off: one exec, or two when /bin/login (or any program that writes its
 * own utmp record: `loginRecord`) must find a LOGIN_PROCESS record with its pid before it
 * runs. shadow's login looks its record up by pid only, and posix_spawn returns the pid
 * after the exec, so then the sh gate still waits for our go (the setsid exec of the
 * gate way is saved either way). Without `loginRecord`, the program runs at once and
 * its USER_PROCESS record (ours) follows. 'fallback': the tty is still another
 * session's controlling terminal (ENXIO); everything is undone and the gate way tries.
 */
async function startDirect(opts: StartSessionOptions, plan: RunPlan): Promise<StartResult | 'fallback'> {
  const { line, log } = opts;
  const { device, program, tools } = plan;
  const childFd = openForChild(opts, device);
  if (typeof childFd !== 'number') return childFd;
  const progress: Progress = { released: false };
  const gated = opts.utmp?.loginRecord === true;
  let pipe: [number, number] | undefined;
  const undo = (): void => {
    closeFd(childFd);
    if (pipe !== undefined) closeFd(pipe[1]);
    putPortBack(opts, progress);
  };
  try {
    setPortMode(opts, progress);
    if (gated) pipe = pipeCloexec();
  } catch (e) {
    undo();
    return handOffFailed(log, device, e);
  }
  // Bytes the caller types from here on stay in the kernel for the program.
  line.pause();
  const run = directArgv(program, plan.args, plan.user, tools);
  const path = pipe !== undefined ? tools.sh : run.path;
  const argv = pipe !== undefined ? [tools.sh, '-c', GATE_SCRIPT, 'tgetty-handoff', ...run.argv] : run.argv;
  const fds = pipe !== undefined ? [childFd, childFd, childFd, pipe[0]] : [childFd, childFd, childFd];
  log?.noise(`calling login: cmd=${logField(program)}, argv[]=${logField([program, ...plan.args].join(' '))}`);
  let pid: number;
  try {
    pid = await spawnChild({ path, argv, env: opts.env, cwd: plan.cwd, fds, sessionWithTty: true });
  } catch (e) {
    undo();
    if (e instanceof TgettyError && e.context.errno === ENXIO) {
      log?.warn(`${device} is still the controlling terminal of another session: handing over through ${tools.setsid} -c`);
      return 'fallback';
    }
    const why = e instanceof Error ? e.message : String(e);
    log?.error(`cannot start ${path}: ${why}`);
    return failure(program, `cannot start ${path}: ${why}`, device, e);
  } finally {
    if (pipe !== undefined) closeFd(pipe[0]);
  }
  let done = false;
  const exited = onExit(opts, device, pid, progress, watchExit(pid).then((x) => {
    done = true;
    return x;
  }));
  const kill = signalChild(() => done, pid);
  const w = pipe?.[1];
  // The record that names the pid is all the gate waits for: the go comes before our own
  // fds are closed (the line is paused, so we read nothing meanwhile).
  recordPid(opts, device, pid);
  if (w !== undefined) openGate(w, pid, log);
  try {
    releaseLine(opts, childFd, progress);
  } catch (e) {
    kill('SIGKILL');
    await exited;
    return handOffFailed(log, device, e, progress.released);
  }
  audit(opts, device, pid, program);
  return started(pid, exited, kill);
}

/**
 * The hand-off through the standby gate: no spawn after the CR. Termios, port mode, the
 * utmp records with the gate's pid (the program's from the go on), the words and the go,
 * then our fds closed.
 */
async function startStandby(opts: StartSessionOptions, plan: RunPlan, sb: StandbyGate, text: string): Promise<StartResult> {
  const { line, log } = opts;
  const { device, program } = plan;
  const progress: Progress = { released: false };
  try {
    if (opts.mode !== undefined) line.applyMode(opts.mode);
    setPortMode(opts, progress);
  } catch (e) {
    await sb.cancel();
    putPortBack(opts, progress);
    return handOffFailed(log, device, e);
  }
  // Bytes the caller types from here on stay in the kernel for the program.
  line.pause();
  const pid = sb.pid;
  const exited = onExit(opts, device, pid, progress, sb.exited);
  log?.noise(`calling login: cmd=${logField(program)}, argv[]=${logField([program, ...plan.args].join(' '))} (standby gate ${pid})`);
  // /bin/login looks for its LOGIN_PROCESS record by pid: that one comes before the go
  // (written at CONNECT already when gateRecord says so). A USER_PROCESS record of ours
  // (login.config utmp column) nobody waits for: after it.
  const loginFirst = opts.utmp?.loginRecord === true;
  if (loginFirst && opts.gateRecord?.pid !== pid) recordPid(opts, device, pid);
  if (!sb.go(text)) {
    // It died at the last moment (a hangup): its end writes DEAD_PROCESS and restores the port.
    await exited;
    log?.error(`hand-off on ${device} failed: the standby gate ${pid} ended before its go`);
    return { ok: false, error: new TgettyError('LOGIN_EXEC_FAILED', `the standby gate ${pid} ended before its go`, { port: device }), lineText: '' };
  }
  if (!loginFirst) recordPid(opts, device, pid);
  try {
    releaseLine(opts, -1, progress);
  } catch (e) {
    sb.kill('SIGKILL');
    await exited;
    return handOffFailed(log, device, e, progress.released);
  }
  audit(opts, device, pid, program);
  return started(pid, exited, (signal) => sb.kill(signal));
}

/** The gate way: sh -> setsid -c -> [setpriv] -> program, released once the records name its pid. */
async function startGated(opts: StartSessionOptions, plan: RunPlan): Promise<StartResult> {
  const { log } = opts;
  const spawned = await spawnGate(opts, plan);
  if ('ok' in spawned) return spawned;
  const { gate, childFd } = spawned;
  const { device, program } = plan;
  const pid = gate.pid;

  // The exit handling is attached first: the child may die at any point from here on.
  const progress: Progress = { released: false };
  const exited = onExit(opts, device, pid, progress, gate.exited);
  try {
    setPortMode(opts, progress);
    letGo(opts, device, pid, childFd, progress);
  } catch (e) {
    // Close the gate without a go: the shell exits 111 and the program never runs.
    gate.abort();
    gate.kill('SIGKILL');
    await exited;
    return handOffFailed(log, device, e, progress.released);
  }
  gate.go();
  audit(opts, device, pid, program);
  return started(pid, exited, (signal) => gate.kill(signal));
}

/** Start the session. Never throws: every failure before the hand-off is a `{ ok: false }` result. */
export async function startSession(opts: StartSessionOptions): Promise<StartResult> {
  const plan = planRun(opts);
  if ('ok' in plan) {
    await opts.standby?.cancel();
    return plan;
  }
  const sb = opts.standby;
  if (sb !== undefined) {
    const text = plan.spawnIds === undefined && opts.gate !== true && sb.cwd === plan.cwd && sb.usable() ? encodeStandby(directArgv(plan.program, plan.args, plan.user, plan.tools).argv, opts.env) : undefined;
    if (text !== undefined) return startStandby(opts, plan, sb, text);
    opts.log?.noise(`standby gate ${sb.pid} not used: the hand-off spawns`);
    await sb.cancel();
  }
  if (plan.spawnIds === undefined && opts.gate !== true) {
    const r = await startDirect(opts, plan);
    if (r !== 'fallback') return r;
  }
  return startGated(opts, plan);
}

function restorePort(path: string, mode: number, owner: { uid: number; gid: number }, log: SessionLog | undefined): void {
  try {
    // login chowns the tty to the user: give it back along with the mode.
    chownSync(path, owner.uid, owner.gid);
    chmodSync(path, mode);
  } catch (e) {
    // A pty slave disappears once nobody holds it: nothing to restore then.
    if (errnoCode(e) === 'ENOENT') log?.noise(`${path} is gone, mode not restored`);
    else log?.warn(`cannot restore mode of ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
