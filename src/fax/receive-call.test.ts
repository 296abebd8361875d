// A fax reception over a memory line against a scripted class 2 modem: pages stored as
// mgetty's G3 files that decode to what was sent, the PDF and TIFF beside them; a full
// spool keeps no half page; a call that breaks off keeps the pages that arrived.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../core/clock.js';
import { createMemoryLinePair, type FarEnd } from '../line/memory-line.js';
import { testPage } from '../../test/helpers/fax-pages.js';
import { bitmapsEqual } from './codec/bitmap.js';
import { decodeG3, encodeG3 } from './codec/t4.js';
import { stuffPage } from './class2/dle.js';
import { receiveFaxCall, type FaxLog } from './receive-call.js';

const PAGES = [testPage(1728, 50), testPage(1728, 30)];
const G3 = PAGES.map((p) => encodeG3(p, { lsbFirst: true }));

const quiet: FaxLog = { mesg: () => undefined, warn: () => undefined, error: () => undefined, noise: () => undefined };

/** A class 2 modem that sends `pages` then ends; `breakAfter` drops the carrier after that many pages. */
function scriptModem(far: FarEnd, pages: Uint8Array[], breakAfter?: number): void {
  let sent = 0;
  far.send('+FTSI:"  49 30 1234"\r\n+FDCS:1,5,0,2,0,0,0,0\r\nOK\r\n');
  far.onData((chunk) => {
    if (!chunk.toString('latin1').includes('AT+FDR')) return;
    if (breakAfter !== undefined && sent === breakAfter) {
      far.send(Buffer.concat([Buffer.from('CONNECT\r\n'), (pages[sent] ?? new Uint8Array()).subarray(0, 10)]));
      setImmediate(() => far.hangup());
      return;
    }
    if (sent < pages.length) {
      const last = sent === pages.length - 1;
      far.send(Buffer.concat([Buffer.from('CONNECT\r\n'), stuffPage(pages[sent] ?? new Uint8Array()), Buffer.from(`\r\n+FPTS:1\r\n+FET:${last ? 2 : 0}\r\nOK\r\n`)]));
      sent++;
    } else far.send('+FHNG:0\r\nOK\r\n');
  });
}

function spoolDir(): string {
  return mkdtempSync(join(tmpdir(), 'tgetty-faxrx-'));
}

test('receiveFaxCall: two pages stored under mgetty names, decoding to the sent pages; PDF and TIFF beside them', async () => {
  const dir = spoolDir();
  try {
    const clock = new FakeClock();
    const { line, far } = createMemoryLinePair({ clock, path: '/dev/ttyS1' });
    scriptModem(far, G3);
    const out = await receiveFaxCall({ line, clock, log: quiet, device: 'ttyS1', lsbFirst: true, spool: { dirs: ['/nonexistent-spool', dir], minFreeKb: 0, mode: 0o640 } });
    assert.equal(out.result.end, 'complete');
    assert.equal(out.error, undefined);
    assert.equal(out.dir, dir);
    assert.equal(out.pageFiles.length, 2);
    out.pageFiles.forEach((f, i) => {
      assert.match(f, /\/ff[0-9a-f]{7}S1-49-30-1234\.0[12]$/);
      const back = decodeG3(readFileSync(f), { width: 1728, lsbFirst: true, strict: true });
      assert.ok(bitmapsEqual(back.bitmap, PAGES[i] ?? PAGES[0]));
    });
    assert.ok(out.pdf?.endsWith('.pdf') === true && readFileSync(out.pdf, 'latin1').startsWith('%PDF-1.4'));
    assert.ok(out.tiff?.endsWith('.tif') === true && readFileSync(out.tiff).subarray(0, 4).equals(Buffer.from([0x49, 0x49, 42, 0])));
    assert.deepEqual(out.pages.map((p) => p.height), [50, 30]);
    line.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('receiveFaxCall: the carrier drops in page 2 of 2: page 1 is kept (in the PDF too) and the end says carrier-lost', async () => {
  const dir = spoolDir();
  try {
    const clock = new FakeClock();
    const { line, far } = createMemoryLinePair({ clock, path: '/dev/ttyS1' });
    scriptModem(far, G3, 1);
    const out = await receiveFaxCall({ line, clock, log: quiet, device: 'ttyS1', lsbFirst: true, spool: { dirs: [dir], minFreeKb: 0, mode: 0o640 } });
    assert.equal(out.result.end, 'carrier-lost');
    assert.equal(out.result.partialPage, true);
    assert.equal(out.pageFiles.length, 1);
    assert.deepEqual(readdirSync(dir).filter((f) => /\.\d\d$/.test(f)).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('receiveFaxCall: no usable spool dir: the reception runs to its end, nothing is stored, the error says why', async () => {
  const clock = new FakeClock();
  const { line, far } = createMemoryLinePair({ clock, path: '/dev/ttyS1' });
  scriptModem(far, G3);
  const out = await receiveFaxCall({ line, clock, log: quiet, device: 'ttyS1', lsbFirst: true, spool: { dirs: ['/nonexistent-a', '/nonexistent-b'], minFreeKb: 0, mode: 0o640 } });
  assert.equal(out.dir, undefined);
  assert.equal(out.pageFiles.length, 0);
  assert.match(out.error?.message ?? '', /no usable fax spool directory/);
});

test('receiveFaxCall: a silent modem ends by the response time-out (fake clock)', async () => {
  const dir = spoolDir();
  try {
    const clock = new FakeClock();
    const { line } = createMemoryLinePair({ clock, path: '/dev/ttyS1' });
    const p = receiveFaxCall({ line, clock, log: quiet, device: 'ttyS1', lsbFirst: true, spool: { dirs: [dir], minFreeKb: 0, mode: 0o640 }, limits: { responseMs: 5000, dataMs: 5000, maxPageBytes: 1 << 20 } });
    await new Promise((r) => setImmediate(r));
    clock.advance(5001);
    const out = await p;
    assert.equal(out.result.end, 'timeout');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
