/**
 * The runner: carries out the call machine's commands on a real (or fake) line and
 * turns each outcome into the machine's next input. It owns the I/O of one line from
 * start-up to CONNECT: the lock, the line, chats, RING counting, caller screening.
 *
 * Rule (see machine.ts): commands run in order; the outcome of the last is the next
 * input. Inputs from outside (signals, carrier loss, a dial-out program taking the
 * lock while idle) interrupt the command in progress, unless the machine ignores them.
 */
import type { Clock } from '../core/clock.js';
import { TgettyError, toTgettyError } from '../core/errors.js';
import { showBytes } from '../core/bytes.js';
import { isCanceled, isDisconnected, type Line } from '../line/line.js';
import { watchLock, type LockWatch } from '../line/lock.js';
import type { Logger } from '../log/logger.js';
import { logField } from '../log/format.js';
import { newCallData, resetCallData, type CallData } from '../modem/callerid.js';
import { initial, machineConfigOf, transition, type Command, type EndKind, type LineInput, type LineSnapshot, type MachineEvent, type LineState, type MachineConfig, type Transition } from './machine.js';
import type { LineSettings } from './settings.js';
import { InputQueue } from './input-queue.js';
import { Cancel } from './cancel.js';
import { consume, Interrupted, sleep, type LineIo } from './line-io.js';
import { runChat } from './chat-exec.js';
import { probeModem, readyOpenedLine, waitRing } from './modem-io.js';
import { faxInit } from './fax-init.js';
import type { FaxClass } from '../fax/class2/init.js';
import { cidProgram, screen, type HookRunner, type ScreenVerdict } from './call-hooks.js';
import { LineLock, waitLockGone, type LockWaitIo } from './line-lock.js';

export type { HookRunner, ScreenVerdict } from './call-hooks.js';

export interface RunnerDeps {
  settings: LineSettings;
  clock: Clock;
  log: Logger;
  lockDir: string;
  /** Open the line (real: openTtyLine; tests: a memory pair). Throws on failure. */
  openLine: () => Line;
  /** Set owner/group/mode of the device (port-owner, port-group, port-mode). Throws on failure. */
  prepareDevice?: () => void;
  /** With the lock ours, before the line is opened: end what an earlier session left on the tty, revoke old fds. Never throws. */
  takeOver?: () => Promise<void>;
  /** dialin.config screening; undefined = no file = everyone allowed. */
  screen?: (callerId: string) => ScreenVerdict;
  runHook?: HookRunner;
  nologinPresent: () => boolean;
  /** At idle: look at what a RING will ask about (dialin.config, nologin), so it is cached then. */
  prepareIdle?: () => void;
  pid?: number;
  /** The machine's events (call start and end, phase, modem ready), for the daemon's status and call records. */
  onEvent?: (event: MachineEvent) => void;
  /** The answer chat wrote its first bytes (ATA): `ringToAtaMs` since the RING that decided it. */
  onAnswerSent?: (ringToAtaMs: number) => void;
  /**
   * A lock file that cannot be created (lock dir missing, read-only) ends the run as
   * `open-failed` at start-up instead of being taken as a dial-out (mgetty's way, kept in
   * single-line mode): the daemon reports it as a configuration error and backs off.
   */
  lockFailureEnds?: boolean;
}

export type RunResult =
  | { kind: 'ended'; exitCode: number; reason: string; keepLock: boolean; endKind: EndKind }
  | { kind: 'connected'; line: Line; call: CallData; connect: string; autoAnswered: boolean; leftover: Buffer; fax?: FaxClass };

const NOLOGIN_TEXT = '\r\n\r\nSorry, no login allowed\r\n\r\nGoodbye...\r\n\r\n';

export class LineRunner {
  private readonly s: LineSettings;
  private readonly log: Logger;
  private readonly clock: Clock;
  private line: Line | undefined;
  private readonly input = new InputQueue();
  private readonly call: CallData = newCallData();
  private current: Transition = initial();
  private abort: Cancel | undefined;
  private pendingExternal: LineInput | undefined;
  private lastRingAt: number | undefined;
  private readonly pid: number;
  private readonly lockIo: LockWaitIo;
  private readonly lock: LineLock;
  /** The lock dir's inotify watch while idle. */
  private watch: LockWatch | undefined;
  private readonly machineCfg: MachineConfig;
  private readonly io: LineIo;
  /** The fax class the last fax set-up chose (undefined: data only). */
  private faxClass: FaxClass | undefined;

  constructor(private readonly deps: RunnerDeps) {
    this.s = deps.settings;
    this.log = deps.log;
    this.clock = deps.clock;
    this.pid = deps.pid ?? process.pid;
    this.lockIo = { clock: this.clock, log: this.log, lockDir: deps.lockDir, device: this.s.device, pid: this.pid };
    this.lock = new LineLock(this.lockIo);
    this.io = { s: this.s, log: this.log, clock: this.clock, input: this.input, call: this.call, requireLine: () => this.requireLine() };
    this.machineCfg = machineConfigOf(this.s, deps.runHook !== undefined);
  }

  /** The world as the machine sees it with the next input (the nologin file: cached, no syscall per RING). */
  private snapshot(): LineSnapshot {
    return { nologin: this.deps.nologinPresent() };
  }

  get state(): LineState {
    return this.current.state;
  }

  /** The caller data of the call in progress (caller ID, CONNECT string, ...). */
  get callData(): Readonly<CallData> {
    return this.call;
  }

  /**
   * An input from outside: a signal, a virtual ring (SIGUSR1), carrier loss. Inputs
   * the machine ignores in the current state do not disturb the command in progress.
   */
  deliver(input: LineInput): void {
    const state = this.current.state;
    if (state.name === 'ended' || state.name === 'connected') return;
    const probe = transition(state, input, this.machineCfg, this.snapshot());
    if (probe.state === state && probe.commands.every((c) => c.cmd === 'log')) {
      for (const c of probe.commands) void this.perform(c, new Cancel());
      return;
    }
    this.pendingExternal = input;
    this.abort?.cancel();
  }

  /** Run until CONNECT (the caller's line is handed back) or an end with an exit code. */
  async run(): Promise<RunResult> {
    try {
      return await this.runStates();
    } catch (err) {
      // An internal error: give back what the call held (line, lock, lock template, watch).
      this.cleanup(false);
      throw err;
    }
  }

  private async runStates(): Promise<RunResult> {
    this.log.mesg(`tgetty: starting line ${this.s.device}`);
    for (;;) {
      const { state, commands } = this.current;
      if (state.name === 'ended') {
        for (const c of commands) await this.perform(c, new Cancel());
        this.cleanup(state.keepLock);
        this.log.mesg(`exit ${state.exitCode}: ${state.reason}`);
        return { kind: 'ended', exitCode: state.exitCode, reason: state.reason, keepLock: state.keepLock, endKind: state.kind };
      }
      if (state.name === 'connected') {
        for (const c of commands) await this.perform(c, new Cancel());
        return this.connected(state);
      }
      const next = await this.performAll(commands);
      this.current = transition(state, next, this.machineCfg, this.snapshot());
      if (next.type === 'ring' || next.type === 'virtual-ring') this.lastRingAt = this.clock.monotonic();
      for (const e of this.current.events ?? []) this.deps.onEvent?.(e);
      if (this.log.enabled(5)) this.log.noise(`state ${state.name} --${next.type}--> ${this.current.state.name}`);
    }
  }

  private connected(state: Extract<LineState, { name: 'connected' }>): RunResult {
    const line = this.line;
    if (line === undefined) throw new TgettyError('INTERNAL', 'connected without a line', { port: this.s.device });
    // A fax call on a line whose fax set-up failed: nothing can receive it (mgetty's way).
    if (state.fax === true && this.faxClass === undefined) return { kind: 'ended', exitCode: 0, reason: 'fax call, but the modem has no fax class set up', keepLock: false, endKind: 'fax' };
    if (state.connect !== '' || this.call.connect === '') this.call.connect = state.connect;
    line.off('hangup', this.onHangup);
    line.off('data', this.onData);
    line.pause();
    const leftover = this.input.take() ?? Buffer.alloc(0);
    this.watch?.close();
    this.lock.template.dispose();
    return { kind: 'connected', line, call: this.call, connect: this.call.connect, autoAnswered: state.autoAnswered, leftover, ...(state.fax === true && this.faxClass !== undefined ? { fax: this.faxClass } : {}) };
  }

  /** Perform a transition's commands; return the outcome of the last one, or an outside input. */
  private async performAll(commands: readonly Command[]): Promise<LineInput> {
    const ctl = new Cancel();
    this.abort = ctl;
    try {
      let outcome: LineInput | undefined;
      for (const c of commands) {
        if (this.pendingExternal !== undefined) break;
        outcome = await this.perform(c, ctl);
      }
      const ext = this.takeExternal();
      if (ext !== undefined) return ext;
      if (outcome === undefined) {
        throw new TgettyError('INTERNAL', `commands [${commands.map((c) => c.cmd).join(', ')}] gave no outcome in state ${this.current.state.name}`, {
          port: this.s.device,
          state: this.current.state.name,
        });
      }
      return outcome;
    } catch (err) {
      const ext = this.takeExternal();
      if (ext !== undefined) return ext;
      if (err instanceof Interrupted || isCanceled(err)) throw toTgettyError(err);
      if (isDisconnected(err)) return { type: 'hangup' };
      throw err;
    } finally {
      this.abort = undefined;
      this.input.cancelWait();
    }
  }

  private takeExternal(): LineInput | undefined {
    const e = this.pendingExternal;
    this.pendingExternal = undefined;
    return e;
  }

  // ---- commands ----

  private async perform(c: Command, signal: Cancel): Promise<LineInput | undefined> {
    switch (c.cmd) {
      case 'log':
        this.log[c.level](c.text);
        return undefined;
      case 'audit':
        this.log.audit(`${c.text} dev=${this.s.device}, pid=${this.pid}, caller=${logField(this.call.callerId)}`);
        return undefined;
      case 'open':
        return this.open(signal);
      case 'lock':
        return this.lock.take();
      case 'unlock':
        this.lock.release();
        return undefined;
      case 'watch-lock':
        return waitLockGone(this.lockIo, signal);
      case 'release-line':
        this.closeLine();
        return undefined;
      case 'chat':
        return runChat(this.io, c.chat, signal, this.onAnswerByte);
      case 'check-dsr':
        return { type: 'dsr-cts', up: this.dsrOrCts() };
      case 'sleep-dsr':
        await sleep(this.io, 60_000, signal);
        return { type: 'dsr-cts', up: this.dsrOrCts() };
      case 'fax-init':
        this.faxClass = this.s.fax !== undefined ? await faxInit(this.io, this.s.fax, signal) : undefined;
        return undefined;
      case 'quiet':
        return this.quiet(c.ms);
      case 'wait-activity':
        return this.waitActivity(c.checkAfterS, signal);
      case 'probe-modem':
        return probeModem(this.io, signal);
      case 'wait-ring':
        return waitRing(this.io, c.timeoutMs, signal);
      case 'virtual-ring':
        return { type: 'virtual-ring' };
      case 'cid-program':
        return cidProgram(this.io, this.deps);
      case 'screen':
        return screen(this.io, this.deps, signal);
      case 'reset-call':
        resetCallData(this.call);
        return undefined;
      case 'send-nologin-refusal':
        await this.requireLine().write(NOLOGIN_TEXT);
        await sleep(this.io, 5_000, signal);
        return { type: 'chat-ok' };
      default: {
        const never: never = c;
        return never;
      }
    }
  }

  private requireLine(): Line {
    if (this.line === undefined) throw new TgettyError('INTERNAL', 'no line open', { port: this.s.device, state: this.current.state.name });
    return this.line;
  }

  private readonly onData = (chunk: Buffer): void => {
    this.input.push(chunk);
  };

  /** The answer chat wrote its first bytes: RING -> ATA, for the daemon's answer latency. */
  private readonly onAnswerByte = (): void => {
    if (this.lastRingAt === undefined) return;
    this.deps.onAnswerSent?.(this.clock.monotonic() - this.lastRingAt);
    this.lastRingAt = undefined;
  };

  private readonly onHangup = (): void => {
    this.deliver({ type: 'hangup' });
  };

  private async open(signal: Cancel): Promise<LineInput> {
    this.log.mesg('check for lockfiles');
    const owner = this.lock.foreign();
    if (owner !== undefined) return owner;
    this.log.mesg('locking the line');
    const lk = this.lock.take();
    if (lk.type === 'lock-held') {
      if (this.lock.lastError !== undefined && this.deps.lockFailureEnds === true) return { type: 'open-failed', message: this.lock.lastError };
      return lk;
    }
    await this.deps.takeOver?.();
    for (let attempt = 1; ; attempt++) {
      try {
        this.deps.prepareDevice?.();
        this.line = this.deps.openLine();
        break;
      } catch (err) {
        const e = toTgettyError(err, 'LINE_OPEN_FAILED', { port: this.s.device });
        this.log.error(`cannot open line ${this.s.path}`, { err: e });
        if (attempt >= 2) return { type: 'open-failed', message: e.message };
        await sleep(this.io, 500, signal);
      }
    }
    const line = this.line;
    line.on('data', this.onData);
    line.on('hangup', this.onHangup);
    await readyOpenedLine(this.io, line, signal);
    line.resume();
    await this.quiet(100);
    return { type: 'opened' };
  }

  private closeLine(): void {
    const line = this.line;
    if (line === undefined) return;
    line.off('data', this.onData);
    line.off('hangup', this.onHangup);
    line.close();
    this.line = undefined;
    this.input.clear();
  }

  private cleanup(keepLock: boolean): void {
    this.lock.template.dispose();
    this.watch?.close();
    this.watch = undefined;
    this.closeLine();
    if (!keepLock) this.lock.release();
  }

  private dsrOrCts(): boolean {
    const st = this.line?.getModemStatus();
    return st === undefined || st.dsr || st.cts;
  }

  /** Discard input until the line has been silent for `ms` (mgetty's clean_line). */
  private async quiet(ms: number): Promise<LineInput> {
    const held = this.input.take() ?? Buffer.alloc(0);
    const line = this.line;
    if (line !== undefined) {
      const r = await line.waitQuiet(ms);
      const junk = Buffer.concat([held, r.discarded]);
      if (junk.length > 0) this.log.noise(`discarded while waiting for the line to clear: ${showBytes(junk)}`);
      if (r.tooMuch) this.log.error('got too much junk while waiting for the line to clear');
    }
    return { type: 'quiet-done' };
  }

  /** Idle: read nothing until something happens (input, the check timer, a dial-out lock). */
  private async waitActivity(checkAfterS: number, signal: Cancel): Promise<LineInput> {
    this.log.idle();
    const ownerNow = (): LineInput | undefined => this.lock.foreign();
    const already = ownerNow();
    if (already !== undefined) return already;
    // Idle time is free: write the lock's content now, so a RING's lock is one link(2).
    this.lock.template.prepare();
    try { this.deps.prepareIdle?.(); } catch { /* only a head start: the RING looks again */ }
    // inotify on the lock dir: step off the line the moment a dial-out program locks it.
    this.watch = watchLock(this.deps.lockDir, this.s.device, (present) => {
      if (!present) return;
      const held = ownerNow();
      if (held !== undefined) {
        this.requireLine().pause();
        this.deliver(held);
      }
    }, { onError: (err) => this.log.warn(`cannot watch the lock directory: ${err.message}`) });
    try {
      return await consume<LineInput>(
        this.io,
        signal,
        checkAfterS >= 0 ? checkAfterS * 1000 : undefined,
        (chunk) => {
          // Keep the bytes: they are the RING the ring counter must see.
          this.input.unshift(chunk);
          return { type: 'activity' };
        },
        () => ({ type: 'check-due' }),
      );
    } finally {
      this.watch?.close();
      this.watch = undefined;
    }
  }

}
