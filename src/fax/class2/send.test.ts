// The DTE side of a class 2 / 2.0 fax transmission, driven by a scripted modem at every
// chunk split: the commands it sends, in order; the page data (mirrored bits, DLE doubled,
// DLE ETX); retries of a page the receiver calls bad; each kind of failure with mgetty's
// sendfax exit code; the time-outs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bytewise, chunk } from '../../../test/helpers/fuzz.js';
import { reverseBits } from '../codec/bits.js';
import { DC2, DLE, ETX, XON } from './dle.js';
import { DEFAULT_SEND_LIMITS, FaxSender, SEND_EXIT, pageBytes, sendSetupCommands, type SendCommand, type SendResult, type SendSettings } from './send.js';

const b = (s: string): Uint8Array => Buffer.from(s, 'latin1');
const txt = (u: Uint8Array): string => Buffer.from(u).toString('latin1');
const PAGE1 = Uint8Array.from({ length: 700 }, (_, i) => (i * 37) & 0xff); // holds DLEs (after mirroring too)
const PAGE2 = Uint8Array.of(0x08, 0x08, 1, 2, 3, 0x10);

const SETTINGS: SendSettings = {
  modemType: 'cls2',
  faxId: '49 30 5550000',
  maxSpeed: 14400,
  normal: false,
  dialPrefix: 'ATD',
  phone: '5551',
  extraCommands: [],
  maxTries: 3,
  maxTriesContinue: true,
};

/** One exchange: what the DTE must send next, and the modem's answer to it. */
interface Step {
  dte: string | Uint8Array;
  modem: string | Uint8Array;
}

interface Run {
  result: SendResult | undefined;
  pages: number[];
  logs: string[];
  timers: number[];
}

function drive(settings: SendSettings, pages: Uint8Array[], steps: Step[], split: (d: Uint8Array) => Uint8Array[]): Run {
  const tx = new FaxSender(settings, pages.map((data) => ({ data })));
  const sent: Uint8Array[] = [];
  const run: Run = { result: undefined, pages: [], logs: [], timers: [] };
  const apply = (cmds: SendCommand[]): void => {
    for (const c of cmds) {
      if (c.type === 'send') sent.push(c.bytes);
      if (c.type === 'timer') run.timers.push(c.ms);
      if (c.type === 'page') run.pages.push(c.page.index);
      if (c.type === 'log') run.logs.push(c.text);
      if (c.type === 'done') run.result = c.result;
    }
  };
  apply(tx.start());
  for (const [i, s] of steps.entries()) {
    const got = sent.shift();
    assert.ok(got !== undefined, `step ${i}: the DTE sent nothing (expected ${JSON.stringify(typeof s.dte === 'string' ? s.dte : 'page data')})`);
    if (typeof s.dte === 'string') assert.equal(txt(got), s.dte, `step ${i}`);
    else assert.deepEqual(got, s.dte, `step ${i}: page data`);
    const out = typeof s.modem === 'string' ? b(s.modem) : s.modem;
    for (const part of split(out)) apply(tx.feed(part));
  }
  assert.deepEqual(sent.map(txt), [], 'nothing more sent');
  return run;
}

const SPLITS: ((d: Uint8Array) => Uint8Array[])[] = [(d) => (d.length > 0 ? [d] : []), bytewise, (d) => chunk(d, [1, 2, 5, 9, 13])];

function class2Setup(): Step[] {
  return [
    { dte: 'AT+FCLASS=2\r', modem: 'AT+FCLASS=2\r\r\nOK\r\n' },
    { dte: 'AT+FLID="49 30 5550000"\r', modem: '\r\nOK\r\n' },
    { dte: 'AT+FDCC=1,5,0,2,0,0,0,0\r', modem: '\r\nOK\r\n' },
    { dte: 'AT+FBOR=0\r', modem: '\r\nOK\r\n' },
  ];
}

/** Class 2, two pages: MPS then EOP, XON before each page. */
function class2Script(): Step[] {
  return [
    ...class2Setup(),
    { dte: 'ATD5551\r', modem: '\r\n+FCON\r\n+FCSI:" 49 30 5550001"\r\n+FDIS:1,5,0,2,0,0,0,0\r\nOK\r\n' },
    { dte: 'AT+FDT\r', modem: `\r\n+FDCS:1,3,0,2,0,0,0,0\r\nCONNECT\r\n${String.fromCharCode(XON)}` },
    { dte: pageBytes({ data: PAGE1 }), modem: '\r\nOK\r\n' },
    { dte: 'AT+FET=0\r', modem: '\r\n+FPTS:1\r\nOK\r\n' },
    { dte: 'AT+FDT\r', modem: `\r\nCONNECT\r\n${String.fromCharCode(XON)}` },
    { dte: pageBytes({ data: PAGE2 }), modem: '\r\nOK\r\n' },
    { dte: 'AT+FET=2\r', modem: '\r\n+FPTS:1\r\n+FHNG:0\r\nOK\r\n' },
    { dte: 'AT+FCLASS=0\r', modem: '\r\nOK\r\n' },
  ];
}

test('class 2: set-up, dial, two pages after XON, +FET=0 then +FET=2, +FHNG:0, back to class 0: exit 0 at every split', () => {
  for (const split of SPLITS) {
    const r = drive(SETTINGS, [PAGE1, PAGE2], class2Script(), split);
    assert.equal(r.result?.end, 'complete');
    assert.equal(r.result?.exitCode, SEND_EXIT.ok);
    assert.equal(r.result?.remoteId, '49 30 5550001');
    assert.equal(r.result?.params?.br, 3);
    assert.equal(r.result?.remoteCaps?.br, 5);
    assert.equal(r.result?.hangupCode, 0);
    assert.deepEqual(r.pages, [1, 2]);
    assert.equal(r.result?.cls, '2');
  }
});

test('the page on the wire: every byte mirrored (the G3 file has the first bit on top, +FBOR=0 sends bit 0 first), DLE doubled, DLE ETX', () => {
  const data = Uint8Array.of(0x08, 0x80, 0x01, 0xff);
  // 0x08 mirrored is 0x10 (DLE): doubled.
  assert.deepEqual([...pageBytes({ data })], [DLE, DLE, 0x01, 0x80, 0xff, DLE, ETX]);
  const big = pageBytes({ data: PAGE1 });
  assert.equal(big.at(-2), DLE);
  assert.equal(big.at(-1), ETX);
  const dles = [...reverseBits(PAGE1)].filter((x) => x === DLE).length;
  assert.equal(big.length, PAGE1.length + dles + 2);
});

test('class 2.0 (modem-type auto, AT+FCLASS=? offers 2.0): +FLI/+FCC/+FBO=0, +FCO/+FCI/+FIS/+FCS/+FPS/+FHS, DC2 before the page', () => {
  const steps: Step[] = [
    { dte: 'AT+FCLASS=?\r', modem: '\r\n0,1,2,2.0\r\n\r\nOK\r\n' },
    { dte: 'AT+FCLASS=2.0\r', modem: 'OK\r\n' },
    { dte: 'AT+FLI="49 30 5550000"\r', modem: 'OK\r\n' },
    { dte: 'AT+FCC=0,3,0,2,0,0,0,0\r', modem: 'OK\r\n' },
    { dte: 'AT+FBO=0\r', modem: 'OK\r\n' },
    { dte: 'ATM0\r', modem: 'OK\r\n' },
    { dte: 'ATDT5551\r', modem: '+FCO\r\n+FCI:"far"\r\n+FIS:1,5,0,2,0,0,0,0\r\nOK\r\n' },
    { dte: 'AT+FDT\r', modem: `+FCS:0,3,0,2,0,0,0,0\r\nCONNECT\r\n${String.fromCharCode(DC2)}` },
    { dte: pageBytes({ data: PAGE2 }), modem: 'OK\r\n' },
    { dte: 'AT+FET=2\r', modem: '+FPS:1\r\n+FHS:00\r\nOK\r\n' },
    { dte: 'AT+FCLASS=0\r', modem: 'OK\r\n' },
  ];
  for (const split of SPLITS) {
    const r = drive({ ...SETTINGS, modemType: 'auto', normal: true, maxSpeed: 9600, dialPrefix: 'ATDT', extraCommands: ['M0'] }, [PAGE2], steps, split);
    assert.equal(r.result?.exitCode, 0);
    assert.equal(r.result?.cls, '2.0');
    assert.equal(r.result?.remoteId, 'far');
    assert.equal(r.result?.params?.vr, 0);
  }
});

test('a page the receiver calls bad (+FPTS:2) is sent again, up to max-tries; then on (max-tries-continue) or exit 12', () => {
  const retry = (modem: string): Step[] => [
    { dte: 'AT+FDT\r', modem: `CONNECT\r\n${String.fromCharCode(XON)}` },
    { dte: pageBytes({ data: PAGE1 }), modem: 'OK\r\n' },
    { dte: 'AT+FET=0\r', modem },
  ];
  const head: Step[] = [...class2Setup(), { dte: 'ATD5551\r', modem: '+FCON\r\n+FDIS:1,5,0,2,0,0,0,0\r\nOK\r\n' }];
  const tail: Step[] = [
    { dte: 'AT+FDT\r', modem: `CONNECT\r\n${String.fromCharCode(XON)}` },
    { dte: pageBytes({ data: PAGE2 }), modem: 'OK\r\n' },
    { dte: 'AT+FET=2\r', modem: '+FPTS:1\r\n+FHNG:0\r\nOK\r\n' },
    { dte: 'AT+FCLASS=0\r', modem: 'OK\r\n' },
  ];
  // Bad once, good the second time.
  const once = drive(SETTINGS, [PAGE1, PAGE2], [...head, ...retry('+FPTS:2\r\nOK\r\n'), ...retry('+FPTS:1\r\nOK\r\n'), ...tail], (d) => [d]);
  assert.equal(once.result?.exitCode, 0);
  assert.deepEqual(once.result?.pages.map((p) => [p.index, p.tries, p.status]), [[1, 2, 1], [2, 1, 1]]);
  // Bad three times: given up on, the next page follows (max-tries-continue, mgetty's default).
  const bad3 = [...retry('+FPTS:2\r\nOK\r\n'), ...retry('+FPTS:2\r\nOK\r\n'), ...retry('+FPTS:2\r\nOK\r\n')];
  const cont = drive(SETTINGS, [PAGE1, PAGE2], [...head, ...bad3, ...tail], (d) => [d]);
  assert.equal(cont.result?.exitCode, 0);
  assert.deepEqual(cont.result?.pages.map((p) => [p.index, p.tries, p.status]), [[1, 3, 2], [2, 1, 1]]);
  assert.ok(cont.logs.some((l) => /page 1 reported bad \(\+FPTS:2\), try 3 of 3/.test(l)));
  // max-tries-continue no: exit 12, and the modem is hung up.
  const stop = drive({ ...SETTINGS, maxTriesContinue: false }, [PAGE1, PAGE2], [...head, ...bad3, { dte: 'ATH0\r', modem: 'OK\r\n' }, { dte: 'AT+FCLASS=0\r', modem: 'OK\r\n' }], (d) => [d]);
  assert.equal(stop.result?.exitCode, SEND_EXIT.page);
  assert.equal(stop.result?.end, 'page-failed');
  // max-tries 0: a bad page is never sent again.
  const never = drive({ ...SETTINGS, maxTries: 0, maxTriesContinue: false }, [PAGE1, PAGE2], [...head, ...retry('+FPTS:2\r\nOK\r\n'), ...tail], (d) => [d]);
  assert.equal(never.result?.exitCode, 0);
});

test('dial results give mgetty\'s exit codes: BUSY 4, NO DIALTONE 5, NO CARRIER / NO ANSWER / ERROR / +FHNG 10', () => {
  const cases: [string, number, string][] = [
    ['\r\nBUSY\r\n', 4, 'busy'],
    ['\r\nNO DIALTONE\r\n', 5, 'no-dialtone'],
    ['\r\nNO DIAL TONE\r\n', 5, 'no-dialtone'],
    ['\r\nNO CARRIER\r\n', 10, 'no-carrier'],
    ['\r\nNO ANSWER\r\n', 10, 'no-answer'],
    ['\r\nERROR\r\n', 10, 'dial-error'],
    ['\r\n+FCON\r\n+FHNG:21\r\nNO CARRIER\r\n', 10, 'dial-error'],
  ];
  for (const [modem, code, end] of cases) {
    for (const split of SPLITS) {
      const r = drive(SETTINGS, [PAGE1], [...class2Setup(), { dte: 'ATD5551\r', modem }, { dte: 'ATH0\r', modem: 'OK\r\n' }, { dte: 'AT+FCLASS=0\r', modem: 'OK\r\n' }], split);
      assert.equal(r.result?.exitCode, code, modem);
      assert.equal(r.result?.end, end, modem);
    }
  }
});

test('reset-after-fail: sent after a failed dial (before AT+FCLASS=0), not after a good fax', () => {
  const r = drive({ ...SETTINGS, resetAfterFail: 'Z' }, [PAGE1], [...class2Setup(), { dte: 'ATD5551\r', modem: 'NO CARRIER\r\n' }, { dte: 'ATH0\r', modem: 'OK\r\n' }, { dte: 'ATZ\r', modem: 'OK\r\n' }, { dte: 'AT+FCLASS=0\r', modem: 'OK\r\n' }], (d) => [d]);
  assert.equal(r.result?.exitCode, SEND_EXIT.dial);
  const ok = drive({ ...SETTINGS, resetAfterFail: 'ATZ' }, [PAGE1, PAGE2], class2Script(), (d) => [d]);
  assert.equal(ok.result?.exitCode, 0);
});

test('set-up failures exit 3: a data modem (AT+FCLASS=? without 2), ERROR to a set-up or -m command, no answer', () => {
  const data = drive({ ...SETTINGS, modemType: 'auto' }, [PAGE1], [{ dte: 'AT+FCLASS=?\r', modem: '0\r\nOK\r\n' }, { dte: 'AT+FCLASS=0\r', modem: 'OK\r\n' }], (d) => [d]);
  assert.equal(data.result?.exitCode, SEND_EXIT.init);
  assert.match(data.result?.reason ?? '', /no class 2\/2.0 fax modem/);
  const m = drive({ ...SETTINGS, extraCommands: ['ATL3'] }, [PAGE1], [...class2Setup(), { dte: 'ATL3\r', modem: 'ERROR\r\n' }, { dte: 'AT+FCLASS=0\r', modem: 'OK\r\n' }], (d) => [d]);
  assert.equal(m.result?.exitCode, SEND_EXIT.init);
  assert.match(m.result?.reason ?? '', /ERROR to ATL3/);
  const tx = new FaxSender(SETTINGS, [{ data: PAGE1 }]);
  tx.start();
  const t1 = tx.timeout();
  assert.deepEqual(t1.filter((c) => c.type === 'send').map((c) => c.type === 'send' && txt(c.bytes)), ['AT+FCLASS=0\r']);
  const end = tx.timeout().find((c) => c.type === 'done');
  assert.equal(end?.type === 'done' && end.result.exitCode, SEND_EXIT.init);
  assert.deepEqual(tx.timeout(), []);
});

test('in the call: no XON (exit 11), NO CARRIER in the page (12), carrier lost, a time-out; class 2.0 sends without DC2', () => {
  const toConnect: Step[] = [...class2Setup(), { dte: 'ATD5551\r', modem: '+FCON\r\nOK\r\n' }, { dte: 'AT+FDT\r', modem: 'CONNECT\r\n' }];
  const finish = (tx: FaxSender, cmds: SendCommand[]): SendResult | undefined => {
    let all = cmds;
    for (let i = 0; i < 5; i++) {
      const d = all.find((c) => c.type === 'done');
      if (d?.type === 'done') return d.result;
      all = tx.timeout();
    }
    return undefined;
  };
  const setupTo = (steps: Step[], settings = SETTINGS): FaxSender => {
    const tx = new FaxSender(settings, [{ data: PAGE1 }]);
    tx.start();
    for (const s of steps) tx.feed(typeof s.modem === 'string' ? b(s.modem) : s.modem);
    return tx;
  };
  const noXon = setupTo(toConnect);
  assert.equal(finish(noXon, noXon.timeout())?.exitCode, SEND_EXIT.xon);
  const drop = setupTo(toConnect);
  drop.feed(Uint8Array.of(XON));
  assert.equal(finish(drop, drop.feed(b('\r\nNO CARRIER\r\n')))?.exitCode, SEND_EXIT.page);
  const lost = setupTo(toConnect);
  assert.equal(finish(lost, lost.carrierLost())?.end, 'carrier-lost');
  const fdtHang = setupTo(toConnect.slice(0, -1));
  assert.equal(finish(fdtHang, fdtHang.feed(b('+FHNG:25\r\n')))?.exitCode, SEND_EXIT.page);
  // Class 2.0 without DC2: the page goes out at the time-out.
  const c20 = new FaxSender({ ...SETTINGS, modemType: 'c2.0' }, [{ data: PAGE2 }]);
  c20.start();
  for (const s of ['OK\r\n', 'OK\r\n', 'OK\r\n', 'OK\r\n', '+FCO\r\nOK\r\n', 'CONNECT\r\n']) c20.feed(b(s));
  const sent = c20.timeout().filter((c) => c.type === 'send');
  assert.deepEqual(sent.map((c) => c.type === 'send' && c.bytes), [pageBytes({ data: PAGE2 })]);
});

test('timers: the page wait is the page\'s time at the negotiated rate plus slack', () => {
  const r = drive(SETTINGS, [PAGE1, PAGE2], class2Script(), (d) => [d]);
  const bytes = pageBytes({ data: PAGE1 }).length;
  assert.ok(r.timers.includes(Math.ceil((bytes * 8 * 1000) / 9600) + DEFAULT_SEND_LIMITS.pageSlackMs));
  assert.deepEqual(sendSetupCommands('2', { faxId: 'x"y', maxSpeed: 2400, normal: true, extraCommands: [] })[1], 'AT+FLID="xy"');
});

test('polling (-p): the set-up asks to poll; +FPOLL after the dial ends the machine in the call (pollable), without it the call is hung up (no-document, exit 0)', () => {
  const poll = { ...SETTINGS, poll: true };
  const setup: Step[] = [
    ...class2Setup(),
    { dte: 'AT+FCIG="49 30 5550000"\r', modem: '\r\nOK\r\n' },
    { dte: 'AT+FCR=1\r', modem: '\r\nOK\r\n' },
    { dte: 'AT+FSPL=1\r', modem: '\r\nOK\r\n' },
  ];
  for (const split of SPLITS) {
    const yes = drive(poll, [], [...setup, { dte: 'ATD5551\r', modem: '\r\n+FCON\r\n+FCSI:"MAPS"\r\n+FDIS:1,5,0,2,0,0,0,0\r\n+FPOLL\r\nOK\r\n' }], split);
    assert.deepEqual([yes.result?.end, yes.result?.exitCode, yes.result?.remoteId], ['pollable', SEND_EXIT.ok, 'MAPS']);
    const no = drive(poll, [], [
      ...setup,
      { dte: 'ATD5551\r', modem: '\r\n+FCON\r\n+FDIS:1,5,0,2,0,0,0,0\r\nOK\r\n' },
      { dte: 'ATH0\r', modem: '\r\nOK\r\n' },
      { dte: 'AT+FCLASS=0\r', modem: '\r\nOK\r\n' },
    ], split);
    assert.deepEqual([no.result?.end, no.result?.exitCode], ['no-document', SEND_EXIT.ok]);
  }
  // Class 2.0: received pages first bit on top (+FBO=1), as the getty receives.
  assert.deepEqual(sendSetupCommands('2.0', { ...poll }), ['AT+FCLASS=2.0', 'AT+FLI="49 30 5550000"', 'AT+FCC=1,5,0,2,0,0,0,0', 'AT+FBO=1', 'AT+FPI="49 30 5550000"', 'AT+FCR=1', 'AT+FSP=1']);
});

test('send, then poll (-p with pages), class 2: +FPOLL after the dial, the last page ends with EOM (AT+FET=1), the machine ends in the call (pollable) with the pages sent', () => {
  const poll = { ...SETTINGS, poll: true };
  const setup: Step[] = [
    ...class2Setup(),
    { dte: 'AT+FCIG="49 30 5550000"\r', modem: '\r\nOK\r\n' },
    { dte: 'AT+FCR=1\r', modem: '\r\nOK\r\n' },
    { dte: 'AT+FSPL=1\r', modem: '\r\nOK\r\n' },
  ];
  const pages = (last: Step): Step[] => [
    { dte: 'AT+FDT\r', modem: `\r\n+FDCS:1,3,0,2,0,0,0,0\r\nCONNECT\r\n${String.fromCharCode(XON)}` },
    { dte: pageBytes({ data: PAGE1 }), modem: '\r\nOK\r\n' },
    { dte: 'AT+FET=0\r', modem: '\r\n+FPTS:1\r\nOK\r\n' },
    { dte: 'AT+FDT\r', modem: `\r\nCONNECT\r\n${String.fromCharCode(XON)}` },
    { dte: pageBytes({ data: PAGE2 }), modem: '\r\nOK\r\n' },
    last,
  ];
  const dialPoll: Step = { dte: 'ATD5551\r', modem: '\r\n+FCON\r\n+FCSI:"MAPS"\r\n+FDIS:1,5,0,2,0,0,0,0\r\n+FPOLL\r\nOK\r\n' };
  for (const split of SPLITS) {
    const yes = drive(poll, [PAGE1, PAGE2], [...setup, dialPoll, ...pages({ dte: 'AT+FET=1\r', modem: '\r\n+FPTS:1\r\nOK\r\n' })], split);
    assert.deepEqual([yes.result?.end, yes.result?.exitCode, yes.result?.remoteId, yes.result?.hangupCode], ['pollable', SEND_EXIT.ok, 'MAPS', undefined]);
    assert.deepEqual(yes.pages, [1, 2]);
    assert.deepEqual(yes.result?.pages.map((p) => p.index), [1, 2]);
    // No document: EOP as in a plain send, the pages count, exit 0 (as real sendfax).
    const no = drive(poll, [PAGE1, PAGE2], [
      ...setup,
      { dte: 'ATD5551\r', modem: '\r\n+FCON\r\n+FDIS:1,5,0,2,0,0,0,0\r\nOK\r\n' },
      ...pages({ dte: 'AT+FET=2\r', modem: '\r\n+FPTS:1\r\n+FHNG:0\r\nOK\r\n' }),
      { dte: 'AT+FCLASS=0\r', modem: '\r\nOK\r\n' },
    ], split);
    assert.deepEqual([no.result?.end, no.result?.exitCode, no.result?.hangupCode], ['no-document', SEND_EXIT.ok, 0]);
    assert.deepEqual(no.pages, [1, 2]);
    // The far end hangs up after the EOM page after all: the pages are sent, the poll failed (exit 12).
    const gone = drive(poll, [PAGE1, PAGE2], [
      ...setup,
      dialPoll,
      ...pages({ dte: 'AT+FET=1\r', modem: '\r\n+FPTS:1\r\n+FHNG:0\r\nOK\r\n' }),
      { dte: 'ATH0\r', modem: '\r\nOK\r\n' },
      { dte: 'AT+FCLASS=0\r', modem: '\r\nOK\r\n' },
    ], split);
    assert.deepEqual([gone.result?.end, gone.result?.exitCode], ['page-failed', SEND_EXIT.page]);
    assert.deepEqual(gone.pages, [1, 2]);
    // A bad last page is sent again with EOM too.
    const again = drive(poll, [PAGE2], [
      ...setup,
      dialPoll,
      { dte: 'AT+FDT\r', modem: `\r\n+FDCS:1,3,0,2,0,0,0,0\r\nCONNECT\r\n${String.fromCharCode(XON)}` },
      { dte: pageBytes({ data: PAGE2 }), modem: '\r\nOK\r\n' },
      { dte: 'AT+FET=1\r', modem: '\r\n+FPTS:2\r\nOK\r\n' },
      { dte: 'AT+FDT\r', modem: `\r\nCONNECT\r\n${String.fromCharCode(XON)}` },
      { dte: pageBytes({ data: PAGE2 }), modem: '\r\nOK\r\n' },
      { dte: 'AT+FET=1\r', modem: '\r\n+FPTS:1\r\nOK\r\n' },
    ], split);
    assert.deepEqual([again.result?.end, again.result?.pages[0]?.tries], ['pollable', 2]);
  }
});

test('send, then poll, class 2.0: the set-up keeps +FBO=0 for the pages; after the EOM page +FBO=1 (received data first bit on top), then pollable; an ERROR there is exit 12', () => {
  const poll: SendSettings = { ...SETTINGS, modemType: 'c2.0', poll: true };
  assert.deepEqual(sendSetupCommands('2.0', poll, true), ['AT+FCLASS=2.0', 'AT+FLI="49 30 5550000"', 'AT+FCC=1,5,0,2,0,0,0,0', 'AT+FBO=0', 'AT+FPI="49 30 5550000"', 'AT+FCR=1', 'AT+FSP=1']);
  const head: Step[] = [
    ...sendSetupCommands('2.0', poll, true).map((c): Step => ({ dte: `${c}\r`, modem: 'OK\r\n' })),
    { dte: 'ATD5551\r', modem: '+FCO\r\n+FCI:"MAPS"\r\n+FIS:1,5,0,2,0,0,0,0\r\n+FPO\r\nOK\r\n' },
    { dte: 'AT+FDT\r', modem: `+FCS:1,5,0,2,0,0,0,0\r\nCONNECT\r\n${String.fromCharCode(DC2)}` },
    { dte: pageBytes({ data: PAGE1 }), modem: 'OK\r\n' },
    { dte: 'AT+FET=1\r', modem: '+FPS:1\r\nOK\r\n' },
  ];
  for (const split of SPLITS) {
    const yes = drive(poll, [PAGE1], [...head, { dte: 'AT+FBO=1\r', modem: 'OK\r\n' }], split);
    assert.deepEqual([yes.result?.end, yes.result?.exitCode, yes.result?.cls, yes.result?.remoteId], ['pollable', SEND_EXIT.ok, '2.0', 'MAPS']);
    assert.deepEqual(yes.pages, [1]);
    const no = drive(poll, [PAGE1], [...head, { dte: 'AT+FBO=1\r', modem: 'ERROR\r\n' }, { dte: 'ATH0\r', modem: 'OK\r\n' }, { dte: 'AT+FCLASS=0\r', modem: 'OK\r\n' }], split);
    assert.deepEqual([no.result?.end, no.result?.exitCode], ['page-failed', SEND_EXIT.page]);
    assert.deepEqual(no.pages, [1]);
  }
});
