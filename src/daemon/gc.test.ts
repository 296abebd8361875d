import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fullGc } from './gc.js';

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

test('fullGc collects garbage at once, without --expose-gc on the command line', async () => {
  let junk: { i: number }[] | undefined = Array.from({ length: 1000 }, (_, i) => ({ i }));
  const ref = new WeakRef(junk);
  junk = undefined;
  // A WeakRef's target lives until the end of the job that made it.
  await turn();
  assert.equal(fullGc(), true);
  await turn();
  assert.equal(ref.deref(), undefined, 'the garbage is gone after one call');
});
