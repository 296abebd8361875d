// Real efax 0.9a (an independent class 2 / 2.0 implementation, not mgetty's) sends a page
// from one virtual line (efax -t), tgetty answers on another line of the same simulator,
// in class 2.0 and in class 2: the page tgetty stores decodes with netpbm's g3topbm, pixel
// for pixel, to the PBM page efax was given (below efax's 20-line header, blank with -h '').
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitmapsEqual, blankBitmap, formatPbm, getRow, type Bitmap } from '../../src/fax/codec/bitmap.js';
import { createBank } from '../../src/sim/index.js';
import { testPage } from '../helpers/fax-pages.js';
import { EFAX, faxPeerUnavailable, g3ToBitmap, q, runInFaxNamespace, type PeerRun } from '../helpers/fax-peers.js';
import { waitFor } from '../helpers/leaks.js';
import { startTgetty } from '../helpers/tgetty-run.js';

// efax divides by the page time in whole seconds (SIGFPE on a page sent in under a
// second): the sending modem holds each page's OK for its time at 115200 bps, about 2 s.
const PACE = 115_200;

function rowsFrom(b: Bitmap, from: number): Bitmap {
  const out = blankBitmap(b.width, b.height - from);
  for (let y = 0; y < out.height; y++) getRow(out, y).set(getRow(b, y + from));
  return out;
}

for (const [cls, opt, modemType] of [['2.0', '-o0', 'c2.0'], ['2', '-o2', 'cls2']] as const) {
  test(`real efax ${opt} (class ${cls}) on one virtual line -> tgetty (modem-type ${modemType}) on another: the page arrives pixel for pixel`, async (t) => {
    const why = faxPeerUnavailable(EFAX);
    if (why !== undefined) {
      t.skip(why);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-efax-tgetty-'));
    const spool = join(dir, 'incoming');
    mkdirSync(spool);
    const bank = await createBank({ lines: 2, dir: join(dir, 'lines'), fax: true, faxPaceBps: PACE, transcripts: true });
    const tg = startTgetty({
      tty: join(dir, 'lines', 'ttySIM1'),
      args: ['-x', '6'],
      config: `port ttySIM1\n  toggle-dtr n\n  dtr-by-close y\n  rings 1\n  modem-type ${modemType}\n  fax-id 49 30 5550001\n  fax-spool-in ${spool}\n  diskspace 1\n`,
      loginConfig: '* - - /bin/true\n',
    });
    t.after(async () => {
      await tg.stop();
      await bank.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const page = testPage(1728, 1200);
    writeFileSync(join(dir, 'page.pbm'), formatPbm(page));
    let run: PeerRun | undefined;
    try {
      await waitFor(() => tg.logText('ttySIM1').includes('--> idle'), 20_000, 'tgetty idle');
      run = await runInFaxNamespace({
        devices: [['ttySIM0', bank.line(0).path]],
        cmd: `${EFAX} -d /dev/ttySIM0 ${opt} -h '' -l '49 89 1234' -v ewinchamr -t ${bank.line(1).number} ${q(join(dir, 'page.pbm'))}`,
        timeoutS: 60,
      });
      assert.equal(run.code, 0, 'efax returns 0 (success)');
      assert.equal(await tg.exited, 0);
      const files = readdirSync(spool).sort();
      t.diagnostic(`tgetty wrote: ${files.join(' ')}`);
      const pages = files.filter((f) => /\.\d\d$/.test(f));
      // efax pads its id with leading blanks; tgetty trims it, and blanks become '-' in the name.
      assert.equal(pages.length, 1);
      assert.match(pages[0] ?? '', /^ff[0-9a-f]{7}M1-49-89-1234\.01$/, 'fine resolution (efax sends at 196 lpi)');
      assert.ok(files.some((f) => f.endsWith('.pdf')) && files.some((f) => f.endsWith('.tif')));
      const { bitmap } = g3ToBitmap(join(spool, pages[0] ?? ''));
      assert.equal(bitmap.height, page.height + 20, 'efax\'s 20-line header, then the page');
      for (let y = 0; y < 20; y++) assert.ok(getRow(bitmap, y).every((b) => b === 0), `header line ${y} is blank`);
      assert.ok(bitmapsEqual(rowsFrom(bitmap, 20), page), 'the page decodes (g3topbm) to the bitmap efax sent');
      assert.match(tg.logText('ttySIM1'), /fax dev=ttySIM1, .*id='49 89 1234', \+FHNG=0, pages=1, end=complete/);
    } catch (err) {
      t.diagnostic(`efax output:\n${(run?.output ?? '').slice(-3000)}`);
      t.diagnostic(`tgetty log:\n${tg.logText('ttySIM1').split('\n').slice(-50).join('\n')}`);
      throw err;
    }
  });
}
