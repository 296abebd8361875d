import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseDialinConfig, evaluateDialin } from './dialin-config.js';
import { formatDiagnostic } from './diagnostics.js';

const F = 'dialin.config';
const decide = (text: string, cid: string | undefined): [boolean, string | undefined] => {
  const r = evaluateDialin(parseDialinConfig(text, F).tokens, cid);
  return [r.accept, r.token === undefined ? undefined : `${r.token.negate ? '!' : ''}${r.token.token}@${r.token.line}`];
};

test('tokens split at blanks and commas; comments and empty lines skipped', () => {
  const p = parseDialinConfig('# friends\n3433535, 7445343,5551212\n\n   # indented comment\n\t!416\t!3444444\r\n', F);
  assert.deepEqual(p.tokens.map((t) => [t.negate, t.token, t.line]), [
    [false, '3433535', 2], [false, '7445343', 2], [false, '5551212', 2], [true, '416', 5], [true, '3444444', 5],
  ]);
  assert.deepEqual(p.diagnostics, []);
});

test('first matching token decides, in file order', () => {
  assert.deepEqual(decide('!555 all\n', '5551234'), [false, '!555@1']);
  assert.deepEqual(decide('!555 all\n', '4161234'), [true, 'all@1']);
  assert.deepEqual(decide('5551234\n!555\n', '5551234'), [true, '5551234@1']);
  assert.deepEqual(decide('5551234\n!555\n', '5559999'), [false, '!555@2']);
  assert.deepEqual(decide('832, 555\n!all\n', '8320000'), [true, '832@1']);
  assert.deepEqual(decide('832, 555\n!all\n', '9990000'), [false, '!all@2']);
});

test('no match accepts (implicit all); missing caller ID is compared as none', () => {
  assert.deepEqual(decide('!416\n', '5551234'), [true, undefined]);
  assert.deepEqual(decide('', undefined), [true, undefined]);
  assert.deepEqual(decide('!none\nall\n', undefined), [false, '!none@1']);
  assert.deepEqual(decide('!none\nall\n', ''), [false, '!none@1']);
  assert.deepEqual(decide('!none\nall\n', '5551234'), [true, 'all@2']);
  // Prefix match: `n` also matches `none` (as in mgetty).
  assert.deepEqual(decide('!n\n', undefined), [false, '!n@1']);
  // Case-sensitive.
  assert.deepEqual(decide('!p\n', 'P'), [true, undefined]);
});

test('the decision explains itself with file:line', () => {
  const r = evaluateDialin(parseDialinConfig('\n!555 all\n', '/etc/mgetty/dialin.config').tokens, '5551234');
  assert.equal(r.reason, "/etc/mgetty/dialin.config:2: '!555' matches caller '5551234': reject");
  assert.equal(evaluateDialin([], undefined).reason, "no dialin.config token matches caller 'none': accept");
});

test('a lone ! matches everyone and is flagged', () => {
  const p = parseDialinConfig('123\n!\n', F);
  assert.deepEqual(p.diagnostics.map(formatDiagnostic), [
    "dialin.config:2: warning: a lone '!' matches every caller, so every call not accepted earlier is rejected (write '!all' if that is intended)",
  ]);
  assert.equal(evaluateDialin(p.tokens, '999').accept, false);
});

test('property: never throws; the deciding token matches', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.option(fc.string({ maxLength: 6 }), { nil: undefined }), (text, cid) => {
      const p = parseDialinConfig(text, F);
      const r = evaluateDialin(p.tokens, cid);
      if (r.token !== undefined) {
        const c = cid === undefined || cid === '' ? 'none' : cid;
        assert.ok(r.token.token === 'all' || c.startsWith(r.token.token));
        assert.equal(r.accept, !r.token.negate);
      } else {
        assert.equal(r.accept, true);
      }
    }),
    { numRuns: 300 },
  );
});
