/**
 * The call records as two backends share them: SQLite (records.ts, the embedded default)
 * and PostgreSQL (records-pg.ts, one database for a pool of hosts). Both store the same
 * rows and take the same writes: a RecordOp is one call event as an UPSERT keyed by
 * (run, call_id), so applying an op twice leaves the row as applying it once did. That
 * is what lets the queue (record-queue.ts) resend after a failure without duplicates.
 */
import type { CallOutcome, DaemonEvent } from './events.js';

/** One call as stored. Times are ms since the epoch; null = not (yet) known. */
export interface CallRow {
  id: number;
  /** The host whose daemon wrote the row (os.hostname() unless configured); null in rows from before schema 2. */
  host: string | null;
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
  /** Fax calls (schema 3): pages stored, else null for a data call. */
  faxPages: number | null;
  /** The sender's station id (+FTSI/+FTI), as it sent it. */
  faxSenderId: string | null;
  /** Line rate in bit/s. */
  faxSpeed: number | null;
  faxResolution: 'normal' | 'fine' | null;
  /** The modem's hang-up code (0 = normal), -1 for our side's failures (spool, disk full). */
  faxHangupCode: number | null;
  /** The page files, then the PDF and TIFF. */
  faxFiles: string[] | null;
  /** `complete`, or how it broke off (`carrier-lost`, `modem-hangup`, `timeout`, `spool-failed`, ...). */
  faxEnd: string | null;
}

/** The fax columns of a row, as stored (files as JSON text). */
export const FAX_COLUMNS = ['fax_pages', 'fax_sender_id', 'fax_speed', 'fax_resolution', 'fax_hangup_code', 'fax_files', 'fax_end'] as const;

/** A row as the SELECT gives it (fax files still JSON text) made a CallRow. */
export function rowFromDb(r: Omit<CallRow, 'faxFiles'> & { faxFiles: string | null }): CallRow {
  let files: string[] | null = null;
  if (r.faxFiles !== null) {
    try {
      const v: unknown = JSON.parse(r.faxFiles);
      files = Array.isArray(v) ? v.map(String) : null;
    } catch {
      files = null;
    }
  }
  return { ...r, faxFiles: files };
}

/** A received fax as a write. */
export interface FaxFields {
  pages: number;
  senderId: string;
  speed: number | null;
  resolution: 'normal' | 'fine' | null;
  hangupCode: number;
  files: string[];
  end: string;
}

export interface CallQuery {
  /** Exact host name. */
  host?: string;
  /** Exact line name (`ttyS0`). */
  line?: string;
  /** Calls that started at or after this time (ms since the epoch). */
  since?: number;
  /** Exact outcome; `unfinished` = no outcome (running, or the daemon died during the call). */
  outcome?: CallOutcome | 'unfinished';
  limit?: number;
  /** Only fax calls (rows with fax columns). */
  fax?: boolean;
}

/** One group of `tgetty calls --summary`. */
export interface SummaryRow {
  host: string | null;
  line: string;
  calls: number;
  /** Calls that reached CONNECT. */
  answered: number;
  /** Calls that ended with an outcome other than completed (missed and denied included). */
  failed: number;
  /** Mean duration of the finished calls, seconds; null when none finished. */
  meanDurationS: number | null;
  /** Mean RING -> ATA of the answered calls, ms. */
  meanRingToAtaMs: number | null;
}

/** One call event as a write. `at` is ms since the epoch. */
export type RecordOp =
  | { kind: 'start'; host: string; run: string; callId: string; line: string; at: number }
  | { kind: 'caller'; host: string; run: string; callId: string; line: string; at: number; callerId: string; callerName: string }
  | { kind: 'answering'; host: string; run: string; callId: string; line: string; at: number; ringToAtaMs: number }
  | { kind: 'connect'; host: string; run: string; callId: string; line: string; at: number; connect: string }
  | { kind: 'session'; host: string; run: string; callId: string; line: string; at: number; loginName: string; program: string; pid: number }
  | { kind: 'fax'; host: string; run: string; callId: string; line: string; at: number; fax: FaxFields }
  | {
      kind: 'end';
      host: string;
      run: string;
      callId: string;
      line: string;
      at: number;
      outcome: CallOutcome;
      exitStatus: number | null;
      signal: string | null;
      detail: string | null;
    };

/** The write for a daemon event; undefined for events that are not about a call. */
export function eventToOp(e: DaemonEvent, run: string, host: string): RecordOp | undefined {
  const base = { host, run, line: e.line, at: Math.round(e.at) };
  switch (e.type) {
    case 'call-start':
      return { kind: 'start', ...base, callId: e.callId };
    case 'call-caller':
      return { kind: 'caller', ...base, callId: e.callId, callerId: e.callerId, callerName: e.callerName };
    case 'call-answering':
      return { kind: 'answering', ...base, callId: e.callId, ringToAtaMs: Math.round(e.ringToAtaMs) };
    case 'call-connect':
      return { kind: 'connect', ...base, callId: e.callId, connect: e.connect };
    case 'call-session':
      return { kind: 'session', ...base, callId: e.callId, loginName: e.loginName, program: e.program, pid: e.pid };
    case 'call-fax': {
      const f = e.fax;
      return {
        kind: 'fax',
        ...base,
        callId: e.callId,
        fax: { pages: f.pages, senderId: f.senderId, speed: f.speed, resolution: f.resolution, hangupCode: f.hangupCode, files: [...f.files], end: f.end },
      };
    }
    case 'call-end':
      return { kind: 'end', ...base, callId: e.callId, outcome: e.outcome, exitStatus: e.exitStatus ?? null, signal: e.signal ?? null, detail: e.detail ?? null };
    case 'line-state':
    case 'modem-init':
    case 'line-error':
      return undefined;
    default: {
      const never: never = e;
      return never;
    }
  }
}

/** One call's writes of a batch folded into one row change (PostgreSQL sends a batch as one statement). */
export interface CallPatch {
  host: string;
  run: string;
  callId: string;
  line: string;
  /** For a new row: the first write's time, or an earlier call-start. */
  startedAt: number;
  caller?: { callerId: string; callerName: string };
  ringToAtaMs?: number;
  connect?: { at: number; connect: string };
  session?: { at: number; loginName: string; program: string; pid: number };
  end?: { at: number; outcome: CallOutcome; exitStatus: number | null; signal: string | null; detail: string | null };
  fax?: FaxFields;
}

/**
 * Fold writes into one patch per call, in the order the calls first appear. Applying the
 * patches gives the row that applying the writes one by one gives: a later write of a
 * kind replaces an earlier one, and a call-start can only move the start earlier.
 */
export function foldOps(ops: readonly RecordOp[]): CallPatch[] {
  const byCall = new Map<string, CallPatch>();
  for (const op of ops) {
    const key = `${op.run}\0${op.callId}`;
    let p = byCall.get(key);
    if (p === undefined) {
      p = { host: op.host, run: op.run, callId: op.callId, line: op.line, startedAt: op.at };
      byCall.set(key, p);
    }
    switch (op.kind) {
      case 'start':
        p.startedAt = Math.min(p.startedAt, op.at);
        break;
      case 'caller':
        p.caller = { callerId: op.callerId, callerName: op.callerName };
        break;
      case 'answering':
        p.ringToAtaMs = op.ringToAtaMs;
        break;
      case 'connect':
        p.connect = { at: op.at, connect: op.connect };
        break;
      case 'session':
        p.session = { at: op.at, loginName: op.loginName, program: op.program, pid: op.pid };
        break;
      case 'end':
        p.end = { at: op.at, outcome: op.outcome, exitStatus: op.exitStatus, signal: op.signal, detail: op.detail };
        break;
      case 'fax':
        p.fax = op.fax;
        break;
      default: {
        const never: never = op;
        return never;
      }
    }
  }
  return [...byCall.values()];
}

/** What both backends do. Reads and writes are async so one contract covers a network database. */
export interface RecordStore {
  readonly backend: 'sqlite' | 'postgresql';
  /** The file, or the URL without its password: safe to log and show. */
  readonly location: string;
  /** Apply writes in order, all or none. Applying the same ops again changes nothing. */
  apply(ops: readonly RecordOp[]): Promise<void>;
  /** Newest first. */
  query(q?: CallQuery): Promise<CallRow[]>;
  /** Per host and line, ordered by host then line. Honours host, line, since and outcome of `q`. */
  summary(q?: CallQuery): Promise<SummaryRow[]>;
  close(): Promise<void>;
}

// Where `--records`, TGETTY_RECORDS or `records-url` point: parsed in core, so the config's check uses it too.
export { parseRecordsTarget, redactUrl, type RecordsTarget } from '../core/records-url.js';

/** CallQuery's filters as SQL, for both backends (`$n` placeholders for PostgreSQL, `?` for SQLite). */
export function whereClause(q: CallQuery, placeholder: (i: number) => string): { sql: string; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (cond: (p: string) => string, v: unknown): void => {
    params.push(v);
    where.push(cond(placeholder(params.length)));
  };
  if (q.host !== undefined) add((p) => `host = ${p}`, q.host);
  if (q.line !== undefined) add((p) => `line = ${p}`, q.line);
  if (q.since !== undefined) add((p) => `started_at >= ${p}`, Math.floor(q.since));
  if (q.outcome === 'unfinished') where.push('outcome IS NULL');
  else if (q.outcome !== undefined) add((p) => `outcome = ${p}`, q.outcome);
  if (q.fax === true) where.push('fax_end IS NOT NULL');
  return { sql: where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '', params };
}

export const SUMMARY_SELECT = `host, line, COUNT(*) AS calls,
  SUM(CASE WHEN connect_at IS NOT NULL THEN 1 ELSE 0 END) AS answered,
  SUM(CASE WHEN outcome IS NOT NULL AND outcome <> 'completed' THEN 1 ELSE 0 END) AS failed,
  AVG(duration_s) AS "meanDurationS",
  AVG(CASE WHEN connect_at IS NOT NULL THEN ring_to_ata_ms END) AS "meanRingToAtaMs"`;
