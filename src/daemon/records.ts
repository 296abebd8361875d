/**
 * Call records: one SQLite row per call, written from the daemon's events.
 *
 * Every event is one autocommitted statement, so a row is on disk as soon as the call's
 * state changes and survives a daemon crash (WAL, synchronous=NORMAL: durable against a
 * process crash; a power cut may lose the last commits but never corrupts the file).
 * Every update is an UPSERT keyed by (run, call_id): an event for a call whose start was
 * never recorded (the disk was full then) still produces a row. Writing never throws out
 * of emit(): a records problem must not disturb a line.
 */
import Database from 'better-sqlite3';
import { closeSync, existsSync, fchmodSync, mkdirSync, openSync, readFileSync, constants as fsc } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { TgettyError, errnoCode } from '../core/errors.js';
import type { DaemonEvent, EventSink } from './events.js';
import { FAX_COLUMNS, SUMMARY_SELECT, eventToOp, rowFromDb, whereClause } from './record-store.js';
import type { CallQuery, CallRow, RecordOp, RecordStore, SummaryRow } from './record-store.js';

export type { CallQuery, CallRow, SummaryRow } from './record-store.js';

export const DEFAULT_RECORDS_FILE = '/var/lib/tgetty/calls.sqlite';

/** The newest schema this code knows. Bump it and append to MIGRATIONS together. */
export const RECORDS_SCHEMA_VERSION = 3;

/** The writer's SQLite page cache, KiB (SQLite's default is 2000). */
export const RECORDS_CACHE_KIB = 256;

/** MIGRATIONS[i] takes the schema from version i to i+1. Never edit a released entry. */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE calls (
     id             INTEGER PRIMARY KEY,
     run            TEXT    NOT NULL,
     call_id        TEXT    NOT NULL,
     line           TEXT    NOT NULL,
     started_at     INTEGER NOT NULL,
     caller_id      TEXT,
     caller_name    TEXT,
     ring_to_ata_ms INTEGER,
     connect_at     INTEGER,
     connect        TEXT,
     session_at     INTEGER,
     login_name     TEXT,
     program        TEXT,
     pid            INTEGER,
     ended_at       INTEGER,
     duration_s     REAL,
     outcome        TEXT,
     exit_status    INTEGER,
     signal         TEXT,
     detail         TEXT,
     UNIQUE (run, call_id)
   );
   CREATE INDEX calls_started ON calls (started_at);
   CREATE INDEX calls_line_started ON calls (line, started_at);`,
  // 2: the pool (PostgreSQL) stores the host; locally it is this host. The outbox holds the
  // writes still to be sent to a PostgreSQL database (record-queue.ts), in order.
  `ALTER TABLE calls ADD COLUMN host TEXT;
   CREATE TABLE outbox (
     seq     INTEGER PRIMARY KEY AUTOINCREMENT,
     run     TEXT NOT NULL,
     call_id TEXT NOT NULL,
     op      TEXT NOT NULL
   );`,
  // 3: fax calls (docs/fax.md): what was received; NULL in data calls.
  `ALTER TABLE calls ADD COLUMN fax_pages INTEGER;
   ALTER TABLE calls ADD COLUMN fax_sender_id TEXT;
   ALTER TABLE calls ADD COLUMN fax_speed INTEGER;
   ALTER TABLE calls ADD COLUMN fax_resolution TEXT;
   ALTER TABLE calls ADD COLUMN fax_hangup_code INTEGER;
   ALTER TABLE calls ADD COLUMN fax_files TEXT;
   ALTER TABLE calls ADD COLUMN fax_end TEXT;`,
];

export interface RecordsLog {
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface CallRecordsOptions {
  log?: RecordsLog;
  /** How long a write waits for a lock held by another connection; default 1000 ms. */
  busyTimeoutMs?: number;
  /** Stored in every row; default os.hostname(). */
  host?: string;
}

const SELECT_COLUMNS = `id, host, run, call_id AS callId, line, started_at AS startedAt, caller_id AS callerId,
  caller_name AS callerName, ring_to_ata_ms AS ringToAtaMs, connect_at AS connectAt, connect,
  session_at AS sessionAt, login_name AS loginName, program, pid, ended_at AS endedAt,
  duration_s AS durationS, outcome, exit_status AS exitStatus, signal, detail,
  fax_pages AS faxPages, fax_sender_id AS faxSenderId, fax_speed AS faxSpeed, fax_resolution AS faxResolution,
  fax_hangup_code AS faxHangupCode, fax_files AS faxFiles, fax_end AS faxEnd`;

function queryCalls(db: Database.Database, q: CallQuery): CallRow[] {
  const w = whereClause(q, () => '?');
  let sql = `SELECT ${SELECT_COLUMNS} FROM calls${w.sql} ORDER BY started_at DESC, id DESC`;
  if (q.limit !== undefined) {
    sql += ' LIMIT ?';
    w.params.push(Math.max(0, Math.floor(q.limit)));
  }
  return (db.prepare(sql).all(...w.params) as Parameters<typeof rowFromDb>[0][]).map(rowFromDb);
}

function summaryOf(db: Database.Database, q: CallQuery): SummaryRow[] {
  const w = whereClause(q, () => '?');
  return db.prepare(`SELECT ${SUMMARY_SELECT} FROM calls${w.sql} GROUP BY host, line ORDER BY host, line`).all(...w.params) as SummaryRow[];
}

function userTables(db: Database.Database): string[] {
  const rows = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
  return rows.map((r) => r.name);
}

/** The schema version of an open database: 0 = empty file; throws if it is some other database. */
function schemaVersion(db: Database.Database, file: string): number {
  const tables = userTables(db);
  if (tables.length === 0) return 0;
  if (!tables.includes('schema_version') || !tables.includes('calls')) {
    throw new TgettyError('RECORDS_FAILED', `${file} is not a tgetty call records database (tables: ${tables.join(', ')})`, { file });
  }
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null } | undefined;
  return row?.v ?? 0;
}

function tooNew(file: string, v: number): TgettyError {
  return new TgettyError('RECORDS_FAILED', `${file} has call records schema ${v}, newer than this tgetty knows (${RECORDS_SCHEMA_VERSION}); upgrade tgetty`, { file });
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** mkdir -p with mode 0750 for the dirs it creates; unlike Node's recursive mkdir it reports the real errno (EROFS, not ENOENT). */
function mkdirP(dir: string): void {
  if (existsSync(dir)) return;
  const parent = dirname(dir);
  if (parent !== dir) mkdirP(parent);
  try {
    mkdirSync(dir, { mode: 0o750 });
  } catch (err) {
    if (errnoCode(err) !== 'EEXIST') throw err;
  }
}

/** Create the file with mode 0640 if it does not exist yet (SQLite gives -wal/-shm the same mode). */
function createFile(file: string): void {
  mkdirP(dirname(file));
  let fd: number; // libuv opens every fd with O_CLOEXEC
  try {
    fd = openSync(file, fsc.O_CREAT | fsc.O_EXCL | fsc.O_WRONLY, 0o640);
  } catch (err) {
    if (errnoCode(err) === 'EEXIST') return;
    throw err;
  }
  try {
    fchmodSync(fd, 0o640); // umask may have removed bits we want, or left more than we want
  } finally {
    closeSync(fd);
  }
}

type Stmt = Database.Statement;

/** The prepared UPSERTs: one per RecordOp kind, each inserting the row if the call is unknown. */
class OpWriter {
  private readonly stmts: Record<RecordOp['kind'], Stmt>;

  constructor(db: Database.Database) {
    // Each statement inserts the row if the call is unknown, so no event is lost for want of a call-start.
    const upsert = (cols: string[], update: string): Stmt =>
      db.prepare(
        `INSERT INTO calls (host, run, call_id, line, started_at${cols.map((c) => `, ${c}`).join('')})
         VALUES (@host, @run, @callId, @line, @at${cols.map((c) => `, @${c}`).join('')})
         ON CONFLICT (run, call_id) DO UPDATE SET ${update}`,
      );
    this.stmts = {
      start: db.prepare(
        `INSERT INTO calls (host, run, call_id, line, started_at) VALUES (@host, @run, @callId, @line, @at)
         ON CONFLICT (run, call_id) DO UPDATE SET started_at = MIN(started_at, excluded.started_at)`,
      ),
      caller: upsert(['caller_id', 'caller_name'], 'caller_id = excluded.caller_id, caller_name = excluded.caller_name'),
      answering: upsert(['ring_to_ata_ms'], 'ring_to_ata_ms = excluded.ring_to_ata_ms'),
      connect: upsert(['connect_at', 'connect'], 'connect_at = excluded.connect_at, connect = excluded.connect'),
      session: upsert(
        ['session_at', 'login_name', 'program', 'pid'],
        'session_at = excluded.session_at, login_name = excluded.login_name, program = excluded.program, pid = excluded.pid',
      ),
      end: upsert(
        ['ended_at', 'duration_s', 'outcome', 'exit_status', 'signal', 'detail'],
        `ended_at = excluded.ended_at, duration_s = (excluded.ended_at - calls.started_at) / 1000.0, outcome = excluded.outcome,
         exit_status = excluded.exit_status, signal = excluded.signal, detail = excluded.detail`,
      ),
      fax: upsert([...FAX_COLUMNS], FAX_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')),
    };
  }

  run(op: RecordOp): void {
    const base = { host: op.host, run: op.run, callId: op.callId, line: op.line, at: op.at };
    switch (op.kind) {
      case 'start':
        this.stmts.start.run(base);
        return;
      case 'caller':
        this.stmts.caller.run({ ...base, caller_id: op.callerId, caller_name: op.callerName });
        return;
      case 'answering':
        this.stmts.answering.run({ ...base, ring_to_ata_ms: op.ringToAtaMs });
        return;
      case 'connect':
        this.stmts.connect.run({ ...base, connect_at: op.at, connect: op.connect });
        return;
      case 'session':
        this.stmts.session.run({ ...base, session_at: op.at, login_name: op.loginName, program: op.program, pid: op.pid });
        return;
      case 'end':
        this.stmts.end.run({
          ...base,
          ended_at: op.at,
          duration_s: 0, // only used when the row is new: start unknown, so start = end
          outcome: op.outcome,
          exit_status: op.exitStatus,
          signal: op.signal,
          detail: op.detail,
        });
        return;
      case 'fax':
        this.stmts.fax.run({
          ...base,
          fax_pages: op.fax.pages,
          fax_sender_id: op.fax.senderId,
          fax_speed: op.fax.speed,
          fax_resolution: op.fax.resolution,
          fax_hangup_code: op.fax.hangupCode,
          fax_files: JSON.stringify(op.fax.files),
          fax_end: op.fax.end,
        });
        return;
      default: {
        const never: never = op;
        return never;
      }
    }
  }
}

/** One queued write in the outbox: `seq` orders them and is what a send acknowledges. */
export interface OutboxEntry {
  seq: number;
  op: RecordOp;
}

/** The outbox table of an open records file (see record-queue.ts). Every method may throw (disk full...). */
export interface SqliteOutbox {
  push(op: RecordOp): void;
  /** The oldest `n` entries, in order. */
  peek(n: number): OutboxEntry[];
  /** Remove every entry up to and including `seq`. */
  ack(seq: number): void;
  /** Entries waiting, and the distinct calls they belong to. */
  count(): { events: number; calls: number };
}

export class CallRecords implements EventSink {
  readonly file: string;
  /** This writer's run id (stored in every row it writes). */
  readonly run: string;
  readonly host: string;
  private readonly db: Database.Database;
  private readonly log: RecordsLog | undefined;
  private readonly writer: OpWriter;
  private closed = false;
  private errors = 0;
  private writes = 0;
  private failing = 0;
  private last: string | undefined;
  private outboxView: SqliteOutbox | undefined;

  private constructor(file: string, db: Database.Database, log: RecordsLog | undefined, host: string) {
    this.file = file;
    this.db = db;
    this.log = log;
    this.host = host;
    this.run = randomUUID();
    this.writer = new OpWriter(db);
  }

  /**
   * Open (creating if needed) the records file for writing: parent dir 0750, file 0640,
   * WAL, schema migrated to the current version. Throws TgettyError RECORDS_FAILED when the
   * file cannot be used (the daemon logs it and runs without records).
   */
  static open(file: string, opts: CallRecordsOptions = {}): CallRecords {
    let db: Database.Database | undefined;
    try {
      createFile(file);
      db = new Database(file, { timeout: opts.busyTimeoutMs ?? 1000 });
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      // The writer only touches the newest pages (appends, the right edge of the indexes).
      // SQLite's default 2 MB cache just filled with old rows: ~260 bytes of RSS per call
      // until full (4,000 calls: +1 MB; with 256 KiB: flat after 1,000). Readers have their own.
      db.pragma(`cache_size = -${RECORDS_CACHE_KIB}`);
      const migrate = db.transaction(() => {
        const v = schemaVersion(db!, file);
        if (v > RECORDS_SCHEMA_VERSION) throw tooNew(file, v);
        if (v === 0) db!.exec('CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at INTEGER NOT NULL)');
        for (let i = v; i < RECORDS_SCHEMA_VERSION; i++) {
          db!.exec(MIGRATIONS[i]);
          db!.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(i + 1, Date.now());
        }
      });
      // IMMEDIATE: two daemons opening at once serialise instead of failing the upgrade halfway.
      migrate.immediate();
      return new CallRecords(file, db, opts.log, opts.host ?? hostname());
    } catch (err) {
      db?.close();
      if (err instanceof TgettyError) throw err;
      throw new TgettyError('RECORDS_FAILED', `cannot open call records ${file}: ${describe(err)}`, { file }, { cause: err });
    }
  }

  /** Statements that failed (disk full, read-only, locked...) since open. */
  get errorCount(): number {
    return this.errors;
  }

  /** Statements that succeeded since open. */
  get writeCount(): number {
    return this.writes;
  }

  get lastError(): string | undefined {
    return this.last;
  }

  emit(e: DaemonEvent): void {
    if (this.closed) return;
    const op = eventToOp(e, this.run, this.host);
    if (op === undefined) return;
    try {
      this.writer.run(op);
      this.writes++;
      if (this.failing > 0) {
        this.log?.error(`call records ${this.file}: writing again after ${this.failing} failed write(s)`, { file: this.file });
        this.failing = 0;
      }
    } catch (err) {
      this.errors++;
      this.last = describe(err);
      // One log entry per streak: a full disk must not flood the log (which may sit on the same disk).
      if (this.failing++ === 0) {
        this.log?.error(`call records ${this.file}: cannot record ${e.type}: ${this.last}`, {
          file: this.file,
          event: e.type,
          callId: op.callId,
          code: errnoCode(err),
        });
      }
    }
  }

  /** Apply writes in one transaction (all or none); throws on failure. */
  applyOps(ops: readonly RecordOp[]): void {
    this.db.transaction(() => {
      for (const op of ops) this.writer.run(op);
    })();
  }

  /** Newest first. */
  query(q: CallQuery = {}): CallRow[] {
    return queryCalls(this.db, q);
  }

  summary(q: CallQuery = {}): SummaryRow[] {
    return summaryOf(this.db, q);
  }

  /** The outbox table in this file: the spill of the queue to a PostgreSQL pool. */
  outbox(): SqliteOutbox {
    if (this.outboxView !== undefined) return this.outboxView;
    const push = this.db.prepare('INSERT INTO outbox (run, call_id, op) VALUES (?, ?, ?)');
    const peek = this.db.prepare('SELECT seq, op FROM outbox ORDER BY seq LIMIT ?');
    const ack = this.db.prepare('DELETE FROM outbox WHERE seq <= ?');
    const count = this.db.prepare("SELECT COUNT(*) AS events, COUNT(DISTINCT run || ' ' || call_id) AS calls FROM outbox");
    this.outboxView = {
      push: (op) => void push.run(op.run, op.callId, JSON.stringify(op)),
      peek: (n) => (peek.all(n) as { seq: number; op: string }[]).map((r) => ({ seq: r.seq, op: JSON.parse(r.op) as RecordOp })),
      ack: (seq) => void ack.run(seq),
      count: () => count.get() as { events: number; calls: number },
    };
    return this.outboxView;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

/** The SQLite backend as a RecordStore (the contract suite, and `tgetty calls`). */
export class SqliteRecordStore implements RecordStore {
  readonly backend = 'sqlite' as const;
  readonly location: string;

  constructor(readonly records: CallRecords) {
    this.location = records.file;
  }

  static open(file: string, opts: CallRecordsOptions = {}): SqliteRecordStore {
    return new SqliteRecordStore(CallRecords.open(file, opts));
  }

  apply(ops: readonly RecordOp[]): Promise<void> {
    return new Promise((resolve) => {
      this.records.applyOps(ops);
      resolve();
    });
  }

  query(q: CallQuery = {}): Promise<CallRow[]> {
    return new Promise((resolve) => resolve(this.records.query(q)));
  }

  summary(q: CallQuery = {}): Promise<SummaryRow[]> {
    return new Promise((resolve) => resolve(this.records.summary(q)));
  }

  close(): Promise<void> {
    this.records.close();
    return Promise.resolve();
  }
}

/** A read-only view of a records file (`tgetty calls`). */
export class CallRecordsReader {
  readonly file: string;
  private readonly db: Database.Database;

  private constructor(file: string, db: Database.Database) {
    this.file = file;
    this.db = db;
  }

  /**
   * Open read-only; never creates or changes anything. Throws TgettyError RECORDS_FAILED
   * for a missing file (context.missing = true), a file that is not a tgetty database,
   * or a schema newer than this code.
   */
  static open(file: string): CallRecordsReader {
    if (!existsSync(file)) throw new TgettyError('RECORDS_FAILED', `no call records at ${file} yet`, { file, missing: true });
    let db: Database.Database | undefined;
    try {
      try {
        db = new Database(file, { readonly: true, fileMustExist: true });
        db.prepare('SELECT 1 FROM sqlite_master LIMIT 1').get(); // WAL and format problems show here, not at open
      } catch (err) {
        db?.close();
        db = undefined;
        const code = errnoCode(err);
        // A reader that may not write the directory cannot create the -shm of a WAL file. With no
        // -wal file the main file holds every commit: read a copy, marked non-WAL (header bytes 18/19).
        if ((code === 'SQLITE_READONLY_DIRECTORY' || code === 'SQLITE_CANTOPEN') && !existsSync(`${file}-wal`)) {
          const buf = readFileSync(file);
          if (buf.length >= 20 && buf.toString('latin1', 0, 16) === 'SQLite format 3\0') {
            buf[18] = 1;
            buf[19] = 1;
          }
          db = new Database(buf, { readonly: true });
        } else {
          throw err;
        }
      }
      const v = schemaVersion(db, file);
      if (v === 0) throw new TgettyError('RECORDS_FAILED', `${file} is not a tgetty call records database (it is empty)`, { file });
      if (v > RECORDS_SCHEMA_VERSION) throw tooNew(file, v);
      return new CallRecordsReader(file, db);
    } catch (err) {
      db?.close();
      if (err instanceof TgettyError) throw err;
      const notDb = errnoCode(err) === 'SQLITE_NOTADB';
      throw new TgettyError(
        'RECORDS_FAILED',
        notDb ? `${file} is not a tgetty call records database (not an SQLite file)` : `cannot read call records ${file}: ${describe(err)}`,
        { file },
        { cause: err },
      );
    }
  }

  /** Newest first. */
  query(q: CallQuery = {}): CallRow[] {
    return queryCalls(this.db, q);
  }

  summary(q: CallQuery = {}): SummaryRow[] {
    return summaryOf(this.db, q);
  }

  close(): void {
    this.db.close();
  }
}
