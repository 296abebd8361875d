/**
 * `tgetty calls` for either backend: a file goes to the SQLite reader (calls.ts), a
 * postgresql:// URL to the pool's database, read-only (it never creates the schema).
 */
import { parseRecordsTarget } from '../daemon/record-store.js';
import type { CallRow, SummaryRow } from '../daemon/record-store.js';
import { callsCommand, callsQuery, openFailed, printCalls, type CallsOptions } from './calls.js';

export interface AnyCallsOptions extends CallsOptions {
  /** Said in errors about `records` (`--records` or `TGETTY_RECORDS`). */
  recordsFrom?: string;
}

export async function anyCallsCommand(o: AnyCallsOptions): Promise<number> {
  let target;
  try {
    target = parseRecordsTarget(o.records, o.recordsFrom ?? '--records');
  } catch (err) {
    o.err(`tgetty calls: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  if (target.kind === 'sqlite') return callsCommand({ ...o, records: target.file });
  const parsed = callsQuery(o);
  if (!parsed.ok) return parsed.code;
  const { PgRecordStore } = await import('../daemon/records-pg.js');
  let store;
  try {
    store = await PgRecordStore.open(target.url, { connectTimeoutMs: 10_000 });
  } catch (err) {
    return openFailed(o, err, `in ${target.display}`);
  }
  let result: { rows?: CallRow[]; summary?: SummaryRow[] };
  try {
    result = o.summary === true ? { summary: await store.summary(parsed.q) } : { rows: await store.query(parsed.q) };
  } catch (err) {
    o.err(`tgetty calls: cannot read ${target.display}: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await store.close();
  }
  return printCalls(o, result, true);
}
