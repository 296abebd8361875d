/**
 * Call records in PostgreSQL: one database for a pool of hosts. The same rows as the
 * SQLite backend plus `host`, written by the same RecordOps (idempotent UPSERTs keyed by
 * (run, call_id)), so a batch that is sent again after a lost COMMIT reply changes nothing.
 *
 * The daemon never waits for this: writes go through the queue in record-queue.ts. Every
 * query has a timeout, and an idle connection that dies (the server restarts) is dropped
 * by the pool instead of crashing the process.
 */
import { createRequire } from 'node:module';
import type pg from 'pg';
import { TgettyError } from '../core/errors.js';
import { FAX_COLUMNS, SUMMARY_SELECT, foldOps, redactUrl, rowFromDb, whereClause } from './record-store.js';
import type { CallQuery, CallRow, RecordOp, RecordStore, SummaryRow } from './record-store.js';

/** The newest PostgreSQL schema this code knows. Bump it and append to PG_MIGRATIONS together. */
export const PG_SCHEMA_VERSION = 2;

/** PG_MIGRATIONS[i] takes the schema from version i to i+1. Never edit a released entry. */
const PG_MIGRATIONS: readonly string[] = [
  `CREATE TABLE calls (
     id             BIGSERIAL PRIMARY KEY,
     host           TEXT    NOT NULL,
     run            TEXT    NOT NULL,
     call_id        TEXT    NOT NULL,
     line           TEXT    NOT NULL,
     started_at     BIGINT  NOT NULL,
     caller_id      TEXT,
     caller_name    TEXT,
     ring_to_ata_ms INTEGER,
     connect_at     BIGINT,
     connect        TEXT,
     session_at     BIGINT,
     login_name     TEXT,
     program        TEXT,
     pid            INTEGER,
     ended_at       BIGINT,
     duration_s     DOUBLE PRECISION,
     outcome        TEXT,
     exit_status    INTEGER,
     signal         TEXT,
     detail         TEXT,
     UNIQUE (run, call_id)
   );
   CREATE INDEX calls_started ON calls (started_at);
   CREATE INDEX calls_host_line_started ON calls (host, line, started_at);`,
  // 2: fax calls (docs/fax.md): what was received; NULL in data calls.
  `ALTER TABLE calls ADD COLUMN IF NOT EXISTS fax_pages INTEGER,
     ADD COLUMN IF NOT EXISTS fax_sender_id TEXT,
     ADD COLUMN IF NOT EXISTS fax_speed INTEGER,
     ADD COLUMN IF NOT EXISTS fax_resolution TEXT,
     ADD COLUMN IF NOT EXISTS fax_hangup_code INTEGER,
     ADD COLUMN IF NOT EXISTS fax_files TEXT,
     ADD COLUMN IF NOT EXISTS fax_end TEXT;`,
];

/** Any constant: the advisory lock that makes two daemons migrating at once take turns. */
const MIGRATION_LOCK = 7_415_001;

export interface PgStoreOptions {
  /** Create or upgrade the schema (the daemon); false for `tgetty calls`, which never changes anything. */
  migrate?: boolean;
  connectTimeoutMs?: number;
  /** Longest a statement may run (server side) and a query may wait (client side). */
  queryTimeoutMs?: number;
  log?: { error(msg: string, fields?: Record<string, unknown>): void };
}

const SELECT_COLUMNS = `id, host, run, call_id AS "callId", line, started_at AS "startedAt", caller_id AS "callerId",
  caller_name AS "callerName", ring_to_ata_ms AS "ringToAtaMs", connect_at AS "connectAt", connect,
  session_at AS "sessionAt", login_name AS "loginName", program, pid, ended_at AS "endedAt",
  duration_s AS "durationS", outcome, exit_status AS "exitStatus", signal, detail,
  fax_pages AS "faxPages", fax_sender_id AS "faxSenderId", fax_speed AS "faxSpeed", fax_resolution AS "faxResolution",
  fax_hangup_code AS "faxHangupCode", fax_files AS "faxFiles", fax_end AS "faxEnd"`;

/**
 * pg is loaded by the first PostgreSQL store: a daemon with SQLite records or none never
 * needs it, and loading it costs start-up time and memory (issue 21: about 16 MB of PSS in
 * a Node process of its own). A CommonJS package, so a plain require can load it on demand.
 */
let pgLib: typeof pg | undefined;
function pgModule(): typeof pg {
  pgLib ??= createRequire(import.meta.url)('pg') as typeof pg;
  return pgLib;
}

// BIGINT, NUMERIC (AVG of integers) as numbers: every value here is far below 2^53.
const INT8 = 20;
const NUMERIC = 1700;
const types = {
  getTypeParser: ((oid: number, format?: string) => {
    if (oid === INT8 || oid === NUMERIC) return (v: string) => Number(v);
    return (pgModule().types.getTypeParser as (o: number, f?: string) => unknown)(oid, format);
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** A pg error as one clear sentence naming the database (never its password). */
export function describePgError(err: unknown, display: string): string {
  const e = err as { code?: string; message?: string } | undefined;
  const msg = e?.message ?? String(err);
  switch (e?.code) {
    case 'ECONNREFUSED':
      return `cannot connect to ${display}: connection refused (is PostgreSQL running there?)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot connect to ${display}: unknown host`;
    case '28P01':
    case '28000':
      return `${display} refused the login: ${msg}`;
    case '3D000':
      return `${display}: ${msg}`;
    default:
      return `${display}: ${msg}`;
  }
}

/**
 * A whole batch in one statement: the writes folded into one patch per call (foldOps), sent
 * as arrays and unnested, each patch an UPSERT. A group of columns is taken from the patch
 * only when its write was in the batch (its key column is not NULL), so a replayed or
 * partial batch leaves the row as the writes one by one would. One round trip per batch
 * instead of one per event: the sender keeps up with 64 lines ending calls at once.
 */
const BATCH_COLUMNS: readonly [string, string][] = [
  ['host', 'text'], ['run', 'text'], ['call_id', 'text'], ['line', 'text'], ['started_at', 'bigint'],
  ['caller_id', 'text'], ['caller_name', 'text'], ['ring_to_ata_ms', 'int'], ['connect_at', 'bigint'], ['connect', 'text'],
  ['session_at', 'bigint'], ['login_name', 'text'], ['program', 'text'], ['pid', 'int'],
  ['ended_at', 'bigint'], ['duration_s', 'float8'], ['outcome', 'text'], ['exit_status', 'int'], ['signal', 'text'], ['detail', 'text'],
  ['fax_pages', 'int'], ['fax_sender_id', 'text'], ['fax_speed', 'int'], ['fax_resolution', 'text'], ['fax_hangup_code', 'int'], ['fax_files', 'text'], ['fax_end', 'text'],
];
const when = (key: string, cols: string[]): string => cols.map((c) => `${c} = CASE WHEN EXCLUDED.${key} IS NOT NULL THEN EXCLUDED.${c} ELSE calls.${c} END`).join(',\n  ');
const BATCH_SQL = `INSERT INTO calls (${BATCH_COLUMNS.map(([c]) => c).join(', ')})
SELECT * FROM unnest(${BATCH_COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')})
ON CONFLICT (run, call_id) DO UPDATE SET
  started_at = LEAST(calls.started_at, EXCLUDED.started_at),
  ${when('caller_id', ['caller_id', 'caller_name'])},
  ring_to_ata_ms = COALESCE(EXCLUDED.ring_to_ata_ms, calls.ring_to_ata_ms),
  ${when('connect_at', ['connect_at', 'connect'])},
  ${when('session_at', ['session_at', 'login_name', 'program', 'pid'])},
  duration_s = CASE WHEN EXCLUDED.ended_at IS NOT NULL THEN (EXCLUDED.ended_at - LEAST(calls.started_at, EXCLUDED.started_at)) / 1000.0 ELSE calls.duration_s END,
  ${when('ended_at', ['ended_at', 'outcome', 'exit_status', 'signal', 'detail'])},
  ${when('fax_end', [...FAX_COLUMNS])}`;

function batchParams(ops: readonly RecordOp[]): unknown[][] {
  const cols: unknown[][] = BATCH_COLUMNS.map(() => []);
  for (const p of foldOps(ops)) {
    const row = [
      p.host, p.run, p.callId, p.line, p.startedAt,
      p.caller?.callerId ?? null, p.caller?.callerName ?? null, p.ringToAtaMs ?? null, p.connect?.at ?? null, p.connect?.connect ?? null,
      p.session?.at ?? null, p.session?.loginName ?? null, p.session?.program ?? null, p.session?.pid ?? null,
      // A new row: the start is the patch's; an existing one gets it recomputed by the statement.
      p.end?.at ?? null, p.end !== undefined ? (p.end.at - p.startedAt) / 1000 : null, p.end?.outcome ?? null, p.end?.exitStatus ?? null, p.end?.signal ?? null, p.end?.detail ?? null,
      p.fax?.pages ?? null, p.fax?.senderId ?? null, p.fax?.speed ?? null, p.fax?.resolution ?? null, p.fax?.hangupCode ?? null,
      p.fax !== undefined ? JSON.stringify(p.fax.files) : null, p.fax?.end ?? null,
    ];
    row.forEach((v, i) => cols[i].push(v));
  }
  return cols;
}

export class PgRecordStore implements RecordStore {
  readonly backend = 'postgresql' as const;
  readonly location: string;
  private closed = false;

  private constructor(private readonly pool: pg.Pool, display: string) {
    this.location = display;
  }

  /**
   * Connect, check the schema (and with `migrate`, create or upgrade it). Throws TgettyError
   * RECORDS_FAILED with a clear message: unreachable, login refused, not a tgetty database,
   * schema too new; `context.missing` when a reader finds no tgetty tables yet.
   */
  static async open(url: string, opts: PgStoreOptions = {}): Promise<PgRecordStore> {
    const display = redactUrl(url);
    const queryTimeout = opts.queryTimeoutMs ?? 10_000;
    const pool = new (pgModule().Pool)({
      connectionString: url,
      max: 2,
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      query_timeout: queryTimeout,
      statement_timeout: queryTimeout,
      application_name: 'tgetty',
      types,
    });
    // An idle connection whose server went away emits 'error' on the pool: without a
    // listener that is an uncaught exception. The pool drops the client; the next query reconnects.
    pool.on('error', (err) => opts.log?.error(`call records ${display}: connection lost: ${describePgError(err, display)}`));
    // The same for a client that is checked out but between two queries when the server goes
    // (a shutdown sends 57P01): the pool only listens on idle ones. The query in flight, or
    // the next one, fails and the batch stays queued.
    pool.on('connect', (client) => {
      client.on('error', () => undefined);
    });
    const store = new PgRecordStore(pool, display);
    try {
      if (opts.migrate === true) await store.migrate();
      else await store.checkSchema();
      return store;
    } catch (err) {
      await pool.end().catch(() => undefined);
      if (err instanceof TgettyError) throw err;
      throw new TgettyError('RECORDS_FAILED', describePgError(err, display), { url: display }, { cause: err });
    }
  }

  private async tables(c: pg.ClientBase): Promise<{ calls: boolean; version: boolean }> {
    const r = await c.query<{ calls: string | null; version: string | null }>("SELECT to_regclass('calls')::text AS calls, to_regclass('schema_version')::text AS version");
    return { calls: r.rows[0].calls !== null, version: r.rows[0].version !== null };
  }

  private async currentVersion(c: pg.ClientBase): Promise<number> {
    const t = await this.tables(c);
    if (!t.version) {
      if (t.calls) throw new TgettyError('RECORDS_FAILED', `${this.location} has a 'calls' table but no schema_version: not a tgetty call records database`, { url: this.location });
      return 0;
    }
    const r = await c.query<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_version');
    const v = r.rows[0].v ?? 0;
    if (v > PG_SCHEMA_VERSION) {
      throw new TgettyError('RECORDS_FAILED', `${this.location} has call records schema ${v}, newer than this tgetty knows (${PG_SCHEMA_VERSION}); upgrade tgetty`, { url: this.location });
    }
    return v;
  }

  private async checkSchema(): Promise<void> {
    const c = await this.pool.connect();
    try {
      const v = await this.currentVersion(c);
      if (v === 0) throw new TgettyError('RECORDS_FAILED', `no call records in ${this.location} yet`, { url: this.location, missing: true });
    } finally {
      c.release();
    }
  }

  /** Create or upgrade the schema. In one transaction under an advisory lock: harmless to run twice, or from two hosts at once. */
  async migrate(): Promise<void> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const v = await this.currentVersion(c);
      if (v === 0) await c.query('CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
      for (let i = v; i < PG_SCHEMA_VERSION; i++) {
        await c.query(PG_MIGRATIONS[i]);
        await c.query('INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)', [i + 1, Date.now()]);
      }
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  async apply(ops: readonly RecordOp[]): Promise<void> {
    if (ops.length === 0) return;
    const c = await this.pool.connect();
    let broken = false;
    try {
      // One statement: atomic on its own, no BEGIN/COMMIT round trips.
      await c.query(BATCH_SQL, batchParams(ops));
    } catch (err) {
      broken = true;
      throw new TgettyError('RECORDS_FAILED', describePgError(err, this.location), { url: this.location }, { cause: err });
    } finally {
      // A connection that failed mid-transaction is not given back for reuse.
      c.release(broken ? true : undefined);
    }
  }

  async query(q: CallQuery = {}): Promise<CallRow[]> {
    const w = whereClause(q, (i) => `$${i}`);
    let sql = `SELECT ${SELECT_COLUMNS} FROM calls${w.sql} ORDER BY started_at DESC, id DESC`;
    if (q.limit !== undefined) {
      w.params.push(Math.max(0, Math.floor(q.limit)));
      sql += ` LIMIT $${w.params.length}`;
    }
    return (await this.pool.query<Parameters<typeof rowFromDb>[0]>(sql, w.params)).rows.map(rowFromDb);
  }

  async summary(q: CallQuery = {}): Promise<SummaryRow[]> {
    const w = whereClause(q, (i) => `$${i}`);
    return (await this.pool.query<SummaryRow>(`SELECT ${SUMMARY_SELECT} FROM calls${w.sql} GROUP BY host, line ORDER BY host, line`, w.params)).rows;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
