/**
 * After CONNECT (spec §5.12–§5.14): watch for PPP, print the issue and the prompt, read
 * the login name, pick the login.config entry and hand the line to its program as a new
 * session on the tty. Returns the exit code of single-line mode (mgetty's codes: the
 * program's own status after a session, 0 for the name reader's quits, 10 for a hangup).
 *
 * Deliberate differences from mgetty, each in docs/differences.md:
 * - Q10: bytes in the post-CONNECT wait are fed to the PPP detector, not thrown away.
 * - Q1: login-time is enforced: a silent caller is told and dropped when it runs out.
 * - an unknown login.config user is refused instead of running the program as root.
 */
import { closeSync, readFileSync, realpathSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { hostname, type as osType, release as osRelease, version as osVersion, machine as osMachine } from 'node:os';
import type { Clock, TimerHandle } from '../core/clock.js';
import { showBytes } from '../core/bytes.js';
import { toTgettyError } from '../core/errors.js';
import type { Line, LineMode } from '../line/line.js';
import { isDisconnected } from '../line/line.js';
import { getpwnam, readUtmp, USER_PROCESS } from '../line/libc.js';
import type { Logger } from '../log/logger.js';
import { logField } from '../log/format.js';
import { resolveLoginConfFile, loadLoginConfig, type LoadedConfigFiles } from '../config/load.js';
import { matchLogin, expandArgs, utmpName, type LoginEntry } from '../config/login-config.js';
import { loginEnv, type EnvUser } from '../login/env.js';
import { startSession, type Session, type SessionExit, type SessionUser } from '../login/spawn.js';
import { UtmpWriter } from '../login/utmp.js';
import type { RunResult } from './runner.js';
import type { LineSettings } from './settings.js';
import { parseIssueSetting, renderIssue, renderPrompt, type IssueContext } from '../login/issue.js';
import { NameReader, type NameResult } from '../login/logname.js';
import { PppDetector } from '../login/ppp.js';
import { InputQueue } from './input-queue.js';

export interface LoginPhaseOptions {
  result: Extract<RunResult, { kind: 'connected' }>;
  settings: LineSettings;
  log: Logger;
  clock: Clock;
  paths: { utmp: string; wtmp: string };
  configDir: string;
  files?: LoadedConfigFiles;
  /** Whether the caller may type `/AutoPPP/` or `/FIDO/` (tgetty keyword typed-special-names). */
  typedSpecialNames?: boolean;
  /** The program started: a supervisor (the daemon) may watch the carrier and end it. */
  onSession?: (session: Session, info: { loginName: string; program: string }) => void;
}

/** How the login phase ended. */
export type LoginOutcome = 'completed' | 'login-timeout' | 'hangup' | 'refused' | 'quit' | 'modem-error' | 'failed';

export interface LoginPhaseResult {
  /** mgetty's exit code for single-line mode (the program's status after a session). */
  exitCode: number;
  outcome: LoginOutcome;
  loginName?: string;
  program?: string;
  exit?: SessionExit;
}

const done = (exitCode: number, outcome: LoginOutcome, extra: Partial<LoginPhaseResult> = {}): LoginPhaseResult => ({ exitCode, outcome, ...extra });

/** mgetty's quiet-wait after CONNECT (swallows the rest of the CONNECT line, MNP junk). */
const POST_CONNECT_QUIET_MS = 300;

class Hangup extends Error {
  constructor() {
    super('hangup');
  }
}

/** Bytes from the line, with one waiter, and hangup as an error. */
class Reader {
  private readonly queue = new InputQueue();
  private hungUp = false;

  constructor(private readonly line: Line) {
    line.on('data', this.onData);
    line.on('hangup', this.onHangup);
    line.resume();
  }

  private readonly onData = (b: Buffer): void => {
    this.queue.push(b);
  };

  private readonly onHangup = (): void => {
    this.hungUp = true;
    this.queue.wake();
  };

  unshift(b: Uint8Array): void {
    this.queue.unshift(b);
  }

  /** The bytes pending, or undefined when `ms` passed first (ms undefined = wait forever). */
  next(clock: Clock, ms: number | undefined): Promise<Buffer | undefined> {
    const ready = this.queue.take();
    if (ready !== undefined) return Promise.resolve(ready);
    if (this.hungUp) return Promise.reject(new Hangup());
    return new Promise((resolve, reject) => {
      let t: TimerHandle | undefined;
      this.queue.onNext(() => {
        t?.cancel();
        const c = this.queue.take();
        if (c !== undefined) resolve(c);
        else if (this.hungUp) reject(new Hangup());
        else resolve(undefined);
      });
      if (ms !== undefined) {
        t = clock.setTimeout(() => {
          this.queue.cancelWait();
          resolve(undefined);
        }, ms);
      }
    });
  }

  detach(): void {
    this.line.off('data', this.onData);
    this.line.off('hangup', this.onHangup);
    this.line.pause();
  }
}

/** The tty behind a line path (a simulator symlink -> pts/N), as utmp names it. */
function realDevice(path: string): string {
  try {
    const real = realpathSync(path);
    return real.startsWith('/dev/') ? real.slice(5) : real;
  } catch {
    return path.startsWith('/dev/') ? path.slice(5) : path;
  }
}

function usersLoggedIn(utmpFile: string): number {
  try {
    return readUtmp(utmpFile).filter((r) => r.type === USER_PROCESS).length;
  } catch {
    return 0;
  }
}

export async function runLoginPhase(o: LoginPhaseOptions): Promise<LoginPhaseResult> {
  const { result, settings: s, log, clock } = o;
  const line = result.line;
  const call = result.call;
  const reader = new Reader(line);
  reader.unshift(result.leftover);
  const detector = new PppDetector();
  const ctx = (): IssueContext => ({
    hostname: hostname().split('.')[0] ?? hostname(),
    sysname: osType(),
    release: osRelease(),
    version: osVersion(),
    machine: osMachine(),
    device: s.device,
    connect: call.connect,
    callerId: call.callerId,
    speed: line.getSpeed(),
    users: usersLoggedIn(o.paths.utmp),
    now: clock.now(),
  });
  const audit = (text: string): void => log.audit(`${text} dev=${s.device}, pid=${process.pid}, caller=${logField(call.callerId)}`);

  try {
    if (s.autobauding) {
      const m = /^(\d+)/.exec(call.connect);
      const baud = m !== null ? Number(m[1]) : 300;
      try {
        line.setSpeed(baud);
        log.mesg(`autobauding: port speed set to ${baud}`);
      } catch (err) {
        log.error(`autobauding: cannot set speed ${baud}`, { err });
      }
    }

    // The post-CONNECT wait: mgetty throws these bytes away (Q10); we look for PPP in them.
    const windowEnd = clock.monotonic() + Math.max(s.autopppWindowMs, POST_CONNECT_QUIET_MS);
    let ppp = false;
    const preWait = async (quietMs: number): Promise<boolean> => {
      for (;;) {
        const left = windowEnd - clock.monotonic();
        const chunk = await reader.next(clock, Math.max(0, Math.min(quietMs, left)));
        if (chunk === undefined) return false;
        for (let i = 0; i < chunk.length; i++) {
          if (detector.push(chunk[i] ?? 0)) {
            reader.unshift(chunk.subarray(i + 1));
            return true;
          }
        }
        log.noise(`after CONNECT: ${showBytes(chunk)}`);
        if (clock.monotonic() >= windowEnd) return false;
      }
    };
    ppp = await preWait(POST_CONNECT_QUIET_MS);
    if (!s.ignoreCarrier) line.setClocal(false);
    else log.warn('carrier signal is ignored (ignore-carrier)');
    if (!ppp && s.promptWaitMs > 0) ppp = await preWait(s.promptWaitMs);
    if (ppp) {
      log.mesg('PPP frame seen before the prompt: AutoPPP');
      return await dispatch(o, reader, { kind: 'autoppp' }, '');
    }

    if (s.ttypromptHack) {
      const prompt = renderPrompt(s.loginPrompt, ctx(), { emsi: false });
      await line.write(prompt);
      return await dispatch(o, reader, { kind: 'name', name: '', endedWith: 'cr', upperOnly: false }, Buffer.from(prompt).toString('latin1').replace(/^\r\n/, ''));
    }

    // mgetty recognises FidoNet callers whatever fido-send-emsi says (observed); we do
    // only when login.config has a /FIDO/ line: without one a handshake is an ordinary name.
    const entries = loginEntries(o);
    const nameReader = new NameReader({ fido: entries.some((e) => e.pattern === '/FIDO/'), detector });
    for (;;) {
      line.applyMode({ mode: 'sane', clocal: s.ignoreCarrier });
      await printIssue(o, line, ctx());
      await line.drain();
      line.applyMode({ mode: 'idle-raw', clocal: s.ignoreCarrier });
      await line.write(renderPrompt(s.loginPrompt, ctx(), { emsi: s.fidoSendEmsi }));
      const deadline = s.loginTimeS > 0 ? clock.monotonic() + s.loginTimeS * 1000 : undefined;
      let res: NameResult | undefined;
      while (res === undefined) {
        const left = deadline === undefined ? undefined : deadline - clock.monotonic();
        const chunk = left !== undefined && left <= 0 ? undefined : await reader.next(clock, left);
        if (chunk === undefined) {
          // Q1: mgetty never drops a silent caller; we do, with a word first.
          log.mesg(`login time (${s.loginTimeS} s) ran out`);
          audit('failed: login time out,');
          await line.write(`\r\n\r\nLogin timed out after ${s.loginTimeS} seconds. Goodbye.\r\n`);
          await line.drain();
          reader.detach();
          line.close();
          return done(0, 'login-timeout');
        }
        const fed = nameReader.feed(chunk);
        if (fed.echo.length > 0) await line.write(fed.echo);
        if (fed.result === undefined) continue;
        res = fed.result;
        reader.unshift(fed.rest);
        if (res.kind === 'restart') {
          await line.write(renderPrompt(s.loginPrompt, ctx(), { emsi: s.fidoSendEmsi && res.emsi }));
          res = undefined;
        }
      }
      if (res.kind === 'empty') continue;
      if (res.kind === 'quit') {
        log.mesg(res.key === 'quit' ? 'got ^\\ at the prompt: exiting' : 'got ^D at the prompt: exiting');
        reader.detach();
        line.close();
        return done(0, 'quit');
      }
      if (res.kind === 'modem-error') {
        audit(`failed: got modem error ${logField(res.text)},`);
        reader.detach();
        line.close();
        return done(0, 'modem-error');
      }
      return await dispatch(o, reader, res, '', entries);
    }
  } catch (err) {
    reader.detach();
    if (err instanceof Hangup || isDisconnected(err)) {
      audit('failed: got hangup, exiting;');
      line.close();
      return done(10, 'hangup');
    }
    log.error('login phase failed', { err });
    line.close();
    return done(1, 'failed');
  }
}

async function printIssue(o: LoginPhaseOptions, line: Line, ctx: IssueContext): Promise<void> {
  const setting = parseIssueSetting(o.settings.issueFile);
  let body = '';
  if (setting.kind === 'file') {
    try {
      body = readFileSync(setting.path, 'latin1');
    } catch (err) {
      o.log.noise(`issue file ${setting.path} not readable: ${toTgettyError(err).message}`);
    }
  } else if (setting.kind === 'text') {
    body = setting.text;
  } else {
    body = setting.command;
  }
  const out = renderIssue(setting.kind, body, ctx);
  if (out.truncated) o.log.warn('issue text longer than 300 characters after expansion: cut short');
  await line.write(out.bytes);
  if (out.run !== undefined && out.run.length > 0) await runIssueCommand(o, line, out.run);
}

/** `issue-file !cmd`: run it (no shell) with its output going straight to the tty. */
async function runIssueCommand(o: LoginPhaseOptions, line: Line, argv: string[]): Promise<void> {
  const [prog, ...args] = argv;
  if (prog === undefined) return;
  let fd: number;
  try {
    fd = line.openChildFd();
  } catch (err) {
    o.log.error('cannot open the line for the issue command', { err });
    return;
  }
  await new Promise<void>((resolve) => {
    const child = spawn(prog, args, { stdio: ['ignore', fd, fd] });
    child.on('error', (err) => {
      o.log.error(`cannot run issue command ${prog}`, { err });
      resolve();
    });
    child.on('close', () => resolve());
  });
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

/** The login.config entries (its problems logged); none when it is unusable. */
function loginEntries(o: LoginPhaseOptions): readonly LoginEntry[] {
  const conf = loadLoginConfig(resolveLoginConfFile(o.configDir, o.settings.loginConfFile));
  for (const d of conf.diagnostics) if (d.kind !== 'missing-file') o.log.warn(`${d.file}:${d.line}: ${d.message}`);
  return conf.usable && conf.parsed !== undefined ? conf.parsed.entries : [];
}

/** Pick the login.config entry and hand the line over. */
async function dispatch(o: LoginPhaseOptions, reader: Reader, res: NameResult, ttyPrompt: string, loaded?: readonly LoginEntry[]): Promise<LoginPhaseResult> {
  const { settings: s, log, result } = o;
  const line = result.line;
  const call = result.call;
  const name = res.kind === 'name' ? res.name : res.kind === 'autoppp' ? '/AutoPPP/' : res.kind === 'fido' ? res.packet : '';
  const entries = loaded ?? loginEntries(o);
  const entry = matchLogin(entries, name, {
    autoppp: res.kind === 'autoppp',
    fido: res.kind === 'fido',
    typedSpecialNames: o.typedSpecialNames ?? true,
  });
  const argv = expandArgs(entry, { name, connect: call.connect, callerId: call.callerId });
  log.noise(`login.config: ${entry.builtin === true ? 'built-in default' : `${entry.file}:${entry.line}`} -> ${entry.program} ${logField(argv.join(' '))}`);

  let user: SessionUser | undefined;
  let envUser: EnvUser | undefined;
  if (entry.user !== undefined) {
    const pw = getpwnam(entry.user);
    if (pw === undefined) {
      log.error(`login.config ${entry.file}:${entry.line}: unknown user '${entry.user}': refusing the call (mgetty would run the program as root)`);
      reader.detach();
      await line.write('\r\nLogin is not possible right now. Goodbye.\r\n').catch(() => undefined);
      line.close();
      return done(1, 'refused', { loginName: name, program: entry.program });
    }
    user = { uid: pw.uid, gid: pw.gid, name: pw.name };
    envUser = pw;
  }

  // Allow-listed (login/env.ts): of the daemon's environment only TZ and LANG pass.
  const env = loginEnv(
    { inherit: process.env, ...(envUser !== undefined ? { user: envUser } : {}) },
    {
      device: s.device,
      connect: call.connect,
      callerId: call.callerId,
      callerName: call.callerName,
      callDate: call.callDate,
      callTime: call.callTime,
      calledId: call.calledNr,
      ...(ttyPrompt !== '' ? { ttyPrompt } : {}),
    },
    s.term,
  );
  const utmpUser = utmpName(entry, name);
  const mode: LineMode =
    res.kind === 'autoppp' || res.kind === 'fido'
      ? { mode: 'idle-raw', clocal: s.ignoreCarrier }
      : { mode: 'login', endedWith: res.kind === 'name' ? res.endedWith : 'cr', clocal: s.ignoreCarrier };
  if (s.term === undefined && line.getModemStatus()?.dcd === false) log.warn('starting login while DCD is low!');
  reader.detach();
  const started = await startSession({
    line,
    mode,
    program: entry.program,
    argv,
    env,
    ...(user !== undefined ? { user } : {}),
    utmp: {
      writer: new UtmpWriter({ utmpFile: o.paths.utmp, wtmpFile: o.paths.wtmp, clock: o.clock, log }),
      loginRecord: utmpUser === undefined,
      ...(utmpUser !== undefined ? { userRecord: utmpUser } : {}),
    },
    portMode: { during: 0o600 },
    loginName: name,
    utmpDevice: realDevice(s.path),
    auditDevice: s.device,
    log,
  });
  if (!started.ok) {
    log.error(`cannot execute '${entry.program}'`, { err: started.error });
    if (started.error.context.released !== true) {
      if (started.lineText !== '') await line.write(started.lineText).catch(() => undefined);
      line.close();
    }
    return done(255, 'refused', { loginName: name, program: entry.program });
  }
  o.onSession?.(started.session, { loginName: name, program: entry.program });
  const ex = await started.session.exited;
  log.mesg(`session of ${logField(name)} ended: ${ex.code !== null ? `exit ${ex.code}` : `signal ${ex.signal ?? '?'}`}`);
  const info = { loginName: name, program: entry.program, exit: ex };
  if (ex.code !== null) return done(ex.code, 'completed', info);
  return done(ex.signal === 'SIGHUP' ? 10 : 1, 'completed', info);
}
