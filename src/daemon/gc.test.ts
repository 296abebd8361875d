import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectGarbage } from './gc.js';

test('collectGarbage runs a full collection and resolves when it is done', async () => {
  let junk: object[] | undefined = Array.from({ length: 200_000 }, (_, i) => ({ i, s: `x${i}` }));
  assert.equal(junk.length, 200_000);
  const before = process.memoryUsage().heapUsed;
  junk = undefined;
  const p = collectGarbage();
  assert.ok(p instanceof Promise, 'gc is available to the daemon');
  await p;
  assert.ok(process.memoryUsage().heapUsed < before, 'the garbage is gone');
});
