import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../core/clock.js';
import { reverseBits } from '../../fax/codec/bits.js';
import { Exchange } from '../exchange.js';
import { HayesModem } from '../modem.js';
import { DLE, DleUnstuffer, ETX, SEMICOLON, dleStuff } from './dle.js';
import { negotiate, parseParams, defaultParams, formatParams } from './params.js';
import { hangupText } from './commands.js';
import { FaxMachine } from './machine.js';
import { encodeG3 } from '../../fax/codec/t4.js';
import { testPage } from '../../../test/helpers/fax-pages.js';

function pair() {
  const clock = new FakeClock();
  const ex = new Exchange({ answerDelayMs: 100 });
  const mk = (n: string) => {
    const out: Buffer[] = [];
    const m = new HayesModem({ clock, fax: true, output: (b) => out.push(Buffer.from(b)) });
    ex.register(n, m);
    return {
      m,
      send: (s: string | Uint8Array) => m.onDteBytes(typeof s === 'string' ? Buffer.from(s, 'latin1') : s),
      take: () => Buffer.concat(out.splice(0)).toString('latin1'),
      takeBytes: () => Buffer.concat(out.splice(0)),
    };
  };
  return { clock, a: mk('100'), b: mk('200') };
}

/** The page data part of what the receiving DTE got: between CONNECT and DLE ETX, unstuffed. */
function pageOf(rx: Buffer): Buffer {
  const k = rx.indexOf('CONNECT\r\n');
  const start = k < 0 ? 0 : k + 'CONNECT\r\n'.length;
  const u = new DleUnstuffer().push(rx.subarray(start));
  assert.ok(u.end, 'page ends with DLE ETX');
  return Buffer.from(u.data);
}

for (const cls of ['2', '2.0'] as const) {
  const c2 = cls === '2';
  const W = c2
    ? { con: '+FCON', csi: '+FCSI', tsi: '+FTSI', dis: '+FDIS', dcs: '+FDCS', pts: '+FPTS', hng: '+FHNG', lid: '+FLID', dcc: '+FDCC', bo: '+FBOR' }
    : { con: '+FCO', csi: '+FCI', tsi: '+FTI', dis: '+FIS', dcs: '+FCS', pts: '+FPS', hng: '+FHS', lid: '+FLI', dcc: '+FCC', bo: '+FBO' };
  test(`class ${cls}: a two-page fax from one virtual modem to another, as each DTE sees it`, () => {
    const { clock, a, b } = pair();
    for (const x of [a, b]) {
      x.send('ATE0\r');
      x.send(`AT+FCLASS=${cls}\r`);
      x.take();
    }
    a.send(`AT${W.lid}="SENDER 1"\r`);
    b.send(`AT${W.lid}="RECEIVER 2";${W.dcc}=0,3,0,2,0,0,0,0\r`);
    assert.equal(a.take(), '\r\nOK\r\n');
    assert.equal(b.take(), '\r\nOK\r\n');
    // Bit order: class 2 direct is the line order; class 2.0 direct is LSB first.
    a.send(`AT${W.bo}=0\r`);
    b.send(`AT${W.bo}=0\r`);
    a.take();
    b.take();
    a.send('ATD200\r');
    assert.match(b.take(), /RING/);
    b.send('ATA\r');
    clock.advance(100);
    assert.equal(b.take(), `\r\n${W.con}\r\n`);
    assert.equal(a.take(), `\r\n${W.con}\r\n\r\n${W.csi}:"RECEIVER 2"\r\n\r\n${W.dis}:0,3,0,2,0,0,0,0\r\n\r\nOK\r\n`);
    a.send('AT+FDT\r');
    assert.equal(b.take(), `\r\n${W.tsi}:"SENDER 1"\r\n\r\n${W.dcs}:0,3,0,2,0,0,0,0\r\n\r\nOK\r\n`);
    const start = a.takeBytes();
    assert.equal(start.toString('latin1'), `\r\n${W.dcs}:0,3,0,2,0,0,0,0\r\n\r\nCONNECT\r\n${c2 ? '\x11' : '\x12'}`);
    b.send('AT+FDR\r');
    assert.equal(b.take(), `${c2 ? '\r\n+FCFR\r\n' : ''}\r\nCONNECT\r\n`);
    const page = Uint8Array.of(0x00, 0x10, 0x80, 0x10, 0x10, 0x01, 0xff);
    // Data before the DTE's DC2 waits in the modem.
    a.send(dleStuff(page));
    assert.equal(b.take(), '');
    b.send('\x12');
    a.send(Uint8Array.of(DLE, ETX));
    assert.equal(a.take(), '', 'OK only once the page has gone at the line rate');
    clock.advance(10);
    assert.equal(a.take(), '\r\nOK\r\n');
    a.send('AT+FET=0\r');
    const rx1 = b.takeBytes();
    // Direct order: bit 0 goes first when sending; received, class 2.0 gives bit 0 first
    // again, class 2 (as Rockwell did it) the first bit in the top place.
    assert.deepEqual(pageOf(rx1), Buffer.from(c2 ? reverseBits(page) : page));
    assert.match(rx1.toString('latin1'), new RegExp(`\\x10\\x03\\r\\n\\${W.pts}:1,[0-9A-F]+,[0-9A-F]+,0\\r\\n\\r\\n\\+FET:0\\r\\n\\r\\nOK\\r\\n$`));
    assert.equal(a.take(), '');
    b.send('AT+FDR\r');
    assert.equal(a.take(), `\r\n${W.pts}:1\r\n\r\nOK\r\n`);
    // Page 2, ended in the same chunk as the next command.
    a.send('AT+FDT\r');
    assert.equal(a.take(), `\r\nCONNECT\r\n${c2 ? '\x11' : '\x12'}`);
    assert.equal(b.take(), '\r\nCONNECT\r\n');
    b.send('\x12');
    a.send(Buffer.from([0x11, 0x10, 0x10, 0x10, 0x03]));
    clock.advance(10);
    assert.equal(a.take(), '\r\nOK\r\n');
    a.send('AT+FET=2\r');
    assert.match(b.take(), c2 ? /\x88\x08\x10\x03\r\n.*\+FET:2\r\n\r\nOK\r\n$/s : /\x11\x10\x10\x10\x03\r\n.*\+FET:2\r\n\r\nOK\r\n$/s);
    b.send('AT+FDR\r');
    assert.equal(a.take(), `\r\n${W.pts}:1\r\n\r\n${W.hng}:${c2 ? '0' : '00'}\r\n\r\nOK\r\n`);
    assert.equal(b.take(), `\r\n${W.hng}:${c2 ? '0' : '00'}\r\n\r\nOK\r\n`);
    assert.equal(a.m.state, 'idle');
    assert.equal(b.m.state, 'idle');
  });

  test(`class ${cls}: bit order: a sender in reversed order and a receiver in direct order`, () => {
    const { clock, a, b } = pair();
    for (const x of [a, b]) x.send(`ATE0\rAT+FCLASS=${cls}\r`);
    a.send(`AT${W.bo}=1\r`);
    b.send(`AT${W.bo}=0\r`);
    a.send('ATD200\r');
    b.send('ATA\r');
    clock.advance(100);
    a.send('AT+FDT\r');
    b.take();
    b.send('AT+FDR\r\x12');
    const page = Uint8Array.of(0x01, 0x02, 0x08, 0x10, 0x80);
    a.send(Buffer.concat([dleStuff(page), Buffer.from([DLE, ETX])]));
    clock.advance(10);
    a.send('AT+FET=2\r');
    // Sent as is (reversed = top bit first); class 2 hands it over as is, class 2.0 mirrored.
    assert.deepEqual(pageOf(b.takeBytes()), Buffer.from(c2 ? page : reverseBits(page)));
  });

  test(`class ${cls}: the far end hangs up in the middle of a page: ${W.hng} with a phase C code`, () => {
    const { clock, a, b } = pair();
    for (const x of [a, b]) x.send(`ATE0\rAT+FCLASS=${cls}\r`);
    a.send('ATD200\r');
    b.send('ATA\r');
    clock.advance(100);
    a.send('AT+FDT\rAT+FDR\r');
    b.send('AT+FDR\r\x12');
    b.take();
    a.m.dtrDrop();
    assert.match(b.take(), new RegExp(`\\x10\\x03\\r\\n\\${W.hng}:${c2 ? '90' : '90'}\\r\\n\\r\\nERROR\\r\\n$`));
  });

  test(`class ${cls}: commands of the other class are refused; class 2 settings work in class 0 too`, () => {
    const { a } = pair();
    a.send('ATE0\r');
    a.take();
    // What real mgetty sends after AT+FCLASS=0 for a class 2 modem.
    a.send('AT+FAA=1;+FCR=1\rAT+FBOR=0\rAT+FLID="49 30 5550000"\rAT+FDCC=1,5,0,2,0,0,0,0\r');
    assert.equal(a.take(), '\r\nOK\r\n'.repeat(4));
    a.send('AT+FLI="x"\r');
    assert.equal(a.take(), '\r\nERROR\r\n', 'class 2.0 commands need +FCLASS=2.0');
    a.send(`AT+FCLASS=${cls}\r`);
    a.take();
    const other = c2 ? ['AT+FLI="x"', 'AT+FCC=1', 'AT+FBO=0', 'AT+FPS=1', 'AT+FKS', 'AT+FMI?'] : ['AT+FLID="x"', 'AT+FDCC=1', 'AT+FBOR=0', 'AT+FPTS=1', 'AT+FK', 'AT+FMFR?'];
    for (const cmd of other) {
      a.send(`${cmd}\r`);
      assert.equal(a.take(), '\r\nERROR\r\n', cmd);
    }
    const mine = c2
      ? ['AT+FLID="49 89 1234"', 'AT+FDCC=1,5,0,2,0,0,0,0', 'AT+FDIS=1,3', 'AT+FCR=1', 'AT+FAA=1', 'AT+FBOR=0', 'AT+FPTS=1', 'AT+FK', 'AT+FPHCTO=30', 'AT+FLPL=0', 'AT+FCQ=0', 'AT+FMINSP=0']
      : ['AT+FLI="49 89 1234"', 'AT+FCC=1,5,0,2,0,0,0,0', 'AT+FIS=1,3', 'AT+FCR=1', 'AT+FAA=1', 'AT+FBO=0', 'AT+FPS=1', 'AT+FKS', 'AT+FLO=1', 'AT+FMS=0', 'AT+FNR=1,1,1,0', 'AT+FAP=0,0,0', 'AT+FIE=0', 'AT+FCT=1E', 'AT+FCQ=0,0', 'AT+FBU=0', 'AT+FEA=0'];
    for (const cmd of mine) {
      a.send(`${cmd}\r`);
      assert.equal(a.take(), '\r\nOK\r\n', cmd);
    }
    a.send(c2 ? 'AT+FLID?;+FDCC?;+FDIS?;+FBOR?;+FDCC=?\r' : 'AT+FLI?;+FCC?;+FIS?;+FBO?;+FCC=?\r');
    assert.equal(a.take(), '\r\n"49 89 1234"\r\n\r\n1,5,0,2,0,0,0,0\r\n\r\n1,3,0,2,0,0,0,0\r\n\r\n0\r\n\r\n(0,1),(0-5),(0-4),(0-2),(0,1),(0),(0),(0-7)\r\n\r\nOK\r\n');
    a.send(c2 ? 'AT+FMFR?;+FMDL?;+FREV?\r' : 'AT+FMI?;+FMM?;+FMR?\r');
    assert.match(a.take(), /^(\r\n[^\r\n]+\r\n){3}\r\nOK\r\n$/);
    // Session commands outside a session: ERROR, as on a real modem.
    for (const cmd of ['AT+FDT', 'AT+FDR', 'AT+FET=0', c2 ? 'AT+FDCC=9' : 'AT+FCC=9', c2 ? 'AT+FLID="123456789012345678901"' : 'AT+FLI="123456789012345678901"']) {
      a.send(`${cmd}\r`);
      assert.equal(a.take(), '\r\nERROR\r\n', cmd);
    }
    a.send('AT+FCLASS=?;+FCLASS?\r');
    assert.equal(a.take(), `\r\n0,2,2.0\r\n\r\n${cls}\r\nOK\r\n`.replace(`\r\n${cls}\r\nOK`, `\r\n${cls}\r\n\r\nOK`));
  });

  test(`class ${cls}: adaptive answer (+FAA=1): a data caller gets CONNECT, a fax caller ${W.con}`, () => {
    const { clock, a, b } = pair();
    b.send(`ATE0\rAT+FCLASS=${cls};+FAA=1\r`);
    a.send('ATE0\rAT+FCLASS=0\r');
    a.send('ATD200\r');
    b.take();
    b.send('ATA\r');
    clock.advance(100);
    assert.match(b.take(), /^\r\nCONNECT/);
    assert.match(a.take(), /CONNECT/);
    assert.equal(b.m.settings.fclass, '0', 'a data call puts the modem in class 0');
    a.m.dtrDrop();
    clock.advance(1000);
    b.take();
    b.send(`AT+FCLASS=${cls}\r`);
    a.send(`AT+FCLASS=${cls}\rATD200\r`);
    b.take();
    b.send('ATA\r');
    clock.advance(100);
    assert.equal(b.take(), `\r\n${W.con}\r\n`);
    assert.match(a.take(), new RegExp(`\\${W.con}\\r\\n`));
  });
}

test('the whole page and its end arrive before the receiving DTE says +FDR: still one page per +FDR, MCF only after delivery', () => {
  const { clock, a, b } = pair();
  for (const x of [a, b]) x.send('ATE0\rAT+FCLASS=2.0\r');
  a.send('ATD200\r');
  b.send('ATA\r');
  clock.advance(100);
  a.send('AT+FDT\r');
  a.send(Uint8Array.of(0x01, 0x02, DLE, 0x2c)); // DLE ',': page end, another page follows
  clock.advance(10);
  b.take();
  a.take();
  assert.equal(a.take(), '', 'no page status before the receiver has the page');
  b.send('AT+FDR\r');
  assert.equal(b.take(), '\r\nCONNECT\r\n');
  b.send('\x12');
  assert.equal(b.take(), '\x01\x02\x10\x03\r\n+FPS:1,1,1,0\r\n\r\n+FET:0\r\n\r\nOK\r\n');
  assert.equal(a.take(), '');
  b.send('AT+FDR\r');
  assert.equal(a.take(), '\r\n+FPS:1\r\n\r\nOK\r\n');
});

test('the receiver\'s page status counts the lines of the page (class 2 decimal, class 2.0 hex)', () => {
  for (const cls of ['2', '2.0'] as const) {
    const { clock, a, b } = pair();
    for (const x of [a, b]) x.send(`ATE0\rAT+FCLASS=${cls}\r`);
    a.send('ATD200\r');
    b.send('ATA\r');
    clock.advance(100);
    a.send('AT+FDT\r');
    b.send('AT+FDR\r\x12');
    b.take();
    // A 300-line page, sent in direct order (bit 0 first).
    a.send(Buffer.concat([dleStuff(reverseBits(encodeG3(testPage(1728, 300)))), Buffer.from([DLE, ETX])]));
    clock.advance(60_000); // the page leaves at 14400 bps
    a.send('AT+FET=2\r');
    assert.match(b.takeBytes().toString('latin1'), cls === '2' ? /\+FPTS:1,300,0,0\r\n/ : /\+FPS:1,12C,0,0\r\n/);
  }
});

test('S0 auto-answer in a fax class answers as a fax modem; in class 0 as a data modem', () => {
  const { clock, a, b } = pair();
  b.send('ATE0\rAT+FCLASS=2\rATS0=1\r');
  a.send('ATE0\rAT+FCLASS=2\rATD200\r');
  b.take();
  a.take();
  clock.advance(100);
  assert.equal(b.take(), '\r\n+FCON\r\n');
  assert.match(a.take(), /\+FCON/);
});

for (const cls of ['2', '2.0'] as const) {
  test(`class ${cls}: +FDCS?/+FCS? in a session, +FK/+FKS aborts it on both sides, +FHS? the last code, +FET=?`, () => {
    const c2 = cls === '2';
    const { clock, a, b } = pair();
    for (const x of [a, b]) x.send(`ATE0\rAT+FCLASS=${cls}\r`);
    a.send('ATD200\r');
    b.send('ATA\r');
    clock.advance(100);
    a.send('AT+FDT\r');
    clock.advance(10);
    a.send(Uint8Array.of(0x00, DLE, ETX));
    clock.advance(10);
    a.take();
    b.take();
    b.send(c2 ? 'AT+FDCS?\r' : 'AT+FCS?\r');
    assert.equal(b.take(), '\r\n1,5,0,2,0,0,0,0\r\n\r\nOK\r\n');
    a.send('AT+FET=?\r');
    assert.equal(a.take(), '\r\n(0-2)\r\n\r\nOK\r\n');
    a.send(c2 ? 'AT+FK\r' : 'AT+FKS\r');
    assert.equal(a.take(), `\r\n${c2 ? '+FHNG:2' : '+FHS:02'}\r\n\r\nOK\r\n`);
    // The receiver, in the middle of a page, is told at once: a receive phase C hang-up.
    assert.equal(b.take(), `\r\n${c2 ? '+FHNG:90' : '+FHS:90'}\r\n`);
    assert.equal(a.m.state, 'idle');
    assert.equal(b.m.state, 'idle');
    if (!c2) {
      a.send('AT+FHS?\r');
      assert.equal(a.take(), '\r\n02\r\n\r\nOK\r\n');
    }
  });
}

test('a fax caller reaching a modem in class 0 without adaptive answer: the fax side gets NO CARRIER', () => {
  const { clock, a, b } = pair();
  b.send('ATE0\r');
  a.send('ATE0\rAT+FCLASS=2\rATD200\r');
  b.take();
  a.take();
  b.send('ATA\r');
  clock.advance(100);
  assert.match(b.take(), /CONNECT/);
  assert.equal(a.take(), '\r\nNO CARRIER\r\n');
});

test('DLE framing: stuffing undone at every split of the chunk, DLE ETX ends, the rest is left', () => {
  const data = Uint8Array.of(0x10, 0x10, 0x10, 0x00, 0x10, 0x41);
  const wire = Buffer.concat([dleStuff(data), Buffer.from([0x10, 0x03]), Buffer.from('AT')]);
  for (let i = 0; i <= wire.length; i++) {
    for (let j = i; j <= wire.length; j++) {
      const u = new DleUnstuffer();
      const got: number[] = [];
      let rest = -1;
      let off = 0;
      for (const part of [wire.subarray(0, i), wire.subarray(i, j), wire.subarray(j)]) {
        if (rest >= 0) break;
        const r = u.push(part);
        got.push(...r.data);
        if (r.end) rest = off + r.used;
        off += part.length;
      }
      assert.deepEqual(Uint8Array.from(got), data, `split ${i},${j}`);
      assert.equal(rest, wire.length - 2, `split ${i},${j}: the bytes after DLE ETX are left`);
    }
  }
  // Class 2.0's DLE SUB is two DLEs.
  assert.deepEqual(new DleUnstuffer().push(Uint8Array.of(0x10, 0x1a, 0x10, 0x03)).data, Uint8Array.of(0x10, 0x10));
});

test('DLE stuffing between two modems at every chunk split of the sender\'s page', () => {
  const page = Uint8Array.from([0x10, 0x10, 0x00, 0x10, 0xaa, 0x10, 0x03, 0x10]);
  const wire = Buffer.concat([dleStuff(page), Buffer.from([DLE, ETX])]);
  for (let i = 1; i < wire.length; i++) {
    const { clock, a, b } = pair();
    for (const x of [a, b]) x.send('ATE0\rAT+FCLASS=2\r');
    a.send('ATD200\r');
    b.send('ATA\r');
    clock.advance(100);
    a.send('AT+FDT\r');
    b.send('AT+FDR\r\x12');
    b.take();
    a.send(wire.subarray(0, i));
    a.send(wire.subarray(i));
    clock.advance(10);
    a.send('AT+FET=2\r');
    assert.deepEqual(pageOf(b.takeBytes()), Buffer.from(reverseBits(page)), `split at ${i}`);
  }
});

test('session parameters: partial sets, ranges, negotiation', () => {
  const d = defaultParams();
  assert.equal(formatParams(d), '1,5,0,2,0,0,0,0');
  assert.equal(formatParams(parseParams('0,3', d) ?? d), '0,3,0,2,0,0,0,0');
  assert.equal(formatParams(parseParams(',,,,1', d) ?? d), '1,5,0,2,1,0,0,0');
  assert.equal(parseParams('2', d), undefined);
  assert.equal(parseParams('1,6', d), undefined);
  assert.equal(parseParams('1,5,0,2,0,0,0,0,0', d), undefined);
  const n = negotiate(parseParams('1,5,0,2,1,0,0,0', d) ?? d, parseParams('0,3,0,1,0,0,0,5', d) ?? d);
  assert.equal(formatParams(n), '0,3,0,1,0,0,0,5');
  assert.equal(hangupText('2', 100), '100');
  assert.equal(hangupText('2.0', 100), 'A0');
  assert.equal(hangupText('2.0', 0), '00');
});

test('T.30 T2: a receiver that waits for a page which never comes gives up after 6 s: DCN, +FHNG:73 / +FHS:73 and ERROR to its +FDR', () => {
  for (const cls of ['2', '2.0'] as const) {
    const { clock, a, b } = pair();
    for (const x of [a, b]) x.send(`ATE0\rAT+FCLASS=${cls}\r`);
    a.send('ATD200\r');
    b.send('ATA\r');
    clock.advance(100);
    a.send('AT+FDT\r');
    b.send('AT+FDR\r\x12');
    a.send(Buffer.concat([dleStuff(reverseBits(encodeG3(testPage(1728, 20)))), Buffer.from([DLE, ETX])]));
    clock.advance(10_000);
    a.send('AT+FET=0\r');
    b.take();
    a.take();
    // The receiver asks for the next page (and confirms page 1); the sender never sends it.
    b.send('AT+FDR\r');
    assert.match(a.take(), cls === '2' ? /\+FPTS:1\r\n\r\nOK/ : /\+FPS:1\r\n\r\nOK/);
    clock.advance(5_900);
    assert.equal(b.take(), '', 'still waiting before T2');
    clock.advance(200);
    assert.match(b.take(), /\+FH(NG|S):73\r\n\r\nERROR\r\n$/);
    // The sender's modem heard the goodbye: its next +FDT has no session.
    a.send('AT+FDT\r');
    assert.match(a.take(), /ERROR/);
  }
});

test('the sending modem drains a page onto the line at the line rate: the far end gets the bytes as a 9600 bps line carries them', () => {
  const { clock, a, b } = pair();
  for (const x of [a, b]) x.send('ATE0\rAT+FCLASS=2\r');
  b.send('AT+FDCC=1,3\r');
  a.send('ATD200\r');
  b.send('ATA\r');
  clock.advance(100);
  a.send('AT+FDT\r');
  b.send('AT+FDR\r\x12');
  b.take();
  a.take();
  // 2400 bytes without DLE: 2 s at 9600 bps.
  const page = new Uint8Array(2400).fill(0x55);
  a.send(Buffer.concat([Buffer.from(page), Buffer.from([DLE, ETX])]));
  const got = (): number => b.takeBytes().length;
  let n = got();
  assert.ok(n < 50, `nothing much at once (${n})`);
  clock.advance(1000);
  n += got();
  assert.ok(n >= 1150 && n <= 1250, `about half after 1 s (${n})`);
  assert.equal(a.take(), '', 'no OK while the page is still leaving');
  clock.advance(1000);
  n += got();
  assert.equal(n, 2400, 'all of it after 2 s');
  assert.equal(a.take(), '\r\nOK\r\n');
});

for (const cls of ['2', '2.0'] as const) {
  const c2 = cls === '2';
  test(`class ${cls} polling, as the polling DTE sees it: ${c2 ? '+FPOLL' : '+FPO'} only when asked (${c2 ? '+FSPL' : '+FSP'}=1) and the machine has a document; +FDR receives its pages`, () => {
    const clock = new FakeClock();
    const ex = new Exchange({ answerDelayMs: 100 });
    const out: Buffer[] = [];
    const m = new HayesModem({ clock, fax: true, output: (b) => out.push(Buffer.from(b)) });
    ex.register('100', m);
    const take = (): string => Buffer.concat(out.splice(0)).toString('latin1');
    const send = (s: string | Uint8Array): void => m.onDteBytes(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
    const data = encodeG3(testPage(1728, 16));
    const machine = new FaxMachine({ clock, exchange: ex, number: '300', id: 'WEATHER', answerAfterMs: 100, stepMs: 5, pollPages: [{ data, fine: true, mr: false }] });
    send(`ATE0;+FCLASS=${cls}\r`);
    send(`AT${c2 ? '+FCIG' : '+FPI'}="POLLER"\r`);
    take();
    const W = c2 ? { dis: '+FDIS', tsi: '+FTSI', dcs: '+FDCS', spl: '+FSPL', poll: '+FPOLL', pts: '+FPTS', hng: '+FHNG:0' } : { dis: '+FIS', tsi: '+FTI', dcs: '+FCS', spl: '+FSP', poll: '+FPO', pts: '+FPS', hng: '+FHS:00' };
    // Not asked to poll: no poll indication (the DTE may send as usual).
    send('ATD300\r');
    clock.advance(1000);
    assert.doesNotMatch(take(), new RegExp(`\\${W.poll}\\r`));
    send('ATH\r');
    clock.advance(1000);
    take();
    send(`AT${W.spl}=1\r`);
    take();
    send('ATD300\r');
    clock.advance(1000);
    assert.match(take(), new RegExp(`\\${W.dis}:[0-9,]+\\r\\n\\r\\n\\${W.poll}\\r\\n\\r\\nOK\\r\\n$`));
    const served = machine.nextPoll();
    send('AT+FDR\r');
    clock.advance(100);
    const rx = out.splice(0);
    const head = Buffer.concat(rx).toString('latin1');
    assert.match(head, new RegExp(`^\\r\\n\\${W.tsi}:"WEATHER"\\r\\n\\r\\n\\${W.dcs}:1,[0-9,]+\\r\\n${c2 ? '\\r\\n\\+FCFR\\r\\n' : ''}\\r\\nCONNECT\\r\\n$`));
    send('\x12');
    clock.advance(1000);
    const page = Buffer.concat(out.splice(0));
    const u = new DleUnstuffer().push(page);
    assert.ok(u.end, 'the page ends with DLE ETX');
    // Class 2 gives received data in line order (as the machine holds it), class 2.0 bit 0 first.
    assert.deepEqual(Buffer.from(u.data), Buffer.from(c2 ? data : reverseBits(data)));
    assert.match(page.toString('latin1'), new RegExp(`\\${W.pts}:1,${c2 ? '16' : '10'},0,0\\r\\n\\r\\n\\+FET:2\\r\\n\\r\\nOK\\r\\n$`));
    send('AT+FDR\r');
    clock.advance(100);
    assert.equal(take(), `\r\n${W.hng}\r\n\r\nOK\r\n`);
    clock.advance(1000);
    return served.then((p) => assert.deepEqual(p, { poller: 'POLLER', statuses: [1], complete: true }));
  });
}

for (const cls of ['2', '2.0'] as const) {
  const c2 = cls === '2';
  test(`class ${cls} send, then poll in the same call: the last page ends with EOM (${c2 ? 'AT+FET=1' : "DLE ';'"}), then +FDR receives the machine's document`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-sim-sendpoll-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const clock = new FakeClock();
    const ex = new Exchange({ answerDelayMs: 100 });
    const out: Buffer[] = [];
    const m = new HayesModem({ clock, fax: true, output: (b) => out.push(Buffer.from(b)) });
    ex.register('100', m);
    const take = (): string => Buffer.concat(out.splice(0)).toString('latin1');
    const send = (s: string | Uint8Array): void => m.onDteBytes(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
    const mine = encodeG3(testPage(1728, 24));
    const theirs = encodeG3(testPage(1728, 16));
    const machine = new FaxMachine({ clock, exchange: ex, number: '300', id: 'WEATHER', dir, answerAfterMs: 100, stepMs: 5, pollPages: [{ data: theirs, fine: true, mr: false }] });
    const W = c2 ? { spl: '+FSPL', poll: '+FPOLL', cig: '+FCIG', lid: '+FLID', pts: '+FPTS', tsi: '+FTSI', dcs: '+FDCS', hng: '+FHNG:0' } : { spl: '+FSP', poll: '+FPO', cig: '+FPI', lid: '+FLI', pts: '+FPS', tsi: '+FTI', dcs: '+FCS', hng: '+FHS:00' };
    send(`ATE0;+FCLASS=${cls}\r`);
    send(`AT${W.lid}="SENDER";${W.cig}="POLLER";${W.spl}=1\r`);
    take();
    send('ATD300\r');
    clock.advance(1000);
    assert.match(take(), new RegExp(`\\${W.poll}\\r\\n\\r\\nOK\\r\\n$`));
    const got = machine.nextFax();
    const served = machine.nextPoll();
    send('AT+FDT\r');
    clock.advance(100);
    assert.match(take(), /CONNECT\r\n[\x11\x12]$/);
    // Direct bit order (+FBOR=0 / +FBO=0): the DTE mirrors the G3 file, as sendfax does.
    send(dleStuff(reverseBits(mine)));
    if (c2) {
      send(Uint8Array.of(DLE, ETX));
      clock.advance(1000);
      assert.match(take(), /OK\r\n$/);
      send('AT+FET=1\r');
    } else send(Uint8Array.of(DLE, SEMICOLON));
    clock.advance(1000);
    // EOM: the page's status and OK, and the call stays up (no hang-up code).
    assert.equal(take(), `\r\n${W.pts}:1\r\n\r\nOK\r\n`);
    // Class 2.0 modems give received data bit 0 first unless told: sendfax says +FBO=1 here.
    if (!c2) {
      send('AT+FBO=1\r');
      assert.equal(take(), '\r\nOK\r\n');
    }
    send('AT+FDR\r');
    clock.advance(100);
    assert.match(take(), new RegExp(`^\\r\\n\\${W.tsi}:"WEATHER"\\r\\n\\r\\n\\${W.dcs}:1,[0-9,]+\\r\\n${c2 ? '\\r\\n\\+FCFR\\r\\n' : ''}\\r\\nCONNECT\\r\\n$`));
    send('\x12');
    clock.advance(1000);
    const page = Buffer.concat(out.splice(0));
    const u = new DleUnstuffer().push(page);
    assert.ok(u.end, 'the polled page ends with DLE ETX');
    assert.deepEqual(Buffer.from(u.data), Buffer.from(theirs), 'the polled page, first bit on top');
    assert.match(page.toString('latin1'), /\+FET:2\r\n\r\nOK\r\n$/);
    send('AT+FDR\r');
    clock.advance(100);
    assert.equal(take(), `\r\n${W.hng}\r\n\r\nOK\r\n`);
    clock.advance(1000);
    const [fax, poll] = await Promise.all([got, served]);
    assert.deepEqual(poll, { poller: 'POLLER', statuses: [1], complete: true });
    assert.equal(fax.sender, 'SENDER');
    assert.equal(fax.complete, true);
    assert.equal(fax.files.length, 1);
    assert.deepEqual(readFileSync(fax.files[0] ?? ''), Buffer.from(mine), 'the sent page, as stored by the machine');
  });
}

for (const cls of ['2', '2.0'] as const) {
  const c2 = cls === '2';
  test(`class ${cls}: one virtual modem polls another whose DTE has a document (${c2 ? '+FLPL' : '+FLP'}=1): the polled DTE sees ${c2 ? '+FCIG/+FDTC' : '+FPI/+FTC'} and sends with +FDT`, () => {
    const { clock, a, b } = pair();
    const W = c2 ? { spl: '+FSPL', lpl: '+FLPL', cig: '+FCIG', dtc: '+FDTC', poll: '+FPOLL', tsi: '+FTSI', dcs: '+FDCS', con: '+FCON', lid: '+FLID', hng: '+FHNG:0' } : { spl: '+FSP', lpl: '+FLP', cig: '+FPI', dtc: '+FTC', poll: '+FPO', tsi: '+FTI', dcs: '+FCS', con: '+FCO', lid: '+FLI', hng: '+FHS:00' };
    for (const x of [a, b]) x.send(`ATE0;+FCLASS=${cls}\r`);
    a.send(`AT${c2 ? '+FCIG' : '+FPI'}="POLLER";${W.spl}=1\r`);
    b.send(`AT${W.lid}="SERVER";${W.lpl}=1\r`);
    a.take();
    b.take();
    a.send('ATD200\r');
    b.take();
    b.send('ATA\r');
    clock.advance(100);
    assert.equal(b.take(), `\r\n${W.con}\r\n`);
    assert.match(a.take(), new RegExp(`\\${W.poll}\\r\\n\\r\\nOK\\r\\n$`));
    a.send('AT+FDR\r');
    // The poll request reaches the answerer: who polls, with what, and the ATA's OK.
    assert.match(b.take(), new RegExp(`^\\r\\n\\${W.cig}:"POLLER"\\r\\n\\r\\n\\${W.dtc}:[0-9,]+\\r\\n\\r\\nOK\\r\\n$`));
    b.send('AT+FDT\r');
    assert.match(a.take(), new RegExp(`^\\r\\n\\${W.tsi}:"SERVER"\\r\\n\\r\\n\\${W.dcs}:[0-9,]+\\r\\n`));
    assert.match(b.take(), /CONNECT\r\n[\x11\x12]$/);
    const page = Uint8Array.of(0x00, 0x10, 0x80, 0x10, 0x01, 0xff);
    b.send(dleStuff(page));
    b.send(Uint8Array.of(DLE, ETX));
    a.send('\x12');
    clock.advance(100);
    assert.match(b.take(), /OK\r\n$/);
    b.send('AT+FET=2\r');
    const u = new DleUnstuffer().push(a.takeBytes());
    assert.ok(u.end, 'the poller got the page and its end');
    a.send('AT+FDR\r');
    clock.advance(100);
    assert.match(b.take(), new RegExp(`\\${W.hng}\\r\\n\\r\\nOK\\r\\n$`));
    assert.match(a.take(), new RegExp(`\\${W.hng}\\r\\n\\r\\nOK\\r\\n$`));
  });

  test(`class ${cls}: the caller sends a page, ends it with EOM (${c2 ? 'AT+FET=1' : "DLE ';'"}), then polls: the answering DTE sees +FET:1, and the +FDR that gives the MCF ends with ${c2 ? '+FCIG/+FDTC' : '+FPI/+FTC'} and OK; +FDT then sends`, () => {
    const { clock, a, b } = pair();
    const W = c2 ? { spl: '+FSPL', lpl: '+FLPL', cig: '+FCIG', dtc: '+FDTC', poll: '+FPOLL', tsi: '+FTSI', dcs: '+FDCS', pts: '+FPTS', lid: '+FLID', hng: '+FHNG:0' } : { spl: '+FSP', lpl: '+FLP', cig: '+FPI', dtc: '+FTC', poll: '+FPO', tsi: '+FTI', dcs: '+FCS', pts: '+FPS', lid: '+FLI', hng: '+FHS:00' };
    for (const x of [a, b]) x.send(`ATE0;+FCLASS=${cls}\r`);
    a.send(`AT${W.lid}="CALLER";${W.cig}="POLLER";${W.spl}=1\r`);
    b.send(`AT${W.lid}="SERVER";${W.lpl}=1\r`);
    a.take();
    b.take();
    a.send('ATD200\r');
    b.take();
    b.send('ATA\r');
    clock.advance(100);
    assert.match(a.take(), new RegExp(`\\${W.poll}\\r\\n\\r\\nOK\\r\\n$`));
    b.take();
    a.send('AT+FDT\r');
    assert.match(b.take(), new RegExp(`\\${W.tsi}:"CALLER"\\r\\n\\r\\n\\${W.dcs}:[0-9,]+\\r\\n\\r\\nOK\\r\\n$`));
    a.take();
    b.send('AT+FDR\r');
    b.take();
    b.send('\x12');
    const mine = Uint8Array.of(0x00, 0x10, 0x80, 0x10, 0x01, 0xff);
    a.send(dleStuff(mine));
    if (c2) {
      a.send(Uint8Array.of(DLE, ETX));
      clock.advance(100);
      assert.match(a.take(), /OK\r\n$/);
      a.send('AT+FET=1\r');
    } else a.send(Uint8Array.of(DLE, SEMICOLON));
    clock.advance(100);
    // The answering DTE: the page, its status, +FET:1 (another document), OK.
    assert.match(b.take(), new RegExp(`\\x10\\x03\\r\\n\\${W.pts}:1,[0-9A-F]+,[0-9A-F]+,0\\r\\n\\r\\n\\+FET:1\\r\\n\\r\\nOK\\r\\n$`));
    assert.equal(a.take(), '', 'the MCF waits for the answering DTE');
    b.send('AT+FDR\r');
    assert.equal(a.take(), `\r\n${W.pts}:1\r\n\r\nOK\r\n`, 'EOM answered, the call stays up');
    assert.equal(b.take(), '', 'the +FDR waits for what the caller does next');
    a.send('AT+FDR\r');
    assert.match(b.take(), new RegExp(`^\\r\\n\\${W.cig}:"POLLER"\\r\\n\\r\\n\\${W.dtc}:[0-9,]+\\r\\n\\r\\nOK\\r\\n$`));
    b.send('AT+FDT\r');
    assert.match(a.take(), new RegExp(`^\\r\\n\\${W.tsi}:"SERVER"\\r\\n\\r\\n\\${W.dcs}:[0-9,]+\\r\\n`));
    assert.match(b.take(), /CONNECT\r\n[\x11\x12]$/);
    b.send(dleStuff(Uint8Array.of(0x00, 0x10, 0x80, 0x10, 0x01, 0xfe)));
    b.send(Uint8Array.of(DLE, ETX));
    a.send('\x12');
    clock.advance(100);
    assert.match(b.take(), /OK\r\n$/);
    b.send('AT+FET=2\r');
    const u = new DleUnstuffer().push(a.takeBytes());
    assert.ok(u.end, 'the caller got the polled page and its end');
    a.send('AT+FDR\r');
    clock.advance(100);
    assert.match(b.take(), new RegExp(`\\${W.hng}\\r\\n\\r\\nOK\\r\\n$`));
    assert.match(a.take(), new RegExp(`\\${W.hng}\\r\\n\\r\\nOK\\r\\n$`));
  });
}
