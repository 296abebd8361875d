/**
 * What the web status page shows of one host, as plain JSON: the lines (from the status
 * board), the last calls and the two charts' data (from the call records). Pure: the
 * server feeds it the status and the rows; peers send the same object, so a page can show
 * a whole pool. Validated on the way in (isHostSnapshot): a peer may answer anything.
 */
import type { DaemonStatus, LineStatus, RecordsStatus } from '../events.js';
import type { CallRow } from '../record-store.js';

export const SNAPSHOT_VERSION = 1;
/** Calls listed under "last calls". */
export const LAST_CALLS = 15;
/** Hours in the calls-per-hour chart. */
export const CHART_HOURS = 24;
/** Answered calls in the latency chart. */
export const LATENCY_CALLS = 60;

export interface PageCall {
  line: string;
  startedAt: number;
  callerId: string | null;
  callerName: string | null;
  outcome: string | null;
  durationS: number | null;
  ringToAtaMs: number | null;
  loginName: string | null;
}

export interface HostSnapshot {
  v: typeof SNAPSHOT_VERSION;
  host: string;
  version: string;
  pid: number;
  startedAt: number;
  generatedAt: number;
  lines: LineStatus[];
  records?: RecordsStatus;
  lastCalls: PageCall[];
  /** CHART_HOURS buckets, oldest first: `start` is the hour's start (ms), counts by result. */
  callsPerHour: { start: number; answered: number; failed: number }[];
  /** The last answered calls, oldest first: RING -> ATA in ms. */
  latency: { at: number; ms: number }[];
}

const HOUR = 3_600_000;

export function buildSnapshot(o: { host: string; status: DaemonStatus; rows: readonly CallRow[]; now: number }): HostSnapshot {
  const firstHour = Math.floor(o.now / HOUR) * HOUR - (CHART_HOURS - 1) * HOUR;
  const perHour = Array.from({ length: CHART_HOURS }, (_, i) => ({ start: firstHour + i * HOUR, answered: 0, failed: 0 }));
  for (const r of o.rows) {
    const i = Math.floor((r.startedAt - firstHour) / HOUR);
    if (i < 0 || i >= CHART_HOURS) continue;
    if (r.connectAt !== null) perHour[i].answered++;
    else if (r.outcome !== null) perHour[i].failed++;
  }
  // rows come newest first
  const latency = o.rows
    .filter((r) => r.ringToAtaMs !== null)
    .slice(0, LATENCY_CALLS)
    .map((r) => ({ at: r.startedAt, ms: r.ringToAtaMs! }))
    .reverse();
  return {
    v: SNAPSHOT_VERSION,
    host: o.host,
    version: o.status.version,
    pid: o.status.pid,
    startedAt: o.status.startedAt,
    generatedAt: o.now,
    lines: o.status.lines,
    ...(o.status.records !== undefined ? { records: o.status.records } : {}),
    lastCalls: o.rows.slice(0, LAST_CALLS).map((r) => ({
      line: r.line,
      startedAt: r.startedAt,
      callerId: r.callerId,
      callerName: r.callerName,
      outcome: r.outcome,
      durationS: r.durationS,
      ringToAtaMs: r.ringToAtaMs,
      loginName: r.loginName,
    })),
    callsPerHour: perHour,
    latency,
  };
}

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
const isStr = (x: unknown): x is string => typeof x === 'string';
const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Does a peer's answer look like a HostSnapshot? (The page only ever sets text, but shapes must hold.) */
export function isHostSnapshot(x: unknown): x is HostSnapshot {
  if (!isObj(x) || x.v !== SNAPSHOT_VERSION || !isStr(x.host) || !isStr(x.version) || !isNum(x.generatedAt)) return false;
  if (!Array.isArray(x.lines) || !x.lines.every((l) => isObj(l) && isStr(l.line) && isStr(l.state) && isNum(l.since))) return false;
  if (!Array.isArray(x.lastCalls) || !x.lastCalls.every((c) => isObj(c) && isStr(c.line) && isNum(c.startedAt))) return false;
  if (!Array.isArray(x.callsPerHour) || !x.callsPerHour.every((h) => isObj(h) && isNum(h.start) && isNum(h.answered) && isNum(h.failed))) return false;
  if (!Array.isArray(x.latency) || !x.latency.every((p) => isObj(p) && isNum(p.at) && isNum(p.ms))) return false;
  return true;
}

/** One host as the page gets it: its snapshot, or why it cannot be shown. */
export type PoolEntry = { url: string; ok: true; snapshot: HostSnapshot } | { url: string; ok: false; error: string; lastSeen?: number; host?: string };

export interface PoolView {
  self: HostSnapshot;
  peers: PoolEntry[];
}
