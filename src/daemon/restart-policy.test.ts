import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RestartPolicy, DEFAULT_RESTART_POLICY } from './restart-policy.js';

test('restart policy: exponential backoff from 1 s, capped at 60 s', () => {
  const p = new RestartPolicy({ ...DEFAULT_RESTART_POLICY, maxFailures: 100 });
  const delays = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => p.onFailure(i * 1_000_000).delayMs);
  assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000]);
  p.onSuccess();
  assert.equal(p.onFailure(9_000_000).delayMs, 1000);
});

test('restart policy: 10 failures within 2 minutes rest 5 minutes, as init does', () => {
  const p = new RestartPolicy();
  let d = p.onFailure(0);
  for (let i = 1; i < 9; i++) d = p.onFailure(i * 10_000);
  assert.equal(d.resting, false);
  assert.equal(d.failuresInWindow, 9);
  d = p.onFailure(95_000);
  assert.deepEqual(d, { delayMs: 300_000, resting: true, failuresInWindow: 10 });
  // After the rest the count starts over.
  assert.equal(p.onFailure(400_000).resting, false);
});

test('restart policy: failures spread wider than the window never rest', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 13_000, max: 600_000 }), { minLength: 1, maxLength: 60 }), (gaps) => {
      const p = new RestartPolicy();
      let now = 0;
      for (const g of gaps) {
        now += g;
        // Resting only ever follows 10 failures in the window; delays stay bounded.
        const d = p.onFailure(now);
        if (d.resting) assert.ok(d.failuresInWindow >= 10);
        assert.ok(d.delayMs > 0 && d.delayMs <= 300_000);
      }
    }),
  );
});
