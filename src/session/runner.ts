/**
 * The runner: carries out the call machine's commands on a real (or fake) line and
 * turns each outcome into the machine's next input. It owns the I/O of one line from
 * start-up to CONNECT: the lock, the line, chats, RING counting, caller screening.
 *
 * Rule (see machine.ts): commands run in order; the outcome of the last is the next
 * input. Inputs from outside (signals, carrier loss, a dial-out program taking the
 * lock while idle) interrupt the command in progress, unless the machine ignores them.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { TgettyError, toTgettyError } from '../core/errors.js';
import { showBytes } from '../core/bytes.js';
import type { Line } from '../line/line.js';
import { isCanceled, isDisconnected } from '../line/line.js';
import { LockTemplate, makeLock, removeLock, foreignLockOwner, watchLock, type LockWatch } from '../line/lock.js';
import type { Logger } from '../log/logger.js';
import { ChatScript, INIT_ABORTS, ANSWER_ABORTS, type ChatAction } from '../chat/script.js';
import { SEND_PRE_DELAY_MS } from '../chat/send.js';
import { newCallData, resetCallData, applyCallerIdLine, applyMesg, type CallData } from '../modem/callerid.js';
import { RingWatcher } from '../modem/ring.js';
import { CommandExchange, EXCHANGE_PRE_DELAY_MS, EXCHANGE_TIMEOUT_MS } from '../modem/result.js';
import { initial, transition, type ChatName, type Command, type EndKind, type LineInput, type LineSnapshot, type MachineEvent, type LineState, type MachineConfig, type Transition } from './machine.js';
import type { LineSettings } from './settings.js';
import { InputQueue } from './input-queue.js';
import { Cancel } from './cancel.js';

/** A caller-screening verdict (dialin.config). */
export interface ScreenVerdict {
  allowed: boolean;
  why: string;
}

/** Result of a hook program (cnd-program, cid-program): its exit status, or undefined if it could not run. */
export type HookRunner = (program: string, args: string[], env: Record<string, string>, user: string | undefined) => Promise<number | undefined>;

export interface RunnerDeps {
  settings: LineSettings;
  clock: Clock;
  log: Logger;
  lockDir: string;
  /** Open the line (real: openTtyLine; tests: a memory pair). Throws on failure. */
  openLine: () => Line;
  /** Set owner/group/mode of the device (port-owner, port-group, port-mode). Throws on failure. */
  prepareDevice?: () => void;
  /** dialin.config screening; undefined = no file = everyone allowed. */
  screen?: (callerId: string) => ScreenVerdict;
  runHook?: HookRunner;
  nologinPresent: () => boolean;
  pid?: number;
  /** The machine's events (call start and end, phase, modem ready), for the daemon's status and call records. */
  onEvent?: (event: MachineEvent) => void;
  /** The answer chat wrote its first bytes (ATA): `ringToAtaMs` since the RING that decided it. */
  onAnswerSent?: (ringToAtaMs: number) => void;
}

export type RunResult =
  | { kind: 'ended'; exitCode: number; reason: string; keepLock: boolean; endKind: EndKind }
  | { kind: 'connected'; line: Line; call: CallData; connect: string; autoAnswered: boolean; leftover: Buffer };

const NOLOGIN_TEXT = '\r\n\r\nSorry, no login allowed\r\n\r\nGoodbye...\r\n\r\n';
/** How long a lock must stay gone before the line comes back (a dial-out program may re-lock). */
const DIALOUT_CONFIRM_MS = 2_000;
/**
 * How often a held foreign lock is re-checked while waiting: an owner killed with
 * SIGKILL (cu, minicom) leaves its lock behind, and nobody removes it to wake the
 * watch (mgetty polls every 10 s).
 */
const DIALOUT_POLL_MS = 5_000;

class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}


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
  private holdingLock = false;
  private readonly pid: number;
  /** Our lock file's content, written while idle, so the lock on a call is one link(2). */
  private readonly template: LockTemplate;
  private readonly machineCfg: MachineConfig;

  constructor(private readonly deps: RunnerDeps) {
    this.s = deps.settings;
    this.log = deps.log;
    this.clock = deps.clock;
    this.pid = deps.pid ?? process.pid;
    this.template = new LockTemplate(deps.lockDir, this.pid);
    this.machineCfg = {
      direct: this.s.direct,
      rings: this.s.rings,
      cidProgram: this.s.cidProgram !== undefined && deps.runHook !== undefined,
      ringback: this.s.ringback,
      ringbackTimeS: this.s.ringbackTimeS,
      modemCheckTimeS: this.s.modemCheckTimeS,
      needDsr: this.s.needDsr,
      forceInitChat: this.s.forceInitChat !== undefined && this.s.forceInitChat.length > 0,
      statisticsChat: this.s.statisticsChat !== undefined,
      postInitChat: this.s.postInitChat !== undefined,
      // Fax reception is not implemented: the line is always initialised as data-only.
      faxInit: false,
    };
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
    if (state.connect !== '' || this.call.connect === '') this.call.connect = state.connect;
    line.off('hangup', this.onHangup);
    line.off('data', this.onData);
    line.pause();
    const leftover = this.input.take() ?? Buffer.alloc(0);
    this.watch?.close();
    this.template.dispose();
    return { kind: 'connected', line, call: this.call, connect: this.call.connect, autoAnswered: state.autoAnswered, leftover };
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
        this.log.audit(`${c.text} dev=${this.s.device}, pid=${this.pid}, caller='${this.call.callerId}'`);
        return undefined;
      case 'open':
        return this.open(signal);
      case 'lock':
        return this.lock();
      case 'unlock':
        this.unlock();
        return undefined;
      case 'watch-lock':
        return this.waitLockGone(signal);
      case 'release-line':
        this.closeLine();
        return undefined;
      case 'chat':
        return this.chat(c.chat, signal);
      case 'check-dsr':
        return { type: 'dsr-cts', up: this.dsrOrCts() };
      case 'sleep-dsr':
        await this.sleep(60_000, signal);
        return { type: 'dsr-cts', up: this.dsrOrCts() };
      case 'fax-init':
        this.log.mesg('fax initialisation skipped: tgetty answers data calls only');
        return undefined;
      case 'quiet':
        return this.quiet(c.ms);
      case 'wait-activity':
        return this.waitActivity(c.checkAfterS, signal);
      case 'probe-modem':
        return this.probeModem(signal);
      case 'wait-ring':
        return this.waitRing(c.timeoutMs, signal);
      case 'virtual-ring':
        return { type: 'virtual-ring' };
      case 'cid-program':
        return this.cidProgram();
      case 'screen':
        return this.screen(signal);
      case 'reset-call':
        resetCallData(this.call);
        return undefined;
      case 'send-nologin-refusal':
        await this.requireLine().write(NOLOGIN_TEXT);
        await this.sleep(5_000, signal);
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

  private readonly onHangup = (): void => {
    this.deliver({ type: 'hangup' });
  };

  private async open(signal: Cancel): Promise<LineInput> {
    this.log.mesg('check for lockfiles');
    const owner = foreignLockOwner(this.deps.lockDir, this.s.device, { pid: this.pid, log: this.log });
    if (owner !== undefined) return { type: 'lock-held', ownerPid: owner.pid, ownerCmd: owner.cmd };
    this.log.mesg('locking the line');
    const lk = this.lock();
    if (lk.type === 'lock-held') return lk;
    for (let attempt = 1; ; attempt++) {
      try {
        this.deps.prepareDevice?.();
        this.line = this.deps.openLine();
        break;
      } catch (err) {
        const e = toTgettyError(err, 'LINE_OPEN_FAILED', { port: this.s.device });
        this.log.error(`cannot open line ${this.s.path}`, { err: e });
        if (attempt >= 2) return { type: 'open-failed', message: e.message };
        await this.sleep(500, signal);
      }
    }
    const line = this.line;
    line.on('data', this.onData);
    line.on('hangup', this.onHangup);
    const status = line.getModemStatus();
    if (status === undefined) {
      this.log.noise('no modem control lines on this device (pty?): DTR and DCD are not available');
    } else {
      if (status.dcd) this.log.warn('DCD is on before the modem was initialised: check the modem settings (AT&C1)');
      if (!status.dsr) this.log.warn('DSR is off: is the modem switched on and connected?');
    }
    if (this.s.toggleDtr) {
      this.log.mesg('lowering DTR to reset the modem');
      const ok = await line.toggleDtr(this.s.toggleDtrWaitMs);
      if (!ok) this.log.noise('DTR toggle not possible on this device');
    }
    line.applyMode({ mode: 'idle-raw', speed: this.s.speed, clocal: true });
    if (this.s.openDelayMs > 0) await this.sleep(this.s.openDelayMs, signal);
    line.resume();
    await this.quiet(100);
    return { type: 'opened' };
  }

  private lock(): LineInput {
    try {
      const r = makeLock(this.deps.lockDir, this.s.device, { pid: this.pid, log: this.log, template: this.template });
      if (r.ok) {
        this.holdingLock = true;
        return { type: 'lock-free' };
      }
      return { type: 'lock-held', ownerPid: r.ownerPid, ownerCmd: r.ownerCmd };
    } catch (err) {
      // Lock dir missing or read-only: mgetty treats a failed lock as "someone else has it".
      this.log.error('cannot create the lock file', { err });
      return { type: 'lock-held', ownerPid: 0, ownerCmd: '(lock file could not be created)' };
    }
  }

  private unlock(): void {
    if (!this.holdingLock) return;
    try {
      removeLock(this.deps.lockDir, this.s.device, { pid: this.pid });
    } catch (err) {
      this.log.error('cannot remove the lock file', { err });
    }
    this.holdingLock = false;
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
    this.template.dispose();
    this.watch?.close();
    this.watch = undefined;
    this.closeLine();
    if (!keepLock) this.unlock();
  }

  private dsrOrCts(): boolean {
    const st = this.line?.getModemStatus();
    return st === undefined || st.dsr || st.cts;
  }

  private sleep(ms: number, signal: Cancel): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) {
        reject(new Interrupted());
        return;
      }
      const t = this.clock.setTimeout(() => {
        off();
        resolve();
      }, ms);
      const off = signal.onCancel(() => {
        t.cancel();
        reject(new Interrupted());
      });
    });
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

  /**
   * Wait for input while calling `step` on every chunk until it returns a result;
   * `onTimeout` gives the result when `timeoutMs` passes without one.
   */
  private consume<T>(signal: Cancel, timeoutMs: number | undefined, step: (chunk: Buffer) => T | undefined, onTimeout: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let timer: TimerHandle | undefined;
      let done = false;
      let off = (): void => undefined;
      const finish = (fn: () => void): void => {
        if (done) return;
        done = true;
        timer?.cancel();
        off();
        this.input.cancelWait();
        fn();
      };
      const onAbort = (): void => finish(() => reject(new Interrupted()));
      const pump = (): void => {
        for (;;) {
          const chunk = this.input.take();
          if (chunk === undefined) break;
          let r: T | undefined;
          try {
            r = step(chunk);
          } catch (err) {
            finish(() => reject(toTgettyError(err, 'INTERNAL', { port: this.s.device })));
            return;
          }
          if (r !== undefined) {
            finish(() => resolve(r));
            return;
          }
        }
        if (!done) this.input.onNext(pump);
      };
      if (signal.aborted) {
        onAbort();
        return;
      }
      off = signal.onCancel(onAbort);
      // Input already queued (the RING that woke an idle line) may settle it at once: then
      // no timer is armed and cancelled on the way to ATA.
      pump();
      if (!done && timeoutMs !== undefined) {
        timer = this.clock.setTimeout(() => finish(() => resolve(onTimeout())), timeoutMs);
      }
    });
  }

  private chatSpec(name: ChatName): { elements: readonly string[]; timeoutMs: number; aborts: typeof INIT_ABORTS } | undefined {
    const s = this.s;
    switch (name) {
      case 'init':
        return { elements: s.initChat, timeoutMs: 20_000, aborts: INIT_ABORTS };
      case 'force-init':
        return s.forceInitChat === undefined ? undefined : { elements: s.forceInitChat, timeoutMs: 20_000, aborts: INIT_ABORTS };
      case 'statistics':
        return s.statisticsChat === undefined ? undefined : { elements: s.statisticsChat, timeoutMs: 10_000, aborts: [] };
      case 'post-init':
        return s.postInitChat === undefined ? undefined : { elements: s.postInitChat, timeoutMs: 10_000, aborts: [] };
      case 'get-cnd':
        return s.getCndChat === undefined ? undefined : { elements: s.getCndChat, timeoutMs: 10_000, aborts: [] };
      case 'answer':
        return { elements: s.answerChat, timeoutMs: s.answerChatTimeoutMs, aborts: ANSWER_ABORTS };
      default: {
        const never: never = name;
        return never;
      }
    }
  }

  /** Run a chat script on the line. */
  private async chat(name: ChatName, signal: Cancel): Promise<LineInput> {
    const spec = this.chatSpec(name);
    if (spec === undefined) return { type: 'chat-ok' };
    const line = this.requireLine();
    const script = new ChatScript<ChatAction>(spec.elements, { aborts: spec.aborts, timeoutMs: spec.timeoutMs });
    const statsLines: string[] = [];
    const onLines = (lines: readonly { text: string }[]): void => {
      for (const l of lines) {
        if (name === 'statistics') statsLines.push(l.text);
        applyCallerIdLine(this.call, l.text);
      }
    };
    let up = script.start();
    let answerStarted = false;
    for (;;) {
      onLines(up.lines);
      for (const f of up.found) this.log.mesg(`waiting for '${showBytes(f)}' ** found **`);
      const step = up.step;
      if (step.kind === 'done') {
        this.input.unshift(script.leftover());
        if (name === 'statistics') this.logStatistics(statsLines);
        return { type: 'chat-ok', connect: this.call.connect };
      }
      if (step.kind === 'failed') {
        this.input.unshift(script.leftover());
        if (step.reason === 'timeout') this.log.warn(`${name} chat: timeout waiting for '${showBytes(step.expect)}'`);
        else this.log.warn(`${name} chat: got '${step.abortText ?? ''}' waiting for '${showBytes(step.expect)}'`);
        return {
          type: 'chat-failed',
          reason: step.reason,
          ...(step.abortText !== undefined ? { action: step.abortText.trim() } : {}),
          ...(step.action === 'fax' ? { fax: true } : {}),
        };
      }
      if (step.kind === 'send') {
        for (const d of step.diagnostics) this.log.warn(`${name} chat: ${d.message}`);
        let text = '';
        // mgetty pauses 50 ms before every send; right after a RING that only delays the
        // answer, so the answer chat's first send (ATA) goes out at once (RING -> ATA < 5 ms).
        const first = name === 'answer' && !answerStarted;
        answerStarted = true;
        const ops = first && step.ops[0]?.kind === 'delay' && step.ops[0].ms === SEND_PRE_DELAY_MS ? step.ops.slice(1) : step.ops;
        for (const op of ops) {
          if (op.kind === 'delay') await this.sleep(op.ms, signal);
          else {
            await line.write(op.data);
            if (name === 'answer' && text === '' && this.lastRingAt !== undefined) {
              this.deps.onAnswerSent?.(this.clock.monotonic() - this.lastRingAt);
              this.lastRingAt = undefined;
            }
            text += Buffer.from(op.data).toString('latin1');
          }
        }
        this.log.mesg(`send: ${showBytes(text)}`);
        up = script.sent();
        continue;
      }
      // expect: feed input until the step changes, or time out.
      const expectStep = step;
      up = await this.consume(
        signal,
        expectStep.timeoutMs,
        (chunk) => {
          const u = script.feed(chunk);
          return u.step !== expectStep ? u : (onLines(u.lines), undefined);
        },
        () => script.timeout(),
      );
    }
  }

  private logStatistics(lines: string[]): void {
    for (const l of lines) if (l !== '') this.log.mesg(`*** ${l}`);
  }

  /** Idle: read nothing until something happens (input, the check timer, a dial-out lock). */
  private async waitActivity(checkAfterS: number, signal: Cancel): Promise<LineInput> {
    this.log.idle();
    const ownerNow = (): LineInput | undefined => {
      const owner = foreignLockOwner(this.deps.lockDir, this.s.device, { pid: this.pid, log: this.log });
      return owner === undefined ? undefined : { type: 'lock-held', ownerPid: owner.pid, ownerCmd: owner.cmd };
    };
    const already = ownerNow();
    if (already !== undefined) return already;
    // Idle time is free: write the lock's content now, so a RING's lock is one link(2).
    this.template.prepare();
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
      return await this.consume<LineInput>(
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

  private watch: LockWatch | undefined;

  private async waitLockGone(signal: Cancel): Promise<LineInput> {
    const owner = (): boolean => foreignLockOwner(this.deps.lockDir, this.s.device, { pid: this.pid, log: this.log }) !== undefined;
    for (;;) {
      if (owner()) {
        await new Promise<void>((resolve, reject) => {
          let timer: TimerHandle | undefined;
          let settled = false;
          let off = (): void => undefined;
          const stop = (): void => {
            settled = true;
            w.close();
            timer?.cancel();
            off();
          };
          const w = watchLock(this.deps.lockDir, this.s.device, (present) => {
            if (present || settled) return;
            stop();
            resolve();
          });
          const onAbort = (): void => {
            if (settled) return;
            stop();
            reject(new Interrupted());
          };
          off = signal.onCancel(onAbort);
          // Judging the lock also removes it when its owner is dead (stale).
          const check = (): void => {
            if (settled) return;
            if (!owner()) {
              stop();
              resolve();
              return;
            }
            timer = this.clock.setTimeout(check, DIALOUT_POLL_MS);
          };
          // The lock may have gone between the first check and the watch.
          check();
        });
      }
      await this.sleep(DIALOUT_CONFIRM_MS, signal);
      if (!owner()) return { type: 'lock-free' };
    }
  }

  private async probeModem(signal: Cancel): Promise<LineInput> {
    const line = this.requireLine();
    const ex = new CommandExchange('AT');
    await this.sleep(EXCHANGE_PRE_DELAY_MS, signal);
    await line.write(ex.bytes);
    const out = await this.consume(
      signal,
      EXCHANGE_TIMEOUT_MS,
      (chunk) => {
        const r = ex.feed(chunk);
        return r === 'pending' ? undefined : r;
      },
      () => ex.timeout(),
    );
    this.input.unshift(out.rest);
    if (out.ok) return { type: 'chat-ok' };
    this.log.warn(`modem check: AT got ${out.error}`);
    return { type: 'chat-failed', reason: out.error === 'timeout' ? 'timeout' : 'abort', action: out.error };
  }

  private async waitRing(timeoutMs: number, signal: Cancel): Promise<LineInput> {
    const watcher = new RingWatcher(this.call, this.s.msnList);
    this.log.mesg("waiting for 'RING'");
    return this.consume<LineInput>(
      signal,
      timeoutMs,
      (chunk) => {
        const { events, rest } = watcher.feed(chunk);
        for (const ev of events) {
          if (ev.kind === 'line') {
            if (ev.updates.length > 0) this.log.mesg(`caller data: ${ev.updates.map((u) => `${u.field}='${u.value}'`).join(', ')}`);
            else this.log.noise(`got: ${showBytes(ev.text)}`);
            continue;
          }
          if (ev.kind === 'ring') {
            this.input.unshift(rest);
            this.log.mesg(`got RING${ev.distRing !== undefined && ev.distRing > 0 ? ` (distinctive ${ev.distRing})` : ''}: ${showBytes(ev.line)}`);
            if (ev.distRing !== undefined) this.call.distRing = ev.distRing;
            // Keep events after this ring for the next wait.
            const caller = this.call.callerId !== 'none' || this.call.callerName !== '';
            return { type: 'ring', distRing: ev.distRing ?? 0, caller };
          }
          this.input.unshift(rest);
          const action = ev.action === '+FCON' || ev.action === 'FAX' ? 'FAX' : ev.action === '+FHS:' || ev.action === '+FHNG:' ? 'ERROR' : ev.action;
          return { type: 'modem-line', action, line: ev.line };
        }
        return undefined;
      },
      () => ({ type: 'ring-timeout' }),
    );
  }

  private hookArgs(): { args: string[]; env: Record<string, string> } {
    const c = this.call;
    const env: Record<string, string> = { CONNECT: c.connect, DEVICE: this.s.device };
    if (c.callerId !== '') env.CALLER_ID = c.callerId;
    if (c.callDate !== '') env.CALL_DATE = c.callDate;
    if (c.callTime !== '') env.CALL_TIME = c.callTime;
    if (c.callerName !== '') env.CALLER_NAME = c.callerName;
    if (c.calledNr !== '') env.CALLED_ID = c.calledNr;
    return { args: [this.s.device, c.callerId, c.callerName, String(c.distRing), c.calledNr], env };
  }

  /** Run cid-program (the machine says when: once a call, see machine.ts cidDue). */
  private async cidProgram(): Promise<LineInput> {
    const prog = this.s.cidProgram;
    if (prog === undefined || this.deps.runHook === undefined) return { type: 'cid-done' };
    const { args, env } = this.hookArgs();
    const status = await this.deps.runHook(prog, args, env, this.s.hookUser);
    this.log.mesg(`cid-program ${prog} exited with ${status ?? 'failure'}`);
    if (status !== undefined && status > 10) {
      this.log.mesg(`cid-program: wait for ${status - 10} RINGs`);
      return { type: 'cid-done', wanted: status - 10 };
    }
    return { type: 'cid-done' };
  }

  private async screen(signal: Cancel): Promise<LineInput> {
    if (this.s.getCndChat !== undefined) await this.chat('get-cnd', signal);
    applyMesg(this.call);
    const verdict = this.deps.screen?.(this.call.callerId) ?? { allowed: true, why: 'no dialin.config rules' };
    if (!verdict.allowed) return { type: 'screened', allowed: false, why: verdict.why };
    const prog = this.s.cndProgram;
    if (prog !== undefined && this.deps.runHook !== undefined) {
      const { args, env } = this.hookArgs();
      const status = await this.deps.runHook(prog, args, env, this.s.hookUser);
      this.log.mesg(`cnd-program ${prog} exited with ${status ?? 'failure'}`);
      if (status === 1) return { type: 'screened', allowed: false, why: `cnd-program ${prog} said no` };
    }
    return { type: 'screened', allowed: true, why: verdict.why };
  }
}
