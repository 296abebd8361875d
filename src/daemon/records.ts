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
import { dirname } from 'node:path';
import { TgettyError, errnoCode } from '../core/errors.js';
import type { CallOutcome, DaemonEvent, EventSink } from './events.js';

export const DEFAULT_RECORDS_FILE = '/var/lib/tgetty/calls.sqlite';

/** The newest schema this code knows. Bump it and append to MIGRATIONS together. */
export const RECORDS_SCHEMA_VERSION = 1;

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
];

/** One call as stored. Times are ms since the epoch; null = not (yet) known. */
export interface CallRow {
  id: number;
  /** The daemon run that wrote the row (a UUID per open()); call ids are unique only within a run. */
  run: string;
  callId: string;
  line: string;
  /** First sign of the call; for a row first seen mid-call, the time of its first recorded event. */
  startedAt: number;
  callerId: string | null;
  callerName: string | null;
  ringToAtaMs: number | null;
  connectAt: number | null;
  connect: string | null;
  sessionAt: number | null;
  /** The login name, or `/AutoPPP/`. */
  loginName: string | null;
  program: string | null;
  pid: number | null;
  endedAt: number | null;
  /** endedAt - startedAt in seconds. */
  durationS: number | null;
  /** null while the call runs, or when the daemon died during it. */
  outcome: CallOutcome | null;
  exitStatus: number | null;
  signal: string | null;
  detail: string | null;
}

export interface CallQuery {
  /** Exact line name (`ttyS0`). */
  line?: string;
  /** Calls that started at or after this time (ms since the epoch). */
  since?: number;
  limit?: number;
}

export interface RecordsLog {
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface CallRecordsOptions {
  log?: RecordsLog;
  /** How long a write waits for a lock held by another connection; default 1000 ms. */
  busyTimeoutMs?: number;
}

const SELECT_COLUMNS = `id, run, call_id AS callId, line, started_at AS startedAt, caller_id AS callerId,
  caller_name AS callerName, ring_to_ata_ms AS ringToAtaMs, connect_at AS connectAt, connect,
  session_at AS sessionAt, login_name AS loginName, program, pid, ended_at AS endedAt,
  duration_s AS durationS, outcome, exit_status AS exitStatus, signal, detail`;

function queryCalls(db: Database.Database, q: CallQuery): CallRow[] {
  const where: string[] = [];
  const params: Record<string, unknown> = {};
  if (q.line !== undefined) {
    where.push('line = @line');
    params.line = q.line;
  }
  if (q.since !== undefined) {
    where.push('started_at >= @since');
    params.since = Math.floor(q.since);
  }
  let sql = `SELECT ${SELECT_COLUMNS} FROM calls`;
  if (where.length > 0) sql += ` WHERE ${where.join(' AND ')}`;
  sql += ' ORDER BY started_at DESC, id DESC';
  if (q.limit !== undefined) {
    sql += ' LIMIT @limit';
    params.limit = Math.max(0, Math.floor(q.limit));
  }
  return db.prepare(sql).all(params) as CallRow[];
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

export class CallRecords implements EventSink {
  readonly file: string;
  /** This writer's run id (stored in every row it writes). */
  readonly run: string;
  private readonly db: Database.Database;
  private readonly log: RecordsLog | undefined;
  private readonly stmts: Record<'start' | 'caller' | 'answering' | 'connect' | 'session' | 'end', Stmt>;
  private closed = false;
  private errors = 0;
  private writes = 0;
  private failing = 0;
  private last: string | undefined;

  private constructor(file: string, db: Database.Database, log: RecordsLog | undefined) {
    this.file = file;
    this.db = db;
    this.log = log;
    this.run = randomUUID();
    // Each statement inserts the row if the call is unknown, so no event is lost for want of a call-start.
    const upsert = (cols: string[], update: string): Stmt =>
      db.prepare(
        `INSERT INTO calls (run, call_id, line, started_at${cols.map((c) => `, ${c}`).join('')})
         VALUES (@run, @callId, @line, @at${cols.map((c) => `, @${c}`).join('')})
         ON CONFLICT (run, call_id) DO UPDATE SET ${update}`,
      );
    this.stmts = {
      start: db.prepare(
        `INSERT INTO calls (run, call_id, line, started_at) VALUES (@run, @callId, @line, @at)
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
    };
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
      return new CallRecords(file, db, opts.log);
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
    const base = { run: this.run, callId: '', line: e.line, at: Math.round(e.at) };
    let stmt: Stmt;
    let params: Record<string, unknown>;
    switch (e.type) {
      case 'call-start':
        stmt = this.stmts.start;
        params = { ...base, callId: e.callId };
        break;
      case 'call-caller':
        stmt = this.stmts.caller;
        params = { ...base, callId: e.callId, caller_id: e.callerId, caller_name: e.callerName };
        break;
      case 'call-answering':
        stmt = this.stmts.answering;
        params = { ...base, callId: e.callId, ring_to_ata_ms: Math.round(e.ringToAtaMs) };
        break;
      case 'call-connect':
        stmt = this.stmts.connect;
        params = { ...base, callId: e.callId, connect_at: base.at, connect: e.connect };
        break;
      case 'call-session':
        stmt = this.stmts.session;
        params = { ...base, callId: e.callId, session_at: base.at, login_name: e.loginName, program: e.program, pid: e.pid };
        break;
      case 'call-end':
        stmt = this.stmts.end;
        params = {
          ...base,
          callId: e.callId,
          ended_at: base.at,
          duration_s: 0, // only used when the row is new: start unknown, so start = end
          outcome: e.outcome,
          exit_status: e.exitStatus ?? null,
          signal: e.signal ?? null,
          detail: e.detail ?? null,
        };
        break;
      case 'line-state':
      case 'modem-init':
      case 'line-error':
        return;
      default: {
        const never: never = e;
        return never;
      }
    }
    try {
      stmt.run(params);
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
          callId: e.callId,
          code: errnoCode(err),
        });
      }
    }
  }

  /** Newest first. */
  query(q: CallQuery = {}): CallRow[] {
    return queryCalls(this.db, q);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
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

  close(): void {
    this.db.close();
  }
}
