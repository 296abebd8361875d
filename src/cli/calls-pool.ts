/**
 * `tgetty calls` for either backend: a file goes to the SQLite reader (calls.ts), a
 * postgresql:// URL to the pool's database, read-only (it never creates the schema).
 */
import { parseRecordsTarget } from '../daemon/record-store.js';
import type { CallRow, SummaryRow } from '../daemon/record-store.js';
import { configRecordsSetting } from './records-setting.js';
import { callsCommand, callsQuery, openFailed, printCalls, type CallsOptions } from './calls.js';

export interface AnyCallsOptions extends CallsOptions {
  /** Said in errors about `records` (`--records` or `TGETTY_RECORDS`); undefined = `records` is the default file, and `records-url` of the config, if set, wins over it. */
  recordsFrom?: string;
  /** Where mgetty.config is (for records-url); default as `tgetty serve` finds it. */
  configDir?: string;
}

export async function anyCallsCommand(o: AnyCallsOptions): Promise<number> {
  let target;
  const fromConfig = o.recordsFrom === undefined ? configRecordsSetting(o.configDir) : undefined;
  if (fromConfig?.warning !== undefined) o.err(`tgetty calls: warning: ${fromConfig.warning}\n`);
  try {
    target = parseRecordsTarget(fromConfig?.records ?? o.records, fromConfig?.recordsFrom ?? o.recordsFrom ?? '--records');
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
