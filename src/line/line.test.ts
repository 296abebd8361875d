import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FakeClock } from '../core/clock.js';
import { TgettyError } from '../core/errors.js';
import { InputRouter, QUIET_MAX_BYTES, canceledError, deviceName, hangupError, isCanceled, isDisconnected } from './line.js';

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function rig(): { clock: FakeClock; router: InputRouter; out: Buffer[]; reading: boolean[] } {
  const clock = new FakeClock(0);
  const out: Buffer[] = [];
  const reading: boolean[] = [];
  const router = new InputRouter(clock, (b) => out.push(b), (on) => reading.push(on));
  return { clock, router, out, reading };
}

test('InputRouter: any interleaving of chunks, pause and resume loses nothing and keeps order', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.oneof(fc.uint8Array({ minLength: 1, maxLength: 5 }), fc.constantFrom('pause' as const, 'resume' as const)), { maxLength: 30 }),
      async (ops) => {
        const { router, out } = rig();
        const sent: number[] = [];
        for (const op of ops) {
          if (op === 'pause') router.pause();
          else if (op === 'resume') router.resume();
          else {
            router.push(Buffer.from(op));
            sent.push(...op);
          }
          if (sent.length % 3 === 0) await tick();
        }
        router.resume();
        await tick();
        assert.deepEqual([...Buffer.concat(out)], sent);
      },
    ),
    { numRuns: 150 },
  );
});

test('InputRouter asks the transport to read only while resumed or quiet-waiting', async () => {
  const { router, reading, clock } = rig();
  router.resume();
  router.pause();
  const q = router.waitQuiet(100, undefined, 'ttyS0');
  assert.deepEqual(reading, [true, false, true]);
  clock.advance(100);
  await q;
  assert.deepEqual(reading, [true, false, true, false]);
});

test('InputRouter quiet-wait: every split of the junk re-arms the timer, and the bound is exact', async () => {
  const junk = Buffer.from('CONNECT 33600\r\n~\x7d#\xc0!junk', 'latin1');
  // Both parts non-empty: an empty chunk is no input and rightly does not re-arm.
  for (let i = 1; i < junk.length; i++) {
    const { router, clock, out } = rig();
    const got: { res?: { discarded: Buffer; tooMuch: boolean } } = {};
    const p = router.waitQuiet(300, undefined, 'ttyS0').then((r) => {
      got.res = r;
    });
    router.push(junk.subarray(0, i));
    clock.advance(299);
    router.push(junk.subarray(i));
    clock.advance(299);
    await tick();
    assert.equal(got.res === undefined, true, `split ${i}: not quiet yet`);
    clock.advance(1);
    await p;
    assert.deepEqual(got.res?.discarded, junk);
    assert.equal(got.res?.tooMuch, false);
    assert.equal(out.length, 0);
  }
  // Bound: the first maxBytes are discarded, the rest is delivered afterwards.
  const { router, out } = rig();
  const p = router.waitQuiet(300, { maxBytes: 10 }, 'ttyS0');
  router.push(Buffer.from('0123456'));
  router.push(Buffer.from('789abc'));
  const r = await p;
  assert.equal(r.discarded.toString(), '0123456789');
  assert.equal(r.tooMuch, true);
  router.resume();
  await tick();
  assert.equal(Buffer.concat(out).toString(), 'abc');
  assert.equal(QUIET_MAX_BYTES, 10_000);
});

test('InputRouter.fail rejects the quiet-wait and stops reading', async () => {
  const { router, reading } = rig();
  const p = router.waitQuiet(100, undefined, 'ttyS0');
  router.fail(canceledError('ttyS0'));
  await assert.rejects(p, (e: unknown) => isCanceled(e));
  assert.equal(reading.at(-1), false);
});

test('ending markers and device names', () => {
  const c = canceledError('ttyS1');
  assert.equal(c.code, 'LINE_CLOSED');
  assert.ok(isCanceled(c) && !isDisconnected(c));
  const cause = new Error('EIO');
  const h = hangupError('ttyS1', { reason: 'error', cause });
  assert.equal(h.code, 'LINE_HANGUP');
  assert.equal(h.cause, cause);
  assert.ok(isDisconnected(h) && !isCanceled(h));
  assert.ok(!isCanceled(new TgettyError('INTERNAL', 'x')));
  assert.equal(deviceName('/dev/ttyS3'), 'ttyS3');
  assert.equal(deviceName('/dev/pts/4'), 'pts/4');
  assert.equal(deviceName('ttyUSB0'), 'ttyUSB0');
});
