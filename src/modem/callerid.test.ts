import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CALLER_ID_FORMATS,
  applyCallerIdLine,
  applyMesg,
  cleanCidText,
  decodeMesg,
  matchMsn,
  newCallData,
  resetCallData,
  setCalledNumber,
  type CallData,
} from './callerid.js';

function parse(lines: string[], start: Partial<CallData> = {}): CallData {
  const d = { ...newCallData(), ...start };
  for (const l of lines) applyCallerIdLine(d, l);
  return d;
}

test('every documented format parses its own example', () => {
  for (const f of CALLER_ID_FORMATS) {
    const d = parse([f.example]);
    const picked = Object.fromEntries(Object.keys(f.sets).map((k) => [k, d[k as keyof CallData]]));
    assert.deepEqual(picked, f.sets, `format ${f.prefix ?? '(digit)'}: ${f.example}`);
    if (f.prefix !== null) assert.ok(f.example.startsWith(f.prefix), f.example);
  }
});

test('the initial call data: caller ID none, everything else empty', () => {
  assert.deepEqual(newCallData(), {
    callerId: 'none',
    callerName: '',
    callDate: '',
    callTime: '',
    calledNr: '',
    connect: '',
    distRing: 0,
    carrier: '',
    protocol: '',
    mesg1: '',
    mesg2: '',
  });
});

test('observed Rockwell block (transcript C) fills date, time, number and cleaned name', () => {
  const d = parse(['RING', 'DATE = 1121', 'TIME = 1930', 'NMBR = 5551234', 'NAME = JOE "X" O\'Neil']);
  assert.equal(d.callDate, '1121');
  assert.equal(d.callTime, '1930');
  assert.equal(d.callerId, '5551234');
  assert.equal(d.callerName, 'JOE  X  O Neil');
});

test('lines are trimmed first; quotes and control characters become spaces', () => {
  assert.equal(parse(['   NMBR = 0555  \r']).callerId, '0555');
  assert.equal(parse(['NAME = A\x01B\x7fC\xe9']).callerName, 'A B C ');
  assert.equal(cleanCidText('"x"'), ' x ');
});

test('Q13: a digit-first line replaces the caller ID with its leading digits (also result codes)', () => {
  assert.equal(parse(['0891234567 foo']).callerId, '0891234567');
  assert.equal(parse(['NMBR = 5551234', '0']).callerId, '0');
  assert.deepEqual(applyCallerIdLine(newCallData(), '12ab'), [{ field: 'callerId', value: '12', format: 'ELink' }]);
});

test('Debian +CLIP keeps only the first digit run', () => {
  assert.equal(parse(['+CLIP: "0301234567",129,,,,0']).callerId, '0301234567');
  assert.equal(parse(['+CLIP: "+49301234",145']).callerId, '49301234');
  // faithful to the Debian patch: with no number, the type field's digits are taken
  assert.equal(parse(['+CLIP: "",128']).callerId, '128');
  assert.equal(parse(['+CLIP: ""']).callerId, '');
});

test('prefix order: TIME: / TIME = / TIME= and the space-less variants', () => {
  assert.equal(parse(['TIME: 10:00']).callTime, '10:00');
  assert.equal(parse(['TIME = 1000']).callTime, '1000');
  assert.equal(parse(['TIME=1000']).callTime, '1000');
  assert.equal(parse(['NMBR=0555']).callerId, '0555');
  // `NMBR =` without the trailing space matches neither Rockwell prefix
  assert.equal(parse(['NMBR =0555']).callerId, 'none');
});

test('RING, OK, unknown lines and a bare CONNECT change nothing', () => {
  for (const l of ['RING', 'RING 1', 'OK', 'CONNECT', 'hello', 'ATA', '', 'nmbr = 5']) {
    const d = newCallData();
    assert.deepEqual(applyCallerIdLine(d, l), [], l);
    assert.deepEqual(d, newCallData(), l);
  }
});

test('ELSA RING; sets the raw rest (the RING wait refines it)', () => {
  assert.equal(parse(['RING;0891234;35655024']).callerId, '0891234;35655024');
});

test('CONNECT: plain rest, or composed with earlier CARRIER / PROTOCOL lines', () => {
  assert.equal(parse(['CONNECT 33600/ARQ']).connect, '33600/ARQ');
  assert.equal(parse(['CARRIER 28800', 'PROTOCOL: LAPM', 'CONNECT 115200']).connect, '115200/28800 LAPM');
  assert.equal(parse(['+MCR: V34', '+MRR: 31200', 'CONNECT 57600']).connect, '57600/V34 31200');
});

test('MESG lines go to message 1, then message 2', () => {
  const d = parse(['MESG = 030735353531323334', 'MESG = 0101']);
  assert.equal(d.mesg1, '030735353531323334');
  assert.equal(d.mesg2, '0101');
});

test('Rockwell MESG, Bell Canada format: 03, hex length, hex-encoded digits', () => {
  assert.equal(decodeMesg('030735353531323334'), '5551234');
  assert.equal(decodeMesg('030A36313335353531323132'), '6135551212');
  assert.equal(decodeMesg('0203313233'), undefined);
  assert.equal(decodeMesg('03ZZ31'), undefined);
  assert.equal(decodeMesg('03'), undefined);
  assert.equal(decodeMesg('0305353535'), '555', 'a short message keeps what is there');
  const d = parse(['MESG = 030735353531323334']);
  assert.deepEqual(applyMesg(d), [{ field: 'callerId', value: '5551234', format: 'Rockwell MESG' }]);
  assert.equal(d.callerId, '5551234');
  assert.deepEqual(applyMesg(parse(['MESG = 99'])), []);
});

test('MSN matching compares the tail of the called number; 1-based, 0 if none', () => {
  const list = ['9999', '35655023', '35655024', '35655025'];
  assert.equal(matchMsn('08935655025', list), 4);
  assert.equal(matchMsn('35655024', list), 3);
  assert.equal(matchMsn('999999', list), 1);
  assert.equal(matchMsn('0666', list), 0);
  assert.equal(matchMsn('123', []), 0);
  assert.equal(matchMsn('123', ['']), 0, 'an empty entry matches nothing');
  const d = newCallData();
  setCalledNumber(d, '35655024/1', list);
  assert.equal(d.calledNr, '35655024');
  assert.equal(d.distRing, 3);
});

test('resetCallData clears every field, date and connect too (Q33: nothing leaks into the next call)', () => {
  const d = parse(['DATE = 1121', 'TIME = 1930', 'NMBR = 5', 'NAME = X', 'CALLED NUMBER: 7', 'CARRIER 28800', 'PROTOCOL: LAPM', 'MESG = 0301', 'CONNECT 2400']);
  d.distRing = 3;
  resetCallData(d);
  assert.deepEqual(d, newCallData());
});

test('property: any line is accepted and assigned values are printable and quote-free', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 200 }), (line) => {
      const d = newCallData();
      for (const u of applyCallerIdLine(d, line)) {
        if (u.field === 'connect') continue;
        assert.match(u.value, /^[\x20-\x7e]*$/);
        assert.doesNotMatch(u.value, /["']/);
      }
    }),
  );
});
