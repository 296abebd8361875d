import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lintChat, lintChats, unclosedQuoteAt, CHAT_SCRIPT_KEYWORDS } from './chat-lint.js';
import { parseMgettyConfig, splitChat } from './mgetty-config.js';
import { resolvePort } from './effective.js';
import { KEYWORDS } from './keywords.js';

const lint = (kw: string, raw: string) => lintChat(kw, raw, splitChat(raw));

test('a chat whose first element is an AT command waits for it: error with the fixed chat as hint', () => {
  const p = lint('init-chat', 'AT&F1 OK ATS0=0 OK AT#CID=1 OK');
  assert.equal(p.length, 1);
  assert.equal(p[0]?.severity, 'error');
  assert.match(p[0]?.message ?? '', /^init-chat waits for 'AT&F1' from the modem before sending anything/);
  assert.match(p[0]?.message ?? '', /times out after 20 s/);
  assert.equal(p[0]?.hint, 'did you mean `"" AT&F1 OK ATS0=0 OK AT#CID=1 OK`?');
});

test('every chat keyword is checked, and each names its own timeout', () => {
  for (const kw of CHAT_SCRIPT_KEYWORDS) {
    const p = lint(kw, 'ATZ OK');
    assert.equal(p[0]?.severity, 'error', kw);
    assert.ok(p[0]?.message.startsWith(`${kw} waits for 'ATZ'`), kw);
  }
  assert.match(lint('answer-chat', 'ATA CONNECT')[0]?.message ?? '', /answer-chat-timeout/);
  assert.match(lint('post-init-chat', 'ATS0=0 OK')[0]?.message ?? '', /10 s/);
  assert.match(lint('init-chat', '\\dATZ OK')[0]?.message ?? '', /waits for '\\dATZ'/, 'a pause escape before AT');
  // Every chat keyword of the table is either a script or the msn-list.
  for (const k of KEYWORDS.filter((d) => d.type === 'chat')) assert.ok(CHAT_SCRIPT_KEYWORDS.includes(k.name) || k.name === 'msn-list', k.name);
});

test('correct chats, the defaults and an msn-list give no problem', () => {
  for (const k of KEYWORDS.filter((d) => d.type === 'chat' && Array.isArray(d.default))) {
    assert.deepEqual(lintChat(k.name, '', k.default as string[]), [], k.name);
  }
  assert.deepEqual(lint('init-chat', '"" AT&F1 OK ATS0=0 OK AT#CID=1 OK'), []);
  assert.deepEqual(lint('init-chat', '"" ATZ OK "AT S0=0" OK'), []);
  assert.deepEqual(lint('answer-chat', '"" ATA CONNECT \\c \\n'), []);
  assert.deepEqual(lint('msn-list', '35655024 35655025'), []);
  // An expect that merely starts like a word is not flagged unless it is first.
  assert.deepEqual(lint('init-chat', '"" ATZ OK'), []);
});

test('an unterminated quote: error naming the element and whether it is sent or waited for', () => {
  const p = lint('init-chat', '"" AT&F1 OK ATS0=0 OK "AT#CID=1 OK');
  assert.equal(p.length, 1);
  assert.equal(p[0]?.severity, 'error');
  assert.match(p[0]?.message ?? '', /unterminated quote/);
  assert.match(p[0]?.message ?? '', /'AT#CID=1 OK' is sent to the modem as one command line/);
  const e = lint('init-chat', '"" ATZ "OK ATS0=0');
  assert.match(e[0]?.message ?? '', /waits for the modem to send 'OK ATS0=0' as one string/);
  // Both mistakes at once: both reported.
  assert.equal(lint('init-chat', 'AT&F1 OK ATS0=0 OK "AT#CID=1 OK').length, 2);
  // msn-list gets the quote check too.
  assert.equal(lint('msn-list', '"123 456').length, 1);
});

test('unclosedQuoteAt: escaped quotes do not count', () => {
  assert.equal(unclosedQuoteAt('"" a "b c" d'), undefined);
  assert.equal(unclosedQuoteAt('a \\" b'), undefined);
  assert.equal(unclosedQuoteAt('a "b \\" c'), 2);
  assert.equal(unclosedQuoteAt('"'), 0);
});

test('a shifted chat (a response sent, a command waited for) is a warning', () => {
  const p = lint('init-chat', '"" ATZ OK OK ATS0=0 OK');
  assert.equal(p.length, 1);
  assert.equal(p[0]?.severity, 'warning');
  assert.match(p[0]?.message ?? '', /element 4 'OK' is sent to the modem and element 5 'ATS0=0' is waited for/);
});

test('lintChats: file:line of the global section and the matching port sections only', () => {
  const text = 'init-chat ATZ OK\nport ttyS1\n  answer-chat ATA CONNECT\nport ttyS2\n  post-init-chat "" "AT\n';
  const parsed = parseMgettyConfig(text, '/etc/mgetty/mgetty.config');
  const d1 = lintChats(parsed, resolvePort(parsed, 'ttyS1'));
  assert.deepEqual(d1.map((d) => [d.file, d.line, d.severity, d.kind, d.section]), [
    ['/etc/mgetty/mgetty.config', 1, 'error', 'broken-chat', undefined],
    ['/etc/mgetty/mgetty.config', 3, 'error', 'broken-chat', 'ttyS1'],
  ]);
  const d2 = lintChats(parsed, resolvePort(parsed, 'ttyS2'));
  assert.deepEqual(d2.map((d) => d.line), [1, 5]);
  assert.deepEqual(lintChats(undefined, resolvePort(undefined, 'ttyS1')), []);
});

test('lintChats: a -m chat from the command line is checked too', () => {
  const eff = resolvePort(undefined, 'ttyS1', { 'init-chat': splitChat('ATZ OK') });
  const d = lintChats(undefined, eff);
  assert.deepEqual(d.map((x) => [x.file, x.severity, x.kind]), [['<command line>', 'error', 'broken-chat']]);
  assert.match(d[0]?.message ?? '', /init-chat waits for 'ATZ'/);
});
