// `tgetty sendfax -p` on a virtual line polls the simulator's virtual fax machine, in
// class 2 and class 2.0: the machine's pages land in -d under mgetty's received-page
// names and decode pixel for pixel; a machine with nothing to poll gives sendfax's exit 0
// and a message; a poll that breaks off gives 12; the modem is back in class 0 and the
// lock is gone after each. With files (-p PHONE FILE...) the pages go first, the last one
// with EOM, and the poll follows in the same call; no document there: sent, exit 0. And
// both ends ours: tgetty sendfax -p PHONE FILE calling the tgetty getty's fax-server-file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitmapsEqual, formatPbm } from '../../src/fax/codec/bitmap.js';
import { decodeG3, encodeG3 } from '../../src/fax/codec/t4.js';
import { createBank } from '../../src/sim/index.js';
import { randomPage, testPage } from '../helpers/fax-pages.js';
import { waitFor } from '../helpers/leaks.js';
import { runSendfax } from '../helpers/sendfax-run.js';
import { startTgetty } from '../helpers/tgetty-run.js';

for (const cls of ['cls2', 'c2.0'] as const) {
  test(`tgetty sendfax -p -C ${cls}: the virtual fax machine's document is polled into -d, pixel for pixel; nothing to poll: exit 0 and said`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxpoll-'));
    const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, transcripts: true, faxPaceBps: 1_000_000 });
    const lockDir = join(dir, 'lock');
    const got = join(dir, 'got');
    for (const d of [lockDir, got, join(dir, 'in')]) mkdirSync(d);
    t.after(async () => {
      await bank.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const pages = [testPage(1728, 200), randomPage(5, 1728, 120)];
    const machine = bank.addFaxMachine({ number: '4712', id: 'WEATHER MAP', answerAfterMs: 200, pollPages: pages.map((p) => ({ data: encodeG3(p), fine: true, mr: false })) });
    bank.addFaxMachine({ number: '4713', dir: join(dir, 'in'), id: 'NO DOCS', answerAfterMs: 200 });
    const served = machine.nextPoll();
    const r = await runSendfax({ args: ['-v', '-p', '-d', got, '-x', '9', '-C', cls, '-l', bank.line(0).path, '4712'], lockDir, sendfaxConfig: 'fax-id 49 89 1234\n' });
    assert.equal(r.code, 0, `exit 0:\n${r.output}\n${r.log.split('\n').slice(-30).join('\n')}`);
    assert.match(r.log, cls === 'cls2' ? /AT\+FSPL=1/ : /AT\+FSP=1/);
    assert.match(r.output, /fax polled: 2 page\(s\) from 4712 \(WEATHER MAP\)/);
    assert.match(r.log, /##### success, polled 2 page\(s\)/);
    const poll = await served;
    assert.deepEqual([poll.poller, poll.statuses, poll.complete], ['49 89 1234', [1, 1], true]);
    const files = readdirSync(got).sort();
    assert.equal(files.length, 2, files.join(' '));
    for (const f of files) assert.match(f, /^ff[0-9a-z]+M0-WEATHER-MAP\.0[12]$/);
    files.forEach((f, i) => assert.ok(bitmapsEqual(decodeG3(readFileSync(join(got, f)), { width: 1728, strict: true }).bitmap, pages[i] ?? testPage()), `page ${i + 1} (${f})`));
    assert.match(r.log, /AT\+FCLASS=0/);
    assert.deepEqual(readdirSync(lockDir), [], 'no lock left behind');
    // Nothing to poll there: said, exit 0 (as mgetty's sendfax), nothing written.
    const none = await runSendfax({ args: ['-p', '-d', got, '-C', cls, '-l', bank.line(0).path, '4713'], lockDir });
    assert.equal(none.code, 0, none.output);
    assert.match(none.output, /no document to poll/);
    assert.equal(readdirSync(got).length, 2);
    assert.deepEqual(readdirSync(lockDir), []);
  });
}

for (const cls of ['cls2', 'c2.0'] as const) {
  test(`tgetty sendfax -p -C ${cls} PHONE FILES: the pages are sent (EOM after the last), then the machine's document is polled in the same call, each pixel for pixel`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxsendpoll-'));
    const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, transcripts: true, faxPaceBps: 1_000_000 });
    const lockDir = join(dir, 'lock');
    const got = join(dir, 'got');
    const inbox = join(dir, 'in');
    for (const d of [lockDir, got, inbox]) mkdirSync(d);
    t.after(async () => {
      await bank.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const mine = [testPage(1728, 160), randomPage(8, 1728, 100)];
    const theirs = randomPage(9, 1728, 140);
    const g3 = join(dir, 'p1.g3');
    const pbm = join(dir, 'p2.pbm');
    writeFileSync(g3, encodeG3(mine[0] ?? testPage()));
    writeFileSync(pbm, formatPbm(mine[1] ?? testPage()));
    const machine = bank.addFaxMachine({ number: '4714', dir: inbox, id: 'WEATHER MAP', answerAfterMs: 200, pollPages: [{ data: encodeG3(theirs), fine: true, mr: false }] });
    const [fax, served] = [machine.nextFax(), machine.nextPoll()];
    const r = await runSendfax({ args: ['-v', '-p', '-d', got, '-x', '9', '-C', cls, '-l', bank.line(0).path, '4714', g3, pbm], lockDir, sendfaxConfig: 'fax-id 49 89 1234\n' });
    assert.equal(r.code, 0, `exit 0:\n${r.output}\n${r.log.split('\n').slice(-30).join('\n')}`);
    assert.match(r.log, /AT\+FET=0/);
    assert.match(r.log, /AT\+FET=1[^]*AT\+FDR/, 'the last page with EOM, then the poll');
    assert.doesNotMatch(r.log, /AT\+FET=2/);
    if (cls === 'c2.0') assert.match(r.log, /AT\+FET=1[^]*AT\+FBO=1[^]*AT\+FDR/);
    assert.match(r.output, /page 2 sent/);
    assert.match(r.output, /fax sent: 2 page\(s\) to 4714/);
    assert.match(r.output, /fax polled: 1 page\(s\) from 4714 \(WEATHER MAP\)/);
    assert.match(r.log, /##### success, polled 1 page\(s\), phone='?4714'?, dev=ttySIM0, time=\d+s, pages=2\(\+0\)/);
    const f = await fax;
    assert.deepEqual([f.sender, f.complete, f.files.length], ['49 89 1234', true, 2]);
    f.files.forEach((file, i) => assert.ok(bitmapsEqual(decodeG3(readFileSync(file), { width: 1728, strict: true }).bitmap, mine[i] ?? testPage()), `sent page ${i + 1}`));
    const poll = await served;
    assert.deepEqual([poll.poller, poll.statuses, poll.complete], ['49 89 1234', [1], true]);
    const files = readdirSync(got);
    assert.equal(files.length, 1, files.join(' '));
    assert.match(files[0] ?? '', /^ff[0-9a-z]+M0-WEATHER-MAP\.01$/);
    assert.ok(bitmapsEqual(decodeG3(readFileSync(join(got, files[0] ?? '')), { width: 1728, strict: true }).bitmap, theirs), 'the polled page');
    assert.match(r.log, /AT\+FCLASS=0/);
    assert.deepEqual(readdirSync(lockDir), [], 'no lock left behind');
  });
}

test('tgetty sendfax -p PHONE FILE to a machine with nothing to poll: the page is sent with EOP as usual, said, exit 0 (as mgetty\'s sendfax)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxsendpoll-'));
  const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, faxPaceBps: 1_000_000 });
  const lockDir = join(dir, 'lock');
  const got = join(dir, 'got');
  const inbox = join(dir, 'in');
  for (const d of [lockDir, got, inbox]) mkdirSync(d);
  t.after(async () => {
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const page = testPage(1728, 120);
  const g3 = join(dir, 'p.g3');
  writeFileSync(g3, encodeG3(page));
  const machine = bank.addFaxMachine({ number: '4715', dir: inbox, id: 'NO DOCS', answerAfterMs: 200 });
  const fax = machine.nextFax();
  const r = await runSendfax({ args: ['-v', '-p', '-d', got, '-x', '9', '-C', 'cls2', '-l', bank.line(0).path, '4715', g3], lockDir });
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /no document to poll/);
  assert.match(r.output, /fax sent: 1 page\(s\) to 4715/);
  assert.match(r.log, /AT\+FET=2/);
  assert.doesNotMatch(r.log, /AT\+FDR/);
  assert.match(r.log, /##### success, phone='?4715'?, .*pages=1\(\+0\)/);
  const f = await fax;
  assert.deepEqual([f.complete, f.files.length], [true, 1]);
  assert.ok(bitmapsEqual(decodeG3(readFileSync(f.files[0] ?? ''), { width: 1728, strict: true }).bitmap, page));
  assert.deepEqual(readdirSync(got), []);
  assert.deepEqual(readdirSync(lockDir), []);
});

test('tgetty sendfax -p: a poll that breaks off after page 1 keeps that page and exits 12 (transmitting or polling failed), the modem hung up and back in class 0', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxpoll-'));
  const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, faxPaceBps: 1_000_000 });
  const lockDir = join(dir, 'lock');
  const got = join(dir, 'got');
  for (const d of [lockDir, got]) mkdirSync(d);
  t.after(async () => {
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const pages = [testPage(1728, 200), randomPage(6, 1728, 120), randomPage(7, 1728, 120)];
  bank.addFaxMachine({ number: '4714', id: 'FLAKY', answerAfterMs: 200, pollPages: pages.map((p) => ({ data: encodeG3(p), fine: true, mr: false })), pollHow: { breakOffAfter: 1, midPage: true } });
  const r = await runSendfax({ args: ['-p', '-d', got, '-x', '9', '-C', 'cls2', '-l', bank.line(0).path, '4714'], lockDir });
  assert.equal(r.code, 12, `exit 12:\n${r.output}\n${r.log.split('\n').slice(-30).join('\n')}`);
  assert.match(r.output, /polling failed: .*1 page\(s\) stored/);
  const files = readdirSync(got);
  assert.equal(files.length, 1, files.join(' '));
  assert.ok(bitmapsEqual(decodeG3(readFileSync(join(got, files[0] ?? '')), { width: 1728, strict: true }).bitmap, pages[0] ?? testPage()));
  assert.match(r.log, /ATH0/);
  assert.match(r.log, /AT\+FCLASS=0/);
  assert.deepEqual(readdirSync(lockDir), []);
});

test('tgetty sendfax -p -r PHONE FILE: the page is sent, the poll after it breaks off: exit 12 (as sendfax), the sent file still renamed (-r), the polled page kept', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxsendpoll-'));
  const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, faxPaceBps: 1_000_000 });
  const lockDir = join(dir, 'lock');
  const got = join(dir, 'got');
  const inbox = join(dir, 'in');
  for (const d of [lockDir, got, inbox]) mkdirSync(d);
  t.after(async () => {
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const g3 = join(dir, 'p.g3');
  writeFileSync(g3, encodeG3(testPage(1728, 120)));
  const theirs = [randomPage(13, 1728, 120), randomPage(14, 1728, 120)];
  const machine = bank.addFaxMachine({ number: '4716', dir: inbox, id: 'FLAKY', answerAfterMs: 200, pollPages: theirs.map((p) => ({ data: encodeG3(p), fine: true, mr: false })), pollHow: { breakOffAfter: 1, midPage: true } });
  const fax = machine.nextFax();
  const r = await runSendfax({ args: ['-r', '-p', '-d', got, '-x', '9', '-C', 'c2.0', '-l', bank.line(0).path, '4716', g3], lockDir });
  assert.equal(r.code, 12, `exit 12:\n${r.output}\n${r.log.split('\n').slice(-30).join('\n')}`);
  assert.match(r.output, /polling failed: .*1 page\(s\) sent, 1 page\(s\) stored/);
  assert.match(r.log, /##### failed: .*pages=1\(\+0\)/);
  assert.equal((await fax).files.length, 1);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('p.g3')), ['p.g3.done']);
  const files = readdirSync(got);
  assert.equal(files.length, 1, files.join(' '));
  assert.ok(bitmapsEqual(decodeG3(readFileSync(join(got, files[0] ?? '')), { width: 1728, strict: true }).bitmap, theirs[0] ?? testPage()));
  assert.match(r.log, /ATH0/);
  assert.deepEqual(readdirSync(lockDir), []);
});

for (const [cls, docThere] of [['cls2', true], ['c2.0', true], ['c2.0', false]] as const) {
  test(`tgetty sendfax -p -C ${cls} PHONE FILE -> the tgetty getty with a fax-server-file${docThere ? '' : ' gone when the call comes'}: the page is received and stored, ${docThere ? 'then the document polled in the same call, both pixel for pixel' : 'the poll fails (exit 12), the call hung up'}`, { skip: process.getuid?.() === 0 ? undefined : 'needs root (login.config of the receiving tgetty must be owned by root)' }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-sendpoll-getty-'));
    const spool = join(dir, 'incoming');
    const got = join(dir, 'got');
    const lockDir = join(dir, 'lock');
    for (const d of [spool, got, lockDir]) mkdirSync(d);
    const bank = await createBank({ lines: 2, dir: join(dir, 'lines'), fax: true, transcripts: true, faxPaceBps: 1_000_000 });
    const mine = testPage(1728, 120);
    const theirs = randomPage(13, 1728, 110);
    writeFileSync(join(dir, 'p1.g3'), encodeG3(mine));
    writeFileSync(join(dir, 'doc.g3'), encodeG3(theirs));
    const tg = startTgetty({
      tty: join(dir, 'lines', 'ttySIM1'),
      args: ['-x', '6'],
      config: `port ttySIM1\n  toggle-dtr n\n  rings 1\n  modem-type ${cls}\n  fax-id 49 30 5550001\n  fax-spool-in ${spool}\n  diskspace 1\n  fax-server-file ${join(dir, 'doc.g3')}\n`,
      loginConfig: '* - - /bin/true\n',
    });
    t.after(async () => {
      await tg.stop();
      await bank.close();
      rmSync(dir, { recursive: true, force: true });
    });
    await waitFor(() => tg.logText('ttySIM1').includes('--> idle'), 20_000, 'tgetty idle');
    // Read when the call comes: gone now, the modem still says there is a document.
    if (!docThere) rmSync(join(dir, 'doc.g3'));
    const r = await runSendfax({ args: ['-v', '-p', '-d', got, '-x', '9', '-C', cls, '-l', bank.line(0).path, bank.line(1).number, join(dir, 'p1.g3')], lockDir, sendfaxConfig: 'fax-id 49 30 5550000\n' });
    let log = '';
    try {
      assert.match(r.log, /AT\+FET=1[^]*AT\+FDR/);
      assert.equal(await tg.exited, 0);
      log = tg.logText('ttySIM1');
      const rx = readdirSync(spool).filter((f) => /\.01$/.test(f));
      assert.equal(rx.length, 1, readdirSync(spool).join(' '));
      assert.ok(bitmapsEqual(decodeG3(readFileSync(join(spool, rx[0] ?? '')), { width: 1728, strict: true }).bitmap, mine), 'the page the getty received');
      assert.match(log, /fax dev=ttySIM1, .*\+FHNG=0, pages=1, end=complete/);
      const files = readdirSync(got);
      if (docThere) {
        assert.equal(r.code, 0, r.output);
        assert.match(r.output, /fax polled: 1 page\(s\)/);
        assert.equal(files.length, 1, files.join(' '));
        assert.match(files[0] ?? '', /^ff[0-9a-z]+M0-49-30-5550001\.01$/);
        assert.ok(bitmapsEqual(decodeG3(readFileSync(join(got, files[0] ?? '')), { width: 1728, strict: true }).bitmap, theirs), 'the page polled from the getty');
        assert.match(log, /fax poll dev=ttySIM1, .*pages sent=1, end=polled/);
      } else {
        assert.equal(r.code, 12, r.output);
        assert.deepEqual(files, []);
        assert.match(log, /nothing to send/);
        assert.match(log, /fax poll dev=ttySIM1, .*pages sent=0, end=poll-failed/);
      }
      assert.deepEqual(readdirSync(lockDir), []);
    } catch (err) {
      t.diagnostic(`sendfax log:\n${r.log.split('\n').slice(-40).join('\n')}`);
      t.diagnostic(`tgetty log:\n${tg.logText('ttySIM1').split('\n').slice(-40).join('\n')}`);
      throw err;
    }
  });
}
