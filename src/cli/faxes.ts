/**
 * `tgetty faxes`: the received faxes, newest first, as mgetty users look at them with
 * `faxq`/`faxview` on the spool: from the call records (the fax calls the daemon
 * recorded: sender id, pages, how it ended, files) and from the incoming spool dirs
 * (faxes under mgetty's names that no record mentions: single-line mode, an older
 * tgetty, mgetty itself). Read-only; a missing records file or spool dir is no error.
 *
 * A spool dir such as /tmp is writable by everyone: there, only files owned by root or
 * by the user running the command are listed, so nobody can plant a "fax" in the list.
 */
import { lstatSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseRecordsTarget } from '../daemon/record-store.js';
import type { CallQuery, CallRow } from '../daemon/record-store.js';
import { isTgettyError } from '../core/errors.js';
import { formatTime, parseSince } from './calls.js';
import { formatTable } from './table.js';
import { MGETTY_CONFIG, findConfigDir, loadMgettyConfig } from '../config/load.js';
import { resolvePort, stringOf } from '../config/effective.js';

/** Every fax-spool-in dir mgetty.config names (global and in each port section), in order; the keyword's default without a file. */
export function spoolDirsFromConfig(configDir: string | undefined): string[] {
  const loaded = loadMgettyConfig(join(findConfigDir(configDir), MGETTY_CONFIG));
  const ports = (loaded.parsed?.sections ?? []).map((s) => s.pattern).filter((p): p is string => p !== undefined && p !== '' && !p.includes('?'));
  const dirs: string[] = [];
  // A device name no section matches: the global value.
  for (const device of ['\0global', ...ports]) {
    for (const d of (stringOf(resolvePort(loaded.parsed, device), 'fax-spool-in') ?? '').split(':')) if (d !== '' && !dirs.includes(d)) dirs.push(d);
  }
  return dirs;
}

export interface FaxEntry {
  /** When the call started (records) or page 1 was written (spool), ms since the epoch. */
  time: number;
  /** The line (records), or the last two characters of it that mgetty's names keep (spool). */
  line: string;
  host: string | null;
  senderId: string;
  pages: number;
  /** `complete`, how it broke off (`carrier-lost`, ...), or null when only the spool knows it. */
  outcome: string | null;
  hangupCode: number | null;
  speed: number | null;
  resolution: 'normal' | 'fine' | null;
  files: string[];
  source: 'records' | 'spool';
}

export interface FaxesOptions {
  records: string;
  recordsFrom?: string;
  /** Incoming spool dirs to look through. */
  spoolDirs: readonly string[];
  since?: string;
  line?: string;
  limit?: number;
  json: boolean;
  out: (s: string) => void;
  err: (s: string) => void;
  now?: number;
  /** The uid whose files count in a world-writable dir (default: ours). */
  uid?: number;
}

/** mgetty's names: f<n|f><7 hex><2 line chars>[-<sender id>].<NN|pdf|tif> */
const FAX_FILE = /^f([nf])([0-9a-f]{7})(..)(?:-([A-Za-z0-9+-]*))?\.(\d\d|pdf|tif)$/;

/** The faxes in one spool dir, grouped by stem. */
export function scanSpoolDir(dir: string, uid: number = process.getuid?.() ?? 0): FaxEntry[] {
  let names: string[];
  let shared = false;
  try {
    const st = statSync(dir);
    if (!st.isDirectory()) return [];
    shared = (st.mode & 0o002) !== 0;
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const byStem = new Map<string, { fine: boolean; line: string; sender: string; pages: string[]; other: string[]; time: number }>();
  for (const name of names.sort()) {
    const m = FAX_FILE.exec(name);
    if (m === null) continue;
    let st;
    try {
      st = lstatSync(join(dir, name));
    } catch {
      continue;
    }
    if (!st.isFile()) continue; // a symlink or a directory under a fax name is not a fax
    if (shared && st.uid !== 0 && st.uid !== uid) continue;
    const stem = name.slice(0, name.lastIndexOf('.'));
    let g = byStem.get(stem);
    if (g === undefined) {
      g = { fine: m[1] === 'f', line: m[3], sender: (m[4] ?? '').replace(/-/g, ' '), pages: [], other: [], time: st.mtimeMs };
      byStem.set(stem, g);
    }
    const path = join(dir, name);
    if (/^\d\d$/.test(m[5])) {
      g.pages.push(path);
      g.time = Math.min(g.time, st.mtimeMs);
    } else {
      g.other.push(path);
    }
  }
  return [...byStem.values()].map((g) => ({
    time: Math.round(g.time),
    line: g.line,
    host: null,
    senderId: g.sender,
    pages: g.pages.length,
    outcome: null,
    hangupCode: null,
    speed: null,
    resolution: g.fine ? 'fine' : 'normal',
    files: [...g.pages, ...g.other.sort()],
    source: 'spool' as const,
  }));
}

/** A fax that came in: not a call in which a poller got our fax-server-file. */
export function received(r: CallRow): boolean {
  return r.faxEnd !== 'polled' && r.faxEnd !== 'poll-failed';
}

export function entryFromRow(r: CallRow): FaxEntry {
  return {
    time: r.startedAt,
    line: r.line,
    host: r.host,
    senderId: r.faxSenderId ?? '',
    pages: r.faxPages ?? 0,
    outcome: r.faxEnd,
    hangupCode: r.faxHangupCode,
    speed: r.faxSpeed,
    resolution: r.faxResolution,
    files: r.faxFiles ?? [],
    source: 'records',
  };
}

/** Records first; a spool fax is added only when no record names one of its files. Newest first. */
export function mergeFaxes(fromRecords: readonly FaxEntry[], fromSpool: readonly FaxEntry[]): FaxEntry[] {
  const known = new Set(fromRecords.flatMap((e) => e.files));
  const extra = fromSpool.filter((e) => !e.files.some((f) => known.has(f)));
  return [...fromRecords, ...extra].sort((a, b) => b.time - a.time);
}

const clean = (s: string): string => (s === '' ? '-' : s.replace(/[\x00-\x1f\x7f]/g, '?'));

/** The file to open: the PDF if there is one, else page 1 (and how many more). */
function fileText(e: FaxEntry): string {
  const pdf = e.files.find((f) => f.endsWith('.pdf'));
  if (pdf !== undefined) return pdf;
  if (e.files.length === 0) return '-';
  return e.files.length > 1 ? `${e.files[0]} (+${e.files.length - 1})` : e.files[0];
}

function outcomeText(e: FaxEntry): string {
  if (e.outcome === null) return '-';
  return e.hangupCode !== null && e.outcome !== 'complete' ? `${e.outcome} (FHNG ${e.hangupCode})` : e.outcome;
}

export function formatFaxesTable(entries: readonly FaxEntry[]): string {
  return formatTable(
    ['TIME', 'LINE', 'SENDER', 'PAGES', 'OUTCOME', 'RES', 'SPEED', 'FILE'],
    entries.map((e) =>
      [
        formatTime(e.time),
        e.host !== null && e.source === 'records' ? `${e.host}:${e.line}` : e.line,
        e.senderId,
        String(e.pages),
        outcomeText(e),
        e.resolution ?? '-',
        e.speed !== null ? String(e.speed) : '-',
        fileText(e),
      ].map(clean),
    ),
  );
}

async function recordEntries(o: FaxesOptions, q: CallQuery): Promise<FaxEntry[]> {
  const target = parseRecordsTarget(o.records, o.recordsFrom ?? '--records');
  try {
    if (target.kind === 'sqlite') {
      const { CallRecordsReader } = await import('../daemon/records.js');
      const reader = CallRecordsReader.open(target.file);
      try {
        return reader.query(q).filter(received).map(entryFromRow);
      } finally {
        reader.close();
      }
    }
    const { PgRecordStore } = await import('../daemon/records-pg.js');
    const store = await PgRecordStore.open(target.url, { connectTimeoutMs: 10_000 });
    try {
      return (await store.query(q)).filter(received).map(entryFromRow);
    } finally {
      await store.close();
    }
  } catch (err) {
    // No records yet: the spool is all there is.
    if (isTgettyError(err, 'RECORDS_FAILED') && err.context.missing === true) return [];
    throw err;
  }
}

export async function faxesCommand(o: FaxesOptions): Promise<number> {
  const now = o.now ?? Date.now();
  let since: number | undefined;
  if (o.since !== undefined) {
    const r = parseSince(o.since, now);
    if (!r.ok) {
      o.err(`tgetty faxes: ${r.message}\n`);
      return 2;
    }
    since = r.ms;
  }
  const line = o.line?.replace(/^\/dev\//, '');
  let fromRecords: FaxEntry[];
  try {
    fromRecords = await recordEntries(o, { fax: true, ...(since !== undefined ? { since } : {}), ...(line !== undefined ? { line } : {}) });
  } catch (err) {
    o.err(`tgetty faxes: ${err instanceof Error ? err.message : String(err)}\n`);
    return isTgettyError(err, 'CLI_USAGE') ? 2 : 1;
  }
  const fromSpool = o.spoolDirs
    .flatMap((d) => scanSpoolDir(d, o.uid))
    .filter((e) => (since === undefined || e.time >= since) && (line === undefined || line.endsWith(e.line)));
  let all = mergeFaxes(fromRecords, fromSpool);
  if (o.limit !== undefined) all = all.slice(0, o.limit);
  if (o.json) {
    o.out(`${JSON.stringify(all, null, 2)}\n`);
    return 0;
  }
  o.out(all.length === 0 ? 'no faxes\n' : formatFaxesTable(all));
  return 0;
}
