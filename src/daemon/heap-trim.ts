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
 * That collection stops the event loop for 10-20 ms, so it waits for a quiet moment: no
 * call started (a RING) in the last `settleMs`, when more lines may be about to answer (64
 * ringing at once are answered one after another, over several event-loop turns). Under a
 * steady stream of calls it waits at most `maxWaitMs`.
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
  /** A due trim waits until no call has started for this long. Default 1 s. */
  settleMs?: number;
  /** ...but not longer than this after it came due. Default 60 s. */
  maxWaitMs?: number;
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

  /** When the last call started (monotonic ms). */
  private lastStartAt = Number.NEGATIVE_INFINITY;
  /** When the pending trim first came due (monotonic ms), while it waits for a quiet moment. */
  private dueAt: number | undefined;

  emit(e: DaemonEvent): void {
    if (e.type === 'call-start') this.lastStartAt = this.o.clock.monotonic();
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
    const now = this.o.clock.monotonic();
    this.dueAt ??= now;
    const quietAt = this.lastStartAt + (this.o.settleMs ?? 1_000);
    if (now < quietAt && now - this.dueAt < (this.o.maxWaitMs ?? 60_000)) {
      // A call just started: other lines may be answering their RINGs in the next turns.
      this.timer = this.o.clock.setTimeout(() => this.run(), quietAt - now);
      return;
    }
    this.dueAt = undefined;
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
