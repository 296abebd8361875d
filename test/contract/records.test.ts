/**
 * The call records contract: one suite, run against every RecordStore backend. SQLite
 * always; PostgreSQL on a throwaway cluster (test/helpers/pg-cluster.ts) when the Debian
 * binaries are installed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventToOp, type CallRow, type RecordOp, type RecordStore } from '../../src/daemon/record-store.js';
import { RECORDS_SCHEMA_VERSION, SqliteRecordStore } from '../../src/daemon/records.js';
import { PG_SCHEMA_VERSION, PgRecordStore } from '../../src/daemon/records-pg.js';
import type { DaemonEvent, FaxSummary } from '../../src/daemon/events.js';
import { pgUnavailable, startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';

const T0 = Date.UTC(2026, 10, 21, 18, 0, 0);

interface Backend {
  /** A fresh, empty store; `again` opens the same location a second time (migration runs again). */
  fresh(): Promise<{ store: RecordStore; again(): Promise<RecordStore>; versionRows(): Promise<number> }>;
}

function call(line: string, id: string, at: number, outcome: 'completed' | 'denied' | 'missed' | undefined, extra: Partial<{ caller: string }> = {}): DaemonEvent[] {
  const ev: DaemonEvent[] = [
    { type: 'call-start', line, callId: id, at },
    { type: 'call-caller', line, callId: id, at: at + 1000, callerId: extra.caller ?? '5551234', callerName: 'ALICE' },
  ];
  if (outcome === 'completed') {
    ev.push(
      { type: 'call-answering', line, callId: id, at: at + 2000, ringToAtaMs: 120 },
      { type: 'call-connect', line, callId: id, at: at + 20_000, connect: '33600/ARQ' },
      { type: 'call-session', line, callId: id, at: at + 30_000, loginName: 'alice', program: '/bin/login', pid: 42 },
      { type: 'call-end', line, callId: id, at: at + 60_000, outcome: 'completed', exitStatus: 0 },
    );
  } else if (outcome !== undefined) {
    ev.push({ type: 'call-end', line, callId: id, at: at + 5000, outcome, detail: 'rule 3' });
  }
  return ev;
}

function ops(events: DaemonEvent[], host: string, run: string): RecordOp[] {
  return events.map((e) => eventToOp(e, run, host)).filter((o): o is RecordOp => o !== undefined);
}

function contract(name: string, backend: () => Backend, skip: () => string | undefined): void {
  describe(`records contract: ${name}`, () => {
    test('every event makes or updates one row; the row is the same on every backend', { skip: skip() }, async () => {
      const { store } = await backend().fresh();
      try {
        await store.apply(ops([...call('ttyS0', 'c1', T0, 'completed'), ...call('ttyS1', 'c2', T0 + 100_000, 'denied')], 'pi1', 'run-a'));
        const rows = await store.query();
        assert.deepEqual(rows.map((r) => r.callId), ['c2', 'c1'], 'newest first');
        const { id, ...c1 } = rows[1];
        assert.equal(typeof id, 'number');
        assert.deepEqual(c1, {
          host: 'pi1',
          run: 'run-a',
          callId: 'c1',
          line: 'ttyS0',
          startedAt: T0,
          callerId: '5551234',
          callerName: 'ALICE',
          ringToAtaMs: 120,
          connectAt: T0 + 20_000,
          connect: '33600/ARQ',
          sessionAt: T0 + 30_000,
          loginName: 'alice',
          program: '/bin/login',
          pid: 42,
          endedAt: T0 + 60_000,
          durationS: 60,
          outcome: 'completed',
          exitStatus: 0,
          signal: null,
          detail: null,
          faxPages: null,
          faxSenderId: null,
          faxSpeed: null,
          faxResolution: null,
          faxHangupCode: null,
          faxFiles: null,
          faxEnd: null,
        });
        assert.equal(rows[0].outcome, 'denied');
        assert.equal(rows[0].detail, 'rule 3');
        assert.equal(rows[0].durationS, 5);
      } finally {
        await store.close();
      }
    });

    test('applying the same writes again changes nothing (idempotent by run and call id)', { skip: skip() }, async () => {
      const { store } = await backend().fresh();
      try {
        const batch = ops([...call('ttyS0', 'c1', T0, 'completed'), ...call('ttyS0', 'c2', T0 + 100_000, undefined)], 'pi1', 'run-a');
        await store.apply(batch);
        const once = await store.query();
        await store.apply(batch);
        await store.apply(batch.slice(3));
        assert.deepEqual(await store.query(), once);
        assert.equal(once.length, 2);
        // The same call id in another run is another call.
        await store.apply(ops(call('ttyS0', 'c1', T0 + 200_000, 'missed'), 'pi1', 'run-b'));
        assert.equal((await store.query()).length, 3);
      } finally {
        await store.close();
      }
    });

    test('a call written over several batches, with an earlier start coming late, ends up as written one by one', { skip: skip() }, async () => {
      const { store } = await backend().fresh();
      try {
        const all = ops([...call('ttyS0', 'c1', T0, 'completed'), ...call('ttyS1', 'c2', T0 + 5000, 'denied')], 'pi1', 'r');
        // c1: caller first (row made at T0+1000), then its start (T0: moves the start back), then the rest.
        await store.apply([all[1]]);
        assert.equal((await store.query())[0].startedAt, T0 + 1000);
        await store.apply([all[0], all[2]]);
        await store.apply(all.slice(3, 7));
        await store.apply(all.slice(6));
        const rows = await store.query();
        const c1 = rows.find((r) => r.callId === 'c1')!;
        assert.equal(c1.startedAt, T0);
        assert.equal(c1.durationS, 60, 'from the earlier start');
        assert.equal(c1.callerName, 'ALICE');
        assert.equal(c1.ringToAtaMs, 120);
        assert.equal(c1.connect, '33600/ARQ');
        assert.equal(c1.program, '/bin/login');
        assert.equal(c1.outcome, 'completed');
        const c2 = rows.find((r) => r.callId === 'c2')!;
        assert.deepEqual([c2.outcome, c2.durationS, c2.callerId, c2.connect], ['denied', 5, '5551234', null]);
      } finally {
        await store.close();
      }
    });

    test('a write for a call whose start was never stored still makes a row', { skip: skip() }, async () => {
      const { store } = await backend().fresh();
      try {
        await store.apply(ops([{ type: 'call-end', line: 'ttyS3', callId: 'x', at: T0, outcome: 'hangup' }], 'pi2', 'r'));
        const [row] = await store.query();
        assert.equal(row.startedAt, T0);
        assert.equal(row.endedAt, T0);
        assert.equal(row.durationS, 0);
        assert.equal(row.outcome, 'hangup');
        assert.equal(row.host, 'pi2');
      } finally {
        await store.close();
      }
    });

    test('filters: host, line, since, outcome (unfinished = none yet), limit', { skip: skip() }, async () => {
      const { store } = await backend().fresh();
      try {
        await store.apply([
          ...ops([...call('ttyS0', 'a1', T0, 'completed'), ...call('ttyS1', 'a2', T0 + 1e6, 'denied')], 'pi1', 'r1'),
          ...ops([...call('ttyS0', 'b1', T0 + 2e6, 'completed'), ...call('ttyS0', 'b2', T0 + 3e6, undefined)], 'pi2', 'r2'),
        ]);
        const ids = async (q: Parameters<RecordStore['query']>[0]): Promise<string[]> => (await store.query(q)).map((r) => r.callId);
        assert.deepEqual(await ids({ host: 'pi1' }), ['a2', 'a1']);
        assert.deepEqual(await ids({ line: 'ttyS0' }), ['b2', 'b1', 'a1']);
        assert.deepEqual(await ids({ host: 'pi2', line: 'ttyS0', since: T0 + 2e6 }), ['b2', 'b1']);
        assert.deepEqual(await ids({ since: T0 + 2e6 + 1 }), ['b2']);
        assert.deepEqual(await ids({ outcome: 'completed' }), ['b1', 'a1']);
        assert.deepEqual(await ids({ outcome: 'unfinished' }), ['b2']);
        assert.deepEqual(await ids({ limit: 2 }), ['b2', 'b1']);
        assert.deepEqual(await ids({ host: "pi1' OR '1'='1" }), [], 'values are parameters, never SQL');
      } finally {
        await store.close();
      }
    });

    test('summary: calls, answered, failed, mean duration and latency per host and line', { skip: skip() }, async () => {
      const { store } = await backend().fresh();
      try {
        await store.apply([
          ...ops([...call('ttyS0', 'a1', T0, 'completed'), ...call('ttyS0', 'a2', T0 + 1e6, 'denied'), ...call('ttyS1', 'a3', T0 + 2e6, 'completed')], 'pi1', 'r1'),
          ...ops([...call('ttyS0', 'b1', T0, 'missed'), ...call('ttyS0', 'b2', T0 + 3e6, undefined)], 'pi2', 'r2'),
        ]);
        assert.deepEqual(await store.summary(), [
          { host: 'pi1', line: 'ttyS0', calls: 2, answered: 1, failed: 1, meanDurationS: 32.5, meanRingToAtaMs: 120 },
          { host: 'pi1', line: 'ttyS1', calls: 1, answered: 1, failed: 0, meanDurationS: 60, meanRingToAtaMs: 120 },
          { host: 'pi2', line: 'ttyS0', calls: 2, answered: 0, failed: 1, meanDurationS: 5, meanRingToAtaMs: null },
        ]);
        assert.deepEqual(await store.summary({ host: 'pi2', outcome: 'unfinished' }), [
          { host: 'pi2', line: 'ttyS0', calls: 1, answered: 0, failed: 0, meanDurationS: null, meanRingToAtaMs: null },
        ]);
      } finally {
        await store.close();
      }
    });

    test('a fax call: pages, sender id, speed, resolution, hang-up code, files and its end, in one write or folded in a batch', { skip: skip() }, async () => {
      const { store } = await backend().fresh();
      try {
        const fax = (id: string, at: number, f: Partial<FaxSummary>): DaemonEvent[] => [
          { type: 'call-start', line: 'ttyS2', callId: id, at },
          { type: 'call-connect', line: 'ttyS2', callId: id, at: at + 1000, connect: 'FAX' },
          {
            type: 'call-fax',
            line: 'ttyS2',
            callId: id,
            at: at + 50_000,
            fax: { pages: 3, senderId: '+49 89 1234', speed: 14400, resolution: 'fine', hangupCode: 0, files: ['/var/spool/fax/incoming/ff1.01', "/odd dir/it's.pdf"], end: 'complete', ...f },
          },
          { type: 'call-end', line: 'ttyS2', callId: id, at: at + 51_000, outcome: f.end === undefined ? 'completed' : 'failed' },
        ];
        const whole = ops(fax('f1', T0, {}), 'pi1', 'r');
        // f1 in one batch (folded), f2 one write a batch, and a data call beside them.
        await store.apply([...whole, ...ops(call('ttyS0', 'd1', T0 + 1, 'completed'), 'pi1', 'r')]);
        for (const op of ops(fax('f2', T0 + 100_000, { pages: 2, speed: null, resolution: null, hangupCode: 50, files: [], end: 'carrier-lost' }), 'pi1', 'r')) {
          await store.apply([op]);
        }
        await store.apply(whole); // again: nothing changes
        const rows = await store.query();
        const pick = (r: CallRow): unknown[] => [r.callId, r.outcome, r.faxPages, r.faxSenderId, r.faxSpeed, r.faxResolution, r.faxHangupCode, r.faxFiles, r.faxEnd];
        assert.deepEqual(rows.map(pick), [
          ['f2', 'failed', 2, '+49 89 1234', null, null, 50, [], 'carrier-lost'],
          ['d1', 'completed', null, null, null, null, null, null, null],
          ['f1', 'completed', 3, '+49 89 1234', 14400, 'fine', 0, ['/var/spool/fax/incoming/ff1.01', "/odd dir/it's.pdf"], 'complete'],
        ]);
        assert.deepEqual((await store.query({ fax: true })).map((r) => r.callId), ['f2', 'f1'], 'fax: only the fax calls');
        assert.deepEqual((await store.query({ fax: true, outcome: 'failed' })).map((r) => r.callId), ['f2']);
      } finally {
        await store.close();
      }
    });

    test('opening again runs the migration again harmlessly: rows and schema stay', { skip: skip() }, async () => {
      const f = await backend().fresh();
      await f.store.apply(ops(call('ttyS0', 'c1', T0, 'completed'), 'pi1', 'r1'));
      const before = await f.store.query();
      await f.store.close();
      const again = await f.again();
      try {
        assert.deepEqual(await again.query(), before);
        const third = await f.again();
        await third.close();
        assert.equal(await f.versionRows(), name === 'sqlite' ? RECORDS_SCHEMA_VERSION : PG_SCHEMA_VERSION, 'one schema_version row per migration');
      } finally {
        await again.close();
      }
    });
  });
}

// SQLite: a temp file per test.
const sqliteDirs: string[] = [];
after(() => {
  for (const d of sqliteDirs) rmSync(d, { recursive: true, force: true });
});
contract(
  'sqlite',
  () => ({
    fresh() {
      const dir = mkdtempSync(join(tmpdir(), 'tgetty-contract-'));
      sqliteDirs.push(dir);
      const file = join(dir, 'calls.sqlite');
      const open = (): Promise<RecordStore> => Promise.resolve(SqliteRecordStore.open(file));
      return open().then((store) => ({
        store,
        again: open,
        versionRows: () => {
          const db = new Database(file, { readonly: true });
          try {
            return Promise.resolve((db.prepare('SELECT COUNT(*) AS n FROM schema_version').get() as { n: number }).n);
          } finally {
            db.close();
          }
        },
      }));
    },
  }),
  () => undefined,
);

// PostgreSQL: one throwaway cluster, a new database per test.
const pgSkip = pgUnavailable();
let cluster: PgCluster | undefined;
let dbSeq = 0;
before(async () => {
  if (pgSkip === undefined) cluster = await startPgCluster();
});
after(async () => {
  await cluster?.destroy();
});
contract(
  'postgresql',
  () => ({
    async fresh() {
      const c = cluster!;
      const db = `contract${++dbSeq}`;
      c.psql(`CREATE DATABASE ${db}`);
      const url = c.url({ database: db });
      const open = (): Promise<RecordStore> => PgRecordStore.open(url, { migrate: true });
      return {
        store: await open(),
        again: open,
        versionRows: () => Promise.resolve(Number(c.psql('SELECT COUNT(*) FROM schema_version', db).trim())),
      };
    },
  }),
  () => pgSkip,
);

// PostgreSQL: a pool database at schema 1 (before the fax columns), as the released tgetty
// made it, is upgraded in place by the next daemon: its rows stay, fax calls fill the new
// columns, and a second upgrade (another host starting) changes nothing.
test('postgresql: a schema 1 pool database is upgraded to 2 in place', { skip: pgSkip }, async () => {
  const c = cluster!;
  const db = `upgrade${++dbSeq}`;
  c.psql(`CREATE DATABASE ${db}`);
  c.psql(
    `CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL);
     INSERT INTO schema_version VALUES (1, 0);
     CREATE TABLE calls (id BIGSERIAL PRIMARY KEY, host TEXT NOT NULL, run TEXT NOT NULL, call_id TEXT NOT NULL, line TEXT NOT NULL,
       started_at BIGINT NOT NULL, caller_id TEXT, caller_name TEXT, ring_to_ata_ms INTEGER, connect_at BIGINT, connect TEXT,
       session_at BIGINT, login_name TEXT, program TEXT, pid INTEGER, ended_at BIGINT, duration_s DOUBLE PRECISION, outcome TEXT,
       exit_status INTEGER, signal TEXT, detail TEXT, UNIQUE (run, call_id));
     INSERT INTO calls (host, run, call_id, line, started_at, outcome) VALUES ('pi1', 'old', '1', 'ttyS0', ${T0}, 'completed');`,
    db,
  );
  const url = c.url({ database: db });
  const [a, b] = await Promise.all([PgRecordStore.open(url, { migrate: true }), PgRecordStore.open(url, { migrate: true })]);
  try {
    await a.apply(
      ops(
        [
          { type: 'call-start', line: 'ttyS1', callId: 'f', at: T0 + 1000 },
          { type: 'call-fax', line: 'ttyS1', callId: 'f', at: T0 + 2000, fax: { pages: 1, senderId: 'S', speed: 9600, resolution: 'normal', hangupCode: 0, files: ['/x.01'], end: 'complete' } },
        ],
        'pi2',
        'new',
      ),
    );
    const rows = await b.query();
    assert.deepEqual(rows.map((r) => [r.run, r.outcome, r.faxPages, r.faxFiles, r.faxEnd]), [
      ['new', null, 1, ['/x.01'], 'complete'],
      ['old', 'completed', null, null, null],
    ]);
    assert.equal(c.psql('SELECT string_agg(version::text, \',\' ORDER BY version) FROM schema_version', db).trim(), '1,2');
  } finally {
    await a.close();
    await b.close();
  }
});
