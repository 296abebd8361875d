/**
 * One simulated serial line: a pty whose master the simulator owns and whose slave is
 * the getty's tty, published under a stable name (a symlink, e.g. DIR/ttySIM0).
 *
 * Pty facts drive the design (measured, see docs/simulator.md):
 * - When the last fd of the slave closes, reads on the master fail with EIO (epoll says
 *   EPOLLHUP) until the slave is opened again. That last close is the DTE letting go of
 *   the line, which on a serial port drops DTR (HUPCL): the simulator reports it
 *   (`onDteClosed`) and the modem treats it as a DTR drop. To see it, the simulator lets
 *   go of its own slave fd (held while nobody else has the line, so the master stays
 *   readable and the slave raw) as soon as the DTE writes, and takes it again after the
 *   DTE's last close. The master fd itself stays ours; libuv reads a dup of it, and that
 *   dup is what an EIO closes.
 * - Closing the master hangs the slave up: the session that has it as controlling tty
 *   gets SIGHUP, reads give EOF, writes EIO. That is how carrier loss is shown. After it
 *   a fresh pty is made and the symlink re-pointed atomically, so the getty can reopen
 *   the same name.
 * - Writes to the master go straight to write(2), never through the stream: libuv cannot
 *   reopen a pty master, so it treats it as a blocking fd and retries EAGAIN in a tight
 *   loop. When the DTE stops reading and the slave's input queue is full (a session
 *   whose output a modem in command mode echoes back), that loop hung the whole process,
 *   and with it the timer that would have hung the line up. A modem whose DTE does not
 *   take its bytes drops them: so does this line, and notes it.
 */
import { renameSync, rmSync, symlinkSync, lstatSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import tty from 'node:tty';
import { TgettyError, errnoCode } from '../core/errors.js';
import { fdWritable } from './writable.js';
import {
  CLOCAL, CREAD, O_NOCTTY, O_NONBLOCK, O_RDWR, cfmakeraw, closeFd, dupFd, openFd, openPty, tcgetattr, tcsetattr,
} from '../line/libc.js';

/** What a simulated modem needs from its line. The in-memory variant (memory-transport.ts) serves unit tests. */
export interface LineTransport {
  /** The stable name the getty opens. */
  readonly path: string;
  /** The current slave device (changes after each hangup). */
  readonly slave: string;
  write(bytes: Uint8Array): void;
  /** Real hangup: the getty side loses the line; a new one appears under `path`. */
  hangup(): void;
  close(): void;
  /** Bytes for the DTE wait in the line (it is not reading fast enough): the source should stop. */
  readonly blocked?: boolean;
  /** `fn` once nothing waits for the DTE any more (at once if nothing does). */
  onceDrained?(fn: () => void): void;
  /** Stop / go on reading the DTE's bytes (the far end cannot take them as fast). */
  pauseInput?(): void;
  resumeInput?(): void;
  /** A line with a DCD to show (a serial port, ip232): the call state drives it. */
  carrier?(on: boolean): void;
  /** A line set up asynchronously (a listening socket): resolves when it is in service. */
  readonly ready?: Promise<void>;
}

/** Bytes kept for a DTE that is behind; past this it is not reading at all, and bytes are dropped. */
const MAX_PENDING = 1 << 20;
/** Retry a blocked write after this long at first, doubling while the DTE takes nothing. */
const RETRY_MIN_MS = 1;
const RETRY_MAX_MS = 50;

export interface PtyLineOptions {
  dir: string;
  name: string;
  onData: (bytes: Buffer) => void;
  /** After a hangup, when the new slave is in place. */
  onReopen?: (slave: string) => void;
  /** Bytes for the DTE were dropped because its input queue was full (a note for the transcript). */
  onOverflow?: (text: string) => void;
  /** Every fd of the slave but ours closed: the DTE let go of the line (DTR drop by HUPCL). */
  onDteClosed?: () => void;
}

export class PtyLine implements LineTransport {
  readonly path: string;
  private slavePath = '';
  private master: tty.ReadStream | undefined;
  /** The master's fd, for writes (the stream reads it). -1 while there is none. */
  private masterFd = -1;
  /** Bytes dropped since the DTE's input queue filled up (0: it is taking bytes). */
  private dropped = 0;
  private holdFd = -1;
  private closed = false;
  private generation = 0;
  /** Bytes for the DTE that its input queue had no room for yet, in order. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private retry: NodeJS.Timeout | NodeJS.Immediate | undefined;
  /** The master fd the writability watcher is waiting on for us (-1: none). */
  private pollFd = -1;
  private retryMs = RETRY_MIN_MS;
  private drainWaiters: (() => void)[] = [];
  private inputPaused = false;

  constructor(private readonly opts: PtyLineOptions) {
    this.path = join(opts.dir, opts.name);
    this.open();
  }

  get slave(): string {
    return this.slavePath;
  }

  private open(): void {
    const pty = openPty();
    const gen = ++this.generation;
    try {
      this.masterFd = pty.master;
      this.slavePath = pty.slave;
      this.hold();
      this.startReading(gen);
    } catch (err) {
      if (this.holdFd >= 0) closeFd(this.holdFd);
      this.holdFd = -1;
      closeFd(pty.master);
      this.masterFd = -1;
      throw new TgettyError('SIM_FAILED', `cannot set up pty for ${this.path}`, { port: this.opts.name }, { cause: err });
    }
    const tmp = `${this.path}.${process.pid}.tmp`;
    rmSync(tmp, { force: true });
    symlinkSync(pty.slave, tmp);
    renameSync(tmp, this.path);
  }

  /** Hold the slave ourselves while the DTE does not. */
  private hold(): void {
    const hold = openFd(this.slavePath, O_RDWR | O_NOCTTY | O_NONBLOCK);
    try {
      // A serial port waiting for a getty: raw, 8 bit, no echo, modem lines ignored. A fresh
      // pty echoes, which would bounce the modem's RING back at it as "DTE input".
      const t = tcgetattr(hold);
      cfmakeraw(t);
      t.c_cflag |= CLOCAL | CREAD;
      tcsetattr(hold, t);
    } catch (err) {
      closeFd(hold);
      throw err;
    }
    this.holdFd = hold;
  }

  private startReading(gen: number): void {
    const m = new tty.ReadStream(dupFd(this.masterFd));
    m.on('data', (d: Buffer) => {
      this.opts.onData(d);
      // The DTE has the line open (it wrote): from now on its last close must reach us.
      if (this.master === m && this.holdFd >= 0) {
        closeFd(this.holdFd);
        this.holdFd = -1;
      }
    });
    m.on('error', () => this.readEnded(gen, m));
    m.on('end', () => this.readEnded(gen, m));
    this.master = m;
    if (this.inputPaused) m.pause();
  }

  /** The master's read ended (EIO): no fd of the slave is open. */
  private readEnded(gen: number, m: tty.ReadStream): void {
    if (this.closed || gen !== this.generation || this.master !== m) return;
    m.destroy();
    this.master = undefined;
    if (this.holdFd >= 0) {
      // Not the DTE's close (we still held the slave): something else broke; start afresh.
      this.lost(gen);
      return;
    }
    try {
      this.hold();
      this.startReading(gen);
    } catch {
      this.lost(gen);
      return;
    }
    this.opts.onDteClosed?.();
  }

  private lost(gen: number): void {
    if (this.closed || gen !== this.generation) return;
    this.drop();
    this.open();
    this.opts.onReopen?.(this.slavePath);
  }

  /**
   * Bytes for the DTE. When its input queue is full (EAGAIN) the rest waits here, in order,
   * and `blocked` tells the source to stop (a modem's flow control towards the network);
   * a timer retries (from 1 ms, backing off to 50 ms while the DTE takes nothing): the
   * master's writability cannot be waited for in libuv, and the timer runs only while
   * bytes wait. A DTE that takes nothing at all for 1 MB loses bytes, as before.
   */
  write(bytes: Uint8Array): void {
    if (this.masterFd < 0) return;
    if (this.pendingBytes > 0) {
      this.enqueue(bytes);
      return;
    }
    const off = this.writeSome(bytes);
    if (off >= 0 && off < bytes.length) this.enqueue(bytes.subarray(off));
    else if (off === bytes.length) this.flushDropNote();
  }

  get blocked(): boolean {
    return this.pendingBytes > 0;
  }

  onceDrained(fn: () => void): void {
    if (this.pendingBytes === 0) fn();
    else this.drainWaiters.push(fn);
  }

  pauseInput(): void {
    this.inputPaused = true;
    this.master?.pause();
  }

  resumeInput(): void {
    this.inputPaused = false;
    this.master?.resume();
  }

  /** write(2) as much as the DTE's queue takes: the offset reached, -1 when the line is gone. */
  private writeSome(bytes: Uint8Array): number {
    let off = 0;
    while (off < bytes.length) {
      try {
        const n = writeSync(this.masterFd, bytes, off, bytes.length - off);
        off += n;
        // A short write: the queue is full now. Asking again would only fail with EAGAIN,
        // whose exception costs more than the write (a few percent of the CPU per MB).
        if (n === 0 || (off < bytes.length && fdWritable.available)) return off;
      } catch (err) {
        // EAGAIN: the DTE's input queue is full. Anything else (EIO: the slave side is
        // gone) is a hangup, which the stream reports.
        return errnoCode(err) === 'EAGAIN' ? off : -1;
      }
    }
    return off;
  }

  private enqueue(bytes: Uint8Array): void {
    if (this.pendingBytes + bytes.length > MAX_PENDING) {
      if (this.dropped === 0) this.opts.onOverflow?.('the DTE is not reading (its input queue is full): dropping bytes for it');
      this.dropped += bytes.length;
      return;
    }
    this.pending.push(Buffer.from(bytes));
    this.pendingBytes += bytes.length;
    if (this.retry === undefined && this.pollFd < 0) this.scheduleRetry();
  }

  private scheduleRetry(): void {
    // The kernel says when the DTE has made room (one poll thread for the process); only
    // where that cannot run, timers.
    const fd = this.masterFd;
    const watched = fdWritable.wait(fd, () => {
      if (this.pollFd !== fd) return;
      this.pollFd = -1;
      this.clearRetryTimer();
      this.flushPending();
    });
    if (watched) {
      this.pollFd = fd;
      // A backstop while bytes wait: a master whose slave side was hung up (TIOCVHANGUP by
      // a getty's takeover) and opened again may take bytes without poll(2) ever saying
      // POLLOUT, and the line must not stall for good (seen: the modem's OK never came).
      this.retry = setTimeout(() => {
        this.retry = undefined;
        if (this.pollFd === fd) {
          fdWritable.cancel(fd);
          this.pollFd = -1;
        }
        this.flushPending();
      }, RETRY_MAX_MS);
      return;
    }
    // While the DTE keeps taking bytes, retry on the next turn of the loop (after the I/O
    // that let it read); once a retry finds no room, on a timer that backs off.
    if (this.retryMs === 0) {
      this.retry = setImmediate(() => {
        this.retry = undefined;
        this.flushPending();
      });
      return;
    }
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.flushPending();
    }, this.retryMs);
  }

  private flushPending(): void {
    if (this.masterFd < 0) return;
    const before = this.pendingBytes;
    while (this.pending.length > 0) {
      const head = this.pending[0];
      const off = this.writeSome(head);
      if (off < 0) {
        this.clearPending();
        return;
      }
      this.pendingBytes -= off;
      if (off < head.length) {
        this.pending[0] = head.subarray(off);
        break;
      }
      this.pending.shift();
    }
    if (this.pendingBytes > 0) {
      this.retryMs = this.pendingBytes < before ? 0 : Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, this.retryMs * 2));
      this.scheduleRetry();
      return;
    }
    this.retryMs = RETRY_MIN_MS;
    this.flushDropNote();
    for (const w of this.drainWaiters.splice(0)) w();
  }

  private clearRetryTimer(): void {
    if (this.retry !== undefined) {
      clearTimeout(this.retry as NodeJS.Timeout);
      clearImmediate(this.retry as NodeJS.Immediate);
    }
    this.retry = undefined;
  }

  private clearPending(): void {
    this.clearRetryTimer();
    if (this.pollFd >= 0) fdWritable.cancel(this.pollFd);
    this.pollFd = -1;
    this.pending = [];
    this.pendingBytes = 0;
    this.retryMs = RETRY_MIN_MS;
    for (const w of this.drainWaiters.splice(0)) w();
  }

  /** The DTE takes bytes again (or the line goes): say how many it missed. */
  private flushDropNote(): void {
    if (this.dropped === 0) return;
    this.opts.onOverflow?.(`${this.dropped} byte(s) for the DTE dropped while its input queue was full`);
    this.dropped = 0;
  }

  private drop(): void {
    this.clearPending();
    this.flushDropNote();
    // destroy() closes libuv's dup of the master; the master itself is ours to close.
    this.master?.destroy();
    this.master = undefined;
    if (this.masterFd >= 0) closeFd(this.masterFd);
    this.masterFd = -1;
    if (this.holdFd >= 0) closeFd(this.holdFd);
    this.holdFd = -1;
  }

  hangup(): void {
    if (this.closed) return;
    this.inputPaused = false;
    this.generation++;
    this.drop();
    this.open();
    this.opts.onReopen?.(this.slavePath);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.generation++;
    this.drop();
    try {
      if (lstatSync(this.path).isSymbolicLink()) rmSync(this.path, { force: true });
    } catch {
      // already gone
    }
  }
}
