import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  parseLoginConfig, matchLogin, expandArgs, loginPatternMatches, utmpName, loginConfigPermissionProblem, DEFAULT_LOGIN_ENTRY,
} from './login-config.js';
import { formatDiagnostic } from './diagnostics.js';

const F = 'login.config';

test('the seed lines (2001 guide) parse into entries', () => {
  const p = parseLoginConfig('/AutoPPP/ - a_ppp /usr/sbin/pppd debug require-chap\n* - - /bin/login @\n* nobody @ /bin/false\n', F);
  assert.deepEqual(p.diagnostics, []);
  assert.deepEqual(
    p.entries.map((e) => [e.pattern, e.user, e.utmp, e.program, e.args, e.line]),
    [
      ['/AutoPPP/', undefined, 'a_ppp', '/usr/sbin/pppd', ['debug', 'require-chap'], 1],
      ['*', undefined, undefined, '/bin/login', ['@'], 2],
      ['*', 'nobody', '@', '/bin/false', [], 3],
    ],
  );
});

test('name patterns of spec §3.3', () => {
  const cases: [string, string, boolean][] = [
    ['*', '', true], ['*', 'anything', true], ['**', '', true],
    ['*ppp*', 'xpppy', true], ['*ppp*', 'pp', false],
    ['*ppp', 'a_ppp', true], ['*ppp', 'pppx', false],
    ['U*', 'Uuucp', true], ['U*', 'uucp', false],
    ['gert', 'gert', true], ['gert', 'Gert', false], ['gert', 'gerta', false],
    ['/AutoPPP/', '/AutoPPP/', true], ['/AutoPPP/', '/autoppp/', false],
    ['/FIDO/', '/FIDO/', true], ['a?c', 'abc', false], ['a*c', 'abc', false], ['a*c', 'a*c', true],
  ];
  for (const [pat, name, want] of cases) assert.equal(loginPatternMatches(pat, name), want, `${pat} ~ ${name}`);
  // A Fido handshake name reaches /FIDO/ and wildcards, not exact names.
  assert.equal(loginPatternMatches('/FIDO/', 'sysop', true), true);
  assert.equal(loginPatternMatches('sysop', 'sysop', true), false);
  assert.equal(loginPatternMatches('*', 'sysop', true), true);
});

test('first complete match wins; incomplete lines are skipped with a file:line message', () => {
  const p = parseLoginConfig('bad\nbad -\n*ppp - ppp /usr/sbin/pppd\nu* uucp @ /usr/sbin/uucico -l -u @\n* - - /bin/login @\n', F);
  assert.deepEqual(p.diagnostics.map(formatDiagnostic), [
    "login.config:1: error: login.config line 'bad' has no userid, utmp, program column, line skipped (columns: name-pattern userid utmp program [args], e.g. '* - - /bin/login @')",
    "login.config:2: error: login.config line 'bad -' has no utmp, program column, line skipped (columns: name-pattern userid utmp program [args], e.g. '* - - /bin/login @')",
  ]);
  assert.equal(matchLogin(p.entries, 'bad').line, 5);
  assert.equal(matchLogin(p.entries, 'a_ppp').program, '/usr/sbin/pppd');
  assert.equal(matchLogin(p.entries, 'uucp').user, 'uucp');
  assert.equal(matchLogin(p.entries, '').line, 5);
});

test('Q16: typed /AutoPPP/ reaches the PPP line unless typedSpecialNames is off', () => {
  const { entries } = parseLoginConfig('/AutoPPP/ - a_ppp /usr/sbin/pppd auth\n/FIDO/ uucp fido /usr/lib/fnet/ifcico @\n* - - /bin/login @\n', F);
  assert.equal(matchLogin(entries, '/AutoPPP/').program, '/usr/sbin/pppd');
  assert.equal(matchLogin(entries, '/FIDO/').program, '/usr/lib/fnet/ifcico');
  const strict = { typedSpecialNames: false };
  assert.equal(matchLogin(entries, '/AutoPPP/', strict).program, '/bin/login');
  assert.equal(matchLogin(entries, '/FIDO/', strict).program, '/bin/login');
  assert.equal(matchLogin(entries, '/AutoPPP/', { ...strict, autoppp: true }).program, '/usr/sbin/pppd');
  assert.equal(matchLogin(entries, 'sysop', { ...strict, fido: true }).program, '/usr/lib/fnet/ifcico');
  assert.equal(matchLogin(entries, 'sysop', { fido: true }).program, '/usr/lib/fnet/ifcico');
});

test('no match -> the built-in default `* - - /bin/login @`', () => {
  const p = parseLoginConfig('/AutoPPP/ - a_ppp /usr/sbin/pppd\n', F);
  const e = matchLogin(p.entries, 'joe');
  assert.equal(e, DEFAULT_LOGIN_ENTRY);
  assert.deepEqual(expandArgs(e, { name: 'joe' }), ['login', 'joe']);
  assert.deepEqual(expandArgs(e, { name: '' }), ['login']);
  assert.deepEqual(matchLogin([], 'x'), DEFAULT_LOGIN_ENTRY);
});

test('@ is ONE argv element (names may hold spaces); \\I and \\Y substitutions', () => {
  const [e] = parseLoginConfig('* - - /usr/local/bin/rec -n @ -c \\I -y \\Y x@y @@\n', F).entries;
  assert.deepEqual(expandArgs(e, { name: 'joe  x', connect: '33600/ARQ', callerId: '5551234' }), [
    'rec', '-n', 'joe  x', '-c', '33600/ARQ', '-y', '5551234', 'x@y', '@@',
  ]);
  assert.deepEqual(expandArgs(e, { name: '' }), ['rec', '-n', '-c', '??', '-y', 'none', 'x@y', '@@']);
  assert.deepEqual(expandArgs(e, { name: 'a', connect: '', callerId: '' }), ['rec', '-n', 'a', '-c', '??', '-y', 'none', 'x@y', '@@']);
});

test('at most 9 arguments: warning names the 10th, extras dropped', () => {
  const p = parseLoginConfig('\n* - - /bin/echo 1 2 3 4 5 6 7 8 9 10 11\n', F);
  assert.deepEqual(p.diagnostics.map(formatDiagnostic), ["login.config:2: warning: at most 9 arguments are passed; truncated at '10'"]);
  assert.deepEqual(p.entries[0].args, ['1', '2', '3', '4', '5', '6', '7', '8', '9']);
  assert.equal(parseLoginConfig('* - - /bin/echo 1 2 3 4 5 6 7 8 9\n', F).diagnostics.length, 0);
});

test('!version 2 adds the callback column; bad versions fall back to 1', () => {
  const text = ['!version 2', 'cb* Y - - /bin/cb @', '* N - - /bin/login @', '* - - - /bin/any', '!version 7', '* - - /bin/v1'].join('\n');
  const p = parseLoginConfig(text, F);
  assert.deepEqual(p.diagnostics.map(formatDiagnostic), [
    "login.config:5: error: '!version 7': only versions 1 and 2 exist; version 1 is used for the following lines",
  ]);
  assert.deepEqual(p.entries.map((e) => [e.version, e.callback, e.program]), [
    [2, 'Y', '/bin/cb'], [2, 'N', '/bin/login'], [2, 'any', '/bin/any'], [1, 'any', '/bin/v1'],
  ]);
  assert.equal(matchLogin(p.entries, 'cbx').program, '/bin/login');
  assert.equal(matchLogin(p.entries, 'cbx', { callback: true }).program, '/bin/cb');
  assert.equal(matchLogin(p.entries, 'joe', { callback: true }).program, '/bin/any');
  // The callback column is case-insensitive on its first letter.
  assert.equal(parseLoginConfig('!version 2\n* yes - - /bin/x\n', F).entries[0].callback, 'Y');
  // Version 2 lines need five columns.
  assert.match(formatDiagnostic(parseLoginConfig('!version 2\n* - - /bin/x\n', F).diagnostics[0]), /^login\.config:2: error: .* has no program column/);
});

test('relative program path is flagged (execv has no PATH search)', () => {
  const p = parseLoginConfig('* - - pppd\n', F);
  assert.deepEqual(p.diagnostics.map(formatDiagnostic), [
    "login.config:1: warning: program 'pppd' is not an absolute path; it is run without a PATH search (write the full path, e.g. /usr/sbin/pppd)",
  ]);
  assert.equal(p.entries.length, 1);
});

test('utmp column', () => {
  const [a, b, c] = parseLoginConfig('a - - /x\nb - @ /x\nc - fido /x\n', F).entries;
  assert.equal(utmpName(a, 'joe'), undefined);
  assert.equal(utmpName(b, 'joe'), 'joe');
  assert.equal(utmpName(c, 'joe'), 'fido');
});

test('permission rule: root-owned and no group/other bits', () => {
  for (const mode of [0o100600, 0o100400, 0o100200, 0o100000]) assert.equal(loginConfigPermissionProblem({ uid: 0, mode }), undefined);
  assert.equal(
    loginConfigPermissionProblem({ uid: 0, mode: 0o100644 }),
    'ignored because its mode 0644 gives group or others access; it must be owned by root and have mode 0600',
  );
  assert.equal(
    loginConfigPermissionProblem({ uid: 1000, mode: 0o100640 }),
    'ignored because it is owned by uid 1000 and its mode 0640 gives group or others access; it must be owned by root and have mode 0600',
  );
  assert.equal(
    loginConfigPermissionProblem({ uid: 1000, mode: 0o100600 }),
    'ignored because it is owned by uid 1000; it must be owned by root and have mode 0600',
  );
});

test('permission rule for a tgetty running as a normal user: its own file is accepted, another user\'s is not', () => {
  assert.equal(loginConfigPermissionProblem({ uid: 1000, mode: 0o100600 }, 1000), undefined);
  assert.equal(loginConfigPermissionProblem({ uid: 0, mode: 0o100600 }, 1000), undefined);
  assert.equal(
    loginConfigPermissionProblem({ uid: 1001, mode: 0o100600 }, 1000),
    'ignored because it is owned by uid 1001; it must be owned by root or uid 1000 and have mode 0600',
  );
  assert.match(loginConfigPermissionProblem({ uid: 1000, mode: 0o100660 }, 1000) ?? '', /mode 0660/);
});

test('property: never throws, diagnostics within the file', () => {
  const alphabet = fc.constantFrom('*', '-', '@', '/bin/login', '!version', '1', '2', '7', ' ', ' ', '\n', '\\', '#', 'Y', 'x');
  fc.assert(
    fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.array(alphabet, { maxLength: 50 }).map((a) => a.join(''))), fc.string(), (text, name) => {
      const p = parseLoginConfig(text, F);
      for (const d of p.diagnostics) assert.ok(d.line >= 1 && d.line <= p.lineCount);
      const e = matchLogin(p.entries, name);
      assert.ok(expandArgs(e, { name }).length >= 1);
    }),
    { numRuns: 300 },
  );
});
