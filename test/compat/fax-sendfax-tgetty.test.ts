// Real sendfax (Debian mgetty-fax) on one virtual line, tgetty answering on another: the
// fax passes between two virtual modems and tgetty stores every page pixel for pixel,
// as it would from a fax machine on the phone line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitmapsEqual, type Bitmap } from '../../src/fax/codec/bitmap.js';
import { encodeG3 } from '../../src/fax/codec/t4.js';
import { createBank } from '../../src/sim/index.js';
import { randomPage, testPage } from '../helpers/fax-pages.js';
import { SENDFAX, faxPeerUnavailable, g3ToBitmap, q, runInFaxNamespace, type PeerRun } from '../helpers/fax-peers.js';
import { waitFor } from '../helpers/leaks.js';
import { startTgetty } from '../helpers/tgetty-run.js';

test('real sendfax on one virtual line -> tgetty on another: the pages arrive pixel for pixel', async (t) => {
  const why = faxPeerUnavailable(SENDFAX);
  if (why !== undefined) {
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-sendfax-tgetty-'));
  const spool = join(dir, 'incoming');
  mkdirSync(spool);
  const bank = await createBank({ lines: 2, dir: join(dir, 'lines'), fax: true, transcripts: true });
  const tg = startTgetty({
    tty: join(dir, 'lines', 'ttySIM1'),
    args: ['-x', '6'],
    config: `port ttySIM1\n  toggle-dtr n\n  rings 1\n  fax-id 49 30 5550001\n  fax-spool-in ${spool}\n  diskspace 1\n`,
    loginConfig: '* - - /bin/true\n',
  });
  t.after(async () => {
    await tg.stop();
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const pages: Bitmap[] = [testPage(1728, 300), randomPage(5, 1728, 200)];
  pages.forEach((b, i) => writeFileSync(join(dir, `p${i + 1}.g3`), encodeG3(b)));
  let run: PeerRun | undefined;
  try {
    await waitFor(() => tg.logText('ttySIM1').includes('--> idle'), 20_000, 'tgetty idle');
    run = await runInFaxNamespace({
      devices: [['ttySIM0', bank.line(0).path]],
      files: { 'sendfax.config': 'port ttySIM0\n  fax-id 49 30 5550000\n' },
      cmd: `${SENDFAX} -x 9 -l ttySIM0 ${bank.line(1).number} ${q(join(dir, 'p1.g3'))} ${q(join(dir, 'p2.g3'))}`,
      timeoutS: 90,
      logFile: '/var/log/mgetty/fax/sendfax.log',
    });
    assert.equal(run.code, 0, 'sendfax: all pages sent');
    assert.equal(await tg.exited, 0);
    const files = readdirSync(spool).filter((f) => /\.\d\d$/.test(f)).sort();
    t.diagnostic(`tgetty wrote: ${readdirSync(spool).join(' ')}`);
    assert.equal(files.length, 2);
    for (const f of files) assert.match(f, /^ff[0-9a-f]{7}M1-49-30-5550000\.0[12]$/);
    files.forEach((f, i) => assert.ok(bitmapsEqual(g3ToBitmap(join(spool, f)).bitmap, pages[i] ?? testPage()), `page ${i + 1}`));
  } catch (err) {
    t.diagnostic(`sendfax log:\n${(run?.log ?? '').split('\n').filter((l) => !/read \d+, write/.test(l)).slice(-40).join('\n')}`);
    t.diagnostic(`tgetty log:\n${tg.logText('ttySIM1').split('\n').slice(-60).join('\n')}`);
    throw err;
  }
});
