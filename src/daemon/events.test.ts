import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeferredSinks, EventBus, type DaemonEvent } from './events.js';

const ev = (line: string, at: number): DaemonEvent => ({ type: 'line-state', line, state: 'idle', at });

test('DeferredSinks: events wait for the scheduled turn, then arrive in order, once', () => {
  const got: DaemonEvent[] = [];
  const bus = new EventBus();
  bus.add({ emit: (e) => got.push(e) });
  const jobs: (() => void)[] = [];
  const d = new DeferredSinks(bus, (fn) => jobs.push(fn));
  d.emit(ev('a', 1));
  d.emit(ev('b', 2));
  d.emit(ev('a', 3));
  assert.equal(got.length, 0, 'nothing before the scheduled turn');
  assert.equal(jobs.length, 1, 'one turn scheduled for the whole burst');
  jobs[0]?.();
  assert.deepEqual(got.map((e) => `${e.line}${e.at}`), ['a1', 'b2', 'a3']);
  d.emit(ev('c', 4));
  assert.equal(jobs.length, 2);
  d.flush(); // status or stop: deliver now
  assert.equal(got.length, 4);
  jobs[1]?.(); // the turn comes later and finds nothing left
  assert.equal(got.length, 4);
});

test('DeferredSinks: a sink that throws does not lose the events for the others', () => {
  const got: string[] = [];
  const errors: unknown[] = [];
  const bus = new EventBus((err) => errors.push(err));
  bus.add({ emit: () => { throw new Error('disk full'); } });
  bus.add({ emit: (e) => got.push(e.line) });
  const d = new DeferredSinks(bus, (fn) => fn());
  d.emit(ev('x', 1));
  d.emit(ev('y', 2));
  assert.deepEqual(got, ['x', 'y']);
  assert.equal(errors.length, 2);
});

test('DeferredSinks: events a sink emits while a flush delivers join it, in order; a flush asked for meanwhile changes nothing', () => {
  const got: string[] = [];
  const jobs: (() => void)[] = [];
  const bus = new EventBus();
  const late: { d?: DeferredSinks } = {};
  bus.add({
    emit: (e) => {
      got.push(`${e.line}${e.at}`);
      // A sink reacting to an event: it emits one more and reads the status (a flush).
      if (e.line === 'a') late.d?.emit(ev('r', e.at));
      late.d?.flush();
    },
  });
  const d = new DeferredSinks(bus, (fn) => jobs.push(fn));
  late.d = d;
  d.emit(ev('a', 1));
  d.emit(ev('b', 2));
  jobs[0]?.();
  assert.deepEqual(got, ['a1', 'b2', 'r1'], 'the reaction comes after what was queued before it');
  assert.equal(jobs.length, 1, 'no turn scheduled for an event emitted during a flush');
  d.emit(ev('c', 3));
  assert.equal(jobs.length, 2, 'after the flush, a new event schedules a turn again');
});
