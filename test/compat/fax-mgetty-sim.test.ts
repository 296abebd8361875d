// The virtual fax machine calls a virtual line on which Debian's real mgetty 1.2.1 answers
// in fax mode (class 2 and class 2.0): mgetty's received G3 files in its fax-spool-in
// decode pixel for pixel to the bitmaps that were sent, and its notify program sees them.
// And real sendfax on one virtual line reaches real mgetty on another.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitmapsEqual, type Bitmap } from '../../src/fax/codec/bitmap.js';
import { encodeG3 } from '../../src/fax/codec/t4.js';
import { createBank } from '../../src/sim/index.js';
import { randomPage, testPage } from '../helpers/fax-pages.js';
import { SENDFAX, faxPeerUnavailable, g3ToBitmap, q, runInFaxNamespace, type PeerRun } from '../helpers/fax-peers.js';
import { waitFor } from '../helpers/leaks.js';
import { MGETTY_NO_MAIL, mgettyUnavailable, startMgetty, startMgettyFaxLine } from '../helpers/mgetty-ns.js';

for (const cls of ['cls2', 'c2.0'] as const) {
  test(`virtual fax machine -> real mgetty (-C ${cls}): received pages decode to the bitmaps sent`, async (t) => {
    const why = mgettyUnavailable();
    if (why !== undefined) {
      t.skip(why);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-mgetty-fax-'));
    const spool = join(dir, 'incoming');
    mkdirSync(spool);
    const notified = join(dir, 'notified');
    const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, transcripts: true });
    const mg = startMgetty({
      args: ['-x', '9', '-C', cls, 'ttySIM0'],
      config: `port ttySIM0\n  speed 38400\n  rings 1\n  toggle-dtr n\n  fax-id 49 30 5550000\n  fax-spool-in ${spool}\n${MGETTY_NO_MAIL}`,
      loginConfig: '* - - /bin/true\n',
      device: ['ttySIM0', bank.line(0).path],
      // Debian's mgetty runs /etc/mgetty/new_fax after a fax (its compiled-in notify program).
      files: { new_fax: `#!/bin/sh\necho "$@" > ${notified}\n` },
    });
    chmodSync(join(mg.root, 'etc', 'new_fax'), 0o755);
    t.after(async () => {
      await mg.stop();
      await bank.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const line = bank.line(0);
    // Real-sized pages: on a page of 40 lines mgetty says "Page doesn't look good" and asks for it
    // again with AT+FPS=2, a class 2.0 command, also in class 2 (docs/fax-spec.md).
    const pages: Bitmap[] = [testPage(1728, 300), randomPage(11, 1728, 200)];
    try {
      await waitFor(() => /waiting\.\.\./.test(mg.logText()), 20_000, 'mgetty waiting for a call');
      const sent = await bank.faxCall(line.number, pages.map((b) => ({ data: encodeG3(b), fine: true, mr: false })), { id: 'VIRTUAL FAX 1' });
      assert.equal(sent.outcome, 'sent');
      assert.deepEqual(sent.statuses, [1, 1]);
      await waitFor(() => readdirSync(spool).length >= 2, 10_000, 'two pages in fax-spool-in');
      const files = readdirSync(spool).sort();
      t.diagnostic(`mgetty wrote: ${files.join(' ')}`);
      files.forEach((f, i) => {
        const { bitmap } = g3ToBitmap(join(spool, f));
        assert.ok(bitmapsEqual(bitmap, pages[i] ?? testPage()), `page ${i + 1} (${f}) decodes to the bitmap sent`);
      });
      // mgetty's file names: f<res><seq...>-<sender id, blanks as dashes>.<page>.
      for (const f of files) assert.match(f, /^f[fn][0-9a-zA-Z]+-VIRTUAL-FAX-1\.0[12]$/);
      // No mail first (MGETTY_NO_MAIL): with no MTA here, mgetty's mail step once took over 90 s
      // under the whole suite. Only a bound: it returns as soon as the notify program has run.
      await waitFor(() => { try { return readFileSync(notified, 'latin1').length > 0; } catch { return false; } }, 90_000, 'notify program ran');
      const args = readFileSync(notified, 'latin1').trim();
      assert.match(args, /^0 VIRTUAL FAX 1 2 /, 'notify: hangup code 0, sender id, 2 pages, the files');
    } catch (err) {
      t.diagnostic(`transcript:\n${line.transcript.toString().replace(/(\[[0-9a-f]{2}\]|[^\n]){400,}/g, '[page data]')}`);
      t.diagnostic(`mgetty log:\n${mg.logText()}`);
      throw err;
    }
  });
}

test('real mgetty on a fax line (adaptive answer, +FAA=1): a data caller gets CONNECT and the login (the fax caller: the tests above)', async (t) => {
  const why = mgettyUnavailable();
  if (why !== undefined) {
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-mgetty-faa-'));
  const spool = join(dir, 'incoming');
  mkdirSync(spool);
  const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, transcripts: true });
  const mg = startMgetty({
    args: ['-x', '9', 'ttySIM0'],
    config: `port ttySIM0\n  speed 38400\n  rings 1\n  toggle-dtr n\n  fax-spool-in ${spool}\n  issue-file /etc/mgetty/issue\n  login-prompt sim login: \n`,
    loginConfig: '* - - /bin/echo tgetty-login-ok @\n',
    device: ['ttySIM0', bank.line(0).path],
    files: { issue: 'Welcome\n', new_fax: '#!/bin/sh\nexit 0\n' },
  });
  chmodSync(join(mg.root, 'etc', 'new_fax'), 0o755);
  t.after(async () => {
    await mg.stop();
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const line = bank.line(0);
  try {
    await waitFor(() => /waiting\.\.\./.test(mg.logText()), 20_000, 'mgetty waiting for a call');
    // modem-type auto: mgetty picks class 2 here (the modem says "56000" to ATI, a Rockwell).
    assert.match(line.fromDte.all, /AT\+FAA=1/);
    const data = line.call({ answerDelayMs: 100 });
    await data.connected;
    await data.waitFor(/sim login:/, 10_000);
    data.write('joe\r');
    await data.waitFor(/tgetty-login-ok joe/, 10_000);
    assert.match(mg.logText(), /CONNECT/);
  } catch (err) {
    t.diagnostic(`transcript:\n${line.transcript.toString()}`);
    t.diagnostic(`mgetty log:\n${mg.logText()}`);
    throw err;
  }
});

test('real sendfax on one virtual line -> real mgetty on another: two virtual modems pass the fax between them', async (t) => {
  const why = mgettyUnavailable() ?? faxPeerUnavailable(SENDFAX);
  if (why !== undefined) {
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-sendfax-mgetty-'));
  const spool = join(dir, 'incoming');
  mkdirSync(spool);
  const bank = await createBank({ lines: 2, dir: join(dir, 'lines'), fax: true, transcripts: true });
  const mg = startMgettyFaxLine(t, { bank, dir, spool, args: ['-x', '9'] });
  const pages: Bitmap[] = [testPage(1728, 300), randomPage(5, 1728, 200)];
  pages.forEach((b, i) => writeFileSync(join(dir, `p${i + 1}.g3`), encodeG3(b)));
  let run: PeerRun | undefined;
  try {
    await waitFor(() => /waiting\.\.\./.test(mg.logText()), 20_000, 'mgetty waiting for a call');
    run = await runInFaxNamespace({
      devices: [['ttySIM0', bank.line(0).path]],
      files: { 'sendfax.config': 'port ttySIM0\n  fax-id 49 30 5550000\n' },
      cmd: `${SENDFAX} -x 9 -l ttySIM0 ${bank.line(1).number} ${q(join(dir, 'p1.g3'))} ${q(join(dir, 'p2.g3'))}`,
      timeoutS: 90,
      logFile: '/var/log/mgetty/fax/sendfax.log',
    });
    assert.equal(run.code, 0, 'sendfax: all pages sent');
    await waitFor(() => readdirSync(spool).length >= 2, 10_000, 'two pages in fax-spool-in');
    const files = readdirSync(spool).sort();
    t.diagnostic(`mgetty wrote: ${files.join(' ')}`);
    for (const f of files) assert.match(f, /^ff[0-9a-zA-Z]+-49-30-5550000\.0[12]$/);
    files.forEach((f, i) => assert.ok(bitmapsEqual(g3ToBitmap(join(spool, f)).bitmap, pages[i] ?? testPage()), `page ${i + 1}`));
  } catch (err) {
    t.diagnostic(`sendfax log:\n${(run?.log ?? '').split('\n').filter((l) => !/read \d+, write/.test(l)).slice(-60).join('\n')}`);
    t.diagnostic(`mgetty log:\n${mg.logText().split('\n').slice(-80).join('\n')}`);
    throw err;
  }
});
