import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytes, text } from '../modem/chunks.js';
import {
  EMSI_REQUEST,
  EXPANSION_LIMIT,
  ctimeString,
  expand,
  expandTokens,
  parseIssueSetting,
  renderIssue,
  renderPrompt,
  type IssueContext,
} from './issue.js';

// Local-time constructor: the expected strings hold in any time zone.
const NOW = new Date(2026, 10, 21, 19, 41, 44).getTime();

const ctx: IssueContext = {
  hostname: 'vm',
  sysname: 'Linux',
  release: '6.1.0-28-amd64',
  version: '#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1',
  machine: 'x86_64',
  device: 'ttyQZ0',
  connect: '33600/ARQ',
  callerId: '5551234',
  speed: 38400,
  users: 3,
  now: NOW,
};

test('every token of spec §8.1', () => {
  const cases: [string, string][] = [
    ['@ login: ', 'vm login: '],
    ['@@ a@b', 'vmvm avmb'], // Q19: every @
    ['\\n\\r\\g\\b\\v\\f\\t', '\n\r\x07\b\x0b\x0c\t'],
    ['\\s \\m \\R \\V', 'Linux x86_64 6.1.0-28-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1'],
    ['\\P \\L', 'ttyQZ0 ttyQZ0'],
    ['[\\I]', '[33600/ARQ]'],
    ['\\Y', '5551234'],
    ['\\S', '38400'],
    ['\\N \\U', '3 3'],
    ['\\C', 'Sat Nov 21 19:41:44 2026'],
    ['\\D', '11/21/2026'],
    ['\\T', '19:41:44'],
    ['\\l \\\\ \\@ \\x \\q', 'l \\ @ x q'],
    ['plain text', 'plain text'],
  ];
  for (const [input, want] of cases) assert.equal(expandTokens(input, ctx), want, JSON.stringify(input));
});

test('\\Y is none without a caller ID; \\I is empty for a bare CONNECT', () => {
  assert.equal(expandTokens('\\Y|\\I|', { ...ctx, callerId: undefined, connect: '' }), 'none||');
  assert.equal(expandTokens('\\Y', { ...ctx, callerId: '' }), 'none');
});

test('Q26: \\<digits> is C base 0 (decimal unless 0 / 0x); all valid digits are consumed', () => {
  assert.equal(expandTokens('\\0101\\65\\0x41', ctx), 'AAA');
  assert.equal(expandTokens('\\0x4a\\0X4B', ctx), 'JK');
  assert.equal(expandTokens('\\65x', ctx), 'Ax');
  assert.equal(expandTokens('\\0658', ctx), '58'); // octal 065 = '5', then 8
  assert.equal(expandTokens('\\0x41BC', ctx), '\xbc'); // hex eats B and C too: 0x41bc -> low byte
  assert.equal(expandTokens('\\321', ctx), 'A'); // 321 & 0xff = 65
  assert.equal(expandTokens('\\99999999999999999999z', ctx), '\xffz'); // strtol saturates
});

test('a character value 0 ends the string', () => {
  assert.equal(expandTokens('ab\\0cd', ctx), 'ab');
  assert.equal(expandTokens('ab\\0xg', ctx), 'ab'); // 0x without hex digits reads as 0
  assert.equal(expandTokens('ab\\256cd', ctx), 'ab');
  assert.equal(expandTokens('ab\x00cd', ctx), 'ab');
});

test('a trailing lone backslash outputs nothing (mgetty reads past the end; deliberate)', () => {
  assert.equal(expandTokens('login:\\', ctx), 'login:');
  assert.equal(expandTokens('\\', ctx), '');
});

test('\\C pads the day with a space like ctime; \\D and \\T zero-pad as documented', () => {
  const t = new Date(2027, 0, 3, 4, 5, 6).getTime();
  assert.equal(ctimeString(t), 'Sun Jan  3 04:05:06 2027');
  assert.equal(expandTokens('\\D \\T', { ...ctx, now: t }), '1/3/2027 04:05:06');
});

test('expansion stops at 296 characters, checked before each input character (observed)', () => {
  const x = (n: number): string => 'X'.repeat(n);
  assert.deepEqual(expand(x(295) + '@Z', ctx), { text: x(295) + 'vm', truncated: true });
  assert.deepEqual(expand(x(296), ctx), { text: x(296), truncated: false });
  assert.deepEqual(expand(x(297), ctx), { text: x(296), truncated: true });
  assert.deepEqual(expand(x(294) + '\\\\Z', ctx), { text: x(294) + '\\Z', truncated: false });
  assert.equal(EXPANSION_LIMIT, 296);
  const longest = Math.max(...[ctx.version, ctx.hostname, ctimeString(NOW)].map((t) => t.length));
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), (s) => {
      const r = expand(s, ctx);
      assert.ok(r.text.length < EXPANSION_LIMIT + longest);
      if (r.truncated) assert.ok(r.text.length >= EXPANSION_LIMIT);
    }),
  );
  // Text without tokens comes out as is, up to the limit.
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }).map((s) => s.replace(/[\\@\0]/g, '.')), (s) => {
      assert.deepEqual(expand(s, ctx), { text: s.slice(0, EXPANSION_LIMIT), truncated: s.length > EXPANSION_LIMIT });
    }),
  );
});

test('issue setting: !command (argv, no shell), /file, literal text', () => {
  assert.deepEqual(parseIssueSetting('!echo hello;  tty'), { kind: 'command', command: 'echo hello;  tty', argv: ['echo', 'hello;', 'tty'] });
  assert.deepEqual(parseIssueSetting('/etc/issue'), { kind: 'file', path: '/etc/issue' });
  assert.deepEqual(parseIssueSetting('Welcome to @'), { kind: 'text', text: 'Welcome to @' });
});

test('literal issue text: CR + expanded + CR LF (observed §8.3)', () => {
  const r = renderIssue('text', 'Welcome to @ on \\L\\r\\nline2', ctx);
  assert.equal(text(r.bytes), '\rWelcome to vm on ttyQZ0\r\nline2\r\n');
  assert.equal(r.run, undefined);
  assert.equal(r.truncated, false);
});

test("issue file: each line expanded + one CR, the file's LF raw (Q20); Debian's /etc/issue observed", () => {
  const r = renderIssue('file', 'Debian GNU/Linux 12 \\n \\l\n\n', ctx);
  assert.equal(text(r.bytes), '\rDebian GNU/Linux 12 \n l\n\r\n\r');
  // Bytes in, latin1 through; a last line without LF still gets its CR; tabs are left to the tty.
  assert.equal(text(renderIssue('file', bytes('a\t\xe9@\nlast'), ctx).bytes), '\ra\t\xe9vm\n\rlast\r');
});

test('issue file: missing/empty file sends only the CR; long lines go in fgets-sized chunks', () => {
  assert.equal(text(renderIssue('file', '', ctx).bytes), '\r');
  const long = 'y'.repeat(1023) + 'z\n';
  const r = renderIssue('file', long, ctx);
  // Chunk 1 (1023 y) is cut by the expansion limit; chunk 2 is 'z' LF.
  assert.equal(text(r.bytes), '\r' + 'y'.repeat(EXPANSION_LIMIT) + '\r' + 'z\n\r');
  assert.equal(r.truncated, true);
});

test('issue command: CR only, and the argv to run', () => {
  const r = renderIssue('command', '/usr/bin/printf %s\\n hi', ctx);
  assert.equal(text(r.bytes), '\r');
  assert.deepEqual(r.run, ['/usr/bin/printf', '%s\\n', 'hi']);
});

test('prompt: CR LF + expanded prompt; with EMSI the Debian request first (Q21, transcript A)', () => {
  assert.equal(text(renderPrompt('@ login: ', ctx, { emsi: false })), '\r\nvm login: ');
  assert.equal(
    text(renderPrompt('@ login: ', ctx, { emsi: true })),
    '**EMSI_REQA77E\r\x11              \r\r\nvm login: ',
  );
  assert.equal(EMSI_REQUEST.length, 14 + 1 + 1 + 14 + 1);
});

test('transcript A: CR, issue, EMSI request, prompt', () => {
  const issue = renderIssue('file', 'Debian GNU/Linux 12 \\n \\l\n\n', ctx).bytes;
  const prompt = renderPrompt('@ login: ', ctx, { emsi: true });
  assert.equal(
    text(issue) + text(prompt),
    '\rDebian GNU/Linux 12 \n l\n\r\n\r**EMSI_REQA77E\r\x11' + ' '.repeat(14) + '\r\r\nvm login: ',
  );
});
