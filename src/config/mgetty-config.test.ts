import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  readLogicalLines, parseMgettyConfig, parseCInt, parseBool, parseFlow, splitChat, splitChatArg, portMatches, typeValue, formatChat,
} from './mgetty-config.js';
import { formatDiagnostic } from './diagnostics.js';
import { keywordDef } from './keywords.js';

const F = 'mgetty.config';

function only(text: string): { keyword: string; raw: string; value: unknown }[] {
  return parseMgettyConfig(text, F).sections.flatMap((s) => s.assignments.map((a) => ({ keyword: a.keyword, raw: a.raw, value: a.value })));
}

test('logical lines: continuation before comment detection (Q6), folding, no trailing comments', () => {
  const text = ['# text \\', 'speed 0x4b00', '  term   vt100 # x', 'login-prompt  "AT  S0=0"   ', 'init-chat "" \\', '   AT OK', '', '\t# c', 'x\r'].join('\n');
  assert.deepEqual(readLogicalLines(text), [
    { text: 'term vt100 # x', line: 3 },
    { text: 'login-prompt "AT S0=0"', line: 4 },
    { text: 'init-chat "" AT OK', line: 5 },
    { text: 'x', line: 9 },
  ]);
  // The comment swallowed `speed 0x4b00` (observed on mgetty).
  assert.deepEqual(only('# text \\\nspeed 0x4b00\n'), []);
  // A CR after the backslash means the backslash is not last: no continuation.
  assert.deepEqual(readLogicalLines('term a \\\r\nb\r\n'), [{ text: 'term a \\', line: 1 }, { text: 'b', line: 2 }]);
});

test('C integers: base 0, trailing garbage ignored, must start with a digit (Q3)', () => {
  assert.deepEqual(parseCInt('0660'), { value: 0o660, rest: '' });
  assert.deepEqual(parseCInt('660'), { value: 660, rest: '' });
  assert.deepEqual(parseCInt('0x4b00'), { value: 19200, rest: '' });
  assert.deepEqual(parseCInt('0X4B00'), { value: 19200, rest: '' });
  assert.deepEqual(parseCInt('12abc'), { value: 12, rest: 'abc' });
  assert.deepEqual(parseCInt('010'), { value: 8, rest: '' });
  assert.deepEqual(parseCInt('09'), { value: 0, rest: '9' });
  assert.deepEqual(parseCInt('0xg'), { value: 0, rest: 'xg' });
  assert.deepEqual(parseCInt('-5'), { value: -5, rest: '' });
  assert.deepEqual(parseCInt('-0'), { value: 0, rest: '' });
  assert.equal(parseCInt('abc'), undefined);
  assert.equal(parseCInt('+5'), undefined);
  assert.equal(parseCInt(' 5'), undefined);
  assert.equal(parseCInt('-'), undefined);
  assert.equal(parseCInt(''), undefined);
});

test('booleans never fail; only empty, y/t prefixes and lowercase on are true (Q2)', () => {
  for (const t of ['', 'y', 'Yes', 'yes', 't', 'True', 'on', 'onward']) assert.equal(parseBool(t), true, t);
  for (const f of ['1', 'On', 'ON', 'enable', 'no', 'false', 'off', '0']) assert.equal(parseBool(f), false, f);
  // The surprising falses get a warning; plain no/false/off/0 do not.
  const d = parseMgettyConfig('autobauding 1\ndirect no\nblocking On\n', F).diagnostics;
  assert.deepEqual(d.map(formatDiagnostic), [
    "mgetty.config:1: warning: autobauding: '1' counts as false (only empty, y..., t... or on... are true); write yes or no",
    "mgetty.config:3: warning: blocking: 'On' counts as false (only empty, y..., t... or on... are true); write yes or no",
  ]);
});

test('flow values', () => {
  assert.equal(parseFlow('rtscts'), 'hard');
  assert.equal(parseFlow('hardware'), 'hard');
  assert.equal(parseFlow('xonxoff'), 'soft');
  assert.equal(parseFlow('soft'), 'soft');
  assert.equal(parseFlow('both'), 'both');
  assert.equal(parseFlow('none'), 'none');
  assert.equal(parseFlow('both '), undefined);
  assert.equal(parseFlow('bogus'), undefined);
});

test('spec §2.3 test vector (parse level; post-processing in effective.test)', () => {
  const text = [
    'autobauding 1', 'need-dsr on', 'toggle-dtr On', 'ignore-carrier', 'toggle-dtr-waittime 010', 'prompt-waittime 12abc',
    'answer-chat-timeout abc', 'modem-check-time 100', 'ringback-time 5', 'issue-file  /etc/foo    bar  ', 'notify',
    'fax-rec-flow rtscts', 'fax-send-flow bogus',
  ].join('\n');
  const p = parseMgettyConfig(text, F);
  const v = Object.fromEntries(p.sections[0].assignments.map((a) => [a.keyword, a.value]));
  assert.deepEqual(v, {
    autobauding: false, 'need-dsr': true, 'toggle-dtr': false, 'ignore-carrier': true, 'toggle-dtr-waittime': 8,
    'prompt-waittime': 12, 'answer-chat-timeout': undefined, 'modem-check-time': 100, 'ringback-time': 5,
    'issue-file': '/etc/foo bar', notify: '', 'fax-rec-flow': 'hard', 'fax-send-flow': undefined,
  });
  const msgs = p.diagnostics.filter((d) => d.kind === 'bad-value').map(formatDiagnostic);
  assert.deepEqual(msgs, [
    "mgetty.config:7: error: bad value 'abc' for 'answer-chat-timeout': expected an integer (decimal, 0octal or 0xhex); the line is ignored and the previous value stays",
    "mgetty.config:13: error: bad value 'bogus' for 'fax-send-flow': expected rts/hard, xon/soft, both or none; the line is ignored and the previous value stays",
  ]);
  assert.ok(p.diagnostics.some((d) => d.line === 6 && d.message === "prompt-waittime: trailing text 'abc' ignored, value is 12"));
});

test('strings keep quotes, fold blanks, cannot end in a space (Q5)', () => {
  assert.deepEqual(only('login-prompt @ login: \nterm "x  y"\nfax-id \n'), [
    { keyword: 'login-prompt', raw: '@ login:', value: '@ login:' },
    { keyword: 'term', raw: '"x y"', value: '"x y"' },
    { keyword: 'fax-id', raw: '', value: '' },
  ]);
});

test('unknown keywords: message names file:line and suggests the keyword', () => {
  const p = parseMgettyConfig('ring 3\ninti-chat "" AT OK\nSpeed 9600\nPort ttyS0\nfoo bar\n', '/etc/mgetty/mgetty.config');
  assert.deepEqual(p.diagnostics.map(formatDiagnostic), [
    "/etc/mgetty/mgetty.config:1: error: unknown keyword 'ring', line ignored (did you mean 'rings'?)",
    "/etc/mgetty/mgetty.config:2: error: unknown keyword 'inti-chat', line ignored (did you mean 'init-chat'?)",
    "/etc/mgetty/mgetty.config:3: error: unknown keyword 'Speed', line ignored (did you mean 'speed'? keywords are case-sensitive)",
    "/etc/mgetty/mgetty.config:4: error: unknown keyword 'Port', line ignored (did you mean 'port'? keywords are case-sensitive)",
    "/etc/mgetty/mgetty.config:5: error: unknown keyword 'foo', line ignored",
  ]);
  assert.equal(p.diagnostics[0].code, 'CONFIG_UNKNOWN_KEYWORD');
  assert.deepEqual(p.sections.flatMap((s) => s.assignments), []);
});

test('malformed port line and a port pattern with a space', () => {
  const p = parseMgettyConfig('speed 9600\nport\nrings 3\nport ttyS0 ttyS1\n', F);
  assert.deepEqual(p.diagnostics.map(formatDiagnostic), [
    "mgetty.config:2: error: 'port' line without a device pattern: the lines up to the next 'port' line apply to no device (write e.g. port ttyS0)",
    "mgetty.config:4: warning: port pattern 'ttyS0 ttyS1' contains a space, so it can match no device (use one port line per device, or ? as a wildcard)",
  ]);
  assert.deepEqual(p.sections.map((s) => [s.pattern, s.line, s.assignments.length]), [[undefined, 0, 1], ['', 2, 1], ['ttyS0 ttyS1', 4, 0]]);
});

test('decimal port-mode gets a warning with the fix (Q3)', () => {
  const d = parseMgettyConfig('port-mode 660\nport-mode 0660\nfax-mode 0\n', F).diagnostics;
  assert.deepEqual(d.filter((x) => x.kind === 'suspicious').map(formatDiagnostic), [
    'mgetty.config:1: warning: port-mode: 660 is read as decimal (octal 01224); a file mode needs a leading zero, e.g. 0660',
  ]);
});

test('fax and no-effect keywords are accepted with a not-used warning', () => {
  const p = parseMgettyConfig('switchbd 19200\ndata-flow hard\nrings 2\n', F);
  assert.deepEqual(p.diagnostics.map((d) => [d.kind, d.code, formatDiagnostic(d)]), [
    ['not-used', 'CONFIG_NOT_USED', "mgetty.config:1: warning: 'switchbd' is a fax keyword: accepted, but not used by tgetty yet"],
    ['not-used', 'CONFIG_NOT_USED', "mgetty.config:2: warning: 'data-flow' is accepted for compatibility but has no effect (as in mgetty)"],
  ]);
  assert.equal(p.sections[0].assignments.length, 3);
});

test('sections: global until the first port line, then port sections in order', () => {
  const p = parseMgettyConfig('debug 4\nport ttyS0\n  debug 3\n  data-only y\nport tty??0\nrings 2\n', F);
  assert.deepEqual(
    p.sections.map((s) => [s.pattern, s.assignments.map((a) => `${a.keyword}@${a.line}`)]),
    [[undefined, ['debug@1']], ['ttyS0', ['debug@3', 'data-only@4']], ['tty??0', ['rings@6']]],
  );
});

test("port pattern matching with '?' (spec §2.1, observed for ttyQZ0)", () => {
  const cases: [string, boolean][] = [['ttyQZ', false], ['tty??0', true], ['ttyQZ0x', false], ['ttyQZ0', true], ['ttyQZ0???', true], ['', false], ['TTYQZ0', false], ['??????', true], ['?????', false]];
  for (const [pat, want] of cases) assert.equal(portMatches(pat, 'ttyQZ0'), want, pat);
});

test('chat splitting §6.1 and the §6.3 example', () => {
  const value = readLogicalLines('init-chat "" AT\\\\\\\\Q3 OK AT\\d\\dX\\\\r OK "AT  Y" OK ATT\\t\\"z\\" OK ATP\\pQ OK \\\\dATD OK ATNOCR\\c "" ATE OK')[0].text.slice('init-chat '.length);
  assert.deepEqual(splitChat(value), [
    '', 'AT\\\\Q3', 'OK', 'AT\\d\\dX\\r', 'OK', 'AT Y', 'OK', 'ATT\t"z"', 'OK', 'ATP\\pQ', 'OK', '\\dATD', 'OK', 'ATNOCR\\c', '', 'ATE', 'OK',
  ]);
  assert.deepEqual(splitChat('AT\\ OK'), ['AT\\ OK']);
  assert.deepEqual(splitChat(''), ['']);
  assert.deepEqual(splitChat('""'), ['']);
  assert.deepEqual(splitChat('"" ATA CONNECT \\c \\n'), ['', 'ATA', 'CONNECT', '\\c', '\n']);
  assert.deepEqual(splitChat('a\\r\\n b\\'), ['a\r\n', 'b\\']);
  assert.deepEqual(splitChat('"a b" c'), ['a b', 'c']);
  assert.deepEqual(splitChat('x"y z"w'), ['xy zw']);
  // A chat value in a file is typed through the same splitter.
  assert.deepEqual(only('init-chat "" AT&F1 OK ATS0=0 OK AT#CID=1 OK')[0].value, ['', 'AT&F1', 'OK', 'ATS0=0', 'OK', 'AT#CID=1', 'OK']);
});

test('formatChat writes elements back in config syntax', () => {
  assert.equal(formatChat(['', '\\dATQ0V1H0', 'OK', 'AT', 'OK']), '"" \\dATQ0V1H0 OK AT OK');
  assert.equal(formatChat(['', 'ATA', 'CONNECT', '\\c', '\n']), '"" ATA CONNECT \\c \\n');
  assert.equal(formatChat(['AT Y', 'a"b', 'x\\', '\\r']), '"AT Y" a\\"b x\\\\ \\\\r');
  assert.equal(formatChat(['\\d\x10\x03+++']), '\\d[10][03]+++');
});

test('property: splitChat(formatChat(elements)) gives the elements back', () => {
  const ch = fc.constantFrom('a', 'T', ' ', '"', '\\', 'r', 'n', 't', 'd', 'c', '\r', '\n', '\t', '+');
  fc.assert(
    fc.property(fc.array(fc.array(ch, { maxLength: 6 }).map((a) => a.join('')), { minLength: 1, maxLength: 6 }), (els) => {
      assert.deepEqual(splitChat(formatChat(els)), els);
    }),
    { numRuns: 500 },
  );
});

test('-m splits on every single space (Q7)', () => {
  assert.deepEqual(splitChatArg('"" ATZ OK'), ['', 'ATZ', 'OK']);
  assert.deepEqual(splitChatArg('"" ATZ  OK'), ['', 'ATZ', '', 'OK']);
  assert.deepEqual(splitChatArg('"" "AT  Z" OK'), ['', 'AT  Z', 'OK']);
  assert.deepEqual(splitChatArg('AT\\ Z'), ['AT\\ Z']);
});

test('typeValue is what the CLI uses for option arguments', () => {
  assert.deepEqual(typeValue(keywordDef('rings')!, '3'), { ok: true, value: 3 });
  assert.deepEqual(typeValue(keywordDef('rings')!, 'x'), { ok: false, expected: 'expected an integer (decimal, 0octal or 0xhex)' });
  assert.deepEqual(typeValue(keywordDef('direct')!, ''), { ok: true, value: true });
  assert.deepEqual(typeValue(keywordDef('data-flow')!, 'none'), { ok: true, value: 'none' });
  assert.deepEqual(typeValue(keywordDef('issue-file')!, '/x'), { ok: true, value: '/x' });
});

test('CRLF line ends only add blanks, which folding removes', () => {
  const lines = ['speed 9600', 'init-chat "" \\', 'AT OK', '# c \\', 'rings 3', 'port ttyS1', 'rings 4'];
  const values = (t: string): unknown =>
    parseMgettyConfig(t, F).sections.map((s) => [s.pattern, s.assignments.map((a) => [a.keyword, a.value, a.line])]);
  const lf = values(lines.join('\n') + '\n');
  assert.deepEqual(lf, [[undefined, [['speed', 9600, 1], ['init-chat', ['', 'AT', 'OK'], 2]]], ['ttyS1', [['rings', 4, 7]]]]);
  // A CR after a continuation backslash hides it (the backslash is no longer last): not added there.
  assert.deepEqual(values(lines.map((l) => (l.endsWith('\\') ? l : `${l}\r`)).join('\n') + '\n'), lf);
});

test('property: the parser never throws and every diagnostic has a line in range', () => {
  const alphabet = fc.constantFrom(...'speed rings port ttyS0 init-chat "" \\ # \n \r \t x 0x1 0660 - ! @ ? fax-id data-flow Speed'.split(' '), ' ', '\n', '\\', '"', '#');
  const arbText = fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), fc.array(alphabet, { maxLength: 60 }).map((a) => a.join('')));
  fc.assert(
    fc.property(arbText, (text) => {
      const p = parseMgettyConfig(text, F);
      for (const d of p.diagnostics) assert.ok(d.line >= 1 && d.line <= p.lineCount, `${d.line} of ${p.lineCount}: ${d.message}`);
      for (const s of p.sections) for (const a of s.assignments) assert.ok(a.line >= 1 && a.line <= p.lineCount);
    }),
    { numRuns: 500 },
  );
});

test('an expect string longer than the chat buffer can hold is reported', () => {
  const long = 'x'.repeat(251);
  const p = parseMgettyConfig(`init-chat "" AT ${long} AT OK\nanswer-chat "" ATA ${'y'.repeat(250)}\n`, 'm.config');
  const d = p.diagnostics.filter((x) => x.kind === 'suspicious');
  assert.equal(d.length, 1);
  assert.equal(d[0]?.line, 1);
  assert.match(d[0]?.message ?? '', /init-chat: an expect string of 251 characters can never match/);
});
