/**
 * Time as an input. Pure machines read `now()` and ask for timers through this
 * interface, so tests drive them with FakeClock and never sleep.
 */

export interface TimerHandle {
  /** Cancel the timer; harmless if it already fired. */
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the epoch (wall clock, for logs and records). */
  now(): number;
  /** Monotonic milliseconds (for intervals and latency). */
  monotonic(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
}

/**
 * The real clock. Timers are unref'd only when asked: a getty waiting for RING must stay alive.
 * `monotonic` is process.hrtime (CLOCK_MONOTONIC), not performance.now(): in Node 20 the first
 * use of the `performance` global loads nine perf_hooks modules (about 2 ms in a cold process),
 * and the first monotonic() of a single-line getty is taken on the RING.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  monotonic: () => {
    const [s, ns] = process.hrtime();
    return s * 1e3 + ns / 1e6;
  },
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(t) };
  },
};

interface FakeTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A deterministic clock for tests: time moves only when `advance()` is called, and
 * timers fire in order of due time (ties in order of creation).
 */
export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: FakeTimer[] = [];

  constructor(start = Date.UTC(2026, 10, 21, 19, 30, 0)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  monotonic(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Number of timers still pending. */
  get pending(): number {
    return this.timers.filter((x) => !x.cancelled).length;
  }

  /** Move time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const next = this.nextDue(end);
      if (next === undefined) break;
      this.t = next.at;
      next.cancelled = true;
      next.fn();
    }
    this.t = end;
    this.timers = this.timers.filter((x) => !x.cancelled);
  }

  /** Fire all timers, however far in the future (bounded, to catch runaway re-arming). */
  runAll(limit = 10_000): void {
    for (let i = 0; i < limit; i++) {
      const next = this.nextDue(Number.POSITIVE_INFINITY);
      if (next === undefined) return;
      this.t = next.at;
      next.cancelled = true;
      next.fn();
    }
    throw new Error(`FakeClock.runAll: more than ${limit} timers fired`);
  }

  private nextDue(limit: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const x of this.timers) {
      if (x.cancelled || x.at > limit) continue;
      if (best === undefined || x.at < best.at || (x.at === best.at && x.seq < best.seq)) best = x;
    }
    return best;
  }
}
