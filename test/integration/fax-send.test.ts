// `tgetty sendfax` end to end on the simulator's virtual lines: it locks and opens one
// line, sets its fax modem up (class 2 or 2.0), dials another line on which tgetty
// answers (single-line mode), and the pages arrive pixel for pixel, from G3, PBM and
// TIFF input. Then mgetty's sendfax exit codes for what can go wrong before a page:
// BUSY (4), NO ANSWER and NO CARRIER (10), a locked line (2), a data modem (3), a
// missing file (1), no fax line (1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawn, spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitmapsEqual, formatPbm, type Bitmap } from '../../src/fax/codec/bitmap.js';
import { decodeG3, encodeG3 } from '../../src/fax/codec/t4.js';
import { pageFromG3 } from '../../src/fax/page.js';
import { writeTiffF } from '../../src/fax/tiff.js';
import { formatLockPid } from '../../src/line/lock.js';
import { createBank } from '../../src/sim/index.js';
import { randomPage, testPage } from '../helpers/fax-pages.js';
import { waitFor } from '../helpers/leaks.js';
import { runSendfax } from '../helpers/sendfax-run.js';
import { startTgetty } from '../helpers/tgetty-run.js';

const skip = process.getuid?.() === 0 ? undefined : 'needs root (login.config of the receiving tgetty must be owned by root)';

for (const cls of ['cls2', 'c2.0'] as const) {
  test(`tgetty sendfax -C ${cls} -> tgetty receiving on another line: G3, PBM and TIFF pages arrive pixel for pixel, exit 0, -r renames`, { skip }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxsend-'));
    const spool = join(dir, 'incoming');
    mkdirSync(spool);
    // Pages leave the modems at 1 Mbit/s: the pacing is the benchmark's business, not this test's.
    const bank = await createBank({ lines: 2, dir: join(dir, 'lines'), fax: true, transcripts: true, faxPaceBps: 1_000_000 });
    const tg = startTgetty({
      tty: join(dir, 'lines', 'ttySIM1'),
      args: ['-x', '6'],
      config: `port ttySIM1\n  toggle-dtr n\n  rings 1\n  modem-type ${cls}\n  fax-id 49 30 5550001\n  fax-spool-in ${spool}\n  diskspace 1\n`,
      loginConfig: '* - - /bin/true\n',
    });
    t.after(async () => {
      await tg.stop();
      await bank.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const pages: Bitmap[] = [testPage(1728, 300), randomPage(3, 1728, 120), randomPage(4, 1728, 90), testPage(1728, 64)];
    const g3 = join(dir, 'p1.g3');
    const pbm = join(dir, 'p2.pbm');
    const tif = join(dir, 'p34.tif');
    writeFileSync(g3, encodeG3(pages[0] ?? testPage()));
    writeFileSync(pbm, formatPbm(pages[1] ?? testPage()));
    const fmt = { width: 1728, twoD: false, fine: true, lsbFirst: false };
    writeFileSync(tif, writeTiffF([pageFromG3(encodeG3(pages[2] ?? testPage()), fmt), pageFromG3(encodeG3(pages[3] ?? testPage()), fmt)]));
    try {
      await waitFor(() => tg.logText('ttySIM1').includes('--> idle'), 20_000, 'tgetty idle');
      const run = await runSendfax({
        args: ['-v', '-r', '-x', '9', '-C', cls, '-l', bank.line(0).path, bank.line(1).number, g3, pbm, tif],
        sendfaxConfig: 'fax-id 49 30 5550000\n',
      });
      t.diagnostic(run.output);
      assert.equal(run.code, 0, `exit 0:\n${run.output}\n${run.log.split('\n').slice(-30).join('\n')}`);
      assert.match(run.output, /page 4 sent/);
      assert.match(run.log, /##### success, phone='?\d+'?, dev=ttySIM0, time=\d+s, pages=4\(\+0\)/);
      assert.equal(await tg.exited, 0);
      const files = readdirSync(spool).filter((f) => /\.\d\d$/.test(f)).sort();
      assert.equal(files.length, 4);
      for (const f of files) assert.match(f, /^ff[0-9a-f]{7}M1-49-30-5550000\.0[1-4]$/);
      files.forEach((f, i) => {
        const got = decodeG3(readFileSync(join(spool, f)), { width: 1728, strict: true }).bitmap;
        assert.ok(bitmapsEqual(got, pages[i] ?? testPage()), `page ${i + 1} (${f})`);
      });
      // -r: each file renamed once its pages were through.
      for (const f of [g3, pbm, tif]) assert.ok(existsSync(`${f}.done`) && !existsSync(f), `${f} renamed to .done`);
      // Its modem was put back: AT+FCLASS=0 last.
      assert.match(bank.line(0).fromDte.all, new RegExp(`AT\\+FCLASS=${cls === 'cls2' ? '2' : '2\\.0'}\\r[^]*AT\\+FBOR?=0\\r[^]*ATD${bank.line(1).number}\\r[^]*AT\\+FET=2\\r[^]*AT\\+FCLASS=0\\r$`));
      // The lock is gone.
      assert.deepEqual(readdirSync(tg.paths.lock).filter((n) => n.includes('ttySIM0')), []);
    } catch (err) {
      t.diagnostic(`transcript:\n${bank.line(0).transcript.toString().replace(/(\[[0-9a-f]{2}\]|[^\n]){400,}/g, '[page data]')}`);
      t.diagnostic(`tgetty log:\n${tg.logText('ttySIM1').split('\n').slice(-40).join('\n')}`);
      throw err;
    }
  });
}

test('tgetty sendfax to a virtual fax machine: exit 0; and the exit codes of sendfax for BUSY, NO ANSWER, NO CARRIER, a lock, a data modem, bad arguments', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxsend-codes-'));
  const bank = await createBank({ lines: 2, dir: join(dir, 'lines'), fax: true, faxPaceBps: 1_000_000 });
  const data = await createBank({ lines: 1, dir: join(dir, 'data-lines'), prefix: 'ttyDATA', numbersBase: '7770000' });
  const machineDir = join(dir, 'machine');
  mkdirSync(machineDir);
  const machine = bank.addFaxMachine({ number: '4711', dir: machineDir, id: 'FAX MACHINE', answerAfterMs: 200 });
  const lockDir = join(dir, 'lock');
  mkdirSync(lockDir);
  t.after(async () => {
    await data.close();
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const page = join(dir, 'p.g3');
  const bitmap = randomPage(9, 1728, 100);
  writeFileSync(page, encodeG3(bitmap));
  const line = bank.line(0).path;
  const send = async (args: string[], expect: number, what: string): Promise<string> => {
    const r = await runSendfax({ args, lockDir });
    assert.equal(r.code, expect, `${what}: exit ${expect}\n${r.output}\n${r.log.split('\n').slice(-15).join('\n')}`);
    return r.output + r.log;
  };
  // The fax machine answers and keeps the page.
  const ok = await send(['-l', line, '4711', page], 0, 'a fax machine');
  assert.match(ok, /remote id 'FAX MACHINE'/);
  await waitFor(() => machine.received.length === 1, 5_000, 'the fax machine has the fax');
  const got = machine.received[0];
  assert.equal(got?.files.length, 1);
  assert.ok(bitmapsEqual(decodeG3(readFileSync(got?.files[0] ?? ''), { width: 1728 }).bitmap, bitmap));
  // Our own number: BUSY.
  assert.match(await send(['-l', line, bank.line(0).number, page], 4, 'BUSY'), /BUSY/);
  // Nobody answers line 1 (S7=2: NO ANSWER after 2 s).
  assert.match(await send(['-l', line, '-m', 'S7=2', bank.line(1).number, page], 10, 'NO ANSWER'), /NO ANSWER/);
  // No such number: NO CARRIER.
  assert.match(await send(['-l', line, '999999', page], 10, 'NO CARRIER'), /NO CARRIER/);
  // The line is locked by a live process (this test): exit 2, the lock is left alone.
  const lock = join(lockDir, 'LCK..ttySIM0');
  writeFileSync(lock, formatLockPid(process.pid));
  assert.match(await send(['-l', line, '4711', page], 2, 'locked'), /locked by process/);
  assert.equal(readFileSync(lock, 'latin1').trim(), String(process.pid));
  rmSync(lock);
  // The second line is tried when the first is locked (-l a:b).
  writeFileSync(lock, formatLockPid(process.pid));
  await send(['-l', `${line}:${bank.line(1).path}`, '4711', page], 0, 'the next line');
  rmSync(lock);
  // A modem without fax classes: cannot initialise, exit 3.
  assert.match(await send(['-l', data.line(0).path, '4711', page], 3, 'data modem'), /no class 2\/2.0 fax modem/);
  // Command line errors: exit 1.
  await send(['-l', line, '4711', join(dir, 'missing.g3')], 1, 'missing file');
  await send(['4711', page], 1, 'no line');
  await send(['-l', line], 1, 'no number');
  await send(['-l', line, '-C', 'c3', '4711', page], 1, 'bad class');
  // -r: a missing file is one sent before; nothing left is success.
  await send(['-r', '-l', line, '4711', join(dir, 'gone.g3')], 0, '-r, nothing left');
  assert.deepEqual(readdirSync(lockDir), [], 'no lock left behind');
});

const gsMissing = spawnSync('sh', ['-c', 'command -v gs && command -v ps2pdf']).status === 0 ? undefined : 'Ghostscript (gs, ps2pdf) is not installed';

test('PostScript and PDF go through Ghostscript (faxg3): each page arrives at the fax machine as a fine A4 page, -n gives normal', { skip: gsMissing }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxsend-gs-'));
  const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, faxPaceBps: 1_000_000 });
  const machineDir = join(dir, 'machine');
  mkdirSync(machineDir);
  const machine = bank.addFaxMachine({ number: '4711', dir: machineDir, answerAfterMs: 200 });
  t.after(async () => {
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ps = join(dir, 'doc.ps');
  writeFileSync(ps, '%!PS\nnewpath 100 100 moveto 300 100 lineto 300 400 lineto closepath fill showpage\n/Helvetica findfont 40 scalefont setfont 100 600 moveto (tgetty) show showpage\n');
  const pdf = join(dir, 'doc.pdf');
  assert.equal(spawnSync('ps2pdf', [ps, pdf]).status, 0);
  for (const [args, lines] of [[[], 2200], [['-n'], 1100]] as const) {
    const before = machine.received.length;
    const r = await runSendfax({ args: [...args, '-l', bank.line(0).path, '4711', ps, pdf] });
    assert.equal(r.code, 0, `${r.output}\n${r.log.split('\n').slice(-20).join('\n')}`);
    assert.match(r.log, /doc\.ps: 2 page\(s\) from Ghostscript/);
    assert.match(r.log, /doc\.pdf: 2 page\(s\) from Ghostscript/);
    await waitFor(() => machine.received.length > before, 5_000, 'the fax');
    const fax = machine.received.at(-1);
    assert.equal(fax?.files.length, 4);
    for (const f of fax?.files ?? []) {
      const d = decodeG3(readFileSync(f), { width: 1728 });
      assert.equal(d.badLines, 0, f);
      assert.ok(d.bitmap.height > lines && d.bitmap.height < lines * 1.1, `${f}: ${d.bitmap.height} lines`);
      assert.ok(d.bitmap.data.some((x) => x !== 0), `${f} is not blank`);
    }
  }
});

test('SIGTERM while tgetty sendfax dials: exit 15 (as sendfax), the modem hung up and back in class 0, the lock removed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxsend-sig-'));
  const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true });
  bank.addFaxMachine({ number: '4711', answerAfterMs: 30_000 });
  const lockDir = join(dir, 'lock');
  mkdirSync(lockDir);
  t.after(async () => {
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const page = join(dir, 'p.g3');
  writeFileSync(page, encodeG3(testPage(1728, 50)));
  const r = await runSendfax({
    args: ['-l', bank.line(0).path, '4711', page],
    lockDir,
    started: (pid) => {
      void bank.line(0).waitForDte(/ATD4711\r/, 20_000).then(() => process.kill(pid, 'SIGTERM'));
    },
  });
  assert.equal(r.code, 15, `${r.output}\n${r.log.split('\n').slice(-15).join('\n')}`);
  assert.match(r.log, /got signal SIGTERM/);
  assert.match(bank.line(0).fromDte.all, /ATD4711\r[^]*AT\+FCLASS=0\r$/);
  assert.deepEqual(readdirSync(lockDir), []);
});

test('-S: the modem is on stdin (as vgetty hands a call over): no lock is taken, the fax goes out', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxsend-stdin-'));
  const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, faxPaceBps: 1_000_000 });
  const machineDir = join(dir, 'machine');
  mkdirSync(machineDir);
  const machine = bank.addFaxMachine({ number: '4711', dir: machineDir, answerAfterMs: 200 });
  const lockDir = join(dir, 'lock');
  mkdirSync(lockDir);
  const fd = openSync(bank.line(0).path, 'r+');
  t.after(async () => {
    closeSync(fd);
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const page = join(dir, 'p.g3');
  writeFileSync(page, encodeG3(testPage(1728, 80)));
  const bin = join(import.meta.dirname, '../../../bin/tgetty.mjs');
  const child = spawn(process.execPath, [bin, 'sendfax', '--config-dir', dir, '--lock-dir', lockDir, '--log-dir', dir, '-S', '4711', page], { stdio: [fd, 'pipe', 'pipe'] });
  let out = '';
  child.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const sawLock = { any: false };
  const poll = setInterval(() => (sawLock.any ||= readdirSync(lockDir).length > 0), 10);
  const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  clearInterval(poll);
  assert.equal(code, 0, out);
  assert.equal(sawLock.any, false, 'no lock file');
  await waitFor(() => machine.received.length === 1, 5_000, 'the fax');
});
