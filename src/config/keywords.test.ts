import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KEYWORDS, keywordDef, suggestKeyword, editDistance, isUsed, SPEED_TABLE, isValidSpeed } from './keywords.js';

// The keyword list of spec §2.3 (mgetty 1.2.1, Debian build), typed in from the spec, in its order.
const SPEC_KEYWORDS = [
  'speed', 'switchbd', 'direct', 'blocking', 'port-owner', 'port-group', 'port-mode', 'toggle-dtr',
  'toggle-dtr-waittime', 'open-delay', 'need-dsr', 'data-only', 'fax-only', 'modem-type', 'modem-quirks',
  'init-chat', 'force-init-chat', 'post-init-chat', 'data-flow', 'fax-send-flow', 'fax-rec-flow',
  'modem-check-time', 'rings', 'msn-list', 'get-cnd-chat', 'cid-program', 'cnd-program', 'answer-chat',
  'answer-chat-timeout', 'autobauding', 'ringback', 'ringback-time', 'ignore-carrier', 'issue-file',
  'prompt-waittime', 'login-prompt', 'login-time', 'fido-send-emsi', 'login-env-ttyprompt-hack',
  'login-conf-file', 'fax-id', 'fax-min-speed', 'fax-max-speed', 'fax-server-file', 'diskspace', 'notify',
  'fax-owner', 'fax-group', 'fax-mode', 'fax-spool-in', 'debug', 'statistics-chat', 'statistics-file',
  'gettydefs', 'term',
];

test('the table holds exactly the 55 mgetty keywords of the spec, in order', () => {
  assert.equal(SPEC_KEYWORDS.length, 55);
  const mgetty = KEYWORDS.filter((k) => k.origin === 'mgetty').map((k) => k.name);
  assert.deepEqual(mgetty, SPEC_KEYWORDS);
});

test('tgetty-only keywords are marked and have their defaults', () => {
  const t = KEYWORDS.filter((k) => k.origin === 'tgetty').map((k) => [k.name, k.type, k.unit, k.default]);
  assert.deepEqual(t, [
    ['autoppp-window', 'int', 'ms', 2000],
    ['nologin-dir', 'string', undefined, '/etc'],
    ['hangup-grace', 'int', 's', 10],
    ['typed-special-names', 'bool', undefined, true],
    ['dtr-by-close', 'bool', undefined, false],
    ['cnd-program-user', 'string', undefined, undefined],
    ['mail-program', 'string', undefined, '/usr/sbin/sendmail'],
    ['records-url', 'string', undefined, undefined],
  ]);
});

test('names are unique and every entry is described', () => {
  assert.equal(new Set(KEYWORDS.map((k) => k.name)).size, KEYWORDS.length);
  for (const k of KEYWORDS) {
    assert.ok(k.meaning.length > 10, k.name);
    if (k.default !== undefined) {
      const expected = { int: 'number', bool: 'boolean', string: 'string', flow: 'string', chat: 'object' }[k.type];
      assert.equal(typeof k.default, expected, k.name);
    }
  }
});

test('Debian defaults and CLI flags of spec §1/§2.3', () => {
  const d = (n: string): unknown => keywordDef(n)?.default;
  assert.equal(d('speed'), 38400);
  assert.equal(d('port-owner'), 'root');
  assert.equal(d('port-group'), 'dialout');
  assert.equal(d('port-mode'), 0o660);
  assert.equal(d('login-prompt'), '@ login: ');
  assert.equal(d('fax-id'), ' ');
  assert.equal(d('modem-check-time'), 3600);
  assert.equal(d('data-flow'), 'hard');
  assert.equal(d('fax-rec-flow'), 'both');
  assert.equal(d('open-delay'), undefined);
  assert.deepEqual(d('init-chat'), ['', '\\dATQ0V1H0', 'OK', 'AT', 'OK']);
  assert.deepEqual(d('answer-chat'), ['', 'ATA', 'CONNECT', '\\c', '\n']);
  assert.equal(keywordDef('init-chat')?.upstreamDefault, '"" \\dATQ0V1H0 OK ATS0=0Q0&D3&C1 OK');
  const flags = Object.fromEntries(KEYWORDS.filter((k) => k.cli !== undefined).map((k) => [k.name, k.cli]));
  assert.deepEqual(flags, {
    speed: '-s', direct: '-r', blocking: '-b', 'data-only': '-D', 'fax-only': '-F', 'modem-type': '-C',
    'init-chat': '-m', rings: '-n', autobauding: '-a', ringback: '-R', 'ringback-time': '-R', 'issue-file': '-i',
    'login-prompt': '-p', 'fax-id': '-I', 'fax-server-file': '-S', diskspace: '-k', debug: '-x', gettydefs: '(2nd argument)',
  });
});

test('fax keywords and no-effect keywords are not used; Q4 list is the unused category', () => {
  const unused = KEYWORDS.filter((k) => k.category === 'unused').map((k) => k.name);
  assert.deepEqual(unused, ['data-flow', 'fax-send-flow', 'fax-rec-flow', 'fax-min-speed', 'gettydefs']);
  assert.equal(isUsed(keywordDef('switchbd')!), false);
  assert.equal(isUsed(keywordDef('fax-server-file')!), true, 'a caller that polls gets it (docs/fax.md)');
  assert.equal(isUsed(keywordDef('fax-id')!), true, 'the fax reception uses it (docs/fax.md)');
  assert.equal(isUsed(keywordDef('rings')!), true);
});

test('post-processing rules of spec §2.2', () => {
  const post = (n: string, v: number): unknown => keywordDef(n)!.post!(v, () => undefined);
  assert.deepEqual(post('rings', 0), { value: 1, adjusted: '0 raised to 1' });
  assert.deepEqual(post('rings', -1), { value: -1 });
  assert.equal((post('ringback-time', 5) as { value: number }).value, 30);
  assert.equal((post('modem-check-time', 0) as { value: number }).value, 900);
  assert.equal((post('modem-check-time', 899) as { value: number }).value, 900);
  assert.deepEqual(post('modem-check-time', -1), { value: -1 });
  assert.match((post('speed', 12345) as { invalid: string }).invalid, /not a supported port speed/);
  assert.deepEqual(post('speed', 115200), { value: 115200 });
  // switchbd is only checked when fax init happens
  const sw = keywordDef('switchbd')!.post!;
  assert.ok(sw(1234, () => undefined).invalid !== undefined);
  assert.equal(sw(1234, (k) => (k === 'data-only' ? true : undefined)).invalid, undefined);
});

test('speed table is the Linux one', () => {
  assert.equal(SPEED_TABLE.length, 19);
  assert.ok(isValidSpeed(460800));
  assert.ok(!isValidSpeed(14400));
});

test('suggestions for typos, including case slips and transpositions', () => {
  assert.equal(suggestKeyword('ring'), 'rings');
  assert.equal(suggestKeyword('inti-chat'), 'init-chat');
  assert.equal(suggestKeyword('Speed'), 'speed');
  assert.equal(suggestKeyword('DEBUG'), 'debug');
  assert.equal(suggestKeyword('toggle-dtr-wait'), undefined);
  assert.equal(suggestKeyword('xyzzy'), undefined);
  assert.equal(editDistance('inti', 'init'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  assert.equal(editDistance('kitten', 'sitting'), 3);
});
