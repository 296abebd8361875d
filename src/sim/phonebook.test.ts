import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isTgettyError } from '../core/errors.js';
import { normaliseNumber, parseAddress, parsePhonebook, resolveDial } from './phonebook.js';

test('phone book: entries, comments, default port and protocol, numbers as dialled', () => {
  const book = parsePhonebook(['# my BBSes', '', '5551000 = bbs.example.org:23', '555-1001=127.0.0.1:2424 raw', '  (555) 1002 = [::1] TELNET  ', '911=localhost'].join('\n'), 'pb');
  assert.equal(book.size, 4);
  assert.deepEqual(book.lookup('555 1000'), { number: '5551000', host: 'bbs.example.org', port: 23, protocol: 'telnet', line: 3 });
  assert.deepEqual(book.lookup('5551001'), { number: '555-1001', host: '127.0.0.1', port: 2424, protocol: 'raw', line: 4 });
  assert.equal(book.lookup('5551002')?.host, '::1');
  assert.equal(book.lookup('5551002')?.port, 23);
  assert.equal(book.lookup('911')?.host, 'localhost');
  assert.equal(book.lookup('5559999'), undefined);
  assert.equal(book.lookup(''), undefined);
  assert.equal(normaliseNumber('(555) 10-02'), '5551002');
});

test('phone book: bad lines are errors naming file and line', () => {
  const cases: [string, RegExp][] = [
    ['5551000 bbs:23', /pb:1: expected NUMBER = HOST/],
    [' = host:23', /pb:1: no number/],
    ['555 = host:99999', /pb:1: not a host or host:port: host:99999/],
    ['555 = host:23 ssh', /pb:1: unknown protocol ssh/],
    ['555 = host:23 raw extra', /pb:1: expected/],
    ['# x\n555 = a\n5-55 = b', /pb:3: number 5-55 is already on line 2/],
    ['555 = ::1', /pb:1: not a host/],
  ];
  for (const [text, re] of cases) {
    assert.throws(() => parsePhonebook(text, 'pb'), (e) => isTgettyError(e, 'CONFIG_MALFORMED_LINE') && re.test(`${(e as { context: { file: string; line: number } }).context.file}:${(e as { context: { line: number } }).context.line}: ${(e as Error).message}`), text);
  }
});

test('what a dial string reaches: the phone book first, then a written-out host, else the exchange', () => {
  const book = parsePhonebook('5551000 = 127.0.0.1:2424 raw\n');
  assert.deepEqual(resolveDial('555-1000', book), { host: '127.0.0.1', port: 2424, protocol: 'raw' });
  assert.deepEqual(resolveDial('127.0.0.1:2424', book), { host: '127.0.0.1', port: 2424, protocol: 'telnet' });
  assert.deepEqual(resolveDial('bbs.example.org', undefined), { host: 'bbs.example.org', port: 23, protocol: 'telnet' });
  assert.deepEqual(resolveDial('[::1]:2323', undefined), { host: '::1', port: 2323, protocol: 'telnet' });
  assert.equal(resolveDial('5550001', book), undefined, 'a plain number: the sim exchange');
  assert.equal(resolveDial('host:0', undefined), undefined);
  assert.equal(parseAddress('a_b:23'), undefined);
});
