import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from './clock.js';

test('FakeClock fires timers in due order and only when advanced', () => {
  const c = new FakeClock(0);
  const fired: string[] = [];
  c.setTimeout(() => fired.push('b'), 20);
  c.setTimeout(() => fired.push('a'), 10);
  const h = c.setTimeout(() => fired.push('x'), 15);
  h.cancel();
  c.advance(9);
  assert.deepEqual(fired, []);
  c.advance(11);
  assert.deepEqual(fired, ['a', 'b']);
  assert.equal(c.now(), 20);
});

test('FakeClock runs timers armed by timers within the same advance', () => {
  const c = new FakeClock(0);
  const at: number[] = [];
  c.setTimeout(() => {
    at.push(c.now());
    c.setTimeout(() => at.push(c.now()), 5);
  }, 5);
  c.advance(10);
  assert.deepEqual(at, [5, 10]);
  assert.equal(c.pending, 0);
});

test('FakeClock.runAll stops a runaway timer loop', () => {
  const c = new FakeClock(0);
  const loop = (): void => {
    c.setTimeout(loop, 1);
  };
  loop();
  assert.throws(() => c.runAll(50), /more than 50/);
});
