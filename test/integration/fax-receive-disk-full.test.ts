// The fax spool's disk fills up during a fax (issue 19): `tgetty serve` runs in a private
// mount namespace (`unshare -m`) whose fax-spool-in is a 16 KB tmpfs. Page 1 (2.7 KB of G3)
// fits, page 2 (27 KB) does not: page 1 is kept under its name, page 2 and 3 get no page
// name and leave no temporary file, no PDF or TIFF stands for the whole fax, the audit line
// says the spool failed, new_fax gets -1 and the one page, and the line is back in service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitmapsEqual } from '../../src/fax/codec/bitmap.js';
import { decodeG3, encodeG3 } from '../../src/fax/codec/t4.js';
import { createBank } from '../../src/sim/index.js';
import { testPage } from '../helpers/fax-pages.js';
import { startFaxServe } from '../helpers/fax-serve.js';

function unavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (a tmpfs mounted in a private mount namespace)';
  if (spawnSync('unshare', ['--version']).status !== 0) return 'unshare (util-linux) missing';
  return undefined;
}

const CONFIG = [
  'toggle-dtr no', 'dtr-by-close yes', 'init-chat "" ATQ0V1H0 OK AT OK', 'fido-send-emsi no', 'login-prompt login:',
  'rings 1', 'fax-id 49 30 5550000', 'fax-spool-in {SPOOL}', 'diskspace 1', '',
].join('\n');

test('disk full in fax-spool-in (a 16 KB tmpfs): the page that fitted is kept, nothing half-written gets a page name, the fax is not called complete, the line goes back into service', { timeout: 90_000 }, async (t) => {
  const why = unavailable();
  if (why !== undefined) {
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxfull-'));
  const notified = join(dir, 'notified');
  const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, transcripts: true });
  const tg = startFaxServe({
    lines: [bank.line(0).path],
    config: CONFIG,
    files: { new_fax: `#!/bin/sh\necho "$@" >> ${notified}\n` },
    records: true,
    // The daemon execs from the shell: the same pid, in the namespace where the spool is the tmpfs.
    wrap: ['unshare', '-m', '--propagation', 'private', '/bin/sh', '-c', 'mount -t tmpfs -o size=16k,mode=0755 tgetty-fax-full "$0" && exec "$@"', '{SPOOL}'],
  });
  t.after(async () => {
    await tg.stop();
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const pages = [testPage(1728, 120), testPage(1728, 1200), testPage(1728, 60)];
  try {
    await tg.allIdle(1, 30_000);
    // The spool as the daemon sees it: through its root, in its mount namespace.
    const spool = `/proc/${tg.child.proc.pid}/root${tg.spool}`;
    const fs = statfsSync(spool);
    assert.equal((fs.blocks * fs.bsize) / 1024, 16, 'the spool is the 16 KB tmpfs');
    const sent = await bank.faxCall(bank.line(0).number, pages.map((b) => ({ data: encodeG3(b), fine: true, mr: false })), { id: 'DISK FULL' });
    // The sender is not told: the reception runs to its end, only the storing failed.
    assert.equal(sent.outcome, 'sent');
    await tg.allIdle(1, 20_000, 1);
    const files = readdirSync(spool).sort();
    t.diagnostic(`spool: ${files.join(' ')}`);
    assert.equal(files.length, 1, 'page 1 only: no page 2 or 3, no temporary file, no PDF or TIFF');
    assert.match(files[0] ?? '', /^ff[0-9a-f]{7}M0-DISK-FULL\.01$/);
    assert.ok(bitmapsEqual(decodeG3(readFileSync(join(spool, files[0] ?? '')), { width: 1728, strict: true }).bitmap, pages[0] ?? testPage()));
    const log = tg.log('ttySIM0');
    assert.match(log, /fax page 2 not stored: cannot write \S+\.02: ENOSPC/);
    assert.match(log, /fax dev=ttySIM0, .*id='DISK FULL', \+FHNG=0, pages=1, end=spool-failed, call=complete, received=3, error='[^']*ENOSPC'/);
    const args = readFileSync(notified, 'latin1').trim().split(' ');
    assert.deepEqual(args.slice(0, 4), ['-1', 'DISK', 'FULL', '1'], 'new_fax: our side failed (-1), one page');
    assert.equal(args.length, 5);
    assert.deepEqual(tg.calls().map((r) => [r.connect, r.outcome]), [['FAX', 'failed']], 'the call record: not a completed fax');
    // Back in service: the next caller is answered (the spool is still full: it fails the same clean way).
    const again = await bank.faxCall(bank.line(0).number, [{ data: encodeG3(testPage(1728, 40)), fine: false, mr: false }], { id: 'NEXT' });
    assert.equal(again.outcome, 'sent');
    await tg.allIdle(1, 20_000, 2);
    assert.match(tg.log('ttySIM0'), /id='NEXT', \+FHNG=0, pages=\d, end=/);
  } catch (err) {
    t.diagnostic(`tgetty log:\n${tg.log('ttySIM0').split('\n').slice(-60).join('\n')}`);
    t.diagnostic(`daemon output:\n${tg.child.output().slice(-2000)}`);
    throw err;
  }
});
