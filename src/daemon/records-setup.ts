/**
 * `tgetty serve`'s call records from its settings: the SQLite file (the default), or a
 * PostgreSQL pool fed through the outbox of a local SQLite file (record-queue.ts). Nothing
 * here waits for the database: the daemon starts and answers calls while it connects.
 */
import { CallRecords } from './records.js';
import { PgRecordStore } from './records-pg.js';
import { MemoryOutbox, MEMORY_OUTBOX_MAX, RecordForwarder } from './record-queue.js';
import type { RecordsTarget } from './record-store.js';
import type { EventSink, RecordsStatus } from './events.js';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

export interface RecordsSetupOptions {
  target: RecordsTarget;
  /** With PostgreSQL: the local SQLite file that keeps a copy and the outbox. */
  spoolFile: string;
  /** Stored in every row; default os.hostname(). */
  host?: string;
  log: { error(msg: string, fields?: Record<string, unknown>): void };
  /** Told once per problem, for the admin starting the daemon (stderr). */
  warn: (msg: string) => void;
}

export interface RecordsSetup {
  sinks: EventSink[];
  /** The local SQLite records (the web page's last calls and charts), if the file could be opened. */
  local?: CallRecords;
  status: () => RecordsStatus;
  close(): Promise<void>;
}

export function setupRecords(o: RecordsSetupOptions): RecordsSetup | undefined {
  const host = o.host ?? hostname();
  if (o.target.kind === 'sqlite') {
    let records: CallRecords;
    try {
      records = CallRecords.open(o.target.file, { log: o.log, host });
    } catch (err) {
      o.log.error('call records disabled', { err });
      o.warn(`call records disabled: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
    return {
      sinks: [records],
      local: records,
      status: () => ({
        backend: 'sqlite',
        location: records.file,
        errors: records.errorCount,
        ...(records.lastError !== undefined ? { lastError: records.lastError } : {}),
      }),
      close: () => {
        records.close();
        return Promise.resolve();
      },
    };
  }
  const { url, display } = o.target;
  let local: CallRecords | undefined;
  try {
    local = CallRecords.open(o.spoolFile, { log: o.log, host });
  } catch (err) {
    o.warn(`the local call records ${o.spoolFile} cannot be used (${err instanceof Error ? err.message : String(err)}): rows for ${display} wait in memory (at most ${MEMORY_OUTBOX_MAX} writes)`);
  }
  const forwarder = new RecordForwarder({
    connect: () => PgRecordStore.open(url, { migrate: true, log: o.log }),
    location: display,
    outbox: local?.outbox() ?? new MemoryOutbox(),
    ...(local === undefined ? { maxWaiting: MEMORY_OUTBOX_MAX } : {}),
    spill: local?.file ?? 'memory',
    run: local?.run ?? randomUUID(),
    host,
    log: o.log,
    onFailing: (msg) => o.warn(`call records: ${msg}; rows wait in ${local?.file ?? 'memory'} and are sent when the database answers`),
  });
  return {
    sinks: [...(local !== undefined ? [local] : []), forwarder],
    ...(local !== undefined ? { local } : {}),
    status: () => forwarder.status(),
    close: async () => {
      await forwarder.close(2000);
      local?.close();
    },
  };
}
