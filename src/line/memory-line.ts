/**
 * An in-memory two-ended line: `line` is what the getty gets (a full `Line`), `far`
 * is the modem's side. It models what the kernel and a serial port do, so logic
 * built on it holds on the real device:
 * - paused input stays queued (like the kernel's input queue), none is lost;
 * - DTR goes high on open and drops on close when HUPCL is set (last close), but not on release();
 * - DCD dropping while CLOCAL is off hangs the line up (and drops DTR under HUPCL), as the tty layer does;
 * - with CRTSCTS set, output waits while CTS is low (write() resolves, drain() waits);
 * - `modemLines: false` makes it behave like a pty: no DTR, no modem status.
 *
 * Bytes cross in microtasks (never synchronously inside send()/write()), so a
 * far end that answers from its data callback cannot re-enter the getty's handler.
 * Timed behaviour (quiet-wait, DTR toggle) runs on the injected Clock.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { TgettyError } from '../core/errors.js';
import { CLOCAL, CRTSCTS, HUPCL } from './libc.js';
import type { Termios } from './libc.js';
import {
  canceledError, deviceName, hangupError, InputRouter, LineEmitter,
} from './line.js';
import type { CarrierWatch, CarrierWatchOptions, HangupInfo, Line, LineMode, LineState, ModemStatus, QuietOptions, QuietResult } from './line.js';
import { applyTermiosMode, linuxDefaultTermios, speedOf, withClocal, withSpeed } from './termios-presets.js';

export interface MemoryLineOptions {
  clock: Clock;
  /** Default `/dev/ttyMEM0`. */
  path?: string;
  /** False: behave like a pty (no DTR, no DCD/DSR/CTS/RI). Default true. */
  modemLines?: boolean;
  /** Initial modem inputs. Default: DSR and CTS up, DCD and RI down (an idle modem). */
  modem?: Partial<ModemStatus>;
  /** Termios at open. Default: the kernel's serial-port defaults (9600, CLOCAL). */
  termios?: Termios;
  /** Provide a real fd for openChildFd() (e.g. a pty slave in an integration test). Default: throws. */
  openChildFd?: () => number;
}

/** One change of DTR as seen by the far end. `at` is clock.monotonic(). */
export interface DtrChange {
  at: number;
  on: boolean;
}

/** The far (modem) end of a memory line. */
export interface FarEnd {
  /** Bytes toward the getty. */
  send(bytes: Uint8Array | string): void;
  /** Called with every chunk the getty's bytes reach the far end. Returns an unsubscribe function. */
  onData(cb: (chunk: Buffer) => void): () => void;
  /** Everything the getty's writes delivered so far. */
  readonly received: Buffer;
  /** Return `received` and empty it. */
  take(): Buffer;
  /** Change modem inputs (DCD, DSR, CTS, RI); the line emits 'modem' and may hang up. */
  setModem(change: Partial<ModemStatus>): void;
  readonly modem: ModemStatus;
  readonly dtr: boolean;
  /** Every DTR change, in order. */
  readonly dtrChanges: readonly DtrChange[];
  /** Called on every DTR change. Returns an unsubscribe function. */
  onDtr(cb: (on: boolean) => void): () => void;
  /** The far side went away (like closing a pty master): the line hangs up (reason 'eof'). */
  hangup(): void;
  /** The line's current termios and what it means. */
  readonly termios: Termios;
  readonly mode: LineMode | undefined;
  readonly speed: number;
  readonly clocal: boolean;
  /** Line state as the far end sees it: released means a child holds the device. */
  readonly lineState: LineState | 'released';
  /** Bytes sent toward the line and not yet read by it (held while paused). */
  readonly pendingToLine: number;
  /** Bytes written by the getty and not yet delivered (held back by CTS flow control). */
  readonly pendingFromLine: number;
}

class MemoryFar implements FarEnd {
  receivedChunks: Buffer[] = [];
  dataCbs = new Set<(chunk: Buffer) => void>();
  dtrCbs = new Set<(on: boolean) => void>();
  dtrLog: DtrChange[] = [];

  constructor(private readonly l: MemoryLine) {}

  send(bytes: Uint8Array | string): void {
    const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
    this.l.fromFar(b);
  }

  onData(cb: (chunk: Buffer) => void): () => void {
    this.dataCbs.add(cb);
    return () => this.dataCbs.delete(cb);
  }

  get received(): Buffer {
    return Buffer.concat(this.receivedChunks);
  }

  take(): Buffer {
    const b = this.received;
    this.receivedChunks = [];
    return b;
  }

  setModem(change: Partial<ModemStatus>): void {
    this.l.farSetModem(change);
  }

  get modem(): ModemStatus {
    return { ...this.l.modemIn };
  }

  get dtr(): boolean {
    return this.l.dtr;
  }

  get dtrChanges(): readonly DtrChange[] {
    return this.dtrLog;
  }

  onDtr(cb: (on: boolean) => void): () => void {
    this.dtrCbs.add(cb);
    return () => this.dtrCbs.delete(cb);
  }

  hangup(): void {
    this.l.farHangup();
  }

  get termios(): Termios {
    return this.l.getTermios();
  }

  get mode(): LineMode | undefined {
    return this.l.mode;
  }

  get speed(): number {
    return speedOf(this.l.termiosModel);
  }

  get clocal(): boolean {
    return (this.l.termiosModel.c_cflag & CLOCAL) !== 0;
  }

  get lineState(): LineState | 'released' {
    return this.l.released ? 'released' : this.l.state;
  }

  get pendingToLine(): number {
    return this.l.pendingIn();
  }

  get pendingFromLine(): number {
    return this.l.outQueue.reduce((n, b) => n + b.length, 0);
  }
}

interface Pending {
  resolve: () => void;
  reject: (e: unknown) => void;
}

export class MemoryLine extends LineEmitter implements Line {
  readonly device: string;
  readonly path: string;
  state: LineState = 'open';
  released = false;
  termiosModel: Termios;
  mode: LineMode | undefined;
  dtr: boolean;
  modemIn: ModemStatus;
  outQueue: Buffer[] = [];
  readonly far: MemoryFar;

  private readonly clock: Clock;
  private readonly modemLines: boolean;
  private readonly childFd: (() => number) | undefined;
  private readonly router: InputRouter;
  /** Far-to-line bytes not yet read (the "kernel input queue"). */
  private inQueue: Buffer[] = [];
  private reading = false;
  private drainWaiters: Pending[] = [];
  private toggles = new Set<Pending & { cancel: () => void }>();
  private flushScheduled = false;
  private hangupInfo: HangupInfo | undefined;
  /** The far end went away (also after release(): the device, not our handle on it). */
  private deviceGone = false;

  constructor(opts: MemoryLineOptions) {
    super();
    this.clock = opts.clock;
    this.path = opts.path ?? '/dev/ttyMEM0';
    this.device = deviceName(this.path);
    this.modemLines = opts.modemLines ?? true;
    this.childFd = opts.openChildFd;
    this.termiosModel = opts.termios ?? linuxDefaultTermios('serial');
    this.modemIn = { dcd: false, dsr: true, cts: true, ri: false, ...opts.modem };
    this.dtr = false;
    this.far = new MemoryFar(this);
    this.router = new InputRouter(this.clock, (b) => this.emit('data', b), (on) => this.setReadingInternal(on));
    // The kernel raises DTR (and RTS) on open.
    if (this.modemLines) this.changeDtr(true);
  }

  get paused(): boolean {
    return this.router.isPaused;
  }

  // ---- input ----

  pause(): void {
    if (this.state !== 'open') return;
    this.router.pause();
  }

  resume(): void {
    if (this.state !== 'open') return;
    this.router.resume();
  }

  waitQuiet(quietMs: number, opts?: QuietOptions): Promise<QuietResult> {
    const ended = this.endedError();
    if (ended !== undefined) return Promise.reject(ended);
    return this.router.waitQuiet(quietMs, opts, this.device);
  }

  flushInput(): void {
    this.inQueue = [];
    this.router.discardHeld();
  }

  // ---- output ----

  write(bytes: Uint8Array | string): Promise<void> {
    const ended = this.endedError();
    if (ended !== undefined) return Promise.reject(ended);
    const b = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes);
    if (b.length > 0) this.outQueue.push(b);
    this.scheduleFlush();
    // Handed to the "kernel" now; delivery to the far end may wait for CTS.
    return Promise.resolve();
  }

  drain(): Promise<void> {
    const ended = this.endedError();
    if (ended !== undefined) return Promise.reject(ended);
    return new Promise<void>((resolve, reject) => {
      this.drainWaiters.push({ resolve, reject });
      this.scheduleFlush();
    });
  }

  // ---- termios ----

  applyMode(mode: LineMode): void {
    this.requireOpen();
    this.termiosModel = applyTermiosMode(this.termiosModel, mode);
    this.mode = mode;
    this.scheduleFlush(); // CRTSCTS may have changed
  }

  getTermios(): Termios {
    return { ...this.termiosModel, c_cc: [...this.termiosModel.c_cc] };
  }

  setSpeed(baud: number): void {
    this.requireOpen();
    this.termiosModel = withSpeed(this.termiosModel, baud);
  }

  getSpeed(): number {
    return speedOf(this.termiosModel);
  }

  setClocal(on: boolean): void {
    this.requireOpen();
    this.termiosModel = withClocal(this.termiosModel, on);
    // Like the kernel: clearing CLOCAL with carrier already down does not hang up by
    // itself; the next DCD drop does.
  }

  // ---- modem control ----

  setDtr(on: boolean): boolean {
    this.requireOpen();
    if (!this.modemLines) return false;
    this.changeDtr(on);
    return true;
  }

  toggleDtr(ms: number): Promise<boolean> {
    const ended = this.endedError();
    if (ended !== undefined) return Promise.reject(ended);
    if (!this.setDtr(false)) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      const entry = {
        resolve: () => resolve(true),
        reject,
        cancel: () => timer.cancel(),
      };
      const timer = this.clock.setTimeout(() => {
        this.toggles.delete(entry);
        if (this.state === 'open') this.changeDtr(true);
        entry.resolve();
      }, ms);
      this.toggles.add(entry);
    });
  }

  getModemStatus(): ModemStatus | undefined {
    this.requireOpen();
    return this.modemLines ? { ...this.modemIn } : undefined;
  }

  // ---- hand-over and endings ----

  openChildFd(): number {
    this.requireOpen();
    if (this.childFd === undefined) {
      throw new TgettyError('LINE_OPEN_FAILED', 'a memory line has no device to open for a child', { port: this.device, unsupported: true });
    }
    return this.childFd();
  }

  release(): void {
    if (this.state === 'closed') return;
    this.released = true;
    this.end();
  }

  close(): void {
    if (this.state === 'closed') return;
    // Last close: HUPCL drops DTR (a released line is still held open by the child).
    if (!this.released && this.modemLines && (this.termiosModel.c_cflag & HUPCL) !== 0 && this.dtr) this.changeDtr(false);
    this.end();
  }

  watchCarrier(opts: CarrierWatchOptions, onLost: (why: string) => void): CarrierWatch {
    // The model of the device the far end drives: its hangup and DCD, whatever our handle's state.
    let timer: TimerHandle | undefined;
    let stopped = false;
    const stop = (): void => {
      stopped = true;
      timer?.cancel();
    };
    const check = (): void => {
      if (stopped) return;
      const why = this.deviceGone ? 'the line hung up' : !opts.ignoreDcd && this.modemLines && !this.modemIn.dcd ? 'DCD is low' : undefined;
      if (why !== undefined) {
        stop();
        onLost(why);
        return;
      }
      timer = this.clock.setTimeout(check, opts.intervalMs);
    };
    timer = this.clock.setTimeout(check, opts.intervalMs);
    return { stop, fd: undefined };
  }

  // ---- far end hooks ----

  fromFar(b: Buffer): void {
    if (this.state !== 'open' || b.length === 0) return;
    this.inQueue.push(b);
    if (this.reading) this.scheduleIn();
  }

  farSetModem(change: Partial<ModemStatus>): void {
    const before = { ...this.modemIn };
    this.modemIn = { ...this.modemIn, ...change };
    if (!this.modemLines || this.state !== 'open') return;
    const changed = (Object.keys(before) as (keyof ModemStatus)[]).some((k) => before[k] !== this.modemIn[k]);
    if (!changed) return;
    if (before.cts !== this.modemIn.cts) this.scheduleFlush();
    this.emit('modem', { ...this.modemIn });
    if (before.dcd && !this.modemIn.dcd && (this.termiosModel.c_cflag & CLOCAL) === 0) {
      // The tty layer hangs up on carrier loss without CLOCAL, and HUPCL drops DTR with it.
      if ((this.termiosModel.c_cflag & HUPCL) !== 0 && this.dtr) this.changeDtr(false);
      this.hangup({ reason: 'carrier' });
    }
  }

  farHangup(): void {
    this.deviceGone = true;
    if (this.state !== 'open') return;
    this.hangup({ reason: 'eof' });
  }

  pendingIn(): number {
    return this.inQueue.reduce((n, b) => n + b.length, 0) + this.router.heldBytes;
  }

  // ---- internals ----

  private setReadingInternal(on: boolean): void {
    this.reading = on;
    if (on) this.scheduleIn();
  }

  private scheduleIn(): void {
    queueMicrotask(() => {
      while (this.reading && this.state === 'open' && this.inQueue.length > 0) {
        const b = this.inQueue.shift();
        if (b !== undefined) this.router.push(b);
      }
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flushOut();
    });
  }

  private flushOut(): void {
    if (this.state !== 'open') return;
    const blocked = this.modemLines && (this.termiosModel.c_cflag & CRTSCTS) !== 0 && !this.modemIn.cts;
    if (!blocked) {
      while (this.outQueue.length > 0) {
        const b = this.outQueue.shift();
        if (b === undefined) break;
        this.far.receivedChunks.push(b);
        for (const cb of this.far.dataCbs) cb(b);
        if (this.state !== 'open') return;
      }
    }
    if (this.outQueue.length === 0) {
      const w = this.drainWaiters;
      this.drainWaiters = [];
      for (const p of w) p.resolve();
    }
  }

  private changeDtr(on: boolean): void {
    if (this.dtr === on) return;
    this.dtr = on;
    this.far.dtrLog.push({ at: this.clock.monotonic(), on });
    for (const cb of this.far.dtrCbs) cb(on);
  }

  private hangup(info: HangupInfo): void {
    if (this.state !== 'open') return;
    this.state = 'hungup';
    this.hangupInfo = info;
    this.failPending(hangupError(this.device, info));
    this.emit('hangup', info);
  }

  private end(): void {
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    if (wasOpen || this.drainWaiters.length > 0 || this.toggles.size > 0) this.failPending(canceledError(this.device));
    this.inQueue = [];
    this.outQueue = [];
  }

  private failPending(err: TgettyError): void {
    this.reading = false;
    this.router.fail(err);
    const d = this.drainWaiters;
    this.drainWaiters = [];
    for (const p of d) p.reject(err);
    const t = [...this.toggles];
    this.toggles.clear();
    for (const p of t) {
      p.cancel();
      p.reject(err);
    }
  }

  private endedError(): TgettyError | undefined {
    if (this.state === 'closed') return canceledError(this.device);
    if (this.state === 'hungup') return hangupError(this.device, this.hangupInfo ?? { reason: 'eof' });
    return undefined;
  }

  private requireOpen(): void {
    const e = this.endedError();
    if (e !== undefined) throw e;
  }
}

/** A memory line and its far end. */
export function createMemoryLinePair(opts: MemoryLineOptions): { line: MemoryLine; far: FarEnd } {
  const line = new MemoryLine(opts);
  return { line, far: line.far };
}
