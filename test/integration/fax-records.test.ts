// A fax call in the daemon: the virtual fax machine calls a line `tgetty serve` (the
// Daemon, in this process) answers; the call's row in the call records carries the fax
// (pages, sender id, speed, resolution, hang-up code, files, complete) and the metrics
// count the fax and its pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeG3 } from '../../src/fax/codec/t4.js';
import { Daemon } from '../../src/daemon/daemon.js';
import { CallRecords } from '../../src/daemon/records.js';
import { Metrics } from '../../src/daemon/metrics.js';
import { createLogger } from '../../src/log/logger.js';
import { createBank } from '../../src/sim/index.js';
import { randomPage, testPage } from '../helpers/fax-pages.js';
import { FAST_POLICY, waitFor } from '../helpers/leaks.js';
import { tempSystem } from '../helpers/temp-system.js';

const skip = process.getuid?.() === 0 ? undefined : 'needs root (login.config must be owned by root)';

test('serve: a received fax is one call row with its fax columns, and the fax metrics count it', { skip }, async (t) => {
  const p = tempSystem('tgetty-fax-records-');
  const spool = join(p.root, 'incoming');
  mkdirSync(spool);
  writeFileSync(join(p.etc, 'login.config'), '* - - /bin/true\n');
  chmodSync(join(p.etc, 'login.config'), 0o600);
  writeFileSync(join(p.etc, 'mgetty.config'), `toggle-dtr no\nrings 1\nfax-id 49 30 5550000\nfax-spool-in ${spool}\ndiskspace 1\nnotify\nport ttySIM0\n`);
  const bank = await createBank({ lines: 1, dir: p.sim, fax: true });
  const records = CallRecords.open(join(p.root, 'calls.sqlite'), { host: 'pi1' });
  const metrics = new Metrics();
  const daemon = new Daemon({
    paths: p.paths,
    lines: [join(p.sim, 'ttySIM0')],
    sinks: [records, metrics],
    policy: FAST_POLICY,
    log: createLogger({ device: 'tgetty', file: null, audit: 'none', stderr: () => undefined }),
  });
  t.after(async () => {
    await daemon.stop();
    records.close();
    await bank.close();
    rmSync(p.root, { recursive: true, force: true });
  });
  daemon.start();
  await waitFor(() => daemon.status().lines[0]?.state === 'idle', 20_000, 'the line idle');
  const sent = await bank.faxCall(bank.line(0).number, [testPage(1728, 200), randomPage(3, 1728, 120)].map((b) => ({ data: encodeG3(b), fine: true, mr: false })), { id: 'VIRTUAL FAX 1' });
  assert.equal(sent.outcome, 'sent');
  await waitFor(() => records.query().some((r) => r.outcome !== null), 20_000, 'the call row to end');
  const [row] = records.query();
  assert.deepEqual(
    [row.connect, row.outcome, row.faxPages, row.faxSenderId, row.faxResolution, row.faxHangupCode, row.faxEnd],
    ['FAX', 'completed', 2, 'VIRTUAL FAX 1', 'fine', 0, 'complete'],
  );
  assert.ok(row.faxSpeed !== null && [9600, 14400].includes(row.faxSpeed), `speed ${row.faxSpeed}`);
  assert.equal(row.faxFiles?.length, 4);
  assert.ok(row.faxFiles?.every((f) => f.startsWith(`${spool}/ff`)));
  assert.deepEqual(row.faxFiles?.map((f) => f.slice(f.lastIndexOf('.'))), ['.01', '.02', '.pdf', '.tif']);
  const text = await metrics.text();
  assert.match(text, /^tgetty_fax_calls_total\{line="ttySIM0",end="complete"\} 1$/m);
  assert.match(text, /^tgetty_fax_pages_total\{line="ttySIM0"\} 2$/m);
});
