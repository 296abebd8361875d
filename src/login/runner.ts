/**
 * After CONNECT (spec §5.12–§5.14): the I/O side of the login machine (machine.ts). It
 * reads the line, runs the bytes through the PPP detector or the name reader, prints the
 * issue and the prompt, and hands the line to the login.config program as a new session
 * on the tty (handoff.ts). Returns the exit code of single-line mode (mgetty's codes: the
 * program's own status after a session, 0 for the name reader's quits, 10 for a hangup).
 *
 * Deliberate differences from mgetty, each in docs/differences.md:
 * - Q10: bytes in the post-CONNECT wait are fed to the PPP detector, not thrown away.
 * - Q1: login-time is enforced: a silent caller is told and dropped when it runs out.
 * - an unknown login.config user is refused instead of running the program as root.
 */
import { closeSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { hostname, type as osType, release as osRelease, version as osVersion, machine as osMachine } from 'node:os';
import type { Clock, TimerHandle } from '../core/clock.js';
import { toTgettyError } from '../core/errors.js';
import type { Line } from '../line/line.js';
import { isDisconnected } from '../line/line.js';
import { readUtmp, USER_PROCESS } from '../os/utmp.js';
import type { Logger } from '../log/logger.js';
import { logField } from '../log/format.js';
import type { LoginEntry } from '../config/login-config.js';
import type { RunResult } from '../session/runner.js';
import type { LineSettings } from '../session/settings.js';
import { InputQueue } from '../session/input-queue.js';
import type { Session, SessionExit } from './spawn.js';
import type { FaxSummary } from '../fax/fax-call.js';
import { parseIssueSetting, renderIssue, renderPrompt, type IssueContext } from './issue.js';
import { NameReader } from './logname.js';
import { PppDetector } from './ppp.js';
import { initial, transition, type LoginCommand, type LoginInput, type LoginMachineConfig, type LoginOutcome, type LoginState } from './machine.js';
import { callHost, handOff, realDevice, warmHandOff, type HandOffPrep } from './handoff.js';
import { UtmpWriter } from './utmp.js';
import { prepareHandoff } from './spawn.js';
import { startStandbyGate, type StandbyGate } from './standby-gate.js';
import { loginConfigEntries, type LoginConfigSource } from './login-config-cache.js';

export type { LoginOutcome } from './machine.js';

export interface LoginPhaseOptions {
  result: Extract<RunResult, { kind: 'connected' }>;
  settings: LineSettings;
  log: Logger;
  clock: Clock;
  paths: { utmp: string; wtmp: string };
  configDir: string;
  /** Where login.config comes from: a cache kept per config generation (default: one of its own per call). */
  loginConfig?: LoginConfigSource;
  /** Whether the caller may type `/AutoPPP/` or `/FIDO/` (tgetty keyword typed-special-names). */
  typedSpecialNames?: boolean;
  /** The program started: a supervisor (the daemon) may watch the carrier and end it. */
  onSession?: (session: Session, info: { loginName: string; program: string }) => void;
}

export interface LoginPhaseResult {
  /** mgetty's exit code for single-line mode (the program's status after a session). */
  exitCode: number;
  outcome: LoginOutcome;
  loginName?: string;
  program?: string;
  exit?: SessionExit;
  /** A fax call: what was received (the call records' fax columns). */
  fax?: FaxSummary;
}

class Hangup extends Error {
  constructor() {
    super('hangup');
  }
}

/** Bytes from the line, with one waiter, and hangup as an error. */
class Reader {
  private readonly queue = new InputQueue();
  private hungUp = false;
  private attached = true;

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
    if (!this.attached) return;
    this.attached = false;
    this.line.off('data', this.onData);
    this.line.off('hangup', this.onHangup);
    this.line.pause();
  }
}

function usersLoggedIn(utmpFile: string): number {
  try {
    return readUtmp(utmpFile, { types: [USER_PROCESS] }).length;
  } catch {
    return 0;
  }
}

export function machineConfig(s: LineSettings, connect: string): LoginMachineConfig {
  return {
    connect,
    autobauding: s.autobauding,
    ignoreCarrier: s.ignoreCarrier,
    autopppWindowMs: s.autopppWindowMs,
    promptWaitMs: s.promptWaitMs,
    loginTimeS: s.loginTimeS,
    fidoSendEmsi: s.fidoSendEmsi,
    ttypromptHack: s.ttypromptHack,
  };
}

let warmed = false;

/**
 * The first call of a process: run the hand-off's pure part and a throwaway name reader
 * once, so the caller's first chunk and the CR run compiled code (a single-line getty is
 * a fresh process every call); the daemon's later calls have it compiled already.
 */
function warmOnce(entries: readonly LoginEntry[]): void {
  if (warmed) return;
  warmed = true;
  warmHandOff(entries);
  new NameReader({ detector: new PppDetector() }).feed(Buffer.from('a\r'));
}

/** One call's login stage: the machine's commands carried out on the line. */
class LoginRunner {
  private readonly line: Line;
  private readonly reader: Reader;
  private readonly detector = new PppDetector();
  private nameReader: NameReader | undefined;
  private entries: readonly LoginEntry[] | undefined;
  private ttyPromptText = '';
  private standby: Promise<StandbyGate | undefined> | undefined;
  private prep: HandOffPrep | undefined;

  constructor(private readonly o: LoginPhaseOptions) {
    this.line = o.result.line;
    this.reader = new Reader(this.line);
    this.reader.unshift(o.result.leftover);
  }

  async run(): Promise<LoginPhaseResult> {
    // While the caller is still busy with the CONNECT: the hand-off's one-time costs, and a
    // gate on standby, so nothing is spawned after the name's CR.
    prepareHandoff();
    const prep: HandOffPrep = { utmpDevice: realDevice(this.o.settings.path) };
    this.prep = prep;
    // As mgetty at CONNECT: the LOGIN_PROCESS record, here for the gate's pid (the program's
    // if the gate is used), so the hand-off after the CR need not write it.
    this.standby = startStandbyGate(this.line)
      .catch(() => undefined)
      .then((sb) => {
        if (sb !== undefined && this.utmpWriter().loginProcess(prep.utmpDevice, sb.pid, callHost(this.o.result.call))) prep.gateRecord = { pid: sb.pid, open: true };
        return sb;
      });
    try {
      return await this.loop();
    } finally {
      // Not used (no hand-off, or the hand-off spawned): it must not hold the tty past the call.
      await (await this.standby)?.cancel();
      // Nobody took the CONNECT record over (no session on the gate's pid, no other record
      // for the line): end it, so `who` shows no stale LOGIN.
      if (prep.gateRecord?.open === true) {
        prep.gateRecord.open = false;
        this.utmpWriter().deadProcess(prep.utmpDevice, prep.gateRecord.pid);
      }
    }
  }

  private utmpWriter(): UtmpWriter {
    const { paths, clock, log } = this.o;
    return new UtmpWriter({ utmpFile: paths.utmp, wtmpFile: paths.wtmp, clock, log });
  }

  private async loop(): Promise<LoginPhaseResult> {
    const cfg = machineConfig(this.o.settings, this.o.result.call.connect);
    let t = initial(cfg, this.o.clock.monotonic());
    for (;;) {
      let input: LoginInput | undefined;
      try {
        for (const c of t.commands) input = (await this.perform(c)) ?? input;
      } catch (err) {
        this.reader.detach();
        input = err instanceof Hangup || isDisconnected(err) ? { type: 'hangup', at: this.o.clock.monotonic() } : { type: 'failed', at: this.o.clock.monotonic(), error: err };
      }
      const s: LoginState = t.state;
      // An end stands unless one of its own commands failed (a goodbye write that finds the
      // line gone is a hangup); an end by hangup or failure stands whatever happens.
      const failedNow = input !== undefined && (input.type === 'hangup' || input.type === 'failed');
      if (s.name === 'ended' && (!failedNow || s.outcome === 'hangup' || s.outcome === 'failed')) {
        return {
          exitCode: s.exitCode,
          outcome: s.outcome,
          ...(s.loginName !== undefined ? { loginName: s.loginName } : {}),
          ...(s.program !== undefined ? { program: s.program } : {}),
          ...(s.exit !== undefined ? { exit: s.exit } : {}),
        };
      }
      if (input === undefined) input = { type: 'failed', at: this.o.clock.monotonic(), error: new Error(`login machine: no outcome in state ${s.name}`) };
      t = transition(s, input, cfg);
    }
  }

  private ctx(): IssueContext {
    const { settings: s, result, clock } = this.o;
    const h = hostname();
    return {
      hostname: h.split('.')[0] ?? h,
      sysname: osType(),
      release: osRelease(),
      version: osVersion(),
      machine: osMachine(),
      device: s.device,
      connect: result.call.connect,
      callerId: result.call.callerId,
      speed: this.line.getSpeed(),
      users: usersLoggedIn(this.o.paths.utmp),
      now: clock.now(),
    };
  }

  private audit(text: string): void {
    this.o.log.audit(`${text} dev=${this.o.settings.device}, pid=${process.pid}, caller=${logField(this.o.result.call.callerId)}`);
  }

  /** Carry out one command; the input it produced, if it has an outcome. */
  private async perform(c: LoginCommand): Promise<LoginInput | undefined> {
    const { log, clock, settings: s } = this.o;
    switch (c.cmd) {
      case 'set-speed':
        try {
          this.line.setSpeed(c.baud);
          log.mesg(`autobauding: port speed set to ${c.baud}`);
        } catch (err) {
          log.error(`autobauding: cannot set speed ${c.baud}`, { err });
        }
        return undefined;
      case 'wait-input':
        return this.waitInput(c);
      case 'set-clocal':
        this.line.setClocal(c.on);
        return undefined;
      case 'load-login-config':
        this.entries = loginConfigEntries(this.o.loginConfig, this.o.configDir, s.loginConfFile, log);
        warmOnce(this.entries);
        return undefined;
      case 'apply-mode':
        this.line.applyMode({ mode: c.mode, clocal: s.ignoreCarrier });
        return undefined;
      case 'print-issue':
        await this.printIssue();
        return undefined;
      case 'drain':
        await this.line.drain();
        return undefined;
      case 'write-prompt': {
        // The gate's LOGIN_PROCESS record is in utmp before the prompt, as mgetty's is.
        await this.standby;
        const prompt = renderPrompt(s.loginPrompt, this.ctx(), { emsi: c.emsi });
        await this.line.write(prompt);
        if (c.ttyPrompt === true) this.ttyPromptText = Buffer.from(prompt).toString('latin1').replace(/^\r\n/, '');
        return { type: 'prompted', at: clock.monotonic() };
      }
      case 'write':
        await this.line.write(c.text);
        return undefined;
      case 'close':
        this.reader.detach();
        this.line.close();
        return undefined;
      case 'hand-off':
        this.reader.detach();
        return handOff(this.o, c.request, c.ttyPrompt ? this.ttyPromptText : '', this.entries ?? loginConfigEntries(this.o.loginConfig, this.o.configDir, s.loginConfFile, log), await this.standby, this.prep);
      case 'audit':
        this.audit(c.text);
        return undefined;
      case 'log':
        log[c.level](c.text, c.err !== undefined ? { err: c.err } : undefined);
        return undefined;
    }
  }

  private async waitInput(c: Extract<LoginCommand, { cmd: 'wait-input' }>): Promise<LoginInput> {
    const { clock } = this.o;
    const left = c.until === undefined ? undefined : c.until - clock.monotonic();
    let chunk: Buffer | undefined;
    if (c.quietMs !== undefined) chunk = await this.reader.next(clock, Math.max(0, Math.min(c.quietMs, left ?? c.quietMs)));
    else chunk = left !== undefined && left <= 0 ? undefined : await this.reader.next(clock, left);
    const at = clock.monotonic();
    if (chunk === undefined) return { type: 'timeout', at };
    if (c.parse === 'ppp') {
      for (let i = 0; i < chunk.length; i++) {
        if (this.detector.push(chunk[i] ?? 0)) {
          this.reader.unshift(chunk.subarray(i + 1));
          return { type: 'bytes', at, ppp: true, bytes: chunk.subarray(0, i + 1) };
        }
      }
      return { type: 'bytes', at, ppp: false, bytes: chunk };
    }
    // mgetty recognises FidoNet callers whatever fido-send-emsi says (observed); we do
    // only when login.config has a /FIDO/ line: without one a handshake is an ordinary name.
    this.nameReader ??= new NameReader({ fido: (this.entries ?? []).some((e) => e.pattern === '/FIDO/'), detector: this.detector });
    const fed = this.nameReader.feed(chunk);
    if (fed.echo.length > 0) await this.line.write(fed.echo);
    if (fed.result !== undefined) this.reader.unshift(fed.rest);
    return { type: 'name-bytes', at, ...(fed.result !== undefined ? { result: fed.result } : {}) };
  }

  private async printIssue(): Promise<void> {
    const { settings, log } = this.o;
    const setting = parseIssueSetting(settings.issueFile);
    let body = '';
    if (setting.kind === 'file') {
      try {
        body = readFileSync(setting.path, 'latin1');
      } catch (err) {
        log.noise(`issue file ${setting.path} not readable: ${toTgettyError(err).message}`);
      }
    } else if (setting.kind === 'text') {
      body = setting.text;
    } else {
      body = setting.command;
    }
    const out = renderIssue(setting.kind, body, this.ctx());
    if (out.truncated) log.warn('issue text longer than 300 characters after expansion: cut short');
    await this.line.write(out.bytes);
    if (out.run !== undefined && out.run.length > 0) await this.runIssueCommand(out.run);
  }

  /** `issue-file !cmd`: run it (no shell) with its output going straight to the tty. */
  private async runIssueCommand(argv: string[]): Promise<void> {
    const [prog, ...args] = argv;
    if (prog === undefined) return;
    let fd: number;
    try {
      fd = this.line.openChildFd();
    } catch (err) {
      this.o.log.error('cannot open the line for the issue command', { err });
      return;
    }
    await new Promise<void>((resolve) => {
      const child = spawn(prog, args, { stdio: ['ignore', fd, fd] });
      child.on('error', (err) => {
        this.o.log.error(`cannot run issue command ${prog}`, { err });
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
}

export async function runLoginPhase(o: LoginPhaseOptions): Promise<LoginPhaseResult> {
  return new LoginRunner(o).run();
}
