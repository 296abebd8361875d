// The DTE side of a class 2 / 2.0 fax reception, driven by scripted modem output at
// every chunk split: the commands it sends, the pages it keeps, how each kind of end
// is reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytewise, chunk } from '../../../test/helpers/fuzz.js';
import { DC2, DLE, ETX, stuffPage, DleDecoder, SUB } from './dle.js';
import { parseFaxResponse } from './responses.js';
import { FaxReceiver, type ReceiveCommand, type ReceiveResult } from './receive.js';

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const PAGE1 = Uint8Array.from({ length: 600 }, (_, i) => (i * 37) & 0xff); // holds DLEs and ETXs
const PAGE2 = Uint8Array.of(0, 1, DLE, ETX, DLE, DLE, 2, 3);

interface Step {
  /** Modem output for this step. */
  modem: Uint8Array;
  /** What the DTE must have sent by the end of it. */
  sends: string[];
}

/** A class 2 reception of two pages, step by step: each step's output answers the DTE's last command. */
function class2Script(): Step[] {
  return [
    { modem: b('\r\n+FTSI:"  49 30 5551234 "\r\n+FDCS:1,5,0,2,0,0,0,0\r\n\r\nOK\r\n'), sends: ['AT+FDR\r'] },
    { modem: Buffer.concat([b('\r\n+FCFR\r\n+FDCS:1,3,0,2,0,0,0,0\r\nCONNECT\r\n'), stuffPage(PAGE1), b('\r\n+FPTS:1,2200\r\n+FET:0\r\nOK\r\n')]), sends: ['\x12', 'AT+FDR\r'] },
    { modem: Buffer.concat([b('CONNECT\r\n'), stuffPage(PAGE2), b('\r\n+FPTS:1\r\n+FET:2\r\nOK\r\n')]), sends: ['\x12', 'AT+FDR\r'] },
    { modem: b('\r\n+FHNG:0\r\nOK\r\n'), sends: [] },
  ];
}

function drive(steps: Step[], split: (data: Uint8Array) => Uint8Array[]): { result: ReceiveResult | undefined; sent: string[]; pages: number } {
  const rx = new FaxReceiver();
  const sent: string[] = [];
  let result: ReceiveResult | undefined;
  let pages = 0;
  const run = (cmds: ReceiveCommand[]): void => {
    for (const c of cmds) {
      if (c.type === 'send') sent.push(Buffer.from(c.bytes).toString('latin1'));
      if (c.type === 'done') result = c.result;
      if (c.type === 'page') pages = c.index;
    }
  };
  run(rx.start());
  for (const s of steps) {
    const before = sent.length;
    for (const part of split(s.modem)) run(rx.feed(part));
    assert.deepEqual(sent.slice(before), s.sends);
  }
  return { result, sent, pages };
}

test('class 2: two pages, MPS then EOP: AT+FDR each time, DC2 after CONNECT, pages unstuffed, complete on +FHNG:0', () => {
  for (const split of [(d: Uint8Array) => [d], bytewise, (d: Uint8Array) => chunk(d, [3, 17, 40, 41, 200, 401])]) {
    const { result, pages } = drive(class2Script(), split);
    assert.ok(result !== undefined);
    assert.equal(result.end, 'complete');
    assert.equal(result.remoteId, '49 30 5551234');
    assert.equal(result.hangupCode, 0);
    assert.equal(pages, 2);
    assert.deepEqual(result.pages[0]?.data, PAGE1);
    assert.deepEqual(result.pages[1]?.data, PAGE2);
    assert.equal(result.pages[0]?.status, 1);
    assert.equal(result.pages[0]?.lines, 2200);
    assert.equal(result.pages[0]?.params?.br, 3, 'the +FDCS after +FCFR (the rate after training) wins');
    assert.equal(result.partialPage, false);
  }
});

for (const cls of ['2', '2.0'] as const) {
  const c2 = cls === '2';
  const W = c2 ? { tsi: '+FTSI', dcs: '+FDCS', pts: '+FPTS:1,2200', cig: '+FCIG', dtc: '+FDTC', hng: '+FHNG:0' } : { tsi: '+FTI', dcs: '+FCS', pts: '+FPS:1,898,0,0', cig: '+FPI', dtc: '+FTC', hng: '+FHS:00' };
  /** Two pages, the last ended with EOM (+FET:1); the AT+FDR that gives its MCF then gets `after`. */
  const eomScript = (after: string): Step[] => [
    { modem: b(`\r\n${W.tsi}:"SENDER 1"\r\n${W.dcs}:1,5,0,2,0,0,0,0\r\n\r\nOK\r\n`), sends: ['AT+FDR\r'] },
    { modem: Buffer.concat([b(`${c2 ? '\r\n+FCFR' : ''}\r\nCONNECT\r\n`), stuffPage(PAGE1), b(`\r\n${W.pts}\r\n+FET:0\r\nOK\r\n`)]), sends: ['\x12', 'AT+FDR\r'] },
    { modem: Buffer.concat([b('\r\nCONNECT\r\n'), stuffPage(PAGE2), b(`\r\n${W.pts}\r\n+FET:1\r\n\r\nOK\r\n`)]), sends: ['\x12', 'AT+FDR\r'] },
    { modem: b(after), sends: [] },
  ];
  const splits = [(d: Uint8Array) => [d], bytewise, (d: Uint8Array) => chunk(d, [1, 5, 17, 40, 41, 200, 401])];

  test(`class ${cls}: pages, the last ended with EOM (+FET:1), then the caller polls (${W.cig}/${W.dtc} and OK to the AT+FDR): end 'polled' with both pages kept`, () => {
    for (const split of splits) {
      const { result, pages } = drive(eomScript(`\r\n${W.cig}:"POLLER 9"\r\n\r\n${W.dtc}:1,5,0,2,0,0,0,0\r\n\r\nOK\r\n`), split);
      assert.equal(result?.end, 'polled');
      assert.equal(pages, 2, 'both pages reported as they completed');
      assert.deepEqual(result.pages.map((p) => p.data), [PAGE1, PAGE2]);
      assert.equal(result.remoteId, 'SENDER 1', 'the pages keep the sender id');
      assert.equal(result.pollerId, 'POLLER 9');
      assert.equal(result.pollerCaps?.vr, 1);
      assert.equal(result.hangupCode, undefined, 'the call is still up');
      assert.equal(result.partialPage, false);
    }
  });

  test(`class ${cls}: pages, the last ended with EOM, then the caller's next document (its DCS and CONNECT to the same AT+FDR): more pages of the same fax`, () => {
    const steps = eomScript(`\r\n${W.tsi}:"SENDER 1"\r\n${W.dcs}:0,3,0,2,0,0,0,0\r\n`);
    const last = steps[steps.length - 1];
    if (last !== undefined) last.modem = Buffer.concat([last.modem, b('\r\nCONNECT\r\n'), stuffPage(PAGE2), b(`\r\n${W.pts}\r\n+FET:2\r\nOK\r\n`)]);
    if (last !== undefined) last.sends = ['\x12', 'AT+FDR\r'];
    steps.push({ modem: b(`\r\n${W.hng}\r\nOK\r\n`), sends: [] });
    for (const split of splits) {
      const { result, pages } = drive(steps, split);
      assert.equal(result?.end, 'complete');
      assert.equal(pages, 3);
      assert.equal(result.pages[2]?.params?.vr, 0, 'the new document\'s parameters');
      assert.equal(result.pollerCaps, undefined);
    }
  });

  test(`class ${cls}: pages, the last ended with EOM, then the caller says goodbye (${W.hng}): complete, nothing polled`, () => {
    for (const split of splits) {
      const { result, pages } = drive(eomScript(`\r\n${W.hng}\r\n\r\nOK\r\n`), split);
      assert.equal(result?.end, 'complete');
      assert.equal(pages, 2);
      assert.equal(result.hangupCode, 0);
      assert.equal(result.pollerCaps, undefined);
      assert.equal(result.remoteId, 'SENDER 1');
    }
  });
}

test('a poll request after EOP is no poll: only phase B counts (the answer, or after EOM)', () => {
  const { result } = drive([
    { modem: b('+FTSI:"S"\r\n+FDCS:0,5,0,2,0,0,0,0\r\nOK\r\n'), sends: ['AT+FDR\r'] },
    { modem: Buffer.concat([b('CONNECT\r\n'), stuffPage(PAGE2), b('+FPTS:1\r\n+FET:2\r\nOK\r\n')]), sends: ['\x12', 'AT+FDR\r'] },
    { modem: b('+FDTC:1,5,0,2,0,0,0,0\r\n+FHNG:0\r\nOK\r\n'), sends: [] },
  ], (d) => [d]);
  assert.equal(result?.end, 'complete');
  assert.equal(result.pollerCaps, undefined);
});

test('class 2.0: +FTI/+FCS/+FPS/+FHS names, the hang-up status in hex', () => {
  const steps: Step[] = [
    { modem: b('+FTI:"remote"\r\n+FCS:0,5,0,2,0,0,0,0\r\nOK\r\n'), sends: ['AT+FDR\r'] },
    { modem: Buffer.concat([b('CONNECT\r\n'), stuffPage(PAGE2), b('+FPS:1,0A,0,0,0\r\n+FET:2\r\nOK\r\n')]), sends: ['\x12', 'AT+FDR\r'] },
    { modem: b('+FHS:00\r\nOK\r\n'), sends: [] },
  ];
  const { result } = drive(steps, (d) => [d]);
  assert.equal(result?.end, 'complete');
  assert.equal(result?.remoteId, 'remote');
  assert.equal(result?.pages[0]?.lines, 10);
  assert.equal(result?.pages[0]?.params?.vr, 0);
  // The class 2.0 code is class 2's decimal code with its tens as one hex digit (docs/fax-spec.md, 7).
  const code = (s: string): number | undefined => {
    const r = parseFaxResponse(s);
    return r.kind === 'hangup' ? r.code : undefined;
  };
  assert.deepEqual(['+FHS:00', '+FHS:73', '+FHS:90', '+FHS:A0', '+FHS:A3', '+FHNG:100'].map(code), [0, 73, 90, 100, 103, 100]);
  assert.equal(code('+FHS:4F'), 0x4f, 'not a code in that form: read as plain hex');
});

test('a sender that breaks off after page 1 of 2: the page that arrived is kept, the end says how', () => {
  const steps = class2Script().slice(0, 2);
  const rx = new FaxReceiver();
  rx.start();
  let result: ReceiveResult | undefined;
  for (const s of steps) for (const c of rx.feed(s.modem)) if (c.type === 'done') result = c.result;
  // Page 2 starts, then the modem reports a hang-up code in the middle of nowhere.
  for (const c of rx.feed(Buffer.concat([b('CONNECT\r\n'), PAGE2.subarray(0, 3)]))) if (c.type === 'done') result = c.result;
  assert.equal(result, undefined);
  for (const c of rx.carrierLost()) if (c.type === 'done') result = c.result;
  assert.equal(result?.end, 'carrier-lost');
  assert.equal(result?.pages.length, 1);
  assert.equal(result?.partialPage, true);
});

test('a sender that never sends a page: +FHNG with a code ends as modem-hangup, no pages', () => {
  const { result } = drive([{ modem: b('+FTSI:"x"\r\nOK\r\n'), sends: ['AT+FDR\r'] }, { modem: b('+FHNG:70\r\nOK\r\n'), sends: [] }], (d) => [d]);
  assert.equal(result?.end, 'modem-hangup');
  assert.equal(result?.hangupCode, 70);
  assert.equal(result?.pages.length, 0);
});

test('time-outs and the page size bound end the reception', () => {
  const rx = new FaxReceiver();
  const t = rx.start();
  assert.deepEqual(t, [{ type: 'timer', ms: 60_000 }]);
  const done = rx.timeout();
  assert.equal(done[0]?.type === 'done' && done[0].result.end, 'timeout');
  assert.deepEqual(rx.timeout(), []);
  const small = new FaxReceiver({ responseMs: 1000, dataMs: 1000, maxPageBytes: 100 });
  small.start();
  small.feed(b('OK\r\n'));
  const out = small.feed(Buffer.concat([b('CONNECT\r\n'), new Uint8Array(500)]));
  assert.equal(out.find((c) => c.type === 'done')?.type === 'done' && (out.find((c) => c.type === 'done') as { result: ReceiveResult }).result.end, 'too-large');
});

test('DLE framing: doubled DLE, DLE SUB, unknown pairs, ETX at any split', () => {
  const data = Uint8Array.of(1, DLE, DLE, 2, DLE, SUB, 3, DLE, 0x41, 4, DLE, ETX, 9, 9);
  for (const parts of [[data], bytewise(data)]) {
    const d = new DleDecoder();
    const got: number[] = [];
    let rest: number[] = [];
    let ended = false;
    for (const p of parts) {
      if (ended) {
        rest.push(...p);
        continue;
      }
      const r = d.feed(p);
      got.push(...r.data);
      if (r.ended) {
        ended = true;
        rest = [...r.rest];
      }
    }
    assert.deepEqual(got, [1, DLE, 2, DLE, DLE, 3, 4]);
    assert.deepEqual(rest, [9, 9]);
    assert.equal(d.unknownPairs, 1);
  }
  assert.deepEqual([...stuffPage(Uint8Array.of(DLE, 5))], [DLE, DLE, 5, DLE, ETX]);
  assert.equal(DC2, 0x12);
});
