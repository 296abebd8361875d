// Fuzz: the AutoPPP detector finds every real LCP frame start behind any garbage; framing round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chunk, cutPoints, feedGarbage, fuzzParams, protocolBytes } from '../../test/helpers/fuzz.js';
import { HDLC_FLAG, PPP_GOOD_FCS, PppDetector, fcs16, hdlcStuff, hdlcUnstuff, lcpConfigureRequest, pppFrame } from './ppp.js';

const lcp = fc.record({
  magic: fc.nat({ max: 0xffffffff }),
  id: fc.nat(255),
  accm: fc.option(fc.nat({ max: 0xffffffff }), { nil: undefined }),
  escapeAll: fc.boolean(),
  compression: fc.boolean(),
  asyncMap: fc.nat({ max: 0xffffffff }),
  mru: fc.option(fc.integer({ min: 64, max: 1500 }), { nil: undefined }),
});

/** Offset (in the whole stream) where a fresh detector, fed these chunks, reports; -1 if never. */
function detectAt(chunks: Uint8Array[]): number {
  const d = new PppDetector();
  let base = 0;
  for (const c of chunks) {
    const m = d.feed(c);
    if (m !== undefined) {
      assert.equal(m.end, m.offset + 1);
      return base + m.offset;
    }
    assert.ok(d.level >= 0 && d.level <= 4);
    base += c.length;
  }
  return -1;
}

test('fuzz: a configure-request behind any garbage is detected, at the latest on its protocol byte, at any chunking', () => {
  fc.assert(
    fc.property(protocolBytes({ maxParts: 30 }), lcp, cutPoints(400), (junk, o, cuts) => {
      const frame = lcpConfigureRequest({ ...o, ...(o.accm === undefined ? {} : { accm: o.accm }), ...(o.mru === undefined ? {} : { mru: o.mru }) });
      const data = new Uint8Array(junk.length + frame.length);
      data.set(junk);
      data.set(frame, junk.length);
      // The protocol's low byte 0x21 is never escaped, and the 5th un-escaped byte after the flag.
      const proto = junk.length + frame.indexOf(0x21, 1);
      const at = detectAt([data]);
      assert.ok(at >= 0 && at <= proto, `detected at ${at}, frame protocol at ${proto}`);
      assert.equal(detectAt(chunk(data, cuts)), at);
      // From a clean start the frame alone is detected exactly there.
      assert.equal(detectAt([frame]), frame.indexOf(0x21, 1));
    }),
    fuzzParams(1000),
  );
});

test('fuzz: frames: stuffing inverts, no flag inside, FCS checks out for any protocol, payload and ACCM', () => {
  fc.assert(
    fc.property(fc.nat(0xffff), fc.uint8Array({ maxLength: 80 }), fc.nat({ max: 0xffffffff }), (protocol, payload, accm) => {
      const f = pppFrame(protocol, payload, accm);
      assert.equal(f[0], HDLC_FLAG);
      assert.equal(f[f.length - 1], HDLC_FLAG);
      const inner = f.subarray(1, -1);
      assert.ok(!inner.includes(HDLC_FLAG));
      for (let b = 0; b < 0x20; b++) if (((accm >>> b) & 1) === 1) assert.ok(!inner.includes(b), `ACCM bit ${b}`);
      const body = hdlcUnstuff(inner);
      assert.deepEqual(hdlcStuff(body, accm), inner);
      assert.equal(fcs16(body), PPP_GOOD_FCS);
      assert.deepEqual(body.subarray(4, 4 + payload.length), payload);
      // One flipped bit anywhere breaks the FCS.
      const bad = Uint8Array.from(body);
      const i = (protocol + payload.length) % bad.length;
      bad[i] = (bad[i] ?? 0) ^ (1 << (protocol % 8));
      assert.notEqual(fcs16(bad), PPP_GOOD_FCS);
    }),
    fuzzParams(500, 0.3),
  );
});

test('fuzz: fcs16 is incremental: any split gives the same FCS', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat(200), (d, cut) => {
      const k = Math.min(cut, d.length);
      assert.equal(fcs16(d.subarray(k), fcs16(d.subarray(0, k))), fcs16(d));
    }),
    fuzzParams(300, 0.1),
  );
});

test('bounded: the detector keeps no input: 10 MB of garbage, level stays within 0..4', () => {
  const d = new PppDetector();
  let hits = 0;
  const r = feedGarbage(
    (c) => {
      let rest = c;
      for (;;) {
        const m = d.feed(rest);
        if (m === undefined) break;
        hits++;
        rest = rest.subarray(m.end);
      }
    },
    () => d.level,
    { style: 'protocol' },
  );
  assert.ok(r.maxProbe <= 4);
  // The protocol garbage contains frame starts: the detector finds them again and again.
  assert.ok(hits > 0);
});
