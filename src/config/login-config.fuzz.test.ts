// Fuzz: login.config: never throws, first match wins, argv substitution keeps a name in one element.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { configTextOf, fuzzParams, protocolText } from '../../test/helpers/fuzz.js';
import {
  DEFAULT_LOGIN_ENTRY,
  MAX_LOGIN_ARGS,
  expandArgs,
  loginPatternMatches,
  matchLogin,
  parseLoginConfig,
  utmpName,
  type LoginEntry,
} from './login-config.js';

const F = '/etc/mgetty/login.config';
const WORDS = ['!version', '1', '2', '3', '*', '/AutoPPP/', '/FIDO/', 'uucp', 'fax*', '*ppp', '*x*', 'root', 'Y', 'N', '/usr/sbin/pppd', '/bin/login', 'pppd', '@', '\\I', '\\Y', '-'];
const text = configTextOf(WORDS, 50);
const name = fc.oneof(protocolText({ maxParts: 6, words: ['/AutoPPP/', '/FIDO/', 'uucp', 'faxuser', 'joe ppp', ''] }), fc.constantFrom('', '@', '-', '*'));

test('fuzz: parseLoginConfig never throws; diagnostics located; entries complete with at most 9 args', () => {
  fc.assert(
    fc.property(text, (t) => {
      const p = parseLoginConfig(t, F);
      for (const d of p.diagnostics) {
        assert.ok(d.file === F && d.line >= 1 && d.line <= p.lineCount && d.message.trim() !== '', JSON.stringify(d));
      }
      for (const e of p.entries) {
        assert.ok(e.line >= 1 && e.line <= p.lineCount);
        assert.ok(e.pattern !== '' && e.program !== '' && e.args.length <= MAX_LOGIN_ARGS);
        // Only C-locale blanks separate columns (not e.g. 0xA0, which JavaScript counts as \s).
        assert.ok(e.user !== '-' && e.utmp !== '-' && !/[ \t\r\f\v\n]/.test(e.program));
        for (const a of e.args) assert.ok(a !== '' && !a.includes(' '));
      }
    }),
    fuzzParams(1000),
  );
});

test('fuzz: matchLogin returns the first entry that matches, else the built-in default', () => {
  fc.assert(
    fc.property(text, name, fc.boolean(), fc.boolean(), (t, n, callback, fido) => {
      const { entries } = parseLoginConfig(t, F);
      const e = matchLogin(entries, n, { callback, fido });
      const allowed = (x: LoginEntry): boolean => !(x.callback === 'Y' && !callback) && !(x.callback === 'N' && callback);
      const first = entries.find((x) => allowed(x) && loginPatternMatches(x.pattern, n, fido));
      assert.equal(e, first ?? DEFAULT_LOGIN_ENTRY);
      // Deterministic.
      assert.equal(matchLogin(entries, n, { callback, fido }), e);
    }),
    fuzzParams(500, 0.3),
  );
});

test('fuzz: typed-special-names off: a typed /AutoPPP/ or /FIDO/ never reaches those lines', () => {
  fc.assert(
    fc.property(text, name, (t, n) => {
      const { entries } = parseLoginConfig(t, F);
      const e = matchLogin(entries, n, { typedSpecialNames: false });
      assert.ok(e.pattern !== '/AutoPPP/' && e.pattern !== '/FIDO/', `${n} -> ${e.pattern}`);
    }),
    fuzzParams(300, 0.2),
  );
});

test('fuzz: expandArgs never splits a name: each @ is one element or (empty name) none', () => {
  const arg = fc.constantFrom('@', '\\I', '\\Y', '-d', 'x@y', '@@', 'file');
  fc.assert(
    fc.property(
      fc.array(arg, { maxLength: MAX_LOGIN_ARGS }),
      name,
      fc.option(protocolText({ maxParts: 4 }), { nil: undefined }),
      fc.option(protocolText({ maxParts: 4 }), { nil: undefined }),
      (args, n, connect, callerId) => {
        const entry: LoginEntry = { ...DEFAULT_LOGIN_ENTRY, program: '/x', args, builtin: false };
        const argv = expandArgs(entry, { name: n, ...(connect !== undefined ? { connect } : {}), ...(callerId !== undefined ? { callerId } : {}) });
        assert.equal(argv[0], 'x');
        const ats = args.filter((a) => a === '@').length;
        assert.equal(argv.length, 1 + args.length - (n === '' ? ats : 0));
        let j = 1;
        for (const a of args) {
          if (a === '@') {
            if (n !== '') assert.equal(argv[j++], n, 'the name is one argv element, whatever it contains');
          } else if (a === '\\I') assert.equal(argv[j++], connect === undefined || connect === '' ? '??' : connect);
          else if (a === '\\Y') assert.equal(argv[j++], callerId === undefined || callerId === '' ? 'none' : callerId);
          else assert.equal(argv[j++], a);
        }
        assert.equal(utmpName({ ...entry, utmp: '@' }, n), n);
      },
    ),
    fuzzParams(500, 0.3),
  );
});

test('fuzz: argv[0] is the program base name for any program text', () => {
  fc.assert(
    fc.property(protocolText({ maxParts: 6, words: ['/', '/usr/sbin/', 'pppd'] }), (program) => {
      const argv = expandArgs({ ...DEFAULT_LOGIN_ENTRY, program, args: [] }, { name: 'u' });
      assert.equal(argv.length, 1);
      assert.ok(!(argv[0] ?? '/').includes('/'));
      assert.ok(program.endsWith(argv[0] ?? '\0'));
    }),
    fuzzParams(300, 0.1),
  );
});
