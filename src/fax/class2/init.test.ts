import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bitRateCode, chooseClass, faxInitCommands, parseClasses, quoteId } from './init.js';

test('AT+FCLASS=? replies in the forms modems give them', () => {
  assert.deepEqual([...parseClasses('0,1,2,2.0')], ['0', '1', '2', '2.0']);
  assert.deepEqual([...parseClasses('(0,1,2,2.0)')], ['0', '1', '2', '2.0']);
  assert.deepEqual([...parseClasses('0-2,2.0,8')], ['0', '1', '2', '2.0', '8']);
  assert.deepEqual([...parseClasses('garbage')], []);
});

test('class choice: auto prefers 2.0, cls2 and c2.0 force theirs when offered, data and a data-only modem give none', () => {
  assert.equal(chooseClass('auto', '0,1,2,2.0'), '2.0');
  assert.equal(chooseClass('auto', '0,2'), '2');
  assert.equal(chooseClass('auto', '0,1'), undefined);
  assert.equal(chooseClass('cls2', '0,1,2,2.0'), '2');
  assert.equal(chooseClass('c2.0', '0,2'), undefined);
  assert.equal(chooseClass('data', '0,2,2.0'), undefined);
  assert.equal(chooseClass('auto', undefined), undefined);
  assert.equal(chooseClass('cls2', undefined), '2', 'a forced class is tried even when the modem did not say');
});

test('init commands: station id quoted and cleaned, bit rate from fax-max-speed, adaptive answer unless fax-only', () => {
  assert.equal(bitRateCode(14400), 5);
  assert.equal(bitRateCode(9600), 3);
  assert.equal(bitRateCode(100), 0);
  assert.equal(quoteId('49 30 "1234"\x07'), '"49 30 1234"');
  const c2 = faxInitCommands('2', { faxId: '49 30 1234', maxSpeed: 9600, faxOnly: false });
  assert.deepEqual(c2, ['AT+FCLASS=2', 'AT+FCLASS=0', 'AT+FAA=1;+FCR=1', 'AT+FBOR=0', 'AT+FLID="49 30 1234"', 'AT+FDCC=1,3,0,2,0,0,0,0']);
  const c20 = faxInitCommands('2.0', { faxId: 'x', maxSpeed: 14400, faxOnly: true });
  assert.deepEqual(c20, ['AT+FCLASS=2.0', 'AT+FAA=0;+FCR=1', 'AT+FBO=1', 'AT+FNR=1,1,1,0', 'AT+FLI="x"', 'AT+FCC=1,5,0,2,0,0,0,0']);
  assert.ok(!faxInitCommands('2', { faxId: '', maxSpeed: 14400, faxOnly: true }).includes('AT+FCLASS=0'));
});
