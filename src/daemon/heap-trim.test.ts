import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../core/clock.js';
import type { DaemonEvent } from './events.js';
import { HeapTrimmer } from './heap-trim.js';

const end = (clock: FakeClock, n: number): DaemonEvent => ({ type: 'call-end', line: 'ttyS0', callId: `c${n}`, at: clock.now(), outcome: 'completed' });

function rig(o: { throws?: boolean } = {}) {
  const clock = new FakeClock();
  const at: number[] = [];
  const trimmer = new HeapTrimmer({
    clock,
    delayMs: 5_000,
    intervalMs: 30_000,
    trim: () => {
      at.push(clock.monotonic());
      if (o.throws === true) throw new Error('no malloc_trim');
      return true;
    },
  });
  return { clock, at, trimmer, t0: clock.monotonic() };
}

test('a daemon with nothing going on never trims', () => {
  const { clock, at } = rig();
  clock.advance(600_000);
  assert.deepEqual(at, []);
  assert.equal(clock.pending, 0);
});

test('one trim after start-up: the lines first coming to idle share it; idle again later does not trim', () => {
  const { clock, at, trimmer, t0 } = rig();
  const idle = (line: string): void => trimmer.emit({ type: 'line-state', line, state: 'idle', at: clock.now() });
  idle('ttyS0');
  clock.advance(1_000);
  idle('ttyS1');
  clock.advance(4_999);
  assert.deepEqual(at, [], 'moved on by the second line');
  clock.advance(1);
  assert.deepEqual(at, [t0 + 6_000]);
  // Back to idle after a reset or a reload of the same lines: no start-up any more.
  trimmer.emit({ type: 'line-state', line: 'ttyS0', state: 'initializing', at: clock.now() });
  idle('ttyS0');
  idle('ttyS1');
  clock.advance(600_000);
  assert.deepEqual(at, [t0 + 6_000]);
  assert.equal(clock.pending, 0);
  // A line added later (a reload) has its own start-up.
  idle('ttyS2');
  clock.advance(5_000);
  assert.equal(at.length, 2);
});

test('one trim a little after a call ends; calls ending meanwhile share it', () => {
  const { clock, at, trimmer, t0 } = rig();
  trimmer.emit(end(clock, 1));
  clock.advance(2_000);
  trimmer.emit(end(clock, 2));
  clock.advance(2_999);
  assert.deepEqual(at, []);
  clock.advance(1);
  assert.deepEqual(at, [t0 + 5_000]);
  clock.advance(600_000);
  assert.equal(trimmer.trims, 1);
});

test('under steady calls: at most one trim per interval', () => {
  const { clock, at, trimmer, t0 } = rig();
  // A call ends every second for two minutes.
  for (let i = 0; i < 120; i++) {
    trimmer.emit(end(clock, i));
    clock.advance(1_000);
  }
  clock.advance(60_000);
  assert.deepEqual(at, [t0 + 5_000, t0 + 35_000, t0 + 65_000, t0 + 95_000, t0 + 125_000]);
  for (let i = 1; i < at.length; i++) assert.ok((at[i] ?? 0) - (at[i - 1] ?? 0) >= 30_000);
});

test('no malloc_trim (not glibc): tried once, then never again', () => {
  const { clock, at, trimmer } = rig({ throws: true });
  trimmer.emit(end(clock, 1));
  clock.advance(10_000);
  trimmer.emit(end(clock, 2));
  clock.advance(100_000);
  assert.equal(at.length, 1);
});

test('stop cancels a pending trim', () => {
  const { clock, at, trimmer } = rig();
  trimmer.emit(end(clock, 1));
  trimmer.stop();
  trimmer.emit(end(clock, 2));
  clock.advance(100_000);
  assert.deepEqual(at, []);
  assert.equal(clock.pending, 0);
});

test('the full collection runs just before each trim; one that throws does not stop the trim', () => {
  const clock = new FakeClock();
  const order: string[] = [];
  let collects = 0;
  const trimmer = new HeapTrimmer({
    clock,
    delayMs: 1_000,
    intervalMs: 1_000,
    collect: () => {
      order.push('collect');
      if (++collects === 2) throw new Error('no gc');
    },
    trim: () => {
      order.push('trim');
      return true;
    },
  });
  trimmer.emit(end(clock, 1));
  clock.advance(999);
  assert.equal(order.join(), '', 'nothing before the delay');
  clock.advance(1);
  assert.equal(order.join(), 'collect,trim');
  trimmer.emit(end(clock, 2));
  clock.advance(1_000);
  assert.equal(order.join(), 'collect,trim,collect,trim');
  assert.equal(trimmer.trims, 2);
  trimmer.stop();
});

const state = (clock: FakeClock, line: string, s: 'ringing' | 'answering' | 'idle' | 'in-session' | 'stopped'): DaemonEvent => ({ type: 'line-state', line, state: s, at: clock.now() });

test('a trim due while lines ring waits until the last of them has answered, then runs on the next turn', () => {
  const { clock, at, trimmer, t0 } = rig();
  trimmer.emit(end(clock, 1));
  clock.advance(4_990);
  trimmer.emit(state(clock, 'ttyS1', 'ringing'));
  trimmer.emit(state(clock, 'ttyS2', 'ringing'));
  clock.advance(10);
  assert.deepEqual(at, [], 'not between a RING and its ATA');
  assert.equal(trimmer.stats().deferred, 1);
  clock.advance(300);
  trimmer.emit(state(clock, 'ttyS1', 'answering'));
  clock.advance(100);
  assert.deepEqual(at, [], 'ttyS2 still rings');
  trimmer.emit(state(clock, 'ttyS2', 'answering'));
  assert.deepEqual(at, [], 'not inside the event of the line');
  clock.advance(0);
  assert.deepEqual(at, [t0 + 5_400]);
  assert.deepEqual(trimmer.stats(), { trims: 1, deferred: 1, lastMs: 0, maxMs: 0, totalMs: 0, collectMaxMs: 0, collectTotalMs: 0 });
  // The interval counts from the trim that ran.
  trimmer.emit(end(clock, 2));
  clock.advance(60_000);
  assert.deepEqual(at, [t0 + 5_400, t0 + 35_400]);
});

test('a line that rings on and on delays the trim by at most maxDeferMs', () => {
  const { clock, at, trimmer, t0 } = rig();
  trimmer.emit(state(clock, 'ttyS1', 'ringing'));
  trimmer.emit(end(clock, 1));
  clock.advance(5_000 + 9_999);
  assert.deepEqual(at, []);
  clock.advance(1);
  assert.deepEqual(at, [t0 + 15_000]);
  // The next due trim, with the line still ringing, waits again from its own due time.
  trimmer.emit(end(clock, 2));
  clock.advance(30_000 + 9_999);
  assert.equal(at.length, 1);
  clock.advance(1);
  assert.deepEqual(at, [t0 + 15_000, t0 + 55_000]);
  assert.equal(trimmer.stats().deferred, 2, 'two trims waited');
});

test('ringing lines without a due trim schedule nothing', () => {
  const { clock, at, trimmer, t0 } = rig();
  // Past the start-up's trim first.
  trimmer.emit(state(clock, 'ttyS1', 'idle'));
  trimmer.emit(state(clock, 'ttyS2', 'idle'));
  clock.advance(5_000);
  assert.deepEqual(at, [t0 + 5_000]);
  at.length = 0;
  trimmer.emit(state(clock, 'ttyS1', 'ringing'));
  trimmer.emit(state(clock, 'ttyS1', 'idle'));
  trimmer.emit(state(clock, 'ttyS2', 'ringing'));
  trimmer.emit(state(clock, 'ttyS2', 'in-session'));
  assert.equal(clock.pending, 0);
  clock.advance(600_000);
  assert.deepEqual(at, []);
});

test('stats: how long the trims took (the last, the longest, all together)', () => {
  const fake = new FakeClock();
  // The trim's work costs time: modelled as an offset on the monotonic clock the trimmer
  // reads, so the fake clock itself never moves inside its own timer callback.
  let spent = 0;
  const clock = { now: () => fake.now() + spent, monotonic: () => fake.monotonic() + spent, setTimeout: (fn: () => void, ms: number) => fake.setTimeout(fn, ms) };
  const costs = [12, 7];
  const trimmer = new HeapTrimmer({
    clock,
    delayMs: 1_000,
    intervalMs: 1_000,
    collect: () => {
      spent += costs.shift() ?? 0;
    },
    trim: () => {
      spent += 1;
      return true;
    },
  });
  assert.deepEqual(trimmer.stats(), { trims: 0, deferred: 0, lastMs: 0, maxMs: 0, totalMs: 0, collectMaxMs: 0, collectTotalMs: 0 });
  trimmer.emit(end(fake, 1));
  fake.advance(1_000);
  trimmer.emit(end(fake, 2));
  fake.advance(2_000);
  assert.deepEqual(trimmer.stats(), { trims: 2, deferred: 0, lastMs: 8, maxMs: 13, totalMs: 21, collectMaxMs: 12, collectTotalMs: 19 });
  trimmer.stop();
});

test('a line stops counting as ringing at its ATA, at the end of its call, at another state or a line error', () => {
  for (const leave of ['call-answering', 'call-end', 'line-error', 'starting'] as const) {
    const { clock, at, trimmer, t0 } = rig();
    trimmer.emit(end(clock, 1));
    clock.advance(4_000);
    trimmer.emit(state(clock, 'ttyS1', 'ringing'));
    clock.advance(1_000);
    assert.deepEqual(at, [], leave);
    clock.advance(500);
    const now = clock.now();
    if (leave === 'call-answering') trimmer.emit({ type: 'call-answering', line: 'ttyS1', callId: 'c9', at: now, ringToAtaMs: 3 });
    else if (leave === 'call-end') trimmer.emit({ type: 'call-end', line: 'ttyS1', callId: 'c9', at: now, outcome: 'denied' });
    else if (leave === 'line-error') trimmer.emit({ type: 'line-error', line: 'ttyS1', at: now, message: 'line supervisor crashed' });
    else trimmer.emit({ type: 'line-state', line: 'ttyS1', state: 'starting', at: now });
    clock.advance(0);
    assert.deepEqual(at, [t0 + 5_500], leave);
    trimmer.stop();
  }
});

test('a wait counts once, even when a line starts ringing again before the trim runs', () => {
  const { clock, at, trimmer, t0 } = rig();
  trimmer.emit(end(clock, 1));
  trimmer.emit(state(clock, 'ttyS1', 'ringing'));
  clock.advance(5_000);
  trimmer.emit(state(clock, 'ttyS1', 'answering'));
  // Between the wake being armed and run: another line rings.
  trimmer.emit(state(clock, 'ttyS2', 'ringing'));
  clock.advance(0);
  assert.deepEqual(at, []);
  trimmer.emit(state(clock, 'ttyS2', 'answering'));
  clock.advance(0);
  assert.deepEqual(at, [t0 + 5_000]);
  assert.equal(trimmer.stats().deferred, 1);
});

test('stop() while a trim waits for ringing lines: nothing is armed afterwards', () => {
  const { clock, at, trimmer } = rig();
  trimmer.emit(end(clock, 1));
  trimmer.emit(state(clock, 'ttyS1', 'ringing'));
  clock.advance(5_000);
  trimmer.stop();
  // What the lines say while the daemon stops them.
  trimmer.emit(state(clock, 'ttyS1', 'stopped'));
  trimmer.emit(end(clock, 2));
  assert.equal(clock.pending, 0);
  clock.advance(100_000);
  assert.deepEqual(at, []);
});

test('with settleMs: malloc_trim runs that long after the collection, and waits a little for ringing lines', () => {
  const clock = new FakeClock();
  const order: string[] = [];
  const trimmer = new HeapTrimmer({
    clock,
    delayMs: 5_000,
    settleMs: 250,
    collect: () => order.push(`collect@${clock.monotonic()}`),
    trim: () => {
      order.push(`trim@${clock.monotonic()}`);
      return true;
    },
  });
  const t0 = clock.monotonic();
  trimmer.emit(end(clock, 1));
  clock.advance(5_000);
  assert.deepEqual(order, [`collect@${t0 + 5_000}`]);
  // A call may ring meanwhile (the settle gives the event loop back): the trim waits for its ATA.
  trimmer.emit(state(clock, 'ttyS1', 'ringing'));
  clock.advance(250);
  assert.deepEqual(order, [`collect@${t0 + 5_000}`]);
  clock.advance(100);
  trimmer.emit({ type: 'call-answering', line: 'ttyS1', callId: 'c2', at: clock.now(), ringToAtaMs: 1 });
  clock.advance(50);
  assert.deepEqual(order, [`collect@${t0 + 5_000}`, `trim@${t0 + 5_400}`]);
  assert.equal(trimmer.stats().trims, 1);
  assert.equal(clock.pending, 0);
});
