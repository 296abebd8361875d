/**
 * The tty contract: one serial port as the getty sees it. Two implementations keep
 * to it: `TtyLine` (src/line/tty-line.ts, a real device or pty slave) and the
 * in-memory `MemoryLine` (src/line/memory-line.ts). test/contract/line.test.ts runs
 * one suite against both; docs/line-contract.md is the prose version.
 *
 * Endings, as in serialport's binding contract:
 * - `close()`/`release()` is "we stopped": everything pending rejects with a
 *   TgettyError `LINE_CLOSED` whose `context.canceled` is true (`isCanceled`).
 * - A hangup is "the line went away" (EOF or EIO on read, carrier loss with CLOCAL
 *   off, the far end of a pty closing): the line emits 'hangup' once and everything
 *   pending (and every later write) rejects with `LINE_HANGUP`,
 *   `context.disconnected` true (`isDisconnected`). The line must still be closed.
 */
import { EventEmitter } from 'node:events';
import type { Clock, TimerHandle } from '../core/clock.js';
import { TgettyError } from '../core/errors.js';
import type { Termios } from './libc.js';
import type { LineMode } from './termios-presets.js';

export type { LineMode, TermiosModeName } from './termios-presets.js';
export type { Termios } from './libc.js';

/** The modem status inputs. RI is included: a getty may want it, serialport lacks it. */
export interface ModemStatus {
  /** Data Carrier Detect (TIOCM_CAR). */
  dcd: boolean;
  dsr: boolean;
  cts: boolean;
  /** Ring Indicator (TIOCM_RNG). */
  ri: boolean;
}

/** Why the line hung up. */
export interface HangupInfo {
  /** `eof`: read returned end of file; `error`: read/write failed (EIO, EPIPE...); `carrier`: DCD dropped with CLOCAL off. */
  reason: 'eof' | 'error' | 'carrier';
  /** The underlying error, if any. */
  cause?: unknown;
}

/** Events of a Line, with their argument lists. */
export interface LineEvents {
  /** Bytes from the far end. Only emitted while the line is resumed and no quiet-wait runs. */
  data: [chunk: Buffer];
  /** The line went away; emitted at most once. */
  hangup: [info: HangupInfo];
  /** A failure tied to no call (e.g. modem-status polling). Node semantics: unhandled 'error' throws. */
  error: [err: TgettyError];
  /** A modem status input changed (fake: always; real tty: only with `modemPollMs`). */
  modem: [status: ModemStatus];
}

export type LineState = 'open' | 'hungup' | 'closed';

export interface QuietOptions {
  /** Stop after this many discarded bytes (mgetty: 10000, "got too much junk"). Bytes past it stay unread. */
  maxBytes?: number;
}

export interface QuietResult {
  /** Everything read and thrown away while waiting (at most `maxBytes`). */
  discarded: Buffer;
  /** True when the wait ended because `maxBytes` was reached, not because the line went quiet. */
  tooMuch: boolean;
}

export interface CarrierWatchOptions {
  /** How often the device is looked at (ms, on the line's Clock). */
  intervalMs: number;
  /** ignore-carrier: only a hangup of the device counts, not DCD low. */
  ignoreDcd: boolean;
  /** The watch could not get at the device (it then reports the carrier lost at the first check). */
  onError?: (err: TgettyError) => void;
}

export interface CarrierWatch {
  /** Stop watching and let go of the device. Idempotent. */
  stop(): void;
  /** The fd the watch holds on the device (never read), or undefined (none: memory line, stopped, open failed). */
  readonly fd: number | undefined;
}

/** Default bound of a quiet-wait (mgetty clean_line). */
export const QUIET_MAX_BYTES = 10_000;

export interface Line {
  /** Device name as in logs and lock files, e.g. `ttyS3` or `pts/4`. */
  readonly device: string;
  /** Full path, e.g. `/dev/ttyS3`. */
  readonly path: string;
  readonly state: LineState;
  /** True while input is not being read (the initial state). */
  readonly paused: boolean;

  on<K extends keyof LineEvents>(event: K, listener: (...args: LineEvents[K]) => void): this;
  once<K extends keyof LineEvents>(event: K, listener: (...args: LineEvents[K]) => void): this;
  off<K extends keyof LineEvents>(event: K, listener: (...args: LineEvents[K]) => void): this;

  /**
   * Stop reading. Bytes that arrive stay in the kernel's input queue (so a dial-out
   * program that opened the port can read them); nothing is emitted. A line starts
   * paused, so no byte is lost before the first listener is attached.
   */
  pause(): void;
  /** Start (or continue) reading and emitting 'data', in arrival order. Bytes held while paused come first. */
  resume(): void;
  /**
   * Wait until no byte has arrived for `quietMs` (timed with the line's Clock), reading
   * and discarding input meanwhile, also while paused; §5.7 "waiting for line to clear".
   * Bytes held from before the call count as discarded. One wait at a time.
   * Rejects `LINE_HANGUP` on hangup, canceled on close.
   */
  waitQuiet(quietMs: number, opts?: QuietOptions): Promise<QuietResult>;

  /** Queue bytes; resolves once they are handed to the kernel (not necessarily sent). Order is kept. */
  write(bytes: Uint8Array | string): Promise<void>;
  /** Resolves when every byte written so far has left the output queue (tcdrain, without blocking the event loop). */
  drain(): Promise<void>;

  /** Put a preset on the line (src/line/termios-presets.ts). Throws `LINE_IOCTL_FAILED`. */
  applyMode(mode: LineMode): void;
  /** The last preset applied with applyMode (speed/CLOCAL changes since are visible in getTermios), or undefined. */
  readonly mode: LineMode | undefined;
  /** The current termios, read back from the device. */
  getTermios(): Termios;
  setSpeed(baud: number): void;
  /** Speed in baud (0 if the code is not a known rate). */
  getSpeed(): number;
  /**
   * CLOCAL on: carrier is ignored. Off: carrier loss hangs the line up (kernel). On a real
   * port, turn it off only after CONNECT: a blocking open would otherwise wait for carrier.
   */
  setClocal(on: boolean): void;

  /**
   * Raise or lower DTR. Returns false when the transport has no modem lines (pty: ENOTTY);
   * callers log that and go on, as mgetty does. Other failures throw `LINE_IOCTL_FAILED`.
   */
  setDtr(on: boolean): boolean;
  /** DTR low, wait `ms` (Clock), DTR high. Resolves false at once if there are no modem lines. */
  toggleDtr(ms: number): Promise<boolean>;
  /** The modem status inputs, or undefined when the transport has no modem lines (pty). */
  getModemStatus(): ModemStatus | undefined;

  /** Throw away input not yet read (kernel queue and anything held while paused). */
  flushInput(): void;

  /**
   * A fresh fd on the same device (O_RDWR|O_NOCTTY, blocking, O_CLOEXEC) for a child's
   * stdin/stdout/stderr. It is a separate open file description, so the child's
   * blocking mode never leaks into the parent's. The caller closes it after spawn.
   * Never blocks, even with CLOCAL off and no carrier. Throws if the transport has no device.
   */
  openChildFd(): number;
  /**
   * Hand the line over: stop reading and close the parent's fds like close(), for use
   * once a child holds its own fd. Because the device stays open in the child, HUPCL
   * does not fire and the line is not hung up.
   */
  release(): void;
  /** Stop reading, cancel pending calls (canceled marker), close the parent's fds. Idempotent. */
  close(): void;
  /**
   * Watch the device for the caller going away while a child holds it (after release()):
   * every `intervalMs`, the device hung up (pty master closed, the kernel hung the port up
   * on DCD loss) or, unless `ignoreDcd`, DCD is low. `onLost` is then called once and the
   * watch stops. Works whatever the line's state. A real tty keeps one fd for it,
   * O_RDONLY|O_NOCTTY|O_NONBLOCK, never read (ioctls only), closed by stop().
   */
  watchCarrier(opts: CarrierWatchOptions, onLost: (why: string) => void): CarrierWatch;
}

// ---- endings ----

export function canceledError(port: string, what = 'line closed'): TgettyError {
  return new TgettyError('LINE_CLOSED', `${what} (canceled)`, { port, canceled: true });
}

export function hangupError(port: string, info: HangupInfo): TgettyError {
  return new TgettyError('LINE_HANGUP', `line hung up (${info.reason})`, { port, disconnected: true }, { cause: info.cause });
}

/** True for the rejection of a call canceled by close()/release(). */
export function isCanceled(err: unknown): boolean {
  return err instanceof TgettyError && err.context.canceled === true;
}

/** True for the rejection of a call that failed because the line went away. */
export function isDisconnected(err: unknown): boolean {
  return err instanceof TgettyError && err.context.disconnected === true;
}

/** `/dev/ttyS3` -> `ttyS3`, `/dev/pts/4` -> `pts/4` (mgetty's Device). */
export function deviceName(path: string): string {
  return path.startsWith('/dev/') ? path.slice(5) : path;
}

// ---- shared plumbing for the implementations ----

/** A typed EventEmitter for Line events. */
export class LineEmitter {
  private readonly ee = new EventEmitter();

  on<K extends keyof LineEvents>(event: K, listener: (...args: LineEvents[K]) => void): this {
    this.ee.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof LineEvents>(event: K, listener: (...args: LineEvents[K]) => void): this {
    this.ee.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof LineEvents>(event: K, listener: (...args: LineEvents[K]) => void): this {
    this.ee.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  protected emit<K extends keyof LineEvents>(event: K, ...args: LineEvents[K]): void {
    this.ee.emit(event, ...args);
  }

  protected listenerCount(event: keyof LineEvents): number {
    return this.ee.listenerCount(event);
  }
}

interface QuietWaiter {
  quietMs: number;
  maxBytes: number;
  got: Buffer[];
  size: number;
  timer: TimerHandle | undefined;
  resolve: (r: QuietResult) => void;
  reject: (e: unknown) => void;
}

/**
 * Where input goes: to a running quiet-wait, to 'data' listeners, or (paused) into a
 * hold queue. Tells the transport when it should read (`setReading`), so a paused
 * real line leaves bytes in the kernel. Shared by both implementations so they
 * cannot disagree on ordering.
 */
export class InputRouter {
  private paused = true;
  private held: Buffer[] = [];
  private quiet: QuietWaiter | undefined;
  private reading = false;
  private delivering = false;

  constructor(
    private readonly clock: Clock,
    private readonly deliver: (chunk: Buffer) => void,
    private readonly setReading: (on: boolean) => void,
  ) {}

  get isPaused(): boolean {
    return this.paused;
  }

  /** Bytes held (read but not yet delivered). */
  get heldBytes(): number {
    return this.held.reduce((n, b) => n + b.length, 0);
  }

  /** Input from the transport, in arrival order. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.quiet !== undefined) {
      this.feedQuiet(chunk);
      return;
    }
    if (this.paused || this.held.length > 0 || this.delivering) {
      this.held.push(chunk);
      this.scheduleDelivery();
      return;
    }
    this.deliver(chunk);
  }

  pause(): void {
    this.paused = true;
    this.update();
  }

  resume(): void {
    this.paused = false;
    this.update();
    this.scheduleDelivery();
  }

  /** Drop everything held (flushInput). */
  discardHeld(): void {
    this.held = [];
  }

  waitQuiet(quietMs: number, opts: QuietOptions | undefined, port: string): Promise<QuietResult> {
    if (this.quiet !== undefined) {
      return Promise.reject(new TgettyError('INTERNAL', 'a quiet-wait is already running on this line', { port }));
    }
    return new Promise<QuietResult>((resolve, reject) => {
      const w: QuietWaiter = {
        quietMs,
        maxBytes: opts?.maxBytes ?? QUIET_MAX_BYTES,
        got: [],
        size: 0,
        timer: undefined,
        resolve,
        reject,
      };
      this.quiet = w;
      const held = this.held;
      this.held = [];
      this.arm(w);
      for (const b of held) if (this.quiet === w) this.feedQuiet(b);
      else this.held.push(b);
      this.update();
    });
  }

  /** End every pending wait with `err` and stop reading (close, release, hangup). */
  fail(err: unknown): void {
    const w = this.quiet;
    this.quiet = undefined;
    w?.timer?.cancel();
    this.paused = true;
    this.update();
    w?.reject(err);
  }

  private arm(w: QuietWaiter): void {
    w.timer?.cancel();
    w.timer = this.clock.setTimeout(() => this.finishQuiet(w, false), w.quietMs);
  }

  private feedQuiet(chunk: Buffer): void {
    const w = this.quiet;
    if (w === undefined) return;
    const room = w.maxBytes - w.size;
    if (chunk.length >= room) {
      w.got.push(chunk.subarray(0, room));
      w.size += room;
      // mgetty stops reading at the bound; the rest stays for the next reader.
      if (chunk.length > room) this.held.unshift(chunk.subarray(room));
      this.finishQuiet(w, true);
      return;
    }
    w.got.push(chunk);
    w.size += chunk.length;
    this.arm(w);
  }

  private finishQuiet(w: QuietWaiter, tooMuch: boolean): void {
    if (this.quiet !== w) return;
    this.quiet = undefined;
    w.timer?.cancel();
    this.update();
    this.scheduleDelivery();
    w.resolve({ discarded: Buffer.concat(w.got), tooMuch });
  }

  private update(): void {
    const want = this.quiet !== undefined || !this.paused;
    if (want !== this.reading) {
      this.reading = want;
      this.setReading(want);
    }
  }

  private scheduleDelivery(): void {
    if (this.delivering || this.paused || this.quiet !== undefined || this.held.length === 0) return;
    this.delivering = true;
    // Deliver held bytes from a microtask, never from inside resume(): a listener must
    // not run before the call that enabled it returns.
    queueMicrotask(() => {
      this.delivering = false;
      while (!this.paused && this.quiet === undefined && this.held.length > 0) {
        const b = this.held.shift();
        if (b !== undefined) this.deliver(b);
      }
    });
  }
}
