// Fax reception when calls go wrong, with `tgetty serve` on a simulator line (issue 19):
// a data caller and a fax caller one after the other on the same line (adaptive answer),
// a sender that breaks off after page 2 of 3 (between pages, and inside page 3), and a
// sender that connects and then sends nothing. Each time the pages that arrived are kept
// under mgetty's names and nothing else gets a page name, the audit line and new_fax say
// how the call ended, and the line is back in service (idle, answering the next call).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { bitmapsEqual, type Bitmap } from '../../src/fax/codec/bitmap.js';
import { decodeG3, encodeG3 } from '../../src/fax/codec/t4.js';
import { createBank, type SimBank } from '../../src/sim/index.js';
import { randomPage, testPage } from '../helpers/fax-pages.js';
import { startFaxServe, type FaxServe } from '../helpers/fax-serve.js';

const skip = process.getuid?.() === 0 ? undefined : 'needs root (login.config owned by root, as in production)';

const CONFIG = [
  'toggle-dtr no', 'dtr-by-close yes', 'init-chat "" ATQ0V1H0 OK AT OK', 'fido-send-emsi no', 'login-prompt login:',
  'rings 1', 'fax-id 49 30 5550000', 'fax-spool-in {SPOOL}', 'diskspace 1', '',
].join('\n');

const PAGES: Bitmap[] = [testPage(1728, 120), randomPage(3, 1728, 80), testPage(1728, 60)];
const g3 = (pages: readonly Bitmap[]): { data: Uint8Array; fine: boolean; mr: boolean }[] => pages.map((b) => ({ data: encodeG3(b), fine: true, mr: false }));

async function rig(t: { after(fn: () => Promise<void>): void }): Promise<{ bank: SimBank; tg: FaxServe; notified: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxfault-'));
  const notified = join(dir, 'notified');
  // T2 (a receiving modem's wait for a page) at 3 s instead of T.30's 6 s: the silent sender's case is about the mechanism.
  const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, faxT2Ms: 3000, transcripts: true });
  const tg = startFaxServe({
    lines: [bank.line(0).path],
    config: CONFIG,
    files: { new_fax: `#!/bin/sh\necho "$@" >> ${notified}\n` },
    records: true,
  });
  t.after(async () => {
    await tg.stop();
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await tg.allIdle(1, 30_000);
  return { bank, tg, notified };
}

/** The spool's page files (name.NN) and anything else that is not a page, PDF or TIFF. */
function spool(tg: FaxServe): { pages: string[]; other: string[] } {
  const all = readdirSync(tg.spool).sort();
  return { pages: all.filter((f) => /\.\d\d$/.test(f)), other: all.filter((f) => !/\.(\d\d|pdf|tif)$/.test(f)) };
}

function samePage(file: string, page: Bitmap | undefined): boolean {
  return page !== undefined && bitmapsEqual(decodeG3(readFileSync(file), { width: 1728, strict: true }).bitmap, page);
}

function diag(t: { diagnostic(s: string): void }, bank: SimBank, tg: FaxServe): void {
  t.diagnostic(`transcript:\n${bank.line(0).transcript.toString().replace(/(\[[0-9a-f]{2}\]|[^\n]){300,}/g, '[page data]').slice(-5000)}`);
  t.diagnostic(`tgetty log:\n${tg.log('ttySIM0').split('\n').slice(-60).join('\n')}`);
}

test('a data caller, a fax caller, a data caller on the same line: the data callers reach the login program, the fax is received, the line idle between them', { skip, timeout: 90_000 }, async (t) => {
  const { bank, tg, notified } = await rig(t);
  try {
    const call = bank.line(0).call({ callerId: '5551234', cidFormat: 'none' });
    // Adaptive answer: the data caller gets a data carrier (CONNECT <speed>).
    assert.match(await call.connected, /^\d+/);
    await call.waitFor(/login:/, 20_000);
    call.write('alice\r');
    await call.waitFor(/hi alice/, 20_000);
    await call.ended;
    await tg.allIdle(1, 20_000, 1);
    assert.match(bank.line(0).transcript.toString(), /adaptive answer: data caller/);
    const sent = await bank.faxCall(bank.line(0).number, g3(PAGES.slice(0, 2)), { id: 'VIRTUAL FAX 1' });
    assert.equal(sent.outcome, 'sent');
    assert.deepEqual(sent.statuses, [1, 1]);
    await tg.allIdle(1, 20_000, 2);
    assert.match(bank.line(0).transcript.toString(), /adaptive answer: fax caller/);
    const s = spool(tg);
    assert.equal(s.pages.length, 2);
    s.pages.forEach((f, i) => assert.ok(samePage(join(tg.spool, f), PAGES[i]), `page ${i + 1}`));
    assert.deepEqual(s.other, []);
    assert.match(tg.log('ttySIM0'), /fax dev=ttySIM0, .*id='VIRTUAL FAX 1', \+FHNG=0, pages=2, end=complete/);
    assert.match(readFileSync(notified, 'latin1'), /^0 VIRTUAL FAX 1 2 /);
    // And a data caller after the fax: the fax set-up again, adaptive answer drops to data.
    const again = bank.line(0).call({ callerId: '5551235', cidFormat: 'none' });
    await again.waitFor(/login:/, 20_000);
    again.write('bob\r');
    await again.waitFor(/hi bob/, 20_000);
    await again.ended;
    await tg.allIdle(1, 20_000, 3);
  } catch (err) {
    diag(t, bank, tg);
    throw err;
  }
});

for (const midPage of [false, true]) {
  test(`a fax broken off after page 2 of 3${midPage ? ', inside page 3' : ', before page 3'}: the 2 pages are kept, the audit line and new_fax say it broke off, the line answers the next fax`, { skip, timeout: 90_000 }, async (t) => {
    const { bank, tg, notified } = await rig(t);
    try {
      const sent = await bank.faxCall(bank.line(0).number, g3(PAGES), { id: 'BREAKS OFF', breakOffAfter: 2, midPage });
      assert.equal(sent.outcome, 'hung-up');
      assert.deepEqual(sent.statuses, [1, 1]);
      await tg.allIdle(1, 20_000, 1);
      const s = spool(tg);
      assert.equal(s.pages.length, 2, `pages: ${s.pages.join(' ')}`);
      s.pages.forEach((f, i) => {
        assert.match(f, new RegExp(`^ff[0-9a-f]{7}M0-BREAKS-OFF\\.0${i + 1}$`));
        assert.ok(samePage(join(tg.spool, f), PAGES[i]), `page ${i + 1}`);
      });
      assert.deepEqual(s.other, [], 'no temporary or half-written file is left');
      const audit = /fax dev=ttySIM0, .*id='BREAKS OFF', \+FHNG=(\d+), pages=2, end=(\S+?)(,| \(|$)/m.exec(tg.log('ttySIM0'));
      assert.ok(audit !== null, 'audit line');
      // The modem's hang-up code says where the call broke off: phase C (in a page) or D (between pages).
      assert.equal(audit[1], midPage ? '90' : '100');
      assert.notEqual(audit[2], 'complete');
      if (midPage) assert.match(tg.log('ttySIM0'), /pages=2, end=modem-hangup \(a page broke off\)/);
      const args = readFileSync(notified, 'latin1').trim().split(' ');
      assert.equal(args[0], midPage ? '90' : '100', 'new_fax gets the hang-up code, not 0');
      assert.equal(args.slice(1, 3).join(' '), 'BREAKS OFF');
      assert.equal(args[3], '2');
      assert.equal(args.length, 6);
      // Back in service: the next fax is received whole.
      rmSync(notified);
      const next = await bank.faxCall(bank.line(0).number, g3(PAGES.slice(0, 1)), { id: 'NEXT ONE' });
      assert.equal(next.outcome, 'sent');
      await tg.allIdle(1, 20_000, 2);
      assert.match(tg.log('ttySIM0'), /id='NEXT ONE', \+FHNG=0, pages=1, end=complete/);
      assert.match(readFileSync(notified, 'latin1'), /^0 NEXT ONE 1 \S+NEXT-ONE\.01$/m);
      // The call records (newest first): the broken fax failed, the whole one completed.
      // (The sender id and program 'fax' are not in the daemon's rows yet: the records' fax columns are their own work.)
      assert.deepEqual(tg.calls().map((r) => [r.connect, r.outcome]), [['FAX', 'completed'], ['FAX', 'failed']]);
    } catch (err) {
      diag(t, bank, tg);
      throw err;
    }
  });
}

test('a sender that connects and never sends a page: the modem gives up (T2), tgetty ends the call, announces no fax, and the line is idle again', { skip, timeout: 90_000 }, async (t) => {
  const { bank, tg, notified } = await rig(t);
  try {
    const sent = await bank.faxCall(bank.line(0).number, g3(PAGES.slice(0, 1)), { id: 'SILENT ONE', silent: true });
    assert.equal(sent.outcome, 'hung-up');
    assert.deepEqual(sent.statuses, []);
    await tg.allIdle(1, 30_000, 1);
    assert.deepEqual(readdirSync(tg.spool), [], 'no page, no PDF, no TIFF');
    assert.equal(existsSync(notified), false, 'new_fax is not run for a fax without pages');
    assert.match(tg.log('ttySIM0'), /fax dev=ttySIM0, .*id='SILENT ONE', \+FHNG=73, pages=0, end=modem-hangup/);
    assert.match(bank.line(0).transcript.toString(), /T2 timed out/);
    assert.deepEqual(tg.calls().map((r) => [r.connect, r.outcome]), [['FAX', 'failed']], 'the call record: not a completed fax');
  } catch (err) {
    diag(t, bank, tg);
    throw err;
  }
});
