// The simulator's virtual fax machine and its page files, with a fake clock and memory
// lines: TIFF class F (ours and libtiff's fax2tiff, both fill orders), PBM and raw G3 pages;
// a machine calling a virtual modem whose DTE is a script; adaptive answer on one line for
// a data caller and a fax caller; a data caller reaching a fax machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../src/core/clock.js';
import { bitmapsEqual, blankBitmap, formatPbm, getRow, parsePbm, type Bitmap } from '../../src/fax/codec/bitmap.js';
import { reverseBits } from '../../src/fax/codec/bits.js';
import { decodeG3, encodeG3 } from '../../src/fax/codec/t4.js';
import { pageFromG3 } from '../../src/fax/page.js';
import { writeTiffF } from '../../src/fax/tiff.js';
import { loadPages } from '../../src/sim/fax/pages.js';
import { createBank } from '../../src/sim/index.js';
import { randomPage, testPage } from '../helpers/fax-pages.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'tgetty-sim-fax-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('page files: TIFF class F pages are read raw, PBM encoded, raw G3 taken as it is', (t) => {
  const d = tmp(t);
  const a = testPage(1728, 80);
  const b = randomPage(3, 1728, 50);
  const tiff = writeTiffF([pageFromG3(encodeG3(a), { width: 1728, twoD: false, fine: true, lsbFirst: false }), pageFromG3(encodeG3(b, { k: 4 }), { width: 1728, twoD: true, fine: false, lsbFirst: false })]);
  writeFileSync(join(d, 'two.tif'), tiff);
  const pages = loadPages(join(d, 'two.tif'));
  assert.equal(pages.length, 2);
  assert.deepEqual(pages.map((p) => [p.fine, p.mr]), [[true, false], [false, true]]);
  assert.ok(bitmapsEqual(decodeG3(pages[0]?.data ?? new Uint8Array(), { width: 1728 }).bitmap, a));
  const second = decodeG3(pages[1]?.data ?? new Uint8Array(), { width: 1728, twoD: true });
  assert.ok(bitmapsEqual(second.bitmap, b));
  assert.equal(second.rtc, true, 'an RTC is added after the strips');
  writeFileSync(join(d, 'a.pbm'), formatPbm(a));
  assert.ok(bitmapsEqual(decodeG3(loadPages(join(d, 'a.pbm'))[0]?.data ?? new Uint8Array(), { width: 1728 }).bitmap, a));
  writeFileSync(join(d, 'a.g3'), encodeG3(a));
  assert.deepEqual(Buffer.from(loadPages(join(d, 'a.g3'))[0]?.data ?? []), readFileSync(join(d, 'a.g3')));
  writeFileSync(join(d, 'bad.tif'), Buffer.from('II*\0\xff\xff\xff\x7f', 'latin1'));
  assert.throws(() => loadPages(join(d, 'bad.tif')), /bad\.tif/);
  assert.throws(() => loadPages(join(d, 'missing.g3')), /missing\.g3/);
});

test('page files: a TIFF from libtiff\'s fax2tiff, fill order LSB first, reads as the page', (t) => {
  if (spawnSync('fax2tiff', ['-h']).error !== undefined) {
    t.skip('fax2tiff (libtiff-tools) missing');
    return;
  }
  const d = tmp(t);
  const a = testPage(1728, 60);
  // fax2tiff's input is LSB first unless -M; -L writes the TIFF LSB first (FillOrder 2).
  writeFileSync(join(d, 'in.g3'), reverseBits(encodeG3(a)));
  const r = spawnSync('fax2tiff', ['-L', '-o', join(d, 'out.tif'), join(d, 'in.g3')]);
  assert.equal(r.status, 0, r.stderr.toString());
  const pages = loadPages(join(d, 'out.tif'));
  assert.equal(pages.length, 1);
  assert.equal(pages[0]?.fine, true);
  // fax2tiff re-codes the page (and counts the lines of its RTC as page lines): libtiff's own
  // reading of the TIFF is the reference.
  const ref = spawnSync('tifftopnm', [join(d, 'out.tif')], { maxBuffer: 64 << 20 });
  if (ref.status !== 0) {
    t.skip('tifftopnm (netpbm) missing');
    return;
  }
  const mine = decodeG3(pages[0]?.data ?? new Uint8Array(), { width: 1728 }).bitmap;
  assert.ok(bitmapsEqual(mine, parsePbm(ref.stdout)), 'the strips as read decode to what libtiff shows');
  assert.ok(bitmapsEqual(blankRows(mine, a.height), a), 'and the page is in it');
});

function blankRows(b: Bitmap, height: number): Bitmap {
  const out = blankBitmap(b.width, height);
  for (let y = 0; y < height; y++) getRow(out, y).set(getRow(b, y));
  return out;
}

/** A memory bank with one fax modem line and a DTE script on it. */
async function rig() {
  const clock = new FakeClock();
  const bank = await createBank({ lines: 1, dir: '/nonexistent/sim-fax', transport: 'memory', fax: true, clock });
  const line = bank.line(0);
  const send = (s: string | Uint8Array): void => line.modem.onDteBytes(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
  return { clock, bank, line, send };
}

test('a virtual fax machine calls a line; the DTE there receives both pages as a class 2 modem shows them', async () => {
  const { clock, bank, line, send } = await rig();
  send('ATE0\rAT+FCLASS=2\rAT+FBOR=0\r');
  const pages = [testPage(1728, 40), randomPage(5, 1728, 30)];
  const sent = bank.faxCall(line.number, pages.map((b) => ({ data: encodeG3(b), fine: true, mr: false })), { id: 'ACME' });
  clock.advance(10);
  await line.waitForModem(/RING/, 1000);
  send('ATA\r');
  clock.advance(2000);
  await line.waitForModem(/\+FCON\r\n[^]*\+FTSI:"ACME"\r\n[^]*\+FDCS:1,5,0,2,0,0,0,0\r\n\r\nOK\r\n/, 1000);
  const got: Buffer[] = [];
  for (let i = 0; i < 2; i++) {
    const mark = line.toDte.all.length;
    send('AT+FDR\r');
    clock.advance(100);
    send('\x12');
    clock.advance(5000);
    await line.waitForModem(new RegExp(`\\+FET:${i === 0 ? 0 : 2}\\r\\n\\r\\nOK\\r\\n`), 1000);
    const rx = Buffer.from(line.toDte.all.slice(mark), 'latin1');
    const start = rx.indexOf('CONNECT\r\n') + 9;
    const end = rx.indexOf(Buffer.from([0x10, 0x03]), start);
    got.push(Buffer.from(rx.subarray(start, end).toString('latin1').replace(/\x10\x10/g, '\x10'), 'latin1'));
  }
  send('AT+FDR\r');
  clock.advance(1000);
  await line.waitForModem(/\+FHNG:0\r\n\r\nOK\r\n$/, 1000);
  const r = await sent;
  assert.equal(r.outcome, 'sent');
  assert.deepEqual(r.statuses, [1, 1]);
  // Class 2 hands received data over first bit in the top place: the page as encoded.
  got.forEach((g, i) => assert.ok(bitmapsEqual(decodeG3(g, { width: 1728 }).bitmap, pages[i] ?? testPage()), `page ${i + 1}`));
  await bank.close();
});

test('adaptive answer on one line: a data caller gets CONNECT, a fax machine +FCON; a data caller to a fax machine gets NO CARRIER', async () => {
  const { clock, bank, line, send } = await rig();
  send('ATE0\rAT+FCLASS=2.0\rAT+FAA=1\r');
  const data = line.call({ answerDelayMs: 100 });
  await line.waitForModem(/RING/, 1000);
  send('ATA\r');
  clock.advance(200);
  assert.match(await data.connected, /33600/);
  assert.equal(line.modem.settings.fclass, '0');
  data.hangup();
  clock.advance(1000);
  send('AT+FCLASS=2.0\r');
  const fax = bank.faxCall(line.number, [{ data: encodeG3(testPage(1728, 10)), fine: true, mr: false }]);
  clock.advance(10);
  send('ATA\r');
  clock.advance(2000);
  await line.waitForModem(/\+FCO\r\n/, 1000);
  line.modem.dtrDrop();
  clock.advance(1000);
  assert.equal((await fax).outcome, 'hung-up');

  const machine = bank.addFaxMachine({ number: '5551000', dir: tmpdir(), id: 'M' });
  send('AT+FCLASS=0\rATD5551000\r');
  clock.advance(5000);
  await line.waitForModem(/NO CARRIER\r\n$/, 1000);
  assert.equal(machine.received[0]?.files.length, 0);
  await bank.close();
});
