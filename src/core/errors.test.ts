import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TgettyError, isTgettyError, toTgettyError } from './errors.js';

test('TgettyError carries code, context and a file:line location', () => {
  const cause = new Error('inner');
  const e = new TgettyError('CONFIG_BAD_VALUE', "bad value for 'speed'", { file: 'mgetty.config', line: 7 }, { cause });
  assert.equal(e.code, 'CONFIG_BAD_VALUE');
  assert.equal(e.located, "mgetty.config:7: bad value for 'speed'");
  assert.equal(e.cause, cause);
  assert.deepEqual(e.toJSON().context, { file: 'mgetty.config', line: 7 });
  assert.equal(isTgettyError(e, 'CONFIG_BAD_VALUE'), true);
  assert.equal(isTgettyError(e, 'CLI_USAGE'), false);
});

test('toTgettyError wraps foreign errors and keeps them as cause', () => {
  const inner = Object.assign(new Error('nope'), { code: 'ENOENT' });
  const e = toTgettyError(inner, 'CONFIG_UNREADABLE', { file: '/x' });
  assert.equal(e.code, 'CONFIG_UNREADABLE');
  assert.equal(e.message, 'nope');
  assert.equal(e.cause, inner);
  assert.equal(toTgettyError(e), e);
});
