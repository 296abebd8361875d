/**
 * Line-rate pacing: bytes leave no faster than the modem's line rate (the CONNECT speed,
 * 10 bits a byte: start, 8 data, stop), as a BBS's ANSI screens came in over a real modem.
 * Time-based (bytes allowed = elapsed time x rate), so the rate is exact over any stretch
 * however the timers drift; idle time earns no credit. Above `highWater` queued bytes the
 * source is paused (the TCP socket stops being read), below `lowWater` resumed.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';

/** Timers no finer than this: at 33600 bps that is 34 bytes a tick. */
const TICK_MS = 10;

export interface PacerOptions {
  clock: Clock;
  /** Line rate in bits per second. */
  bps: number;
  out: (bytes: Uint8Array) => void;
  highWater?: number;
  lowWater?: number;
  onPause?: () => void;
  onResume?: () => void;
}

export class Pacer {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private epoch = 0;
  private sent = 0;
  private timer: TimerHandle | undefined;
  private paused = false;
  private idleWaiters: (() => void)[] = [];
  private readonly bytesPerMs: number;

  constructor(private readonly o: PacerOptions) {
    this.bytesPerMs = o.bps / 10 / 1000;
  }

  /** Bytes waiting to go out. */
  get pending(): number {
    return this.queued;
  }

  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const now = this.o.clock.monotonic();
    // Idle since the last byte's time was up: start a new stretch (no saved-up credit).
    if (this.queued === 0 && (now - this.epoch) * this.bytesPerMs >= this.sent) {
      this.epoch = now;
      this.sent = 0;
    }
    this.queue.push(Buffer.from(bytes));
    this.queued += bytes.length;
    if (!this.paused && this.queued > (this.o.highWater ?? 16 * 1024)) {
      this.paused = true;
      this.o.onPause?.();
    }
    if (this.timer === undefined) this.pump();
  }

  /** Resolves once everything queued has gone out. */
  drained(): Promise<void> {
    if (this.queued === 0) return Promise.resolve();
    return new Promise((res) => this.idleWaiters.push(res));
  }

  /** Drop what is queued (the call ended). */
  clear(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.queue.length = 0;
    this.queued = 0;
    for (const w of this.idleWaiters.splice(0)) w();
  }

  private pump(): void {
    this.timer = undefined;
    const now = this.o.clock.monotonic();
    // The first byte of a stretch goes at once; byte n may go once n byte times have passed.
    let allowed = Math.floor((now - this.epoch) * this.bytesPerMs) + 1 - this.sent;
    const parts: Buffer[] = [];
    while (allowed > 0 && this.queue.length > 0) {
      const head = this.queue[0];
      const n = Math.min(allowed, head.length);
      parts.push(head.subarray(0, n));
      if (n === head.length) this.queue.shift();
      else this.queue[0] = head.subarray(n);
      allowed -= n;
      this.sent += n;
      this.queued -= n;
    }
    if (parts.length > 0) this.o.out(parts.length === 1 ? parts[0] : Buffer.concat(parts));
    if (this.paused && this.queued < (this.o.lowWater ?? 4 * 1024)) {
      this.paused = false;
      this.o.onResume?.();
    }
    if (this.queued > 0) {
      const nextAt = this.epoch + this.sent / this.bytesPerMs; // when byte number sent+1 may go
      this.timer = this.o.clock.setTimeout(() => this.pump(), Math.max(TICK_MS, nextAt - now));
    } else {
      for (const w of this.idleWaiters.splice(0)) w();
    }
  }
}
