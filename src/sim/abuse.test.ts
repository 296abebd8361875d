import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FakeClock } from '../core/clock.js';
import { AbusePolicy, normaliseAddress } from './abuse.js';

test('defaults: nothing is refused, nothing is remembered', () => {
  const clock = new FakeClock();
  const p = new AbusePolicy({}, clock);
  for (let i = 0; i < 1000; i++) {
    assert.equal(p.check('10.0.0.1'), undefined);
    p.accepted('10.0.0.1');
    p.ended('10.0.0.1');
  }
  assert.equal(p.tracked, 0);
});

test('cool-down: the same address is refused with "please wait N s" until it is over; others are not', () => {
  const clock = new FakeClock();
  const p = new AbusePolicy({ cooldownS: 30 }, clock);
  assert.equal(p.check('10.0.0.1'), undefined);
  p.accepted('10.0.0.1');
  // A second call while the first is still up is not a cool-down matter.
  assert.equal(p.check('10.0.0.1'), undefined);
  p.ended('10.0.0.1');
  const r = p.check('10.0.0.1');
  assert.equal(r?.reason, 'cooldown');
  assert.equal(r?.message, 'please wait 30 s\r\n');
  assert.match(r?.log ?? '', /cool-down: refused caller 10\.0\.0\.1 \(30 s left\)/);
  assert.equal(p.check('10.0.0.2'), undefined);
  clock.advance(10_500);
  assert.equal(p.check('10.0.0.1')?.message, 'please wait 20 s\r\n');
  // A refused attempt does not extend the cool-down.
  clock.advance(19_499);
  assert.equal(p.check('10.0.0.1')?.waitS, 1);
  clock.advance(1);
  assert.equal(p.check('10.0.0.1'), undefined);
});

test('IPv4 on a dual-stack socket is the same caller as plain IPv4', () => {
  assert.equal(normaliseAddress('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(normaliseAddress('2001:db8::1'), '2001:db8::1');
  assert.equal(normaliseAddress(undefined), '?');
  const clock = new FakeClock();
  const p = new AbusePolicy({ cooldownS: 5 }, clock);
  p.ended('::ffff:192.0.2.7');
  assert.equal(p.check('192.0.2.7')?.reason, 'cooldown');
});

test('global cap: a sliding 60 s window over accepted calls', () => {
  const clock = new FakeClock();
  const p = new AbusePolicy({ maxCallsPerMinute: 3 }, clock);
  for (const a of ['a', 'b', 'c']) {
    assert.equal(p.check(a), undefined);
    p.accepted(a);
    clock.advance(10_000);
  }
  // t = 30 s: three calls at 0, 10, 20 s.
  const r = p.check('d');
  assert.equal(r?.reason, 'rate');
  assert.equal(r?.waitS, 30, 'the call at 0 s leaves the window at 60 s');
  assert.equal(r?.message, 'please wait 30 s\r\n');
  assert.match(r?.log ?? '', /rate limit: refused caller d \(3 calls per minute in all\)/);
  // Refusals are not counted: only accepted calls fill the window.
  clock.advance(29_999);
  assert.equal(p.check('d')?.reason, 'rate');
  clock.advance(1);
  assert.equal(p.check('d'), undefined);
  p.accepted('d');
  assert.equal(p.check('e')?.waitS, 10);
});

test('per-address cap: one address is held back, the others still get in', () => {
  const clock = new FakeClock();
  const p = new AbusePolicy({ maxCallsPerMinutePerAddress: 2, maxCallsPerMinute: 100 }, clock);
  p.accepted('a');
  clock.advance(5_000);
  p.accepted('a');
  const r = p.check('a');
  assert.equal(r?.reason, 'rate-address');
  assert.equal(r?.waitS, 55);
  assert.match(r?.log ?? '', /2 calls per minute from one address/);
  assert.equal(p.check('b'), undefined);
  clock.advance(55_000);
  assert.equal(p.check('a'), undefined);
});

test('busy-out: every caller gets BUSY until it is lifted; it wins over everything else', () => {
  const clock = new FakeClock();
  const p = new AbusePolicy({ busyOut: true, cooldownS: 60 }, clock);
  assert.equal(p.busiedOut, true);
  p.ended('a');
  assert.deepEqual(p.check('a'), { reason: 'busy-out', waitS: 0, message: 'BUSY\r\n', log: 'busy-out: refused caller a' });
  assert.equal(p.check('b')?.reason, 'busy-out');
  p.busyOut(false);
  assert.equal(p.check('b'), undefined);
  assert.equal(p.check('a')?.reason, 'cooldown');
});

test('bad options are rejected', () => {
  const clock = new FakeClock();
  assert.throws(() => new AbusePolicy({ cooldownS: -1 }, clock), RangeError);
  assert.throws(() => new AbusePolicy({ maxCallsPerMinute: Number.NaN }, clock), RangeError);
});

test('memory stays bounded: many addresses and many calls keep at most maxTracked entries', () => {
  const clock = new FakeClock();
  const p = new AbusePolicy({ cooldownS: 600, maxCallsPerMinutePerAddress: 5, maxTracked: 100 }, clock);
  for (let i = 0; i < 10_000; i++) {
    const a = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    p.accepted(a);
    p.ended(a);
    clock.advance(1);
  }
  assert.equal(p.tracked, 100);
  // The most recent callers are the ones remembered.
  assert.equal(p.check('10.0.39.15')?.reason, 'cooldown');
});

test('idle entries are dropped before live ones', () => {
  const clock = new FakeClock();
  const p = new AbusePolicy({ cooldownS: 10, maxTracked: 2 }, clock);
  p.ended('old'); // its cool-down runs out
  clock.advance(20_000);
  p.ended('live');
  p.ended('new');
  assert.equal(p.tracked, 2);
  assert.equal(p.check('live')?.reason, 'cooldown', 'the live entry survived; the idle one was dropped');
  assert.equal(p.check('new')?.reason, 'cooldown');
});

test('model check: refusals match a naive recount of the history at every step', () => {
  type Op = { kind: 'call'; addr: number } | { kind: 'end'; addr: number } | { kind: 'wait'; ms: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ kind: fc.constant('call' as const), addr: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ kind: fc.constant('end' as const), addr: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 3 }), (ops, cool, maxG, maxA) => {
      const clock = new FakeClock();
      const p = new AbusePolicy({ cooldownS: cool, maxCallsPerMinute: maxG, maxCallsPerMinutePerAddress: maxA }, clock);
      const acc: { t: number; a: number }[] = [];
      const ends = new Map<number, number>();
      for (const o of ops) {
        const now = clock.monotonic();
        if (o.kind === 'wait') clock.advance(o.ms);
        else if (o.kind === 'end') {
          p.ended(String(o.addr));
          ends.set(o.addr, now);
        } else {
          const recent = acc.filter((x) => x.t > now - 60_000);
          const lastEnd = ends.get(o.addr);
          let want: string | undefined;
          if (cool > 0 && lastEnd !== undefined && lastEnd + cool * 1000 > now) want = 'cooldown';
          else if (maxA > 0 && recent.filter((x) => x.a === o.addr).length >= maxA) want = 'rate-address';
          else if (maxG > 0 && recent.length >= maxG) want = 'rate';
          const got = p.check(String(o.addr));
          assert.equal(got?.reason, want);
          if (got === undefined) {
            p.accepted(String(o.addr));
            acc.push({ t: now, a: o.addr });
          }
        }
      }
    }),
  );
});
