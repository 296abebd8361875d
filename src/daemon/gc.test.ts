import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fullGc, oldSpace } from './gc.js';

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

/** Old space full of pages that each keep a few live objects: what calls leave behind. */
function fragment(): { a: number; b: string; c: number[] }[] {
  const all = Array.from({ length: 200_000 }, (_, i) => ({ a: i, b: `x${i}`, c: [i] }));
  // Every object survives a full collection (into old space), then 7 in 8 become garbage.
  fullGc();
  return all.filter((_, i) => i % 8 === 0);
}

// No V8 ratios here (they change with the Node version): each test compares the same
// heap after a plain and after a compacting collection, in one process.
test('fullGc({ compact: true }) gives back the pages a plain full collection keeps for a few live objects each', () => {
  const keep = fragment();
  assert.equal(fullGc(), true);
  const plain = oldSpace();
  assert.equal(fullGc({ compact: true }), true);
  const compacted = oldSpace();
  assert.ok(keep.length > 0);
  assert.ok(compacted.committed < plain.committed, `compacted: ${compacted.committed} committed, against ${plain.committed} after a plain GC`);
});

test('fullGc({ compact: true }) leaves V8\'s own full collections as they were (the flag is for that one call)', () => {
  assert.equal(fullGc({ compact: true }), true);
  const keep = fragment();
  // A plain collection after a compacting one: if the flag had stayed on, it would have
  // compacted, and a second compacting collection would find nothing to give back.
  assert.equal(fullGc(), true);
  const plain = oldSpace();
  assert.equal(fullGc({ compact: true }), true);
  const compacted = oldSpace();
  assert.ok(keep.length > 0);
  assert.ok(compacted.committed < plain.committed, `the plain GC did not compact: ${plain.committed} committed, ${compacted.committed} after compacting`);
});
