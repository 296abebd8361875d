// `tgetty sendfax` on one virtual line against real receivers on another, through the
// simulator's exchange: Debian's mgetty 1.2.1 in fax mode (class 2 and 2.0; its received
// G3 files decode with netpbm's g3topbm pixel for pixel to the pages sent) and efax 0.9a
// receiving (`efax -r`, class 2 and 2.0; its TIFF holds the page sent).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitmapsEqual, parsePbm, type Bitmap } from '../../src/fax/codec/bitmap.js';
import { encodeG3 } from '../../src/fax/codec/t4.js';
import { createBank } from '../../src/sim/index.js';
import { randomPage, testPage } from '../helpers/fax-pages.js';
import { EFAX, SENDFAX, faxPeerUnavailable, g3ToBitmap, q, runInFaxNamespace } from '../helpers/fax-peers.js';
import { waitFor } from '../helpers/leaks.js';
import { mgettyUnavailable, startMgetty, startMgettyFaxLine } from '../helpers/mgetty-ns.js';
import { runSendfax, type SendfaxRun } from '../helpers/sendfax-run.js';

for (const cls of ['cls2', 'c2.0'] as const) {
  test(`tgetty sendfax -> real mgetty (-C ${cls}) on another line: mgetty's G3 files decode to the pages sent`, async (t) => {
    const why = mgettyUnavailable() ?? (spawnSync('g3topbm', ['-version']).error !== undefined ? 'g3topbm (netpbm) missing' : undefined);
    if (why !== undefined) {
      t.skip(why);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-sendfax-mgetty-'));
    const spool = join(dir, 'incoming');
    mkdirSync(spool);
    // Pages leave the modems fast: the line rate is the benchmark's business.
    const bank = await createBank({ lines: 2, dir: join(dir, 'lines'), fax: true, transcripts: true, faxPaceBps: 1_000_000 });
    const mg = startMgettyFaxLine(t, { bank, dir, spool, args: ['-x', '9', '-C', cls] });
    // Real-sized pages: mgetty asks for a short page again (docs/fax-spec.md).
    const pages: Bitmap[] = [testPage(1728, 300), randomPage(5, 1728, 200)];
    pages.forEach((b, i) => writeFileSync(join(dir, `p${i + 1}.g3`), encodeG3(b)));
    let run: SendfaxRun | undefined;
    try {
      await waitFor(() => /waiting\.\.\./.test(mg.logText()), 20_000, 'mgetty waiting for a call');
      run = await runSendfax({
        args: ['-x', '9', '-C', cls, '-I', '49 30 5550000', '-l', bank.line(0).path, bank.line(1).number, join(dir, 'p1.g3'), join(dir, 'p2.g3')],
      });
      assert.equal(run.code, 0, 'tgetty sendfax: all pages sent');
      await waitFor(() => readdirSync(spool).length >= 2, 10_000, 'two pages in fax-spool-in');
      const files = readdirSync(spool).sort();
      t.diagnostic(`mgetty wrote: ${files.join(' ')}`);
      for (const f of files) assert.match(f, /^ff[0-9a-zA-Z]+-49-30-5550000\.0[12]$/);
      files.forEach((f, i) => assert.ok(bitmapsEqual(g3ToBitmap(join(spool, f)).bitmap, pages[i] ?? testPage()), `page ${i + 1} (${f})`));
    } catch (err) {
      t.diagnostic(`tgetty sendfax:\n${run?.output ?? ''}\n${(run?.log ?? '').split('\n').slice(-40).join('\n')}`);
      t.diagnostic(`mgetty log:\n${mg.logText().split('\n').slice(-60).join('\n')}`);
      throw err;
    }
  });
}

// efax measures the page time in whole seconds and divides by it (SIGFPE on a page sent
// in under a second): a full page, paced at 115200 bps (about 2 s), as fax-efax-sim does.
const PACE = 115_200;

for (const [cls, opt] of [['cls2', '-o2'], ['c2.0', '-o0']] as const) {
  test(`tgetty sendfax -C ${cls} -> real efax ${opt} -r on another line: efax's TIFF holds the page sent`, async (t) => {
    const why = faxPeerUnavailable(EFAX) ?? (spawnSync('tifftopnm', ['-version']).error !== undefined ? 'tifftopnm (netpbm) missing' : undefined);
    if (why !== undefined) {
      t.skip(why);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-sendfax-efax-'));
    const rx = join(dir, 'rx');
    mkdirSync(rx);
    const bank = await createBank({ lines: 2, dir: join(dir, 'lines'), fax: true, faxPaceBps: PACE, transcripts: true });
    t.after(async () => {
      await bank.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const page = testPage(1728, 1200);
    writeFileSync(join(dir, 'p.g3'), encodeG3(page));
    // -iS0=1: the modem answers on the first ring (in its fax class); -w: efax waits for it.
    const efax = runInFaxNamespace({
      devices: [['ttySIM1', bank.line(1).path]],
      cmd: `${EFAX} -d /dev/ttySIM1 ${opt} -iS0=1 -w -v ewinchamr -r ${q(join(rx, 'page'))}`,
      timeoutS: 60,
    });
    await bank.line(1).waitForDte(/AT\+FLI(D)?=/, 20_000);
    await new Promise((r) => setTimeout(r, 1000));
    const run = await runSendfax({ args: ['-x', '9', '-n', '-C', cls, '-I', '49 30 5550000', '-l', bank.line(0).path, bank.line(1).number, join(dir, 'p.g3')] });
    const r = await efax;
    try {
      assert.equal(run.code, 0, 'tgetty sendfax: the page was sent');
      assert.equal(r.code, 0, 'efax returns 0 (success)');
      assert.deepEqual(readdirSync(rx), ['page.001']);
      const tif = spawnSync('tifftopnm', [join(rx, 'page.001')], { maxBuffer: 64 << 20 });
      assert.equal(tif.status, 0, tif.stderr.toString());
      assert.ok(bitmapsEqual(parsePbm(tif.stdout), page), "efax's TIFF holds the page sent, pixel for pixel");
      assert.match(r.output, /49 30 5550000/, 'efax saw our station id');
    } catch (err) {
      t.diagnostic(`tgetty sendfax:\n${run.output}\n${run.log.split('\n').slice(-40).join('\n')}`);
      t.diagnostic(`efax output:\n${r.output.slice(-4000)}`);
      t.diagnostic(`efax's line:\n${bank.line(1).transcript.toString().replace(/(\[[0-9a-f]{2}\]|[^\n]){300,}/g, (m) => `[page data ${m.length}: ${(m.match(/\[1[13]\]/g) ?? []).join('')}]`).slice(-4000)}`);
      throw err;
    }
  });
}

test('the exit codes of tgetty sendfax and of real sendfax agree: BUSY 4, NO ANSWER 10, NO CARRIER 10', async (t) => {
  const why = faxPeerUnavailable(SENDFAX);
  if (why !== undefined) {
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-sendfax-codes-'));
  const bank = await createBank({ lines: 2, dir: join(dir, 'lines'), fax: true });
  t.after(async () => {
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const page = join(dir, 'p.g3');
  writeFileSync(page, encodeG3(testPage(1728, 100)));
  // Our own number is busy; nobody answers line 1 (S7=3: NO ANSWER after 3 s); 999999 is no number.
  for (const [what, number, code] of [['BUSY', bank.line(0).number, 4], ['NO ANSWER', bank.line(1).number, 10], ['NO CARRIER', '999999', 10]] as const) {
    const real = await runInFaxNamespace({
      devices: [['ttySIM0', bank.line(0).path]],
      files: { 'sendfax.config': 'port ttySIM0\n  fax-id 1\n' },
      cmd: `${SENDFAX} -x 5 -m ATS7=3 -l ttySIM0 ${number} ${q(page)}`,
      timeoutS: 60,
      logFile: '/var/log/mgetty/fax/sendfax.log',
    });
    assert.match(real.log, new RegExp(`ABORTING: line='${what}'`), `real sendfax saw ${what}`);
    const ours = await runSendfax({ args: ['-m', 'S7=3', '-l', bank.line(0).path, number, page] });
    assert.match(ours.log, new RegExp(`dial failed: ${what}`));
    assert.equal(real.code, code, `real sendfax, ${what}`);
    assert.equal(ours.code, real.code, `tgetty sendfax, ${what}: as real sendfax`);
  }
});

test('a page real mgetty (-C c2.0) calls bad (AT+FPS=2 for a 40-line page) is sent again, max-tries times in all, then the next page', async (t) => {
  const why = mgettyUnavailable();
  if (why !== undefined) {
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-sendfax-retry-'));
  const spool = join(dir, 'incoming');
  mkdirSync(spool);
  const bank = await createBank({ lines: 2, dir: join(dir, 'lines'), fax: true, faxPaceBps: 1_000_000 });
  const mg = startMgetty({
    args: ['-x', '9', '-C', 'c2.0', 'ttySIM1'],
    config: `port ttySIM1\n  speed 38400\n  rings 1\n  toggle-dtr n\n  fax-spool-in ${spool}\n`,
    loginConfig: '* - - /bin/true\n',
    device: ['ttySIM1', bank.line(1).path],
    files: { new_fax: '#!/bin/sh\nexit 0\n' },
  });
  chmodSync(join(mg.root, 'etc', 'new_fax'), 0o755);
  t.after(async () => {
    await mg.stop();
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, 'short.g3'), encodeG3(testPage(1728, 40)));
  writeFileSync(join(dir, 'long.g3'), encodeG3(testPage(1728, 300)));
  await waitFor(() => /waiting\.\.\./.test(mg.logText()), 20_000, 'mgetty waiting for a call');
  const run = await runSendfax({ args: ['-x', '9', '-C', 'c2.0', '-R', '3', '-l', bank.line(0).path, bank.line(1).number, join(dir, 'short.g3'), join(dir, 'long.g3')] });
  try {
    assert.equal(run.code, 0, 'max-tries-continue (the default): the fax goes on and ends well');
    assert.equal((run.log.match(/page 1 reported bad \(\+FPTS:2\)/g) ?? []).length, 3, 'three tries of page 1, each refused');
    assert.match(run.log, /sending page 1 of 2 \(try 3\)/);
    assert.match(mg.logText(), /Page doesn't look good, request retrain/);
    // mgetty keeps every try as a page of its own: 3 tries of page 1, then page 2.
    await waitFor(() => readdirSync(spool).length >= 4, 10_000, 'four files in fax-spool-in');
    const files = readdirSync(spool).sort();
    assert.equal(files.length, 4);
    assert.ok(bitmapsEqual(g3ToBitmap(join(spool, files[3] ?? '')).bitmap, testPage(1728, 300)), 'the last file is page 2');
  } catch (err) {
    t.diagnostic(`tgetty sendfax:\n${run.log.split('\n').slice(-40).join('\n')}`);
    t.diagnostic(`mgetty log:\n${mg.logText().split('\n').slice(-40).join('\n')}`);
    throw err;
  }
});
