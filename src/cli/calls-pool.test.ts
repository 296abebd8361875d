import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallRecords } from '../daemon/records.js';
import { anyCallsCommand, type AnyCallsOptions } from './calls-pool.js';

const T0 = Date.UTC(2026, 10, 21, 18, 0, 0);

function sample(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-calls-pool-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'calls.sqlite');
  const rec = CallRecords.open(file, { host: 'pi1' });
  rec.emit({ type: 'call-start', line: 'ttyS0', callId: 'a', at: T0 });
  rec.emit({ type: 'call-answering', line: 'ttyS0', callId: 'a', at: T0 + 100, ringToAtaMs: 80 });
  rec.emit({ type: 'call-connect', line: 'ttyS0', callId: 'a', at: T0 + 20_000, connect: '33600' });
  rec.emit({ type: 'call-end', line: 'ttyS0', callId: 'a', at: T0 + 100_000, outcome: 'completed' });
  rec.emit({ type: 'call-start', line: 'ttyS0', callId: 'b', at: T0 + 200_000 });
  rec.emit({ type: 'call-end', line: 'ttyS0', callId: 'b', at: T0 + 202_000, outcome: 'denied' });
  rec.emit({ type: 'call-start', line: 'ttyS1', callId: 'c', at: T0 + 300_000 });
  rec.close();
  return file;
}

async function run(o: Partial<AnyCallsOptions> & { records: string }): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  // A config dir without mgetty.config: the machine's /etc/mgetty (its records-url) stays out of the test.
  const code = await anyCallsCommand({ json: false, now: T0 + 3_600_000, configDir: join(tmpdir(), 'tgetty-no-such-config-dir'), out: (s) => (out += s), err: (s) => (err += s), ...o });
  return { code, out, err };
}

test('SQLite: --summary per host and line, as a table and as JSON', async (t) => {
  const file = sample(t);
  const table = await run({ records: file, summary: true });
  assert.equal(table.code, 0, table.err);
  assert.equal(
    table.out,
    'HOST  LINE   CALLS  ANSWERED  FAILED  MEAN DURATION  MEAN RING-ATA\npi1   ttyS0  2      1         1       51s            80 ms\npi1   ttyS1  1      0         0       -              -\n',
  );
  const json = await run({ records: file, summary: true, json: true, line: 'ttyS0' });
  assert.deepEqual(JSON.parse(json.out), [{ host: 'pi1', line: 'ttyS0', calls: 2, answered: 1, failed: 1, meanDurationS: 51, meanRingToAtaMs: 80 }]);
});

test('SQLite: --outcome and --host filter; the table keeps its columns (no HOST)', async (t) => {
  const file = sample(t);
  const ids = async (o: Partial<AnyCallsOptions>): Promise<string[]> => (JSON.parse((await run({ records: file, json: true, ...o })).out) as { callId: string }[]).map((r) => r.callId);
  assert.deepEqual(await ids({ outcome: 'denied' }), ['b']);
  assert.deepEqual(await ids({ outcome: 'unfinished' }), ['c']);
  assert.deepEqual(await ids({ host: 'pi1' }), ['c', 'b', 'a']);
  assert.deepEqual(await ids({ host: 'pi2' }), []);
  const table = await run({ records: file, limit: 1 });
  assert.match(table.out, /^TIME\s+LINE\s+DURATION\s+OUTCOME/);
});

test('a bad --outcome and an unsupported scheme are usage errors (exit 2); nothing is created', async (t) => {
  const file = sample(t);
  const bad = await run({ records: file, outcome: 'won' });
  assert.equal(bad.code, 2);
  assert.match(bad.err, /bad --outcome 'won': expected one of completed, denied, .*unfinished/);
  const cwd = process.cwd();
  const scheme = await run({ records: 'sqlite://calls.db', recordsFrom: 'TGETTY_RECORDS' });
  assert.equal(scheme.code, 2);
  assert.match(scheme.err, /tgetty calls: TGETTY_RECORDS 'sqlite:\/\/calls\.db': unsupported scheme 'sqlite:'/);
  assert.deepEqual(readdirSync(cwd).filter((f) => f.endsWith(':')), []);
});
