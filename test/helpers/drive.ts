/**
 * Drive an async operation that waits on a FakeClock: let pending microtasks and I/O
 * callbacks run, then move the clock a step, until the promise settles.
 */
import type { FakeClock } from '../../src/core/clock.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

export async function drive<T>(clock: FakeClock, p: Promise<T>, opts: { stepMs?: number; maxMs?: number } = {}): Promise<T> {
  const step = opts.stepMs ?? 10;
  const max = opts.maxMs ?? 600_000;
  let done = false;
  let value: T | undefined;
  let error: unknown;
  let failed = false;
  p.then(
    (v) => {
      done = true;
      value = v;
    },
    (e: unknown) => {
      done = true;
      failed = true;
      error = e;
    },
  );
  for (let t = 0; t <= max; t += step) {
    await tick();
    await tick();
    if (done) break;
    clock.advance(step);
  }
  if (!done) throw new Error(`drive: not settled after ${max} ms of fake time`);
  if (failed) throw error;
  return value as T;
}

/** Run the clock until `cond()` holds (or fail after maxMs of fake time). */
export async function until(clock: FakeClock, cond: () => boolean, opts: { stepMs?: number; maxMs?: number } = {}): Promise<void> {
  const step = opts.stepMs ?? 10;
  const max = opts.maxMs ?? 600_000;
  for (let t = 0; t <= max; t += step) {
    await tick();
    await tick();
    if (cond()) return;
    clock.advance(step);
  }
  throw new Error(`until: condition not met after ${max} ms of fake time`);
}
