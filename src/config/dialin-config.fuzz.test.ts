// Fuzz: dialin.config: never throws; the decision is deterministic, first-match and explained.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { configTextOf, fuzzParams, protocolText } from '../../test/helpers/fuzz.js';
import { NO_CALLER_ID, evaluateDialin, parseDialinConfig } from './dialin-config.js';

const F = '/etc/mgetty/dialin.config';
const text = configTextOf(['all', '!all', '555', '!555', '5551234', '!', 'none', '!none', '0301', ',', '!0'], 50);
const cid = fc.option(fc.oneof(fc.constantFrom('', '5551234', '555', 'none', 'all', '0301234567', 'P', 'O'), protocolText({ maxParts: 5 })), { nil: undefined });

test('fuzz: parse never throws; tokens are non-blank and located; the decision is the first matching token', () => {
  fc.assert(
    fc.property(text, cid, (t, id) => {
      const p = parseDialinConfig(t, F);
      for (const d of p.diagnostics) assert.ok(d.file === F && d.line >= 1 && d.line <= p.lineCount && d.message !== '');
      let last = 0;
      for (const k of p.tokens) {
        assert.ok(k.line >= last && k.line >= 1 && k.line <= p.lineCount);
        last = k.line;
        assert.ok(!/[ \t\r\f\v,\n]/.test(k.token));
      }
      const dec = evaluateDialin(p.tokens, id);
      assert.deepEqual(evaluateDialin(p.tokens, id), dec, 'deterministic');
      const c = id === undefined || id === '' ? NO_CALLER_ID : id;
      const first = p.tokens.find((k) => k.token === 'all' || c.startsWith(k.token));
      assert.equal(dec.token, first);
      assert.equal(dec.accept, first === undefined ? true : !first.negate);
      // The reason names the caller, the verdict and, when a token decided, its file:line.
      assert.ok(dec.reason.includes(`'${c}'`) && dec.reason.endsWith(dec.accept ? 'accept' : 'reject'));
      if (first !== undefined) assert.ok(dec.reason.startsWith(`${F}:${first.line}: `));
    }),
    fuzzParams(1000),
  );
});
