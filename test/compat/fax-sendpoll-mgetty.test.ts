// What real mgetty 1.2.1 (the getty, fax-server-file) does when real sendfax -p NUMBER
// FILE calls it: sendfax sends the page, ends it with EOM (the answering DTE sees +FET:1),
// then polls. Kept as a test so that docs/fax-spec.md's account of it stays checked: the
// page kept, the document served; with the document gone when the call comes, mgetty
// hangs up (sendfax: polling failed, exit 12) and notifies the page with code -5.
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
import { waitFor } from '../helpers/leaks.js';
import { mgettyUnavailable, startMgettyFaxLine } from '../helpers/mgetty-ns.js';

for (const [cls, docThere] of [['cls2', true], ['c2.0', true], ['cls2', false]] as const) {
  test(`real sendfax -p -C ${cls} NUMBER FILE calls real mgetty with a fax-server-file${docThere ? '' : ' gone when the call comes'}: mgetty keeps the page, then ${docThere ? 'serves the document' : 'hangs up'}`, async (t) => {
    const why = mgettyUnavailable() ?? faxPeerUnavailable(SENDFAX);
    if (why !== undefined) {
      t.skip(why);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-mgetty-sendpoll-'));
    const got = join(dir, 'got');
    const spool = join(dir, 'spool');
    for (const d of [got, spool]) mkdirSync(d);
    const bank = await createBank({ lines: 2, dir: join(dir, 'lines'), fax: true, transcripts: true, faxPaceBps: 1_000_000 });
    const mine = testPage(1728, 64);
    const theirs = randomPage(5, 1728, 120);
    writeFileSync(join(dir, 'p1.g3'), encodeG3(mine));
    writeFileSync(join(dir, 'doc1.g3'), encodeG3(theirs));
    writeFileSync(join(dir, 'poll-list'), `${join(dir, 'doc1.g3')}\n`);
    const mg = startMgettyFaxLine(t, { bank, dir, spool, args: ['-x', '9', '-C', cls], extraConfig: `  fax-server-file ${join(dir, 'poll-list')}\n` });
    let log = '';
    try {
      await waitFor(() => /faxpoll_server_init: OK/.test(mg.logText()) && /waiting\.\.\./.test(mg.logText()), 20_000, 'mgetty waiting for a call, ready to be polled');
      if (!docThere) rmSync(join(dir, 'poll-list'));
      const run = await runInFaxNamespace({
        devices: [['ttySIM0', bank.line(0).path]],
        files: { 'sendfax.config': 'port ttySIM0\n  fax-id 49 30 5550000\n' },
        cmd: `${SENDFAX} -x 9 -p -d ${q(got)} -C ${cls} -l ttySIM0 ${bank.line(1).number} ${q(join(dir, 'p1.g3'))}`,
        timeoutS: 60,
        logFile: '/var/log/mgetty/fax/sendfax.log',
      });
      log = run.log;
      if (process.env.SHOW_LOGS !== undefined) {
        t.diagnostic(`sendfax log:\n${log.split('\n').filter((l) => !/read \d+, write/.test(l)).join('\n')}`);
        t.diagnostic(`mgetty log:\n${mg.logText().split('\n').filter((l) => !/key:/.test(l)).join('\n')}`);
        t.diagnostic(`line 1 DTE wrote:\n${bank.line(1).fromDte.all.replace(/[^\x20-\x7e\n]/g, '.').slice(-3000)}`);
      }
      assert.equal(run.code, docThere ? 0 : 12, run.output);
      await waitFor(() => readdirSync(spool).some((f) => /^f[nf]/.test(f)), 10_000, 'the page in mgetty\'s spool');
      const rx = readdirSync(spool).filter((f) => /^f[nf]/.test(f));
      assert.equal(rx.length, 1, rx.join(' '));
      assert.ok(bitmapsEqual(g3ToBitmap(join(spool, rx[0] ?? '')).bitmap, mine), 'the page mgetty received');
      await waitFor(() => /##### fax dev=/.test(mg.logText()), 10_000, 'mgetty\'s audit line');
      assert.match(mg.logText(), /\+FET:1[^]*AT\+FDR[^]*got \+FTC -> will send polled document/);
      const files = readdirSync(got);
      if (docThere) {
        assert.equal(files.length, 1, files.join(' '));
        assert.ok(bitmapsEqual(g3ToBitmap(join(got, files[0] ?? '')).bitmap, theirs), 'the page polled from mgetty');
        assert.match(mg.logText(), /new_fax 0 '49 30 5550000' 1 /);
        assert.match(mg.logText(), /##### fax dev=ttySIM1, .*\+FHNG=000, pages=1\/1/);
      } else {
        assert.deepEqual(files, []);
        assert.match(log, /polling failed/);
        assert.match(mg.logText(), /can't open [^]*new_fax -5 '49 30 5550000' 1 /);
        assert.match(mg.logText(), /##### fax dev=ttySIM1, .*\+FHNG=-05, pages=1\/0/);
      }
    } catch (err) {
      t.diagnostic(`sendfax log:\n${log.split('\n').filter((l) => !/read \d+, write/.test(l)).slice(-60).join('\n')}`);
      t.diagnostic(`mgetty log:\n${mg.logText().split('\n').filter((l) => !/key:/.test(l)).slice(-80).join('\n')}`);
      throw err;
    }
  });
}
