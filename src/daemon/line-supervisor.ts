/**
 * One line in the daemon: runs the call machine, the login phase and the session in a
 * loop, so a line is never left to init's respawn. After every call the line is hung up
 * (DTR drop on reopen, ATH in the init chat) and the modem is re-initialised and must
 * answer before the line is back in service. Failures are retried per the restart
 * policy. A session that outlives its carrier gets SIGHUP, then SIGKILL after a grace.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { toTgettyError } from '../core/errors.js';
import type { CarrierWatch, Line } from '../line/line.js';
import { lockDirProblem, removeLock } from '../line/lock.js';
import type { Logger } from '../log/logger.js';
import type { LoadedConfigFiles } from '../config/load.js';
import type { Session } from '../login/spawn.js';
import { LineRunner, type RunnerDeps, type RunResult } from '../session/runner.js';
import type { EndKind, MachineEvent } from '../session/machine.js';
import type { LineSettings } from '../session/settings.js';
import type { LoginOutcome } from '../login/runner.js';
import { afterConnect } from '../login/after-connect.js';
import { loginConfigOf } from '../login/login-config-cache.js';
import { DEFAULT_RESTART_POLICY, RestartPolicy, type RestartPolicyConfig } from './restart-policy.js';
import type { CallOutcome, EventSink, LineStatusState } from './events.js';

/** While a session runs, the carrier is checked this often (only then: idle lines poll nothing). */
export const CARRIER_CHECK_MS = 2_000;

export interface SupervisorDeps {
  settings: LineSettings;
  clock: Clock;
  log: Logger;
  events: EventSink;
  lockDir: string;
  utmp: string;
  wtmp: string;
  configDir: string;
  /** The config generation in use (a reload gives a new one): login.config is cached per generation. */
  files: () => LoadedConfigFiles;
  /** Build the parts of the runner that touch the system (device, dialin, hooks, nologin). */
  runnerDeps: (s: LineSettings) => Pick<RunnerDeps, 'openLine' | 'prepareDevice' | 'takeOver' | 'screen' | 'runHook' | 'nologinPresent' | 'prepareIdle'>;
  policy?: RestartPolicyConfig;
  typedSpecialNames?: () => boolean;
  /** Called with the time the line rests until (undefined when it stops resting). */
  onResting?: (until: number | undefined) => void;
  nextCallId: () => string;
}

const LOGIN_OUTCOME: Record<LoginOutcome, CallOutcome> = {
  completed: 'completed',
  'login-timeout': 'login-timeout',
  hangup: 'hangup',
  refused: 'refused',
  quit: 'hangup',
  'modem-error': 'hangup',
  failed: 'failed',
};

/** How a line's run ended: the machine's kinds, plus the runner throwing (exit 33). */
export type LineEndKind = EndKind | 'internal-error';

/** What an end means for the line itself (besides the call record). */
export type LineEffect =
  | 'reload' // re-initialise at once, no back-off: the config was reloaded
  | 'init-failed' // a modem-init event with ok: false
  | 'line-error' // a line-error event
  | 'none'; // a normal end (fax, junk): just restart

/** The end the supervisor makes up when the runner throws (mgetty's exit 33). */
type InternalErrorEnd = Omit<Extract<RunResult, { kind: 'ended' }>, 'endKind'> & { endKind: 'internal-error' };

interface EndMapping {
  /** The outcome of the call in progress, if there is one. */
  outcome: CallOutcome;
  line: LineEffect;
}

// A Record keyed by the union, so a new end kind does not compile until it is mapped here.
const END_MAPPING: Record<LineEndKind, EndMapping> = {
  // Sent to idle lines only; a call that just began when it came is recorded as failed.
  reload: { outcome: 'failed', line: 'reload' },
  signal: { outcome: 'hangup', line: 'line-error' },
  hangup: { outcome: 'hangup', line: 'line-error' },
  'open-failed': { outcome: 'failed', line: 'line-error' },
  'init-failed': { outcome: 'failed', line: 'init-failed' },
  'modem-dead': { outcome: 'failed', line: 'line-error' },
  'answer-timeout': { outcome: 'timeout', line: 'line-error' },
  'answer-failed': { outcome: 'no-carrier', line: 'line-error' },
  fax: { outcome: 'failed', line: 'none' },
  junk: { outcome: 'failed', line: 'none' },
  'modem-said': { outcome: 'failed', line: 'line-error' },
  // The nologin file turned the caller away, as a nologin ring-timeout does ('refused').
  nologin: { outcome: 'refused', line: 'line-error' },
  'internal-error': { outcome: 'failed', line: 'line-error' },
};

/** The outcome of a call that the line's end cut short (pure: for the call records). */
export function outcomeOf(result: { endKind: LineEndKind }): CallOutcome {
  return END_MAPPING[result.endKind].outcome;
}

/** What the line's end means for the line: reload, failed modem init, line error or nothing. */
export function lineEffectOf(result: { endKind: LineEndKind }): LineEffect {
  return END_MAPPING[result.endKind].line;
}

export class LineSupervisor {
  private settings: LineSettings;
  private pending: LineSettings | undefined;
  private runner: LineRunner | undefined;
  private session: Session | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;
  private readonly policy: RestartPolicy;
  private callId: string | undefined;
  private lastStatus: LineStatusState | undefined;
  private lastDetail: string | undefined;
  private loopDone: Promise<void> | undefined;
  private sessionCount = 0;
  /** The runner ended straight from `answering` (NO CARRIER, BUSY, the caller hung up after ATA). */
  private endedAfterAnswer = false;

  constructor(private readonly d: SupervisorDeps) {
    this.settings = d.settings;
    this.policy = new RestartPolicy(d.policy);
  }

  get name(): string {
    return this.settings.device;
  }

  /** True while a call is in progress (from the first RING to the end of the session). */
  get busy(): boolean {
    return this.callId !== undefined;
  }

  get sessions(): number {
    return this.sessionCount;
  }

  start(): void {
    this.loopDone ??= this.loop().catch((err: unknown) => {
      this.d.log.fatal('line supervisor crashed', { err });
      this.d.events.emit({ type: 'line-error', line: this.name, at: this.d.clock.now(), message: toTgettyError(err).message });
    });
  }

  /**
   * New settings after a reload. An idle line re-initialises with them now; a line in a
   * call keeps the old ones until the call is over.
   */
  update(s: LineSettings): void {
    this.pending = s;
    if (this.runner !== undefined && this.runner.state.name === 'idle') this.runner.deliver({ type: 'signal', signal: 'SIGUSR2' });
    this.wake?.();
  }

  /** Stop the line: end the session (SIGHUP to its group), stop the runner, release the lock. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.runner?.deliver({ type: 'signal', signal: 'SIGTERM' });
    if (this.session !== undefined) this.endSession('the line is being stopped');
    await this.loopDone;
    this.state('stopped');
  }

  private state(s: LineStatusState, detail?: string): void {
    // The same error again (each retry) keeps its `since`: how long the line has been down.
    if (s === this.lastStatus && detail === this.lastDetail) return;
    this.lastStatus = s;
    this.lastDetail = detail;
    this.d.events.emit({ type: 'line-state', line: this.name, state: s, at: this.d.clock.now(), ...(detail !== undefined ? { detail } : {}) });
  }

  private endCall(outcome: CallOutcome, extra: { exitStatus?: number | null; signal?: string | null; detail?: string } = {}): void {
    if (this.callId === undefined) return;
    this.d.events.emit({ type: 'call-end', line: this.name, callId: this.callId, at: this.d.clock.now(), outcome, ...extra });
    this.callId = undefined;
  }

  /** The call machine's events: the daemon's call records and status follow them, never its state names. */
  private onMachineEvent = (e: MachineEvent): void => {
    const now = this.d.clock.now();
    switch (e.event) {
      case 'call-start':
        this.callId = this.d.nextCallId();
        this.d.events.emit({ type: 'call-start', line: this.name, callId: this.callId, at: now });
        break;
      case 'modem-ready':
        this.d.events.emit({ type: 'modem-init', line: this.name, at: now, ok: true });
        this.policy.onSuccess();
        break;
      case 'call-caller': {
        const call = this.runner?.callData;
        if (this.callId !== undefined && call !== undefined) {
          this.d.events.emit({ type: 'call-caller', line: this.name, callId: this.callId, at: now, callerId: call.callerId, callerName: call.callerName });
        }
        break;
      }
      case 'ended':
        this.endedAfterAnswer = e.afterAnswer;
        break;
      case 'call-end':
        this.endCall(e.outcome);
        break;
      case 'phase':
        this.state(e.phase === 'connected' ? 'login' : e.phase);
        break;
      default: {
        const never: never = e;
        return never;
      }
    }
  };

  private async loop(): Promise<void> {
    while (!this.stopping) {
      if (this.pending !== undefined) {
        this.settings = this.pending;
        this.pending = undefined;
        this.d.log.mesg('using the reloaded configuration');
      }
      const s = this.settings;
      this.d.log.setLevel(s.debug);
      this.endedAfterAnswer = false;
      // A lock dir that cannot hold a lock is a configuration error, not a dial-out.
      const lockProblem = lockDirProblem(this.d.lockDir);
      if (lockProblem !== undefined) {
        await this.failedStart(lockProblem);
        continue;
      }
      this.state('starting');
      const runner = new LineRunner({
        settings: s,
        clock: this.d.clock,
        log: this.d.log,
        lockDir: this.d.lockDir,
        ...this.d.runnerDeps(s),
        lockFailureEnds: true,
        onEvent: this.onMachineEvent,
        onAnswerSent: (ms) => {
          if (this.callId !== undefined) this.d.events.emit({ type: 'call-answering', line: this.name, callId: this.callId, at: this.d.clock.now(), ringToAtaMs: ms });
        },
      });
      this.runner = runner;
      if (this.stopping) runner.deliver({ type: 'signal', signal: 'SIGTERM' });
      let result: RunResult | InternalErrorEnd;
      try {
        result = await runner.run();
      } catch (err) {
        this.d.log.error('line runner failed', { err });
        this.d.events.emit({ type: 'line-error', line: this.name, at: this.d.clock.now(), message: toTgettyError(err).message });
        result = { kind: 'ended', exitCode: 33, reason: 'internal error', keepLock: false, endKind: 'internal-error' };
      }
      this.runner = undefined;
      if (result.kind === 'connected') {
        await this.callAfterConnect(result, s);
        this.policy.onSuccess();
        continue;
      }
      // Ended: a call attempt that failed, a reload, a stop, or a line failure.
      if (this.callId !== undefined) {
        this.endCall(outcomeOf(result), { detail: result.reason });
      }
      if (this.stopping) break;
      const effect = lineEffectOf(result);
      if (effect === 'reload') continue; // reload of an idle line: re-initialise at once
      if (effect === 'init-failed') {
        this.d.events.emit({ type: 'modem-init', line: this.name, at: this.d.clock.now(), ok: false, detail: result.reason });
      } else if (effect === 'line-error') {
        this.d.events.emit({ type: 'line-error', line: this.name, at: this.d.clock.now(), message: `${result.reason} (mgetty exit code ${result.exitCode})` });
      }
      // A call that failed after ATA (NO CARRIER, BUSY, a caller who hung up) says nothing
      // about the line: it initialised and answered. Counting such calls made a busy line
      // rest for restMs after 10 of them in 2 minutes. Only line failures count.
      const decision = this.endedAfterAnswer
        ? { delayMs: (this.d.policy ?? DEFAULT_RESTART_POLICY).backoffBaseMs, resting: false, failuresInWindow: 0 }
        : this.policy.onFailure(this.d.clock.now());
      if (decision.resting) {
        const until = this.d.clock.now() + decision.delayMs;
        this.d.log.error(
          `line failed ${decision.failuresInWindow} times in a short while: resting for ${Math.round(decision.delayMs / 1000)} s before the next try (last: ${result.reason})`,
        );
        this.state('resting', result.reason);
        this.d.onResting?.(until);
      } else {
        this.d.log.mesg(`line ended (${result.reason}); next try in ${decision.delayMs} ms`);
        // The device or its lock cannot be had: say so in status while waiting.
        if (result.endKind === 'open-failed') this.state('error', result.reason);
      }
      await this.sleep(decision.delayMs);
      if (decision.resting) this.d.onResting?.(undefined);
    }
    // Some endings keep the lock (exit 30 "modem does not react", exit 20), as mgetty
    // does until init respawns it; the next round reuses it. A line no longer served
    // must not leave it behind.
    this.releaseLock();
  }

  /** The line cannot start (configuration error): report it, then back off per the policy. */
  private async failedStart(message: string): Promise<void> {
    const now = this.d.clock.now();
    this.d.events.emit({ type: 'line-error', line: this.name, at: now, message, code: 'LOCK_FAILED' });
    const decision = this.policy.onFailure(now);
    this.d.log.error(`${message}; next try in ${decision.delayMs} ms`);
    if (decision.resting) {
      this.state('resting', message);
      this.d.onResting?.(now + decision.delayMs);
    } else {
      this.state('error', message);
    }
    await this.sleep(decision.delayMs);
    if (decision.resting) this.d.onResting?.(undefined);
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t: TimerHandle = this.d.clock.setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        // A stop ends the wait; a reload does not shorten a rest.
        if (!this.stopping) return;
        t.cancel();
        this.wake = undefined;
        resolve();
      };
    });
  }

  private async callAfterConnect(result: Extract<Awaited<ReturnType<LineRunner['run']>>, { kind: 'connected' }>, s: LineSettings): Promise<void> {
    this.state('login');
    if (this.callId === undefined) {
      this.callId = this.d.nextCallId();
      this.d.events.emit({ type: 'call-start', line: this.name, callId: this.callId, at: this.d.clock.now() });
    }
    const callId = this.callId;
    this.d.events.emit({ type: 'call-connect', line: this.name, callId, at: this.d.clock.now(), connect: result.connect });
    if (result.call.callerId !== 'none' || result.call.callerName !== '') {
      this.d.events.emit({ type: 'call-caller', line: this.name, callId, at: this.d.clock.now(), callerId: result.call.callerId, callerName: result.call.callerName });
    }
    let watch: { stop: () => void } | undefined;
    await afterConnect({
      result,
      settings: s,
      log: this.d.log,
      clock: this.d.clock,
      paths: { utmp: this.d.utmp, wtmp: this.d.wtmp },
      configDir: this.d.configDir,
      loginConfig: loginConfigOf(this.d.files()),
      typedSpecialNames: this.d.typedSpecialNames?.() ?? true,
      onSession: (session, info) => {
        this.session = session;
        this.sessionCount++;
        this.state('in-session');
        this.d.events.emit({ type: 'call-session', line: this.name, callId, at: this.d.clock.now(), loginName: info.loginName, program: info.program, pid: session.pid });
        watch = this.watchCarrier(result.line, s, session);
        if (this.stopping) this.endSession('the line is being stopped');
      },
      onLoginEnd: (res) => {
        watch?.stop();
        this.session = undefined;
        if (res.fax !== undefined) this.d.events.emit({ type: 'call-fax', line: this.name, callId, at: this.d.clock.now(), fax: res.fax });
        this.endCall(LOGIN_OUTCOME[res.outcome], {
          ...(res.exit !== undefined ? { exitStatus: res.exit.code, signal: res.exit.signal } : {}),
          ...(res.outcome !== 'completed' ? { detail: res.outcome } : {}),
        });
      },
      onHangup: () => this.state('hanging-up'),
      openLine: () => this.d.runnerDeps(s).openLine(),
      lockDir: this.d.lockDir,
      device: this.name,
    });
  }

  private releaseLock(): void {
    try {
      removeLock(this.d.lockDir, this.name, { pid: process.pid });
    } catch (err) {
      this.d.log.error('cannot remove the lock file', { err });
    }
  }

  /** SIGHUP to the session's process group, then SIGKILL after hangup-grace. */
  private endSession(why: string): void {
    const session = this.session;
    if (session === undefined) return;
    this.d.log.mesg(`ending session ${session.pid}: ${why}`);
    signalGroup(session.pid, 'SIGHUP');
    const t = this.d.clock.setTimeout(() => {
      if (this.session === session) {
        this.d.log.warn(`session ${session.pid} still running ${this.settings.hangupGraceS} s after SIGHUP: SIGKILL`);
        signalGroup(session.pid, 'SIGKILL');
      }
    }, this.settings.hangupGraceS * 1000);
    void session.exited.then(() => t.cancel());
  }

  /**
   * Watch the carrier while a session runs (the line's own capability: see
   * Line.watchCarrier). A session still running when the caller is gone has outlived
   * its caller.
   */
  private watchCarrier(line: Line, s: LineSettings, session: Session): CarrierWatch {
    const w = line.watchCarrier(
      { intervalMs: CARRIER_CHECK_MS, ignoreDcd: s.ignoreCarrier, onError: (err) => this.d.log.noise(`carrier watch: cannot open ${s.path}: ${err.message}`) },
      (why) => {
        this.d.log.mesg(`carrier lost during the session (${why})`);
        this.endSession(`carrier lost (${why})`);
      },
    );
    void session.exited.then(() => w.stop());
    return w;
  }
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    // The session leader's pid is its process group: reach its children too.
    process.kill(-pid, sig);
  } catch {
    try {
      process.kill(pid, sig);
    } catch {
      // already gone
    }
  }
}

