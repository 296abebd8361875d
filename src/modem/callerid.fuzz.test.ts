// Fuzz: the caller-ID line parser over sequences of lines, MESG decoding round trip, MSN matching.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fuzzParams, protocolChar, protocolText } from '../../test/helpers/fuzz.js';
import { CALLER_ID_FORMATS, applyCallerIdLine, applyMesg, decodeMesg, matchMsn, newCallData, type CallData } from './callerid.js';

/** A line: a known prefix (or none) and arbitrary text after it. */
const cidLine = fc
  .tuple(fc.constantFrom('', ' ', '\t', ...CALLER_ID_FORMATS.flatMap((f) => (f.prefix === null ? ['0', '9'] : [f.prefix]))), protocolText({ maxParts: 10 }))
  .map(([p, rest]) => p + rest);

/** Safe for logs, argv and `'...'` shell quoting: printable ASCII, no quotes. */
const SAFE = /^[\x20-\x7e]*$/;

test('fuzz: any sequence of lines: never throws; updates are what changed; values are safe', () => {
  fc.assert(
    fc.property(fc.array(cidLine, { maxLength: 8 }), (lines) => {
      const d = newCallData();
      for (const line of lines) {
        const before: CallData = { ...d };
        const updates = applyCallerIdLine(d, line);
        const changed = new Set(updates.map((u) => u.field));
        for (const k of Object.keys(d) as (keyof CallData)[]) {
          if (!changed.has(k)) assert.equal(d[k], before[k], `${k} changed without an update for ${JSON.stringify(line)}`);
        }
        for (const u of updates) {
          assert.equal(String(d[u.field]), u.value);
          assert.ok(u.format !== '');
          assert.ok(SAFE.test(u.value) && !/["']/.test(u.value), `${u.field}=${JSON.stringify(u.value)} from ${JSON.stringify(lines)}`);
        }
      }
    }),
    fuzzParams(1000),
  );
});

/** Bell Canada MESG: `03`, length as two hex digits, then each character as two hex digits. */
function encodeMesg(num: string): string {
  const hex = (n: number): string => n.toString(16).toUpperCase().padStart(2, '0');
  return '03' + hex(num.length) + [...num].map((c) => hex(c.charCodeAt(0))).join('');
}

test('fuzz: decodeMesg inverts the Bell Canada encoding of a number', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 255 }), fc.constantFrom('', ' ', '\t'), (num, pad) => {
      assert.equal(decodeMesg(pad + encodeMesg(num) + pad), num);
      const d = newCallData();
      applyCallerIdLine(d, `MESG = ${encodeMesg(num)}`);
      applyMesg(d);
      assert.equal(d.callerId, num);
    }),
    fuzzParams(500, 0.2),
  );
});

test('fuzz: decodeMesg never throws; its output is at most the declared length, taken from the input', () => {
  fc.assert(
    fc.property(fc.oneof(protocolText({ maxParts: 20 }), fc.string({ unit: protocolChar, maxLength: 30 }).map((s) => '03' + s)), (m) => {
      const r = decodeMesg(m);
      if (r === undefined) return;
      assert.ok(r.length <= 0xff);
      for (const c of r) assert.ok(m.includes(c));
    }),
    fuzzParams(500, 0.2),
  );
});

test('fuzz: matchMsn gives the first MSN that ends the called number, else 0', () => {
  const digits = fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 6 });
  fc.assert(
    fc.property(digits, fc.array(digits, { maxLength: 5 }), (nr, list) => {
      const i = matchMsn(nr, list);
      assert.ok(i >= 0 && i <= list.length);
      const first = list.findIndex((m) => m !== '' && nr.endsWith(m));
      assert.equal(i, first + 1);
    }),
    fuzzParams(500, 0.1),
  );
});
