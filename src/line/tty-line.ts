/**
 * The real Line: a tty device (serial port or pty slave) read through Node's
 * tty.ReadStream (libuv, event-driven) with termios and modem control through
 * libc.ts. Facts this relies on were measured in node-tty-spike.md:
 * - libuv re-opens the device with a *blocking* open() in the main thread, so CLOCAL
 *   is set before the stream is built (no carrier wait);
 * - setRawMode() is never used (libuv would restore termios at exit); presets go through tcsetattr;
 * - destroy() closes only libuv's fd, so ours is closed explicitly;
 * - a hangup shows as 'end' (EOF) or an EIO error, with no CPU spin.
 */
import { writeSync } from 'node:fs';
import tty from 'node:tty';
import type { Clock, TimerHandle } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { TgettyError, errnoCode, isTgettyError, toTgettyError } from '../core/errors.js';
import { CLOCAL, O_NOCTTY, O_NONBLOCK, O_RDWR, TCIFLUSH, TIOCM_CAR, TIOCM_CTS, TIOCM_DSR, TIOCM_DTR, TIOCM_RNG, closeFd, getModemBits, openFd, outputPending, setModemBits, setNonBlocking, tcdrain, tcflush, tcgetattr, tcsetattr } from './libc.js';
import type { Termios } from './libc.js';
import {
  canceledError, deviceName, hangupError, InputRouter, LineEmitter,
} from './line.js';
import type { CarrierWatch, CarrierWatchOptions, HangupInfo, Line, LineMode, LineState, ModemStatus, QuietOptions, QuietResult } from './line.js';
import { watchTtyCarrier } from './carrier-watch.js';
import { applyTermiosMode, speedOf, withClocal, withSpeed } from './termios-presets.js';

export interface TtyLineOptions {
  /** Timers for quiet-wait, DTR toggle, drain and modem polling. Default: the system clock. */
  clock?: Clock;
  /**
   * Poll the modem status inputs this often and emit 'modem' on change (there is no
   * event-driven TIOCMIWAIT that does not block the main thread). Default: off.
   */
  modemPollMs?: number;
  /** How often drain() checks the output queue. Default 10 ms. */
  drainPollMs?: number;
}

const ENOTTY = 25;
const EINVAL = 22;

/** The libuv stream handle of a tty.ReadStream: what Socket.pause() itself uses to stop reading. */
interface UvStreamHandle {
  reading: boolean;
  readStart(): number;
  readStop(): number;
}

interface PendingWrite {
  promise: Promise<void>;
  reject: (e: TgettyError) => void;
}

interface Waiter {
  reject: (e: TgettyError) => void;
  timer: TimerHandle | undefined;
}

/** Where a line's reads go (set once the line exists). */
interface ReadSink {
  push: ((chunk: Buffer) => void) | undefined;
}

let readBuffer: Buffer | undefined;
/**
 * One read buffer for every line: libuv reads into it and the callback copies the bytes
 * out before the next read of any line (all on the main thread), so one is enough.
 */
function sharedReadBuffer(): Buffer {
  readBuffer ??= Buffer.allocUnsafe(65536);
  return readBuffer;
}

/** errno of open(2) for a path that does not exist (Linux). */
const ENOENT = 2;

/** Open a tty device as a Line (O_RDWR|O_NOCTTY|O_NONBLOCK|O_CLOEXEC). Sets CLOCAL. Throws LINE_OPEN_FAILED. */
export function openTtyLine(path: string, opts: TtyLineOptions = {}): TtyLine {
  const port = deviceName(path);
  let fd: number;
  try {
    fd = openFd(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
  } catch (e) {
    // In words: the admin reads this in `tgetty status` (a USB modem unplugged, a typo in --lines).
    if (isTgettyError(e) && e.context.errno === ENOENT) throw new TgettyError('LINE_OPEN_FAILED', `no such device ${path}`, { port, path, errno: 'ENOENT' }, { cause: e });
    throw toTgettyError(e, 'LINE_OPEN_FAILED', { port, path });
  }
  try {
    const t = tcgetattr(fd);
    // Before the stream: libuv's re-open is blocking and would wait for carrier without CLOCAL.
    if ((t.c_cflag & CLOCAL) === 0) tcsetattr(fd, withClocal(t, true));
    // Reads land in one shared buffer and are handed over by a callback (net.Socket's
    // `onread`), not pushed through the Readable machinery: a stream read allocates a 64 KB
    // buffer per read (64 of them when 64 lines ring) and costs more than the syscall.
    const input: ReadSink = { push: undefined };
    const onread = {
      buffer: sharedReadBuffer(),
      callback: (n: number, buf: Uint8Array): boolean => {
        // Copied at once: the buffer is the next read's, for every line.
        input.push?.(Buffer.from(buf.subarray(0, n)));
        return true;
      },
    };
    const rs = new tty.ReadStream(fd, { onread } as unknown as ConstructorParameters<typeof tty.ReadStream>[1]);
    return new TtyLine(path, fd, rs, opts, input);
  } catch (e) {
    closeFd(fd);
    throw new TgettyError('LINE_OPEN_FAILED', `cannot set up ${path} as a tty: ${e instanceof Error ? e.message : String(e)}`, { port, path }, { cause: e });
  }
}

export class TtyLine extends LineEmitter implements Line {
  readonly device: string;
  readonly path: string;
  mode: LineMode | undefined;

  private lineState: LineState = 'open';
  private hangupInfo: HangupInfo | undefined;
  private readonly clock: Clock;
  private readonly router: InputRouter;
  private readonly handle: UvStreamHandle | undefined;
  private wantRead = false;
  private readonly writes = new Set<PendingWrite>();
  private readonly waiters = new Set<Waiter>();
  private readonly drainPollMs: number;
  private modemTimer: TimerHandle | undefined;
  private lastModem: ModemStatus | undefined;

  constructor(path: string, private readonly fd: number, private readonly rs: tty.ReadStream, opts: TtyLineOptions, input: ReadSink) {
    super();
    this.path = path;
    this.device = deviceName(path);
    this.clock = opts.clock ?? systemClock;
    this.drainPollMs = opts.drainPollMs ?? 10;
    this.handle = (rs as unknown as { _handle?: UvStreamHandle })._handle;
    // Readable asks for data on its own schedule (resume(), read(0)); only let it start
    // the handle while we want input, so a paused line leaves bytes in the kernel.
    (rs as unknown as { _read: () => void })._read = () => {
      if (this.wantRead) this.startHandle();
    };
    // Reads arrive by the `onread` callback (openTtyLine). The Readable side carries no data
    // and stays paused: its flowing mode would start the handle on its own (Socket.read and
    // resume do, in that mode), behind the router's back.
    rs.pause();
    input.push = (chunk) => this.router.push(chunk);
    rs.on('end', () => this.onHangup({ reason: 'eof' }));
    rs.on('error', (err: Error) => this.onHangup({ reason: 'error', cause: err }));
    rs.on('close', () => this.onHangup({ reason: 'eof' }));
    this.router = new InputRouter(this.clock, (b) => this.emit('data', b), (on) => this.setReading(on));
    if (opts.modemPollMs !== undefined && opts.modemPollMs > 0) this.pollModem(opts.modemPollMs);
  }

  get state(): LineState {
    return this.lineState;
  }

  get paused(): boolean {
    return this.router.isPaused;
  }

  // ---- input ----

  pause(): void {
    if (this.lineState === 'open') this.router.pause();
  }

  resume(): void {
    if (this.lineState === 'open') this.router.resume();
  }

  waitQuiet(quietMs: number, opts?: QuietOptions): Promise<QuietResult> {
    const ended = this.endedError();
    if (ended !== undefined) return Promise.reject(ended);
    return this.router.waitQuiet(quietMs, opts, this.device);
  }

  flushInput(): void {
    this.requireOpen();
    tcflush(this.fd, TCIFLUSH);
    this.router.discardHeld();
  }

  // ---- output ----

  write(bytes: Uint8Array | string): Promise<void> {
    const ended = this.endedError();
    if (ended !== undefined) return Promise.reject(ended);
    // No copy for the fast path: write(2) is done before we return. The stream way copies.
    let b: Uint8Array = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    // Fast path while nothing is queued: one write(2) on our own non-blocking fd, no stream
    // request (a short command like ATA; the stream machinery cost more than the syscall
    // with 64 lines answering at once). What the kernel does not take goes the stream way.
    if (this.writes.size === 0 && this.rs.writableLength === 0) {
      try {
        const n = writeSync(this.fd, b);
        if (n === b.length) return Promise.resolve();
        b = b.subarray(n);
      } catch (err) {
        if (errnoCode(err) !== 'EAGAIN') {
          const e = this.endedError() ?? hangupError(this.device, { reason: 'error', cause: err });
          this.onHangup({ reason: 'error', cause: err });
          return Promise.reject(e);
        }
      }
    }
    let reject!: (e: TgettyError) => void;
    let resolve!: () => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const entry: PendingWrite = { promise, reject };
    this.writes.add(entry);
    // libuv calls back once the bytes are in the kernel (it polls on EAGAIN itself).
    this.rs.write(Buffer.from(b), (err) => {
      this.writes.delete(entry);
      if (err === undefined || err === null) resolve();
      else {
        const e = this.endedError() ?? hangupError(this.device, { reason: 'error', cause: err });
        reject(e);
        this.onHangup({ reason: 'error', cause: err });
      }
    });
    return promise;
  }

  drain(): Promise<void> {
    const ended = this.endedError();
    if (ended !== undefined) return Promise.reject(ended);
    const before = [...this.writes].map((w) => w.promise);
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = { reject, timer: undefined };
      this.waiters.add(w);
      const done = (err?: TgettyError): void => {
        if (!this.waiters.delete(w)) return;
        w.timer?.cancel();
        if (err === undefined) resolve();
        else reject(err);
      };
      const poll = (): void => {
        if (!this.waiters.has(w)) return;
        try {
          // Poll instead of a bare tcdrain(): with CTS held low that would block the whole event loop.
          if (outputPending(this.fd) > 0) {
            w.timer = this.clock.setTimeout(poll, this.drainPollMs);
            return;
          }
          tcdrain(this.fd); // the queue is empty: only the UART FIFO is left, a bounded wait
          done();
        } catch (e) {
          done(this.endedError() ?? toTgettyError(e, 'LINE_IOCTL_FAILED', { port: this.device }));
        }
      };
      void Promise.all(before).then(poll, (e: unknown) => done(toTgettyError(e, 'LINE_HANGUP', { port: this.device })));
    });
  }

  // ---- termios ----

  applyMode(mode: LineMode): void {
    this.termios('applyMode', (t) => applyTermiosMode(t, mode));
    this.mode = mode;
  }

  getTermios(): Termios {
    this.requireOpen();
    return this.ioctl('tcgetattr', () => tcgetattr(this.fd));
  }

  setSpeed(baud: number): void {
    this.termios('setSpeed', (t) => withSpeed(t, baud));
  }

  getSpeed(): number {
    return speedOf(this.getTermios());
  }

  setClocal(on: boolean): void {
    this.termios('setClocal', (t) => withClocal(t, on));
  }

  // ---- modem control ----

  setDtr(on: boolean): boolean {
    this.requireOpen();
    try {
      setModemBits(this.fd, TIOCM_DTR, on);
      return true;
    } catch (e) {
      if (noModemLines(e)) return false;
      throw toTgettyError(e, 'LINE_IOCTL_FAILED', { port: this.device });
    }
  }

  toggleDtr(ms: number): Promise<boolean> {
    const ended = this.endedError();
    if (ended !== undefined) return Promise.reject(ended);
    let supported: boolean;
    try {
      supported = this.setDtr(false);
    } catch (e) {
      return Promise.reject(toTgettyError(e, 'LINE_IOCTL_FAILED', { port: this.device }));
    }
    if (!supported) return Promise.resolve(false);
    return new Promise<boolean>((resolve, reject) => {
      const w: Waiter = { reject, timer: undefined };
      this.waiters.add(w);
      w.timer = this.clock.setTimeout(() => {
        this.waiters.delete(w);
        try {
          resolve(this.setDtr(true));
        } catch (e) {
          reject(toTgettyError(e, 'LINE_IOCTL_FAILED', { port: this.device }));
        }
      }, ms);
    });
  }

  getModemStatus(): ModemStatus | undefined {
    this.requireOpen();
    let bits: number;
    try {
      bits = getModemBits(this.fd);
    } catch (e) {
      if (noModemLines(e)) return undefined;
      throw toTgettyError(e, 'LINE_IOCTL_FAILED', { port: this.device });
    }
    return {
      dcd: (bits & TIOCM_CAR) !== 0,
      dsr: (bits & TIOCM_DSR) !== 0,
      cts: (bits & TIOCM_CTS) !== 0,
      ri: (bits & TIOCM_RNG) !== 0,
    };
  }

  // ---- hand-over and endings ----

  openChildFd(): number {
    this.requireOpen();
    // O_NONBLOCK only for the open itself (never wait for carrier), then blocking for the child.
    const fd = openFd(this.path, O_RDWR | O_NOCTTY | O_NONBLOCK);
    try {
      setNonBlocking(fd, false);
    } catch (e) {
      closeFd(fd);
      throw toTgettyError(e, 'LINE_OPEN_FAILED', { port: this.device });
    }
    return fd;
  }

  release(): void {
    this.close();
  }

  close(): void {
    if (this.lineState === 'closed') return;
    this.lineState = 'closed';
    this.failPending(canceledError(this.device));
    this.rs.destroy();
    closeFd(this.fd);
  }

  watchCarrier(opts: CarrierWatchOptions, onLost: (why: string) => void): CarrierWatch {
    return watchTtyCarrier(this.path, this.clock, opts, onLost);
  }

  // ---- internals ----

  private startHandle(): void {
    const h = this.handle;
    if (h !== undefined && !h.reading && !this.rs.destroyed) {
      h.reading = true;
      h.readStart();
    }
  }

  private setReading(on: boolean): void {
    this.wantRead = on;
    if (on) {
      this.startHandle();
    } else {
      const h = this.handle;
      if (h !== undefined && h.reading && !this.rs.destroyed) {
        h.reading = false;
        h.readStop();
      }
    }
  }

  private onHangup(info: HangupInfo): void {
    if (this.lineState !== 'open') return;
    this.lineState = 'hungup';
    this.hangupInfo = info;
    this.failPending(hangupError(this.device, info));
    this.emit('hangup', info);
  }

  private failPending(err: TgettyError): void {
    this.wantRead = false;
    this.router.fail(err);
    this.modemTimer?.cancel();
    this.modemTimer = undefined;
    for (const w of this.writes) w.reject(err);
    this.writes.clear();
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) {
      w.timer?.cancel();
      w.reject(err);
    }
  }

  private pollModem(ms: number): void {
    if (this.lineState !== 'open') return;
    let s: ModemStatus | undefined;
    try {
      s = this.getModemStatus();
    } catch (e) {
      this.emit('error', toTgettyError(e, 'LINE_IOCTL_FAILED', { port: this.device }));
      return;
    }
    if (s === undefined) return; // no modem lines: nothing to watch
    const prev = this.lastModem;
    this.lastModem = s;
    if (prev !== undefined && (prev.dcd !== s.dcd || prev.dsr !== s.dsr || prev.cts !== s.cts || prev.ri !== s.ri)) {
      this.emit('modem', s);
    }
    this.modemTimer = this.clock.setTimeout(() => this.pollModem(ms), ms);
  }

  private termios(what: string, change: (t: Termios) => Termios): void {
    this.requireOpen();
    this.ioctl(what, () => tcsetattr(this.fd, change(tcgetattr(this.fd))));
  }

  private ioctl<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (isTgettyError(e, 'CLI_BAD_SPEED')) throw e;
      throw new TgettyError('LINE_IOCTL_FAILED', `${what} on ${this.device}: ${e instanceof Error ? e.message : String(e)}`, { port: this.device }, { cause: e });
    }
  }

  private endedError(): TgettyError | undefined {
    if (this.lineState === 'closed') return canceledError(this.device);
    if (this.lineState === 'hungup') return hangupError(this.device, this.hangupInfo ?? { reason: 'eof' });
    return undefined;
  }

  private requireOpen(): void {
    const e = this.endedError();
    if (e !== undefined) throw e;
  }
}

/** ENOTTY/EINVAL from a TIOCM* ioctl: the transport has no modem lines (pty). */
function noModemLines(e: unknown): boolean {
  return isTgettyError(e) && (e.context.errno === ENOTTY || e.context.errno === EINVAL);
}
