/**
 * Pieces every benchmark in test/bench uses the same way: a clock with sub-millisecond
 * timestamps for the simulator's transcripts, and nearest-rank quantiles.
 */
import { systemClock, type Clock } from '../../src/core/clock.js';

/** The system clock with performance.now()'s resolution for now() and monotonic(). */
export const fineClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms),
};

/** Nearest rank on sorted samples: with few samples the p99 is the maximum, as it should say. */
export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, i)] ?? NaN;
}
