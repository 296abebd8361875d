/**
 * `tgetty status` and `tgetty reload`: clients of the daemon's control socket
 * (src/daemon/status-server.ts). The table is for people; `--json` is the daemon's
 * DaemonStatus as is, for scripts.
 */
import { isTgettyError } from '../core/errors.js';
import { formatDuration, formatTable } from './table.js';
import type { DaemonStatus, LineStatus, RecordsStatus } from '../daemon/events.js';
import { RELOAD_REJECTED, queryDaemon } from '../daemon/status-server.js';
import type { StatusRequest, StatusResponse } from '../daemon/status-server.js';

export interface StatusCommandOptions {
  runDir: string;
  json: boolean;
  out: (s: string) => void;
  err: (s: string) => void;
  /** Wall clock for the relative times; default Date.now. */
  now?: () => number;
  timeoutMs?: number;
  /** The transport; default queryDaemon (tests may inject). */
  query?: (runDir: string, req: StatusRequest, timeoutMs: number) => Promise<StatusResponse>;
}

/**
 * Caller names and numbers come from the phone network and connect strings from the
 * modem: show control characters as \xNN so they cannot drive the admin's terminal.
 */
export function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** The problems of a rejected reload, one per line, the same in `status` and `reload`. */
function problemLines(problems: readonly string[]): string[] {
  return problems.map((p) => `  ${printable(p)}`);
}

function callerOf(l: LineStatus): string {
  const c = l.call;
  if (c === undefined) return '-';
  const parts = [c.callerId, c.callerName].filter((x): x is string => x !== undefined && x !== '');
  return parts.length > 0 ? parts.join(' ') : 'call';
}

function programOf(l: LineStatus): string {
  const c = l.call;
  if (c?.program === undefined) return '-';
  const who = c.loginName !== undefined && c.loginName !== '' ? `${c.loginName}: ` : '';
  return `${who}${c.program}${c.pid !== undefined ? ` [${c.pid}]` : ''}`;
}

function stateOf(l: LineStatus, now: number): string {
  if (l.state === 'resting' && l.restingUntil !== undefined) return `resting (${formatDuration(l.restingUntil - now)} left)`;
  return l.detail !== undefined && l.detail !== '' ? `${l.state} (${l.detail})` : l.state;
}

/** One line about the call records: where they go, and for a pool how many rows wait. */
export function recordsLine(r: RecordsStatus): string {
  if (r.backend === 'sqlite') {
    return `records ${printable(r.location)}${r.errors !== undefined && r.errors > 0 ? ` (${r.errors} failed write(s), last: ${printable(r.lastError ?? '?')})` : ''}`;
  }
  const w = r.waiting ?? { events: 0, calls: 0 };
  const waiting = `${w.calls} call row(s) waiting (${w.events} write(s)) in ${printable(r.spill ?? '?')}`;
  const state = r.connected === true ? 'connected' : `not reachable: ${printable(r.lastError ?? 'connecting')}`;
  const dropped = r.dropped !== undefined && r.dropped > 0 ? `, ${r.dropped} write(s) dropped (outbox full)` : '';
  return `records ${printable(r.location)}: ${state}; ${waiting}${dropped}`;
}

/** The human table (exported for tests). */
export function formatStatus(st: DaemonStatus, now: number): string {
  const out: string[] = [];
  out.push(`tgetty ${printable(st.version)}, pid ${st.pid}, up ${formatDuration(now - st.startedAt)}`);
  out.push(`config ${printable(st.configDir)}, loaded ${formatDuration(now - st.configLoadedAt)} ago`);
  if (st.records !== undefined) out.push(recordsLine(st.records));
  if (st.lastReloadError !== undefined) out.push(`last reload: ${RELOAD_REJECTED}:`, ...problemLines(st.lastReloadError.split('\n')));
  out.push('');
  if (st.lines.length === 0) {
    out.push('no lines configured');
    return `${out.join('\n')}\n`;
  }
  const header = ['LINE', 'STATE', 'SINCE', 'CALLS', 'CALLER', 'CONNECT', 'LOGIN/PROGRAM', 'LAST ERROR'];
  const rows = st.lines.map((l) => [
    l.line,
    stateOf(l, now),
    formatDuration(now - l.since),
    String(l.calls),
    callerOf(l),
    l.call?.connect ?? '-',
    programOf(l),
    l.lastError !== undefined ? `${l.lastError.message} (${formatDuration(now - l.lastError.at)} ago)` : '-',
  ].map(printable));
  return `${out.join('\n')}\n${formatTable(header, rows)}`;
}

function describe(err: unknown): string {
  return isTgettyError(err) || err instanceof Error ? err.message : String(err);
}

/** `tgetty status [--run-dir DIR] [--json]`. Exit 0 = shown, 1 = no daemon / error. */
export async function statusCommand(opts: StatusCommandOptions): Promise<number> {
  const query = opts.query ?? queryDaemon;
  let r: StatusResponse;
  try {
    r = await query(opts.runDir, { cmd: 'status' }, opts.timeoutMs ?? 5000);
  } catch (err) {
    opts.err(`tgetty: ${describe(err)}\n`);
    return 1;
  }
  if (!r.ok) {
    opts.err(`tgetty: the daemon refused: ${r.error}\n`);
    return 1;
  }
  if (!('status' in r)) {
    opts.err('tgetty: the daemon answered without a status\n');
    return 1;
  }
  if (opts.json) opts.out(`${JSON.stringify(r.status, null, 2)}\n`);
  else opts.out(formatStatus(r.status, (opts.now ?? Date.now)()));
  return 0;
}

export interface ReloadCommandOptions {
  runDir: string;
  out: (s: string) => void;
  err: (s: string) => void;
  timeoutMs?: number;
  query?: StatusCommandOptions['query'];
}

/** `tgetty reload`: re-read the config. Exit 0 = applied, 1 = rejected (errors printed) or no daemon. */
export async function reloadCommand(opts: ReloadCommandOptions): Promise<number> {
  const query = opts.query ?? queryDaemon;
  let r: StatusResponse;
  try {
    // A reload re-reads files and re-initialises changed lines: allow it more time than a status.
    r = await query(opts.runDir, { cmd: 'reload' }, opts.timeoutMs ?? 30_000);
  } catch (err) {
    opts.err(`tgetty: ${describe(err)}\n`);
    return 1;
  }
  if (r.ok) {
    opts.out('tgetty: configuration reloaded\n');
    return 0;
  }
  const problems = r.reload?.errors ?? [];
  opts.err(problems.length > 0 ? [`tgetty: ${printable(r.error)}:`, ...problemLines(problems), ''].join('\n') : `tgetty: ${printable(r.error)}\n`);
  return 1;
}
