import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TgettyError } from '../core/errors.js';
import { entryText, formatJson, formatLocalTime, formatText, logField, logInfix, sanitizeText } from './format.js';
import { LogLevel } from './levels.js';
import type { MessageLevel } from './levels.js';

// Local time is part of the format: pin the zone for this process before any Date use.
process.env.TZ = 'UTC';
const T = Date.UTC(2026, 10, 21, 19, 7, 3); // 11/21 19:07:03 UTC

const entry = (level: MessageLevel, msg: string, fields?: Record<string, unknown>) => ({ time: T, level, device: 'ttyQZ0', msg, fields });

test('time stamp is MM/DD HH:MM:SS in local time', () => {
  assert.equal(formatLocalTime(T), '11/21 19:07:03');
  assert.equal(formatLocalTime(Date.UTC(2026, 0, 2, 3, 4, 5)), '01/02 03:04:05');
  process.env.TZ = 'Etc/GMT-2'; // UTC+2
  try {
    assert.equal(formatLocalTime(T), '11/21 21:07:03');
  } finally {
    process.env.TZ = 'UTC';
  }
});

test('infix is the last 3 chars of the device', () => {
  assert.equal(logInfix('ttyQZ0'), 'QZ0');
  assert.equal(logInfix('pts/12'), '/12');
  assert.equal(logInfix('S0'), 'S0');
  assert.equal(logInfix('unknown'), '???');
});

test('text lines: mgetty layout, one complete line per entry', () => {
  assert.equal(formatText(entry(LogLevel.MESG, 'check for lockfiles')), '11/21 19:07:03 QZ0  check for lockfiles\n');
  assert.equal(formatText(entry(LogLevel.WARN, 'w')), '11/21 19:07:03 QZ0  w\n');
  assert.equal(formatText(entry(LogLevel.NOISE, 'makelock(ttyQZ0) called')), '11/21 19:07:03 QZ0   makelock(ttyQZ0) called\n');
  assert.equal(formatText(entry(LogLevel.JUNK, 'j')), '11/21 19:07:03 QZ0    j\n');
  assert.equal(
    formatText(entry(LogLevel.AUDIT, "data dev=ttyQZ0, pid=7, caller='none'")),
    "11/21 19:07:03 ##### data dev=ttyQZ0, pid=7, caller='none'\n",
  );
});

test('ERROR/FATAL get ": <reason>" when an error is given', () => {
  const enoent = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), { code: 'ENOENT' });
  assert.equal(
    formatText(entry(LogLevel.ERROR, 'cannot open /x', { err: enoent })),
    "11/21 19:07:03 QZ0  cannot open /x: ENOENT: no such file or directory, open '/x'\n",
  );
  const te = new TgettyError('LOCK_HELD', 'line is locked');
  assert.equal(formatText(entry(LogLevel.FATAL, 'giving up', { err: te })), '11/21 19:07:03 QZ0  giving up: line is locked [LOCK_HELD]\n');
  assert.equal(formatText(entry(LogLevel.ERROR, 'plain')), '11/21 19:07:03 QZ0  plain\n');
  assert.equal(entryText(entry(LogLevel.ERROR, 'x', { err: 'EIO' })), 'x: EIO');
});

test('control characters never break a line', () => {
  assert.equal(sanitizeText('a\r\nb\x1b[0m\x7f\x85ü'), 'a__b_[0m__ü');
  const line = formatText(entry(LogLevel.AUDIT, "name='x\ny'"));
  assert.equal(line, "11/21 19:07:03 ##### name='x_y'\n");
  assert.equal(line.indexOf('\n'), line.length - 1);
});

test('JSON lines: core keys, structured fields, error, clashes, no throw', () => {
  const parsed = (s: string): unknown => {
    assert.equal(s.indexOf('\n'), s.length - 1);
    return JSON.parse(s);
  };
  assert.deepEqual(parsed(formatJson(entry(LogLevel.AUDIT, 'call', { event: 'call', caller: '555', rings: 2 }))), {
    time: '2026-11-21T19:07:03.000Z', level: 'audit', levelNo: 2, dev: 'ttyQZ0', msg: 'call', event: 'call', caller: '555', rings: 2,
  });
  const withErr = parsed(formatJson(entry(LogLevel.ERROR, 'open', { err: Object.assign(new Error('boom'), { code: 'EIO' }), level: 'x' })));
  assert.deepEqual(withErr, {
    time: '2026-11-21T19:07:03.000Z', level: 'error', levelNo: 1, dev: 'ttyQZ0', msg: 'open', error: 'boom', errorCode: 'EIO', _level: 'x',
  });
  const cyc: Record<string, unknown> = {};
  cyc.self = cyc;
  const bad = parsed(formatJson(entry(LogLevel.MESG, 'm', { cyc, big: 10n }))) as Record<string, unknown>;
  assert.equal(bad.msg, 'm');
  assert.equal(bad.fieldsError, 'fields not serialisable');
  assert.deepEqual(parsed(formatJson(entry(LogLevel.MESG, 'n', { big: 10n }))), {
    time: '2026-11-21T19:07:03.000Z', level: 'mesg', levelNo: 4, dev: 'ttyQZ0', msg: 'n', big: '10',
  });
});

test('logField: quotes, backslashes and control characters are escaped; a forged field stays one field', () => {
  assert.equal(logField('joe'), "'joe'");
  assert.equal(logField(undefined), "''");
  assert.equal(logField(42), "'42'");
  const forged = "x', cmd='/bin/sh', user='root";
  const line = `data caller=${logField('none')}, user=${logField(forged)}`;
  assert.equal(line, "data caller='none', user='x\\', cmd=\\'/bin/sh\\', user=\\'root'");
  // Reading it back: exactly two fields, the second is the forged name as typed.
  const fields = [...line.matchAll(/(\w+)='((?:[^'\\]|\\.)*)'/g)].map((m) => [m[1], m[2]?.replace(/\\(.)/g, '$1')]);
  assert.deepEqual(fields, [['caller', 'none'], ['user', forged]]);
  assert.equal(logField('a\\b'), "'a\\\\b'");
  assert.equal(logField('\x1b[2J\x07\r\n\x00\x7f\x9b'), "'\\x1b[2J\\x07\\x0d\\x0a\\x00\\x7f\\x9b'");
  assert.equal(logField('a\u2028b\u2029'), "'a\\u2028b\\u2029'");
  assert.equal(logField('Jürgen Müller'), "'Jürgen Müller'");
  // The escaped text has nothing left for sanitizeText to replace: it is visible as written.
  const e = logField("\x1b'\r");
  assert.equal(sanitizeText(e), e);
});
