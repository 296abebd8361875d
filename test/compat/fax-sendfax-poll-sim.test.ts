// Real sendfax -p (Debian's mgetty-fax 1.2.1) polls the simulator's virtual fax machine
// through a virtual line, in class 2 and in class 2.0: the modem says +FPOLL / +FPO after
// the far end's DIS when it was asked to poll (+FSPL=1 / +FSP=1) and the machine has a
// document; +FDR then receives the machine's pages. sendfax stores them in its -d dir and
// they decode (netpbm's g3topbm) pixel for pixel to the bitmaps the machine holds. A
// machine with nothing to poll: sendfax says so. With files too (sendfax -p NUMBER FILE),
// it sends them, ends the last page with EOM instead of EOP (class 2 AT+FET=1, class 2.0
// DLE ';' then AT+FBO=1) and polls in the same call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitmapsEqual } from '../../src/fax/codec/bitmap.js';
import { encodeG3 } from '../../src/fax/codec/t4.js';
import { createBank } from '../../src/sim/index.js';
import { randomPage, testPage } from '../helpers/fax-pages.js';
import { SENDFAX, faxPeerUnavailable, g3ToBitmap, q, runInFaxNamespace } from '../helpers/fax-peers.js';

for (const [cls, flag] of [['2', 'cls2'], ['2.0', 'c2.0']] as const) {
  test(`real sendfax -p -C ${flag} polls the virtual fax machine: its 2 pages stored in -d, decoding to the bitmaps it holds`, async (t) => {
    const why = faxPeerUnavailable(SENDFAX);
    if (why !== undefined) {
      t.skip(why);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-sendfax-poll-'));
    const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, transcripts: true });
    t.after(async () => {
      await bank.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const got = join(dir, 'got');
    mkdirSync(got);
    // sendfax asks for a retrain after a page of fewer than about 50 lines ("doesn't look
    // good"): real pages are thousands of lines, these 64 and 80.
    const pages = [testPage(1728, 64), randomPage(11, 1728, 80)];
    const machine = bank.addFaxMachine({ number: '5552000', id: 'WEATHER MAP', pollPages: pages.map((p) => ({ data: encodeG3(p), fine: true, mr: false })) });
    const served = machine.nextPoll();
    const run = await runInFaxNamespace({
      devices: [['ttySIM0', bank.line(0).path]],
      files: { 'sendfax.config': 'port ttySIM0\n  fax-id 49 89 1234\n' },
      cmd: `${SENDFAX} -x 9 -p -d ${q(got)} -C ${flag} -l ttySIM0 5552000`,
      timeoutS: 60,
      logFile: '/var/log/mgetty/fax/sendfax.log',
    });
    try {
      assert.equal(run.code, 0, `sendfax exit code\n${run.output}`);
      assert.match(run.log, cls === '2' ? /\+FPOLL/ : /\+FPO\b/);
      assert.match(run.log, cls === '2' ? /\+FHNG:0/ : /\+FHS:00/);
      const poll = await served;
      assert.deepEqual(poll.statuses, [1, 1]);
      assert.equal(poll.complete, true);
      const files = readdirSync(got).sort();
      assert.equal(files.length, 2, files.join(' '));
      // mgetty's names for received pages: f<res><stamp><line>-<sender id>.<page>.
      for (const f of files) assert.match(f, /^ff[0-9a-zA-Z]+-WEATHER-MAP\.0[12]$/);
      files.forEach((f, i) => assert.ok(bitmapsEqual(g3ToBitmap(join(got, f)).bitmap, pages[i] ?? testPage()), `page ${i + 1} decodes to the bitmap polled`));
    } catch (err) {
      t.diagnostic(`sendfax log:\n${run.log.split('\n').filter((l) => !/read \d+, write/.test(l)).slice(-80).join('\n')}`);
      throw err;
    }
  });
}

test('real sendfax -p against a machine with nothing to poll: no +FPOLL, sendfax says so', async (t) => {
  const why = faxPeerUnavailable(SENDFAX);
  if (why !== undefined) {
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-sendfax-poll-'));
  const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true });
  t.after(async () => {
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  bank.addFaxMachine({ number: '5552001', dir: join(dir, 'in'), id: 'NO DOCS' });
  const run = await runInFaxNamespace({
    devices: [['ttySIM0', bank.line(0).path]],
    files: { 'sendfax.config': 'port ttySIM0\n' },
    cmd: `${SENDFAX} -x 9 -p -d ${q(dir)} -C cls2 -l ttySIM0 5552001`,
    timeoutS: 60,
    logFile: '/var/log/mgetty/fax/sendfax.log',
  });
  assert.match(run.output, /remote does not have document to poll/);
  assert.doesNotMatch(run.log, /\+FPOLL/);
  // mgetty 1.2.1 exits 0 here: nothing failed, there was nothing to get.
  assert.equal(run.code, 0, run.output);
});

for (const [cls, flag] of [['2', 'cls2'], ['2.0', 'c2.0']] as const) {
  test(`real sendfax -p -C ${flag} NUMBER FILE: sends the page, ends it with EOM, then polls the machine's page in the same call`, async (t) => {
    const why = faxPeerUnavailable(SENDFAX);
    if (why !== undefined) {
      t.skip(why);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-sendfax-poll-'));
    const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, transcripts: true });
    t.after(async () => {
      await bank.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const got = join(dir, 'got');
    mkdirSync(got);
    const mine = testPage(1728, 64);
    const theirs = randomPage(12, 1728, 80);
    writeFileSync(join(dir, 'p1.g3'), encodeG3(mine));
    const machine = bank.addFaxMachine({ number: '5552002', dir: join(dir, 'in'), id: 'WEATHER MAP', pollPages: [{ data: encodeG3(theirs), fine: true, mr: false }] });
    const [fax, served] = [machine.nextFax(), machine.nextPoll()];
    const run = await runInFaxNamespace({
      devices: [['ttySIM0', bank.line(0).path]],
      files: { 'sendfax.config': 'port ttySIM0\n  fax-id 49 89 1234\n' },
      cmd: `${SENDFAX} -x 9 -p -d ${q(got)} -C ${flag} -l ttySIM0 5552002 ${q(join(dir, 'p1.g3'))}`,
      timeoutS: 60,
      logFile: '/var/log/mgetty/fax/sendfax.log',
    });
    try {
      assert.equal(run.code, 0, `sendfax exit code\n${run.output}`);
      assert.match(run.log, /##### success, phone="5552002".*pages=1/);
      if (cls === '2') assert.match(run.log, /fax_send: 'AT\+FET=1'[^]*fax_send: 'AT\+FDR'/);
      else assert.match(run.log, /sending DLE ';'[^]*'AT\+FBO=1'[^]*fax_send: 'AT\+FDR'/);
      assert.doesNotMatch(run.log, /AT\+FET=2/);
      const f = await fax;
      assert.equal(f.complete, true);
      assert.equal(f.files.length, 1);
      assert.ok(bitmapsEqual(g3ToBitmap(f.files[0] ?? '').bitmap, mine), 'the page sent decodes to the bitmap');
      assert.deepEqual((await served).statuses, [1]);
      const files = readdirSync(got);
      assert.equal(files.length, 1, files.join(' '));
      assert.ok(bitmapsEqual(g3ToBitmap(join(got, files[0] ?? '')).bitmap, theirs), 'the polled page decodes to the bitmap the machine holds');
    } catch (err) {
      t.diagnostic(`sendfax log:\n${run.log.split('\n').filter((l) => !/read \d+, write/.test(l)).slice(-80).join('\n')}`);
      throw err;
    }
  });
}

test('real sendfax -p NUMBER FILE to a machine with nothing to poll: the page ends with EOP as usual, sent, exit 0', async (t) => {
  const why = faxPeerUnavailable(SENDFAX);
  if (why !== undefined) {
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-sendfax-poll-'));
  const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true });
  t.after(async () => {
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(join(dir, 'p1.g3'), encodeG3(testPage(1728, 64)));
  const machine = bank.addFaxMachine({ number: '5552003', dir: join(dir, 'in'), id: 'NO DOCS' });
  const fax = machine.nextFax();
  const run = await runInFaxNamespace({
    devices: [['ttySIM0', bank.line(0).path]],
    files: { 'sendfax.config': 'port ttySIM0\n' },
    cmd: `${SENDFAX} -x 9 -p -d ${q(dir)} -C cls2 -l ttySIM0 5552003 ${q(join(dir, 'p1.g3'))}`,
    timeoutS: 60,
    logFile: '/var/log/mgetty/fax/sendfax.log',
  });
  assert.match(run.output, /remote does not have document to poll/);
  assert.match(run.log, /fax_send: 'AT\+FET=2'/);
  assert.match(run.log, /##### success, phone="5552003".*pages=1/);
  assert.equal(run.code, 0, run.output);
  assert.equal((await fax).files.length, 1);
});
