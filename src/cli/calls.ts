/**
 * `tgetty calls`: list the call records, newest first, as a table or as JSON.
 * Read-only: it never creates or changes the records file, so it is safe while the
 * daemon writes (WAL). A missing file is not an error: no calls were recorded yet.
 */
import { CallRecordsReader } from '../daemon/records.js';
import type { CallQuery, CallRow, SummaryRow } from '../daemon/records.js';
import { CALL_OUTCOMES, type CallOutcome } from '../daemon/events.js';
import { isTgettyError } from '../core/errors.js';
import { formatDuration, formatTable } from './table.js';

export interface CallsOptions {
  records: string;
  line?: string;
  since?: string;
  json: boolean;
  limit?: number;
  /** Exact host (the rows of a pool; SQLite rows carry the host that wrote them). */
  host?: string;
  /** An outcome, or `unfinished`. */
  outcome?: string;
  /** Per host and line: calls, answered, failed, mean duration. */
  summary?: boolean;
  out: (s: string) => void;
  err: (s: string) => void;
  /** "Now" for relative --since (ms since the epoch); default Date.now(). */
  now?: number;
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

export const SINCE_EXPECTED =
  'expected a date (2026-11-21), a local date and time (2026-11-21T19:00, 2026-11-21 19:00:30), an ISO time with Z or an offset, or an age like 30m, 2h, 7d (units s m h d w)';

export type SinceResult = { ok: true; ms: number } | { ok: false; message: string };

function daysIn(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/**
 * Parse --since: an age (`30m`, `2h`, `7d`, `1w`, `45s`) counted back from `now`, or an ISO
 * date/time. Without a zone the time is local (what the user's clock shows); a date alone
 * means its local midnight.
 */
export function parseSince(text: string, now: number): SinceResult {
  const s = text.trim();
  const bad = (why?: string): SinceResult => ({ ok: false, message: `bad --since '${text}': ${why !== undefined ? `${why}; ` : ''}${SINCE_EXPECTED}` });
  const rel = /^(\d{1,9})\s*([smhdw])$/i.exec(s);
  if (rel !== null) return { ok: true, ms: now - Number(rel[1]) * UNIT_MS[rel[2].toLowerCase()] };
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(s);
  if (m === null) return bad();
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [h, mi, sec] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  const ms = m[7] !== undefined ? Number(m[7].padEnd(3, '0')) : 0;
  if (mo < 1 || mo > 12) return bad(`no month ${mo}`);
  if (d < 1 || d > daysIn(y, mo)) return bad(`no day ${d} in ${m[1]}-${m[2]}`);
  if (h > 23 || mi > 59 || sec > 59) return bad('time out of range');
  const zone = m[8];
  if (zone !== undefined && m[4] === undefined) return bad('a zone needs a time');
  if (zone === undefined) {
    const t = new Date(y, mo - 1, d, h, mi, sec, ms);
    t.setFullYear(y); // years 0..99 would otherwise mean 19xx
    return { ok: true, ms: t.getTime() };
  }
  let offsetMin = 0;
  if (zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const oh = Number(z[2]);
    const om = Number(z[3] ?? 0);
    if (oh > 23 || om > 59) return bad('zone offset out of range');
    offsetMin = (z[1] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const utc = new Date(0);
  utc.setUTCFullYear(y, mo - 1, d);
  utc.setUTCHours(h, mi, sec, ms);
  return { ok: true, ms: utc.getTime() - offsetMin * 60_000 };
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Local `YYYY-MM-DD HH:MM:SS`: the records are read by people near the modems. */
export function formatTime(ms: number): string {
  const t = new Date(ms);
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())} ${pad(t.getHours())}:${pad(t.getMinutes())}:${pad(t.getSeconds())}`;
}

/** A fax call shows its pages (and how it broke off) as the program, its hang-up code as the exit. */
function programText(r: CallRow): string {
  if (r.faxEnd === null) return r.program ?? '-';
  const pages = `${r.faxPages ?? 0} page${r.faxPages === 1 ? '' : 's'}`;
  return r.faxEnd === 'complete' ? `fax (${pages})` : `fax (${pages}, ${r.faxEnd})`;
}

function exitText(r: CallRow): string {
  if (r.faxHangupCode !== null) return `FHNG ${r.faxHangupCode}`;
  if (r.signal !== null) return r.signal;
  if (r.exitStatus !== null) return String(r.exitStatus);
  return '-';
}

const COLUMNS: readonly [string, (r: CallRow) => string][] = [
  ['TIME', (r) => formatTime(r.startedAt)],
  ['LINE', (r) => r.line],
  ['DURATION', (r) => (r.durationS !== null ? formatDuration(Math.round(r.durationS) * 1000) : '-')],
  // No outcome: the call is still running, or the daemon died during it.
  ['OUTCOME', (r) => r.outcome ?? 'unfinished'],
  ['CALLER', (r) => r.callerId ?? '-'],
  ['NAME', (r) => r.callerName ?? '-'],
  ['CONNECT', (r) => r.connect ?? '-'],
  // A fax call has no login: its sender id stands there.
  ['LOGIN', (r) => r.loginName ?? r.faxSenderId ?? '-'],
  ['PROGRAM', programText],
  ['EXIT', exitText],
];

/** Control characters in caller names or connect strings would break the table (and the terminal). */
const clean = (s: string): string => (s === '' ? '-' : s.replace(/[\x00-\x1f\x7f]/g, '?'));  

/** The table; `withHost` adds a HOST column (the pool: rows of several hosts). */
export function formatCallsTable(rows: readonly CallRow[], withHost = false): string {
  const cols: (readonly [string, (r: CallRow) => string])[] = [...COLUMNS];
  if (withHost) cols.splice(1, 0, ['HOST', (r) => r.host ?? '-']);
  return formatTable(cols.map(([h]) => h), rows.map((r) => cols.map(([, f]) => clean(f(r)))));
}

export function formatSummary(rows: readonly SummaryRow[]): string {
  const mean = (v: number | null, f: (x: number) => string): string => (v === null ? '-' : f(v));
  return formatTable(
    ['HOST', 'LINE', 'CALLS', 'ANSWERED', 'FAILED', 'MEAN DURATION', 'MEAN RING-ATA'],
    rows.map((r) => [
      r.host ?? '-',
      r.line,
      String(r.calls),
      String(r.answered),
      String(r.failed),
      mean(r.meanDurationS, (x) => formatDuration(Math.round(x) * 1000)),
      mean(r.meanRingToAtaMs, (x) => `${Math.round(x)} ms`),
    ].map(clean)),
  );
}

/** The options as a query; prints the usage error and gives exit code 2 when one is bad. */
export function callsQuery(o: CallsOptions): { ok: true; q: CallQuery } | { ok: false; code: number } {
  const now = o.now ?? Date.now();
  let since: number | undefined;
  if (o.since !== undefined) {
    const r = parseSince(o.since, now);
    if (!r.ok) {
      o.err(`tgetty calls: ${r.message}\n`);
      return { ok: false, code: 2 };
    }
    since = r.ms;
  }
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 1)) {
    o.err(`tgetty calls: bad --limit '${o.limit}': expected a whole number of at least 1\n`);
    return { ok: false, code: 2 };
  }
  if (o.outcome !== undefined && o.outcome !== 'unfinished' && !CALL_OUTCOMES.includes(o.outcome as CallOutcome)) {
    o.err(`tgetty calls: bad --outcome '${clean(o.outcome)}': expected one of ${[...CALL_OUTCOMES, 'unfinished'].join(', ')}\n`);
    return { ok: false, code: 2 };
  }
  const line = o.line?.replace(/^\/dev\//, '');
  return {
    ok: true,
    q: {
      ...(o.host !== undefined ? { host: o.host } : {}),
      ...(line !== undefined ? { line } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(o.outcome !== undefined ? { outcome: o.outcome as CallOutcome | 'unfinished' } : {}),
      ...(o.limit !== undefined && o.summary !== true ? { limit: o.limit } : {}),
    },
  };
}

/** Print rows or a summary as the options ask. */
export function printCalls(o: CallsOptions, result: { rows?: readonly CallRow[]; summary?: readonly SummaryRow[] }, withHost: boolean): number {
  const data = result.summary ?? result.rows ?? [];
  if (o.json) {
    o.out(`${JSON.stringify(data, null, 2)}\n`);
    return 0;
  }
  if (data.length === 0) {
    o.out('no calls match\n');
    return 0;
  }
  o.out(result.summary !== undefined ? formatSummary(result.summary) : formatCallsTable(result.rows ?? [], withHost));
  return 0;
}

/**
 * The records could not be opened: none there yet (a fresh install has no records until
 * the first call) is an empty list, exit 0; anything else is an error, exit 1.
 */
export function openFailed(o: CallsOptions, err: unknown, where: string): number {
  if (isTgettyError(err, 'RECORDS_FAILED') && err.context.missing === true) {
    o.err(`tgetty calls: no call records ${where} yet\n`);
    if (o.json) o.out('[]\n');
    return 0;
  }
  o.err(`tgetty calls: ${err instanceof Error ? err.message : String(err)}\n`);
  return 1;
}

export function callsCommand(o: CallsOptions): number {
  const parsed = callsQuery(o);
  if (!parsed.ok) return parsed.code;
  const q = parsed.q;

  let reader: CallRecordsReader;
  try {
    reader = CallRecordsReader.open(o.records);
  } catch (err) {
    return openFailed(o, err, `at ${o.records}`);
  }
  let result: { rows?: CallRow[]; summary?: SummaryRow[] };
  try {
    result = o.summary === true ? { summary: reader.summary(q) } : { rows: reader.query(q) };
  } catch (err) {
    o.err(`tgetty calls: cannot read ${o.records}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    reader.close();
  }
  return printCalls(o, result, false);
}
