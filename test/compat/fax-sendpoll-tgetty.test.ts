// Real sendfax -p NUMBER FILE (Debian mgetty-fax) on one virtual line calls tgetty with a
// fax-server-file on another: sendfax sends its page, ends it with EOM (tgetty sees
// +FET:1), then polls in the same call. tgetty stores the page as any received fax (its
// G3 file, PDF and TIFF) and then sends its document; both pages decode pixel for pixel,
// in class 2 and 2.0. With the document gone when the call comes, the page is still kept
// and the call ends as mgetty ends it (sendfax: polling failed, exit 12).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitmapsEqual } from '../../src/fax/codec/bitmap.js';
import { encodeG3 } from '../../src/fax/codec/t4.js';
import { createBank } from '../../src/sim/index.js';
import { randomPage, testPage } from '../helpers/fax-pages.js';
import { SENDFAX, faxPeerUnavailable, g3ToBitmap, q, runInFaxNamespace, type PeerRun } from '../helpers/fax-peers.js';
import { waitFor } from '../helpers/leaks.js';
import { startTgetty } from '../helpers/tgetty-run.js';

for (const [cls, docThere] of [['cls2', true], ['c2.0', true], ['cls2', false]] as const) {
  test(`real sendfax -p -C ${cls} NUMBER FILE calls tgetty (fax-server-file${docThere ? '' : ', the document gone'}): the page received${docThere ? ', then the document polled, both pixel for pixel' : ' and kept, the poll fails'}`, async (t) => {
    const why = faxPeerUnavailable(SENDFAX);
    if (why !== undefined) {
      t.skip(why);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-sendpoll-tgetty-'));
    const got = join(dir, 'got');
    const spool = join(dir, 'incoming');
    for (const d of [got, spool]) mkdirSync(d);
    const bank = await createBank({ lines: 2, dir: join(dir, 'lines'), fax: true, transcripts: true, faxPaceBps: 1_000_000 });
    const mine = testPage(1728, 64);
    const theirs = randomPage(11, 1728, 120);
    writeFileSync(join(dir, 'p1.g3'), encodeG3(mine));
    writeFileSync(join(dir, 'doc1.g3'), encodeG3(theirs));
    const server = join(dir, 'poll-list');
    writeFileSync(server, `${join(dir, 'doc1.g3')}\n`);
    const tg = startTgetty({
      tty: join(dir, 'lines', 'ttySIM1'),
      args: ['-x', '6'],
      config: `port ttySIM1\n  toggle-dtr n\n  rings 1\n  modem-type ${cls}\n  fax-id 49 30 5550001\n  fax-spool-in ${spool}\n  diskspace 1\n  fax-server-file ${server}\n`,
      loginConfig: '* - - /bin/true\n',
    });
    t.after(async () => {
      await tg.stop();
      await bank.close();
      rmSync(dir, { recursive: true, force: true });
    });
    let run: PeerRun | undefined;
    try {
      await waitFor(() => tg.logText('ttySIM1').includes('--> idle'), 20_000, 'tgetty idle');
      // Read when the call comes: gone now, the modem still says there is a document.
      if (!docThere) rmSync(server);
      run = await runInFaxNamespace({
        devices: [['ttySIM0', bank.line(0).path]],
        files: { 'sendfax.config': 'port ttySIM0\n  fax-id 49 30 5550000\n' },
        cmd: `${SENDFAX} -x 9 -p -d ${q(got)} -C ${cls} -l ttySIM0 ${bank.line(1).number} ${q(join(dir, 'p1.g3'))}`,
        timeoutS: 60,
        logFile: '/var/log/mgetty/fax/sendfax.log',
      });
      if (cls === 'cls2') assert.match(run.log, /fax_send: 'AT\+FET=1'/);
      else assert.match(run.log, /sending DLE ';'/);
      assert.equal(await tg.exited, 0);
      const log = tg.logText('ttySIM1');
      if (process.env.SHOW_LOGS !== undefined) t.diagnostic(`tgetty log:\n${log}`);
      const rx = readdirSync(spool).sort();
      const g3 = rx.filter((f) => /\.01$/.test(f));
      assert.equal(g3.length, 1, rx.join(' '));
      assert.match(g3[0] ?? '', /^ff[0-9a-zA-Z]+M1-49-30-5550000\.01$/);
      assert.ok(rx.some((f) => f.endsWith('.pdf')) && rx.some((f) => f.endsWith('.tif')), rx.join(' '));
      assert.ok(bitmapsEqual(g3ToBitmap(join(spool, g3[0] ?? '')).bitmap, mine), 'the page tgetty received');
      assert.match(log, /fax dev=ttySIM1, .*id='?49 30 5550000'?, \+FHNG=0, pages=1, end=complete/);
      if (docThere) {
        assert.equal(run.code, 0, run.output);
        assert.match(run.log, /##### success/);
        const files = readdirSync(got);
        assert.equal(files.length, 1, files.join(' '));
        assert.match(files[0] ?? '', /^ff[0-9a-zA-Z]+M0-49-30-5550001\.01$/);
        assert.ok(bitmapsEqual(g3ToBitmap(join(got, files[0] ?? '')).bitmap, theirs), 'the page polled from tgetty');
        assert.match(log, /fax poll dev=ttySIM1, .*pages sent=1, end=polled/);
      } else {
        assert.equal(run.code, 12, run.output);
        assert.match(run.log, /polling failed/);
        assert.deepEqual(readdirSync(got), []);
        assert.match(log, /nothing to send/);
        assert.match(log, /fax poll dev=ttySIM1, .*pages sent=0, end=poll-failed/);
      }
    } catch (err) {
      t.diagnostic(`sendfax log:\n${(run?.log ?? '').split('\n').filter((l) => !/read \d+, write/.test(l)).slice(-50).join('\n')}`);
      t.diagnostic(`tgetty log:\n${tg.logText('ttySIM1').split('\n').slice(-60).join('\n')}`);
      throw err;
    }
  });
}
