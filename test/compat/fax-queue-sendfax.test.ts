// The fax queue with the real sender: `tgetty fax run --sender /usr/sbin/sendfax` (Debian's
// mgetty-fax) sends a queued job through one virtual line to tgetty answering on another.
// The job is done after sendfax's exit 0, and tgetty stored every page pixel for pixel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { bitmapsEqual, type Bitmap } from '../../src/fax/codec/bitmap.js';
import { encodeG3 } from '../../src/fax/codec/t4.js';
import { queueJob, readJob } from '../../src/fax/queue.js';
import { createBank } from '../../src/sim/index.js';
import { randomPage, testPage } from '../helpers/fax-pages.js';
import { SENDFAX, faxPeerUnavailable, g3ToBitmap, q, runInFaxNamespace, type PeerRun } from '../helpers/fax-peers.js';
import { waitFor } from '../helpers/leaks.js';
import { startTgetty } from '../helpers/tgetty-run.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');

test('tgetty fax run with the real sendfax: the queued job is sent through one virtual line to tgetty on another, then marked done', async (t) => {
  const why = faxPeerUnavailable(SENDFAX);
  if (why !== undefined) {
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxq-sendfax-'));
  const spool = join(dir, 'incoming');
  const out = join(dir, 'outgoing');
  mkdirSync(spool);
  const bank = await createBank({ lines: 2, dir: join(dir, 'lines'), fax: true });
  const tg = startTgetty({
    tty: join(dir, 'lines', 'ttySIM1'),
    args: ['-x', '6'],
    config: `port ttySIM1\n  toggle-dtr n\n  rings 1\n  fax-id 49 30 5550001\n  fax-spool-in ${spool}\n  diskspace 1\n  notify\n`,
    loginConfig: '* - - /bin/true\n',
  });
  t.after(async () => {
    await tg.stop();
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const pages: Bitmap[] = [testPage(1728, 250), randomPage(9, 1728, 150)];
  pages.forEach((b, i) => writeFileSync(join(dir, `p${i + 1}.g3`), encodeG3(b)));
  const job = queueJob(out, { phone: bank.line(1).number, files: [join(dir, 'p1.g3'), join(dir, 'p2.g3')], mail: null, normal: false, owner: { uid: 0, name: 'root' }, now: Date.now() });
  let run: PeerRun | undefined;
  try {
    await waitFor(() => tg.logText('ttySIM1').includes('--> idle'), 20_000, 'tgetty idle');
    run = await runInFaxNamespace({
      devices: [['ttySIM0', bank.line(0).path]],
      files: { 'sendfax.config': 'port ttySIM0\n  fax-id 49 30 5550000\n' },
      cmd: `${q(process.execPath)} ${q(BIN)} fax run --spool-out ${q(out)} --sender ${SENDFAX} -l ttySIM0 --no-mail`,
      timeoutS: 120,
      logFile: '/var/log/mgetty/fax/sendfax.log',
    });
    assert.equal(run.code, 0, run.output);
    const after = readJob(out, job.id);
    assert.ok(after.ok);
    assert.deepEqual([after.job.status, after.job.tries, after.job.history[0].code, after.job.sent.length], ['done', 1, 0, 2], run.output);
    assert.equal(await tg.exited, 0);
    const files = readdirSync(spool).filter((f) => /\.\d\d$/.test(f)).sort();
    assert.equal(files.length, 2);
    files.forEach((f, i) => assert.ok(bitmapsEqual(g3ToBitmap(join(spool, f)).bitmap, pages[i] ?? testPage()), `page ${i + 1}`));
  } catch (err) {
    t.diagnostic(`fax run output:\n${run?.output ?? ''}`);
    t.diagnostic(`sendfax log:\n${(run?.log ?? '').split('\n').filter((l) => !/read \d+, write/.test(l)).slice(-30).join('\n')}`);
    t.diagnostic(`tgetty log:\n${tg.logText('ttySIM1').split('\n').slice(-40).join('\n')}`);
    throw err;
  }
});
