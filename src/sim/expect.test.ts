import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../core/clock.js';
import { ExpectBuffer } from './expect.js';

test('ExpectBuffer: chunks pushed while nobody waits are matched later, in order, cursor and all', async () => {
  const x = new ExpectBuffer(systemClock, 'test', 64);
  x.push(Buffer.from('hello '));
  x.push('there ');
  x.push(Buffer.from('world'));
  assert.equal(x.all, 'hello there world');
  assert.equal((await x.waitFor(/there/, 1000))[0], 'there');
  assert.equal(x.pending, ' world');
  x.push(Buffer.from(' again'));
  assert.equal((await x.waitFor(/world/, 1000))[0], 'world');
  assert.equal(x.pending, ' again');
});

test('ExpectBuffer: a long data call with nobody waiting keeps only the newest bytes, and a waiter sees what comes next', async () => {
  const x = new ExpectBuffer(systemClock, 'test', 64);
  x.push(Buffer.from('OLD-MARK'));
  for (let i = 0; i < 100; i++) x.push(Buffer.alloc(10, 0x2e));
  x.push(Buffer.from('NEW-MARK'));
  const all = x.all;
  assert.ok(all.length >= 64 && all.length <= 128, `kept ${all.length}`);
  assert.ok(!all.includes('OLD-MARK'));
  assert.ok(all.endsWith('NEW-MARK'));
  const later = x.waitFor(/DONE/, 1000);
  x.push(Buffer.from('..DONE'));
  assert.equal((await later)[0], 'DONE');
});
