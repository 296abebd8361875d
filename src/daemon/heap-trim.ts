/**
 * Give V8's and the C heap's free pages back to the kernel after calls.
 *
 * glibc's malloc keeps memory a thread freed in that thread's arena. The daemon's
 * native work (libuv's thread pool, V8's compiler and GC threads, pty reads, SQLite) frees
 * what it allocates, but the freed pages stay resident: in the soak, RSS crept up with the
 * number of calls while the bytes in use (mallinfo2) stayed flat. malloc_trim(0) returns
 * every whole free page of every arena. It takes about a millisecond here (the soak: 0.3–1.6
 * ms on average), so it runs a little after a call ends, at most once per `intervalMs`, and
 * never while nothing happened (an idle daemon stays asleep) except once after start-up:
 * the first time a line comes to idle schedules a trim as a call's end does (each further
 * line coming up moves it on, so it runs `delayMs` after the last of them), because
 * starting the lines (the /proc scans of the takeover, the config, the init chats) leaves
 * free heap behind that the daemon would otherwise hold until its first call. Before it, a full V8
 * collection (`collect`) empties the old-space pages V8 would keep committed otherwise.
 * That collection pauses the whole daemon (20–60 ms, a few hundred ms on a loaded
 * 2-vCPU VM losing CPU to steal), so a trim that falls due while a line is between a
 * RING and its ATA waits for that, up to `maxDeferMs`. A RING that arrives during the
 * pause still waits for the pause to end.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { DaemonEvent, EventSink, HeapTrimStats } from './events.js';

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
  /**
   * A trim that falls due while a line is ringing waits until no line is (its collection
   * would sit between that RING and its ATA), but never longer than this. Default 10 s.
   */
  maxDeferMs?: number;
  /**
   * Wait this long between the collection and malloc_trim. Node frees the memory of the
   * Buffers a collection found dead after it (on the next turns of the event loop and on
   * a helper thread), so a trim right after the collection finds most of it still in use.
   * Default 0 (at once).
   */
  settleMs?: number;
  /** Called after each trim (a debug log line; `ms`: the collection and the trim, not the settle). */
  onTrim?: (released: boolean, ms: number) => void;
}

export class HeapTrimmer implements EventSink {
  private timer: TimerHandle | undefined;
  private lastAt = Number.NEGATIVE_INFINITY;
  private stopped = false;
  /** The figures status --json shows, kept as they are reported. */
  private readonly figures: HeapTrimStats = { trims: 0, deferred: 0, lastMs: 0, maxMs: 0, totalMs: 0, collectMaxMs: 0, collectTotalMs: 0 };
  /**
   * Lines between a RING and the ATA: in from the `ringing` state, out at the ATA
   * (`call-answering`), at any other state, at the end of the call or at a line error, so
   * a reset's quiet time, a backoff or a crashed line never counts as ringing.
   */
  private readonly ringing = new Set<string>();
  /** When the trim that is waiting for the ringing lines fell due. */
  private deferredSince: number | undefined;
  /** Lines that have been idle once: their first idle is the end of their start-up. */
  private readonly started = new Set<string>();
  /** The pending timer is the start-up trim's (moved on by each line that comes up). */
  private startupPending = false;

  constructor(private readonly o: HeapTrimmerOptions) {}

  /** How many times malloc_trim ran. */
  get trims(): number {
    return this.figures.trims;
  }

  /** What the trims cost so far (status --json: a collection is a pause of the whole daemon). */
  stats(): HeapTrimStats {
    return { ...this.figures };
  }

  emit(e: DaemonEvent): void {
    if (this.stopped) return;
    switch (e.type) {
      case 'line-state':
        if (e.state === 'ringing') this.ringing.add(e.line);
        else this.notRinging(e.line);
        if (e.state === 'idle' && !this.started.has(e.line)) {
          this.started.add(e.line);
          // Lines come up over a few seconds: the start-up trim waits for the last of them.
          if (this.startupPending) {
            this.timer?.cancel();
            this.timer = undefined;
          }
          if (this.timer === undefined) this.startupPending = true;
          this.schedule();
        }
        break;
      case 'call-answering':
      case 'line-error':
        this.notRinging(e.line);
        break;
      case 'call-end':
        this.notRinging(e.line);
        this.startupPending = false;
        this.schedule();
        break;
      default:
        break;
    }
  }

  private notRinging(line: string): void {
    if (!this.ringing.delete(line) || this.ringing.size > 0 || this.deferredSince === undefined) return;
    // The last ringing line got its ATA (or was let go): trim on the next turn, not inside
    // the event of that line.
    this.timer?.cancel();
    this.timer = this.o.clock.setTimeout(() => this.run(), 0);
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
    this.startupPending = false;
    if (this.stopped) return;
    const t0 = this.o.clock.monotonic();
    if (this.ringing.size > 0) {
      // One wait counts once, however often it is woken and sent back to wait.
      if (this.deferredSince === undefined) {
        this.deferredSince = t0;
        this.figures.deferred++;
      }
      const left = this.deferredSince + (this.o.maxDeferMs ?? 10_000) - t0;
      // Under a millisecond left: a real timer that fired a hair early; run now.
      if (left >= 1) {
        // Woken early by the last ringing line's state change; this timer is the cap.
        this.timer = this.o.clock.setTimeout(() => this.run(), left);
        return;
      }
    }
    this.deferredSince = undefined;
    try {
      this.o.collect?.();
    } catch {
      // The trim still helps without it.
    }
    const f = this.figures;
    const collectMs = this.o.clock.monotonic() - t0;
    f.collectMaxMs = Math.max(f.collectMaxMs, collectMs);
    f.collectTotalMs += collectMs;
    const settle = this.o.settleMs ?? 0;
    if (settle > 0) this.timer = this.o.clock.setTimeout(() => this.finish(collectMs, settle), settle);
    else this.finish(collectMs, 0);
  }

  /** malloc_trim after the collection (and its settle time), and the figures of both. */
  private finish(collectMs: number, waitedMs: number): void {
    this.timer = undefined;
    if (this.stopped) return;
    // After a settle, malloc_trim (up to a few ms with much to give back) waits up to a
    // second more for lines between a RING and their ATA; the collection already waited for them.
    if (waitedMs > 0 && this.ringing.size > 0 && waitedMs < (this.o.settleMs ?? 0) + 1_000) {
      this.timer = this.o.clock.setTimeout(() => this.finish(collectMs, waitedMs + 50), 50);
      return;
    }
    const t1 = this.o.clock.monotonic();
    let released = false;
    try {
      released = this.o.trim();
    } catch {
      // No glibc (musl): nothing to trim, and nothing to do about it.
      this.stopped = true;
    }
    this.lastAt = this.o.clock.monotonic();
    const ms = collectMs + (this.lastAt - t1);
    const f = this.figures;
    f.trims++;
    f.lastMs = ms;
    f.maxMs = Math.max(f.maxMs, ms);
    f.totalMs += ms;
    this.o.onTrim?.(released, ms);
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.deferredSince = undefined;
    this.ringing.clear();
    this.started.clear();
  }
}
