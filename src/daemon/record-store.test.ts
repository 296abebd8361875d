import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRecordsTarget, redactUrl } from './record-store.js';
import { isTgettyError } from '../core/errors.js';

test('a path is SQLite; postgresql:// and postgres:// URLs are PostgreSQL, shown without the password', () => {
  assert.deepEqual(parseRecordsTarget('/var/lib/tgetty/calls.sqlite'), { kind: 'sqlite', file: '/var/lib/tgetty/calls.sqlite' });
  assert.deepEqual(parseRecordsTarget('./a:b'), { kind: 'sqlite', file: './a:b' });
  assert.deepEqual(parseRecordsTarget('calls.sqlite'), { kind: 'sqlite', file: 'calls.sqlite' });
  const t = parseRecordsTarget('postgresql://tgetty:s3cret@db.example:5433/modems');
  assert.equal(t.kind, 'postgresql');
  assert.equal(t.kind === 'postgresql' && t.display, 'postgresql://tgetty:***@db.example:5433/modems');
  assert.equal(parseRecordsTarget('postgres://u@h/d').kind, 'postgresql');
  assert.equal(parseRecordsTarget('postgresql:///d?host=/run/postgresql').kind, 'postgresql');
});

test('an unsupported scheme or an unusable URL is refused with a clear message, never taken as a file', () => {
  const refused = (v: string, re: RegExp): void => {
    assert.throws(
      () => parseRecordsTarget(v),
      (err: unknown) => isTgettyError(err, 'CLI_USAGE') && re.test(err.message) && !err.message.includes('s3cret'),
      v,
    );
  };
  refused('mysql://u:s3cret@h/d', /unsupported scheme 'mysql:'.*postgresql:\/\//);
  refused('postgresq://u@h/d', /unsupported scheme 'postgresq:'/);
  refused('file:calls.sqlite', /unsupported scheme 'file:'/);
  refused('postgresql://u:s3cret@h', /no database name/);
  refused('postgresql://u:s3cret@h/', /no database name/);
  refused('postgresql:///d', /no host/);
  refused('postgresql://u:s3cret@[::1/d', /not a valid URL/);
  refused('', /empty value/);
});

test('redactUrl hides only the password', () => {
  assert.equal(redactUrl('postgresql://a:b@h/d'), 'postgresql://a:***@h/d');
  assert.equal(redactUrl('postgresql://a@h/d'), 'postgresql://a@h/d');
});
