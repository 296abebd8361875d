import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ip232Decoder, ip232Dcd, ip232Encode, parseIp232Spec } from './ip232.js';

test('ip232: the modem doubles 0xFF; DCD is FF 01 / FF 00', () => {
  assert.deepEqual([...ip232Encode(Buffer.from([1, 0xff, 2, 0xff, 0xff]))], [1, 0xff, 0xff, 2, 0xff, 0xff, 0xff, 0xff]);
  const plain = Buffer.from('no escape');
  assert.equal(ip232Encode(plain), plain, 'no copy without an 0xFF');
  assert.deepEqual([...ip232Dcd(true)], [0xff, 0x01]);
  assert.deepEqual([...ip232Dcd(false)], [0xff, 0x00]);
});

test('ip232: the emulator\'s DTR messages and literal 0xFF, an escape split across reads, unknown escapes dropped', () => {
  const d = new Ip232Decoder();
  const a = d.push(Buffer.from([0x41, 0xff, 0x00, 0x42, 0xff, 0x01, 0xff, 0xff, 0x43]));
  assert.deepEqual([...a.data], [0x41, 0x42, 0xff, 0x43]);
  assert.deepEqual(a.dtr, [false, true]);
  const b = d.push(Buffer.from([0x44, 0xff]));
  assert.deepEqual([...b.data], [0x44]);
  assert.deepEqual(b.dtr, []);
  const c = d.push(Buffer.from([0xff, 0x45, 0xff]));
  assert.deepEqual([...c.data], [0xff, 0x45], 'FF | FF is one literal 0xFF');
  const e = d.push(Buffer.from([0x00]));
  assert.deepEqual([...e.data], []);
  assert.deepEqual(e.dtr, [false], 'FF | 00 is DTR low');
  assert.deepEqual([...d.push(Buffer.from([0xff, 0x07, 0x46])).data], [0x46], 'FF 07 means nothing: dropped');
  d.push(Buffer.from([0xff]));
  d.reset();
  assert.deepEqual([...d.push(Buffer.from([0x00])).data], [0x00], 'a new connection has no escape pending');
});

test('ip232: --ip232 PORT[,COUNT]', () => {
  assert.deepEqual(parseIp232Spec('25232'), { port: 25232, count: 1 });
  assert.deepEqual(parseIp232Spec('6400,4'), { port: 6400, count: 4 });
  for (const bad of ['', 'x', '0', '65535,2', '1,0', '-1', '25232,', ' 25232']) assert.equal(parseIp232Spec(bad), undefined, bad);
});
