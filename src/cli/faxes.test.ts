import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallRecords } from '../daemon/records.js';
import { faxesCommand, scanSpoolDir, spoolDirsFromConfig, type FaxEntry, type FaxesOptions } from './faxes.js';

process.env.TZ = 'UTC';
const T0 = Date.UTC(2026, 10, 21, 18, 0, 0);

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxes-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function run(o: Partial<FaxesOptions> & { records: string; spoolDirs: string[] }): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await faxesCommand({ json: false, now: T0 + 86_400_000, out: (s) => (out += s), err: (s) => (err += s), ...o });
  return { code, out, err };
}

function touch(file: string, at: number): void {
  writeFileSync(file, 'G3');
  utimesSync(file, at / 1000, at / 1000);
}

test('faxes from the records and from the spool, newest first; a spool fax a record names is listed once', async (t) => {
  const dir = tempDir(t);
  const spool = join(dir, 'incoming');
  mkdirSync(spool);
  // Recorded by the daemon: two pages and its PDF.
  const recorded = ['ff6a1b2c3S1-49-30-5550000.01', 'ff6a1b2c3S1-49-30-5550000.02', 'ff6a1b2c3S1-49-30-5550000.pdf'].map((f) => join(spool, f));
  for (const f of recorded) touch(f, T0);
  // Only in the spool (single-line mode, or mgetty): one page, normal resolution.
  touch(join(spool, 'fn6a1b999M0-VIRTUAL-FAX.01'), T0 + 3_600_000);
  // Not a fax name, and a symlink under a fax name: not listed.
  writeFileSync(join(spool, 'notes.txt'), 'x');
  symlinkSync('/etc/passwd', join(spool, 'fn6a1b000S2.01'));
  const file = join(dir, 'calls.sqlite');
  const rec = CallRecords.open(file, { host: 'pi1' });
  try {
    rec.emit({ type: 'call-start', line: 'ttyS1', callId: '1', at: T0 });
    rec.emit({ type: 'call-fax', line: 'ttyS1', callId: '1', at: T0 + 50_000, fax: { pages: 2, senderId: '49 30 5550000', speed: 14400, resolution: 'fine', hangupCode: 0, files: recorded, end: 'complete' } });
    rec.emit({ type: 'call-end', line: 'ttyS1', callId: '1', at: T0 + 51_000, outcome: 'completed' });
    rec.emit({ type: 'call-start', line: 'ttyS1', callId: '2', at: T0 + 7_200_000 });
    rec.emit({ type: 'call-fax', line: 'ttyS1', callId: '2', at: T0 + 7_300_000, fax: { pages: 0, senderId: 'X', speed: 9600, resolution: 'normal', hangupCode: 70, files: [], end: 'carrier-lost' } });
    // A data call: not a fax.
    rec.emit({ type: 'call-start', line: 'ttyS0', callId: '3', at: T0 + 100 });
  } finally {
    rec.close();
  }
  const r = await run({ records: file, spoolDirs: [spool, join(dir, 'missing')] });
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trimEnd().split('\n');
  assert.deepEqual(lines[0].split(/\s+/), ['TIME', 'LINE', 'SENDER', 'PAGES', 'OUTCOME', 'RES', 'SPEED', 'FILE']);
  assert.deepEqual(lines.slice(1).map((l) => l.split(/\s{2,}/)), [
    ['2026-11-21 20:00:00', 'pi1:ttyS1', 'X', '0', 'carrier-lost (FHNG 70)', 'normal', '9600', '-'],
    ['2026-11-21 19:00:00', 'M0', 'VIRTUAL FAX', '1', '-', 'normal', '-', join(spool, 'fn6a1b999M0-VIRTUAL-FAX.01')],
    ['2026-11-21 18:00:00', 'pi1:ttyS1', '49 30 5550000', '2', 'complete', 'fine', '14400', recorded[2]],
  ]);
  const j = await run({ records: file, spoolDirs: [spool], json: true, limit: 2 });
  const entries = JSON.parse(j.out) as FaxEntry[];
  assert.deepEqual(entries.map((e) => [e.source, e.pages, e.files.length]), [['records', 0, 0], ['spool', 1, 1]]);
  const since = await run({ records: file, spoolDirs: [spool], json: true, since: '2026-11-21T18:30Z' });
  assert.equal((JSON.parse(since.out) as FaxEntry[]).length, 2);
  assert.equal((await run({ records: file, spoolDirs: [spool], since: 'yesterday' })).code, 2);
});

test('no records file yet and no spool: an empty list, exit 0; a records value with a bad scheme is a usage error', async (t) => {
  const dir = tempDir(t);
  const r = await run({ records: join(dir, 'none.sqlite'), spoolDirs: [join(dir, 'nope')] });
  assert.deepEqual([r.code, r.out, r.err], [0, 'no faxes\n', '']);
  const j = await run({ records: join(dir, 'none.sqlite'), spoolDirs: [], json: true });
  assert.equal(j.out, '[]\n');
  assert.equal((await run({ records: 'mysql://x/y', spoolDirs: [] })).code, 2);
});

test('a world-writable spool dir: only files of root or of the user count', (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o1777);
  touch(join(dir, 'fn6a1b999M0.01'), T0);
  // Ours (the test's uid) when run as root is uid 0: pretend to be another user, then the file is foreign unless root's.
  const asRoot = process.getuid?.() === 0;
  assert.equal(scanSpoolDir(dir, 12345).length, asRoot ? 1 : 0, 'a file of someone else in a shared dir is not listed');
  assert.equal(scanSpoolDir(dir).length, 1);
});

test('the spool dirs come from mgetty.config: the global fax-spool-in and each port section\'s, each once; no file: the default', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'mgetty.config'), 'fax-spool-in /var/spool/fax/incoming:/tmp\nport ttyS1\n  fax-spool-in /srv/fax1:/tmp\nport ttyS2\n');
  assert.deepEqual(spoolDirsFromConfig(dir), ['/var/spool/fax/incoming', '/tmp', '/srv/fax1']);
  assert.deepEqual(spoolDirsFromConfig(join(dir, 'none')), ['/var/spool/fax/incoming', '/tmp']);
});
