// Fuzz: expanding a chat send element, against a regex restatement of §6.3.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fuzzParams, latin1String, protocolText } from '../../test/helpers/fuzz.js';
import { SEND_PAUSE_MS, SEND_PRE_DELAY_MS, expandSend, sendBytes, sendDelayMs } from './send.js';

/** §6.3 restated: a backslash pair is `\d` (pause), `\c` (no CR) or the second char; a lone final backslash sends nothing. */
function reference(el: string): { bytes: string; pauses: number; noCr: boolean; trailing: boolean } {
  let pauses = 0;
  let noCr = false;
  const trailing = /(^|[^\\])(\\\\)*\\$/.test(el);
  const body = trailing ? el.slice(0, -1) : el;
  const bytes = body.replace(/\\([\s\S])/g, (_m, c: string) => {
    if (c === 'd') pauses++;
    if (c === 'c') noCr = true;
    return c === 'd' || c === 'c' ? '' : c;
  });
  return { bytes: bytes + (noCr ? '' : '\r'), pauses, noCr, trailing };
}

test('fuzz: expandSend equals the reference; delays first and only 50/500 ms; CHAT_SYNTAX only for a lone backslash', () => {
  const el = fc.oneof(protocolText({ maxParts: 20 }), fc.string({ unit: fc.constantFrom('\\', 'd', 'c', 'A', '\r', '\x00', '\xff', 'p'), maxLength: 30 }));
  fc.assert(
    fc.property(el, (element) => {
      const plan = expandSend(element);
      const ref = reference(element);
      assert.deepEqual(plan.ops[0], { kind: 'delay', ms: SEND_PRE_DELAY_MS });
      for (const op of plan.ops) {
        if (op.kind === 'delay') assert.ok(op.ms === SEND_PRE_DELAY_MS || op.ms === SEND_PAUSE_MS);
        else assert.ok(op.data.length > 0, 'no empty writes');
      }
      const withoutCr = (s: string): string => s.replace(/\r$/, '');
      // The element's chars are latin1; the send stage writes their low byte.
      assert.equal(latin1String(sendBytes(plan.ops)), [...ref.bytes].map((c) => String.fromCharCode(c.charCodeAt(0) & 0xff)).join(''));
      assert.equal(sendDelayMs(plan.ops), SEND_PRE_DELAY_MS + ref.pauses * SEND_PAUSE_MS);
      assert.equal(withoutCr(ref.bytes).length <= element.length, true);
      assert.equal(plan.diagnostics.length, ref.trailing ? 1 : 0);
      for (const d of plan.diagnostics) assert.ok(d.code === 'CHAT_SYNTAX' && d.message !== '' && d.element === element);
    }),
    fuzzParams(1000),
  );
});
