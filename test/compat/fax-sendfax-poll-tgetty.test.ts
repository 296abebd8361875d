// tgetty's fax-server-file: real sendfax -p (Debian mgetty-fax) on one virtual line polls
// tgetty answering on another. tgetty told its modem it has a document (+FLPL=1 /
// +FLP=1), sees the poll request after the answer (+FCIG/+FDTC, +FPI/+FTC) and sends the
// listed G3 files; sendfax stores them, and they decode pixel for pixel, in class 2 and 2.0.
// A single G3 file as the fax-server-file (mgetty takes that too) is one page.
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

for (const [cls, list] of [['cls2', true], ['c2.0', true], ['cls2', false]] as const) {
  test(`real sendfax -p -C ${cls} polls tgetty's fax-server-file (${list ? 'a list of G3 files' : 'one G3 file'}) on another line: pixel for pixel`, async (t) => {
    const why = faxPeerUnavailable(SENDFAX);
    if (why !== undefined) {
      t.skip(why);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-poll-tgetty-'));
    const got = join(dir, 'got');
    const spool = join(dir, 'incoming');
    for (const d of [got, spool]) mkdirSync(d);
    const bank = await createBank({ lines: 2, dir: join(dir, 'lines'), fax: true, transcripts: true, faxPaceBps: 1_000_000 });
    const pages = list ? [testPage(1728, 200), randomPage(8, 1728, 120)] : [randomPage(9, 1728, 150)];
    pages.forEach((p, i) => writeFileSync(join(dir, `doc${i + 1}.g3`), encodeG3(p)));
    const server = list ? join(dir, 'poll-list') : join(dir, 'doc1.g3');
    if (list) writeFileSync(server, `# for pollers\n${pages.map((_, i) => join(dir, `doc${i + 1}.g3`)).join('\n')}\n`);
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
      assert.match(bank.line(1).fromDte.all, cls === 'cls2' ? /AT\+FLPL=1/ : /AT\+FLP=1/);
      run = await runInFaxNamespace({
        devices: [['ttySIM0', bank.line(0).path]],
        files: { 'sendfax.config': 'port ttySIM0\n  fax-id 49 30 5550000\n' },
        cmd: `${SENDFAX} -x 9 -p -d ${q(got)} -C ${cls} -l ttySIM0 ${bank.line(1).number}`,
        timeoutS: 60,
        logFile: '/var/log/mgetty/fax/sendfax.log',
      });
      assert.equal(run.code, 0, run.output);
      assert.equal(await tg.exited, 0);
      const files = readdirSync(got).sort();
      assert.equal(files.length, pages.length, files.join(' '));
      for (const f of files) assert.match(f, /^ff[0-9a-zA-Z]+M0-49-30-5550001\.0[12]$/);
      files.forEach((f, i) => assert.ok(bitmapsEqual(g3ToBitmap(join(got, f)).bitmap, pages[i] ?? testPage()), `page ${i + 1} (${f})`));
      assert.match(tg.logText('ttySIM1'), /fax poll from '?49 30 5550000'?: sending \d page/);
      assert.deepEqual(readdirSync(spool), [], 'nothing received');
    } catch (err) {
      t.diagnostic(`sendfax log:\n${(run?.log ?? '').split('\n').filter((l) => !/read \d+, write/.test(l)).slice(-40).join('\n')}`);
      t.diagnostic(`tgetty log:\n${tg.logText('ttySIM1').split('\n').slice(-60).join('\n')}`);
      throw err;
    }
  });
}
