/**
 * Give V8's and the C heap's free pages back to the kernel after calls.
 *
 * glibc's malloc keeps memory a thread freed in that thread's arena. The daemon's
 * native work (libuv's thread pool, V8's compiler and GC threads, pty reads, SQLite) frees
 * what it allocates, but the freed pages stay resident: in the soak, RSS crept up with the
 * number of calls while the bytes in use (mallinfo2) stayed flat. malloc_trim(0) returns
 * every whole free page of every arena. It takes well under a millisecond here (measured
 * in the soak), so it runs a little after a call ends, at most once per `intervalMs`, and
 * never while nothing happened (an idle daemon stays asleep). Before it, a full V8
 * collection (`collect`) empties the old-space pages V8 would keep committed otherwise.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { DaemonEvent, EventSink } from './events.js';

export interface HeapTrimmerOptions {
  clock: Clock;
  /** malloc_trim(0); returns true when memory was released. */
  trim: () => boolean;
  /** A full V8 collection, run just before the trim (its freed pages are then trimmed too). */
  collect?: () => void;
  /** Delay after a call ends (more calls ending meanwhile share the trim). Default 5 s. */
  delayMs?: number;
  /** At most one trim per interval. Default 30 s. */
  intervalMs?: number;
  /** Called after each trim (a debug log line). */
  onTrim?: (released: boolean, ms: number) => void;
}

export class HeapTrimmer implements EventSink {
  private timer: TimerHandle | undefined;
  private lastAt = Number.NEGATIVE_INFINITY;
  private stopped = false;
  private count = 0;

  constructor(private readonly o: HeapTrimmerOptions) {}

  /** How many times malloc_trim ran. */
  get trims(): number {
    return this.count;
  }

  emit(e: DaemonEvent): void {
    if (e.type === 'call-end') this.schedule();
  }

  private schedule(): void {
    if (this.stopped || this.timer !== undefined) return;
    const delay = this.o.delayMs ?? 5_000;
    const interval = this.o.intervalMs ?? 30_000;
    const due = Math.max(this.o.clock.monotonic() + delay, this.lastAt + interval);
    this.timer = this.o.clock.setTimeout(() => this.run(), due - this.o.clock.monotonic());
  }

  private run(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const t0 = this.o.clock.monotonic();
    let released = false;
    try {
      this.o.collect?.();
    } catch {
      // The trim still helps without it.
    }
    try {
      released = this.o.trim();
    } catch {
      // No glibc (musl): nothing to trim, and nothing to do about it.
      this.stopped = true;
    }
    this.lastAt = this.o.clock.monotonic();
    this.count++;
    this.o.onTrim?.(released, this.lastAt - t0);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }
}
