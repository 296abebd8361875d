// efax 0.9a (an independent class 1/2/2.0 implementation) against the simulator, both
// ways and in both classes: efax sends a PBM page to the virtual fax machine, and receives
// one from it. The pages are compared pixel for pixel (netpbm's g3topbm / tifftopnm).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitmapsEqual, blankBitmap, formatPbm, getRow, parsePbm, type Bitmap } from '../../src/fax/codec/bitmap.js';
import { encodeG3 } from '../../src/fax/codec/t4.js';
import { createBank } from '../../src/sim/index.js';
import { testPage } from '../helpers/fax-pages.js';
import { EFAX, faxPeerUnavailable, g3ToBitmap, q, runInFaxNamespace } from '../helpers/fax-peers.js';

// efax measures the page time in whole seconds and divides by it (SIGFPE on a page sent
// in under a second), and pads nothing: so a full page, paced at 115200 bps (about 2 s).
const PACE = 115_200;
const PAGE = (): Bitmap => testPage(1728, 1200);

/** Rows `from..` of `b`, as a bitmap of their own. */
function rowsFrom(b: Bitmap, from: number): Bitmap {
  const out = blankBitmap(b.width, b.height - from);
  for (let y = 0; y < out.height; y++) getRow(out, y).set(getRow(b, y + from));
  return out;
}

for (const [cls, opt] of [['2', '-o2'], ['2.0', '-o0']] as const) {
  test(`real efax ${opt} (class ${cls}) sends a page to the virtual fax machine`, async (t) => {
    const why = faxPeerUnavailable(EFAX);
    if (why !== undefined) {
      t.skip(why);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-efax-tx-'));
    const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, faxPaceBps: PACE, transcripts: true });
    t.after(async () => {
      await bank.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const machine = bank.addFaxMachine({ number: '5551000', dir: join(dir, 'in'), id: 'VIRTUAL FAX' });
    const page = PAGE();
    writeFileSync(join(dir, 'page.pbm'), formatPbm(page));
    const got = machine.nextFax();
    const run = await runInFaxNamespace({
      devices: [['ttySIM0', bank.line(0).path]],
      cmd: `${EFAX} -d /dev/ttySIM0 ${opt} -h '' -l '49 89 1234' -v ewinchamr -t 5551000 ${q(join(dir, 'page.pbm'))}`,
      timeoutS: 60,
    });
    try {
      assert.equal(run.code, 0, 'efax returns 0 (success)');
      const fax = await got;
      assert.equal(fax.sender.trim(), '49 89 1234', 'efax pads its id to 20 characters with leading blanks');
      assert.equal(fax.files.length, 1);
      const { bitmap } = g3ToBitmap(fax.files[0] ?? '');
      // efax always puts a 20-line header on top (blank with -h ''), then the page.
      assert.equal(bitmap.height, page.height + 20);
      for (let y = 0; y < 20; y++) assert.ok(getRow(bitmap, y).every((b) => b === 0), `header line ${y} is blank`);
      assert.ok(bitmapsEqual(rowsFrom(bitmap, 20), page), 'the page decodes to the bitmap sent');
    } catch (err) {
      t.diagnostic(`efax output:\n${run.output.slice(-4000)}`);
      throw err;
    }
  });

  test(`real efax ${opt} (class ${cls}) receives a page from the virtual fax machine`, async (t) => {
    const why = faxPeerUnavailable(EFAX) ?? (spawnSync('tifftopnm', ['-version']).error !== undefined ? 'tifftopnm (netpbm) missing' : undefined);
    if (why !== undefined) {
      t.skip(why);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-efax-rx-'));
    const rx = join(dir, 'rx');
    mkdirSync(rx);
    const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, faxPaceBps: PACE, transcripts: true });
    t.after(async () => {
      await bank.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const page = PAGE();
    // -iS0=1: the modem answers on the first ring (in its fax class); -w: efax waits for it.
    const run = runInFaxNamespace({
      devices: [['ttySIM0', bank.line(0).path]],
      cmd: `${EFAX} -d /dev/ttySIM0 ${opt} -iS0=1 -w -v ewinchamr -r ${q(join(rx, 'page'))}`,
      timeoutS: 60,
    });
    const line = bank.line(0);
    // Ring once efax has set the line up (its id is its last set-up command).
    await line.waitForDte(/AT\+FLI(D)?=/, 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    const sent = await bank.faxCall(line.number, [{ data: encodeG3(page), fine: false, mr: false }], { id: 'VIRTUAL FAX' });
    const r = await run;
    try {
      assert.equal(r.code, 0, 'efax returns 0 (success)');
      assert.equal(sent.outcome, 'sent');
      const files = readdirSync(rx);
      assert.deepEqual(files, ['page.001']);
      const tif = spawnSync('tifftopnm', [join(rx, 'page.001')], { maxBuffer: 64 << 20 });
      assert.equal(tif.status, 0, tif.stderr.toString());
      assert.ok(bitmapsEqual(parsePbm(tif.stdout), page), 'efax\'s TIFF holds the page sent, pixel for pixel');
    } catch (err) {
      t.diagnostic(`efax output:\n${r.output.slice(-4000)}`);
      t.diagnostic(`transcript:\n${line.transcript.toString().replace(/(\[[0-9a-f]{2}\]|[^\n]){300,}/g, '[page data]').slice(-4000)}`);
      throw err;
    }
  });
}
