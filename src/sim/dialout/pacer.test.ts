import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../core/clock.js';
import { Pacer } from './pacer.js';

test('pacer: bytes leave at the line rate (10 bits a byte), exact over the stretch', () => {
  const clock = new FakeClock();
  const out: { t: number; n: number }[] = [];
  const t0 = clock.monotonic();
  const p = new Pacer({ clock, bps: 33600, out: (b) => out.push({ t: clock.monotonic() - t0, n: b.length }) });
  p.push(Buffer.alloc(33600)); // 10 s at 3360 bytes/s
  clock.advance(5000);
  const half = out.reduce((a, x) => a + x.n, 0);
  assert.ok(Math.abs(half - 3360 * 5) <= 40, `after 5 s: ${half} bytes`);
  clock.advance(6000);
  const total = out.reduce((a, x) => a + x.n, 0);
  assert.equal(total, 33600);
  const last = out[out.length - 1]?.t ?? 0;
  assert.ok(Math.abs(last - 10_000) / 10_000 < 0.01, `last byte at ${last} ms (10 000 expected, within 1 %)`);
  assert.equal(p.pending, 0);
});

test('pacer: idle time earns no credit; back-pressure pauses and resumes the source; clear drops the queue', async () => {
  const clock = new FakeClock();
  let got = 0;
  const events: string[] = [];
  const p = new Pacer({ clock, bps: 2400, out: (b) => (got += b.length), highWater: 100, lowWater: 20, onPause: () => events.push('pause'), onResume: () => events.push('resume') });
  p.push(Buffer.alloc(1));
  assert.equal(got, 1, 'the first byte goes at once');
  clock.advance(60_000);
  p.push(Buffer.alloc(240)); // one second's worth at 2400 bps, after a minute of silence
  assert.ok(got <= 2, `no burst after idle: ${got}`);
  assert.deepEqual(events, ['pause']);
  clock.advance(1000);
  assert.ok(got >= 240 && got <= 242, `${got}`);
  assert.deepEqual(events, ['pause', 'resume']);
  p.push(Buffer.alloc(1000));
  const drained = p.drained();
  p.clear();
  await drained;
  assert.equal(p.pending, 0);
  assert.equal(clock.pending, 0, 'no timer left');
});
