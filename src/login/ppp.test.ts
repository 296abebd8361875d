import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { bytes, everyChunking } from '../modem/chunks.js';
import { PPP_GOOD_FCS, PppDetector, fcs16, hdlcStuff, hdlcUnstuff, lcpConfigureRequest, pppFrame } from './ppp.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/ppp/', import.meta.url));

function hex(s: string): Uint8Array {
  const body = s
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .join(' ')
    .trim();
  return Uint8Array.from(body.split(/\s+/).map((h) => parseInt(h, 16)));
}

function fixture(name: string): Uint8Array {
  return hex(readFileSync(FIXTURES + name, 'latin1'));
}

/** Absolute stream position of the first detection, feeding the given chunks to a fresh detector. */
function detectAt(chunks: Uint8Array[]): number | undefined {
  const d = new PppDetector();
  let base = 0;
  for (const c of chunks) {
    const m = d.feed(c);
    if (m !== undefined) {
      assert.equal(m.end, m.offset + 1);
      return base + m.offset;
    }
    base += c.length;
  }
  return undefined;
}

function everySplitDetects(data: Uint8Array, at: number | undefined): void {
  for (const chunks of everyChunking(data)) assert.equal(detectAt(chunks), at);
}

test('escaped LCP start (pppd default ACCM) is detected at the 0x21, at every chunk split', () => {
  everySplitDetects(hex('7e ff 7d 23 c0 21 7d 21 7d 20'), 5);
});

test('the unescaped and the fully escaped forms are detected too (spec §5.13 rule 2)', () => {
  everySplitDetects(hex('7e ff 03 c0 21'), 4);
  everySplitDetects(hex('7e 7d df 7d 23 c0 21'), 6);
  everySplitDetects(hex('7e 7d df 7d 23 7d e0 7d 01'), 8);
});

test('noise and repeated flags before the frame do not hide it', () => {
  everySplitDetects(hex('0d 0a 41 54 7e 7e 7e ff 7d 23 c0 21'), 11);
  everySplitDetects(hex('7e ff 7e ff 03 c0 21'), 6);
  // An escape before a non-matching byte resets, the next flag starts again.
  everySplitDetects(hex('7e 7d 41 7e ff 03 c0 21'), 7);
});

test('negative cases: flag alone, PAP and IPCP, ACFC-compressed LCP, no flag, a broken sequence', () => {
  for (const s of [
    '7e',
    '7e ff 03 c0 23', // PAP
    '7e ff 03 80 21', // IPCP
    '7e c0 21 01 01', // ACFC on LCP: forbidden by RFC 1661, not accepted
    'ff 03 c0 21', // no flag
    '7e ff 03 41 c0 21', // a byte in between
    '7e ff 7d 03 c0 21', // escaped 03 is 0x23, not the Control field
  ]) {
    everySplitDetects(hex(s), undefined);
  }
});

test('a double escape is just one escape (the 0x7D never resets the level)', () => {
  everySplitDetects(hex('7e ff 7d 7d 23 c0 21'), 6);
});

test('state persists across feeds and starts over after a detection', () => {
  const d = new PppDetector();
  assert.equal(d.feed(hex('7e ff')), undefined);
  assert.equal(d.level, 2);
  assert.deepEqual(d.feed(hex('7d 23 c0 21 7d 21')), { offset: 3, end: 4 });
  assert.equal(d.level, 0);
  assert.deepEqual(d.feed(hex('00 7e ff 03 c0 21')), { offset: 5, end: 6 });
  d.feed(hex('7e ff'));
  d.reset();
  assert.equal(d.feed(hex('03 c0 21')), undefined);
});

test('fuzz: random bytes never detect unless they contain the frame start', () => {
  // Reference: un-escape by the same rule over the whole stream and look for the pattern.
  const reference = (data: Uint8Array): number | undefined => {
    let lvl = 0;
    let esc = false;
    const want = [0xff, 0x03, 0xc0, 0x21];
    for (let i = 0; i < data.length; i++) {
      const b = data[i] ?? 0;
      if (b === 0x7e) {
        lvl = 1;
        esc = false;
      } else if (b === 0x7d) esc = true;
      else {
        const c = esc ? b ^ 0x20 : b;
        esc = false;
        if (lvl >= 1 && c === want[lvl - 1]) {
          lvl++;
          if (lvl === 5) return i;
        } else lvl = 0;
      }
    }
    return undefined;
  };
  // Bytes biased towards the interesting values so matches actually happen.
  const byte = fc.oneof(fc.constantFrom(0x7e, 0x7d, 0xff, 0xdf, 0x03, 0x23, 0xc0, 0xe0, 0x21, 0x01), fc.integer({ min: 0, max: 255 }));
  fc.assert(
    fc.property(fc.array(byte, { maxLength: 40 }), fc.array(fc.nat(40)), (arr, cuts) => {
      const data = Uint8Array.from(arr);
      const chunks: Uint8Array[] = [];
      const points = [...new Set(cuts.filter((c) => c > 0 && c < data.length))].sort((a, b) => a - b);
      let from = 0;
      for (const p of points) {
        chunks.push(data.subarray(from, p));
        from = p;
      }
      chunks.push(data.subarray(from));
      assert.equal(detectAt(chunks), reference(data));
    }),
    { numRuns: 2000 },
  );
  // Pure noise without any flag byte can never match.
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (raw) => {
      const data = raw.map((b) => (b === 0x7e ? 0 : b));
      assert.equal(detectAt([data]), undefined);
    }),
  );
});

test('FCS-16: RFC 1662 good-FCS property and a fixed vector', () => {
  const data = bytes('123456789');
  // FCS-16/X.25 check value of "123456789" is 0x906E (complemented result).
  assert.equal(fcs16(data) ^ 0xffff, 0x906e);
  const fcs = fcs16(data) ^ 0xffff;
  const withFcs = Uint8Array.from([...data, fcs & 0xff, fcs >>> 8]);
  assert.equal(fcs16(withFcs), PPP_GOOD_FCS);
});

test('HDLC stuffing: flag and escape always, control bytes by ACCM; unstuff inverts', () => {
  assert.deepEqual(hdlcStuff(hex('7e 7d 03 41'), 0), hex('7d 5e 7d 5d 03 41'));
  assert.deepEqual(hdlcStuff(hex('7e 7d 03 41')), hex('7d 5e 7d 5d 7d 23 41'));
  assert.deepEqual(hdlcStuff(hex('01 02 11'), 0x00020000), hex('01 02 7d 31'));
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat({ max: 0xffffffff }), (d, accm) => {
      const s = hdlcStuff(d, accm);
      assert.ok(!s.includes(0x7e));
      assert.deepEqual(hdlcUnstuff(s), d);
    }),
  );
});

test('lcpConfigureRequest builds pppd-identical bytes (the captured-style fixtures)', () => {
  assert.deepEqual(lcpConfigureRequest({ magic: 0x5c2f0e93 }), fixture('pppd-lcp-confreq.hex'));
  assert.deepEqual(lcpConfigureRequest({ magic: 0x5c2f0e93, escapeAll: false }), fixture('pppd-lcp-confreq-accm0.hex'));
  assert.deepEqual(lcpConfigureRequest({ magic: 0x5c2f0e93, accm: 0 }), fixture('pppd-lcp-confreq-accm0.hex'));
});

test('every fixture frame has a good FCS, and the detector finds it at every split', () => {
  const names = readdirSync(FIXTURES).filter((n) => n.endsWith('.hex'));
  assert.ok(names.length >= 3);
  for (const n of names) {
    const f = fixture(n);
    assert.equal(f[0], 0x7e, n);
    assert.equal(f[f.length - 1], 0x7e, n);
    const body = hdlcUnstuff(f.subarray(1, f.length - 1));
    assert.equal(fcs16(body), PPP_GOOD_FCS, n);
    assert.deepEqual([...body.subarray(0, 4)], [0xff, 0x03, 0xc0, 0x21], n);
    const at = f.indexOf(0x21);
    everySplitDetects(f, at);
  }
});

test('built frames: good FCS, LCP length field, options; and other protocols are not LCP', () => {
  fc.assert(
    fc.property(fc.nat({ max: 0xffffffff }), fc.nat(255), fc.boolean(), fc.option(fc.integer({ min: 64, max: 1500 }), { nil: undefined }), (magic, id, comp, mru) => {
      const f = lcpConfigureRequest({ magic, id, compression: comp, mru });
      const body = hdlcUnstuff(f.subarray(1, f.length - 1));
      assert.equal(fcs16(body), PPP_GOOD_FCS);
      const lcp = body.subarray(4, body.length - 2);
      assert.equal(lcp[0], 1);
      assert.equal(lcp[1], id);
      assert.equal(((lcp[2] ?? 0) << 8) | (lcp[3] ?? 0), lcp.length);
      // Every control byte is escaped with the default ACCM.
      assert.ok(f.subarray(1, f.length - 1).every((b) => b >= 0x20));
      assert.notEqual(detectAt([f]), undefined);
    }),
  );
  assert.equal(detectAt([pppFrame(0xc023, hex('01 01 00 04'))]), undefined);
});
