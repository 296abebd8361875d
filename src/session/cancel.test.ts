import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Cancel } from './cancel.js';

test('Cancel: listeners run once, in order, on cancel', () => {
  const c = new Cancel();
  const seen: string[] = [];
  c.onCancel(() => seen.push('a'));
  c.onCancel(() => seen.push('b'));
  assert.equal(c.aborted, false);
  c.cancel();
  c.cancel();
  assert.equal(c.aborted, true);
  assert.deepEqual(seen, ['a', 'b']);
});

test('Cancel: a forgotten listener does not run; a late one runs at once', () => {
  const c = new Cancel();
  const seen: string[] = [];
  const off = c.onCancel(() => seen.push('gone'));
  c.onCancel(() => seen.push('kept'));
  off();
  off();
  c.cancel();
  c.onCancel(() => seen.push('late'));
  assert.deepEqual(seen, ['kept', 'late']);
});
