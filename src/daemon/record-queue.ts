/**
 * The way call records reach a shared (PostgreSQL) database without ever holding up a line.
 *
 * emit() only appends the write to a local outbox: the `outbox` table of the local SQLite
 * records file (so a daemon restart or crash loses nothing), or, when there is no usable
 * local file, a bounded in-memory list. A sender sends the oldest writes in order, a batch
 * per transaction, and removes them only after the COMMIT; when the database is down, slow
 * or refuses us it retries with back-off. A batch whose COMMIT reply was lost is sent
 * again, which is harmless: every write is an UPSERT keyed by (run, call_id).
 *
 * The outbox is bounded (maxWaiting): past it new writes are dropped and counted, so a
 * database that stays away for weeks cannot fill the disk.
 */
import type { DaemonEvent, EventSink } from './events.js';
import { eventToOp, type RecordOp, type RecordStore } from './record-store.js';
import type { OutboxEntry, SqliteOutbox } from './records.js';

export type Outbox = SqliteOutbox;

/** Writes waiting when there is no local file to spill to. */
export const MEMORY_OUTBOX_MAX = 10_000;
/** Default bound of the outbox (writes; a call is about 6). */
export const DEFAULT_MAX_WAITING = 1_000_000;
/** Above this many writes waiting, `status` estimates the calls (6 writes each) instead of counting. */
export const EXACT_COUNT_MAX = 100_000;

/** A bounded in-memory outbox: for a daemon whose local records file cannot be opened. */
export class MemoryOutbox implements Outbox {
  private entries: OutboxEntry[] = [];
  private seq = 0;

  push(op: RecordOp): void {
    this.entries.push({ seq: ++this.seq, op });
  }

  peek(n: number): OutboxEntry[] {
    return this.entries.slice(0, n);
  }

  ack(seq: number): void {
    let i = 0;
    while (i < this.entries.length && this.entries[i].seq <= seq) i++;
    this.entries = this.entries.slice(i);
  }

  count(): { events: number; calls: number } {
    return { events: this.entries.length, calls: new Set(this.entries.map((e) => `${e.op.run} ${e.op.callId}`)).size };
  }
}

export interface ForwarderStatus {
  backend: 'postgresql';
  /** The URL without its password. */
  location: string;
  /** Is the last send (or connect) good? */
  connected: boolean;
  /** Writes (events) waiting in the outbox, and the calls they belong to. */
  waiting: { events: number; calls: number };
  /** Where they wait: the local SQLite file or memory. */
  spill: string;
  /** Writes sent since start. */
  sent: number;
  /** Writes dropped because the outbox was full (or could not be written). */
  dropped: number;
  lastError?: string;
  lastSentAt?: number;
}

export interface ForwarderOptions {
  /** Connect (and migrate); called again after a failure until it works. */
  connect: () => Promise<RecordStore>;
  location: string;
  outbox: Outbox;
  /** Said in status: the spill file, or `memory`. */
  spill: string;
  run: string;
  host: string;
  maxWaiting?: number;
  /** Writes per transaction. */
  batch?: number;
  retryMinMs?: number;
  retryMaxMs?: number;
  log?: { error(msg: string, fields?: Record<string, unknown>): void; mesg?(msg: string, fields?: Record<string, unknown>): void };
  now?: () => number;
  /** Called at the first failure of a streak (serve: said on stderr once). */
  onFailing?: (msg: string) => void;
  /** How long a send may wait for ringing lines to get their ATA (default HOLD_MAX_MS). */
  holdMaxMs?: number;
}

/**
 * A send waits while a line is between a RING and its ATA, at most this long: the send's
 * work (here and in the database server, often on the same small machine) then never
 * competes with an answer for the CPU, and the lag stays far under its 1 s budget.
 */
export const HOLD_MAX_MS = 200;

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export class RecordForwarder implements EventSink {
  private store: RecordStore | undefined;
  private sending: Promise<void> | undefined;
  /** A write came while a send was finishing: look at the outbox again after it. */
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private waiting: number;
  private sent = 0;
  private dropped = 0;
  private dropping = false;
  private failures = 0;
  private connected = false;
  private lastError: string | undefined;
  private lastSentAt: number | undefined;
  private readonly maxWaiting: number;
  private readonly batch: number;
  private readonly retryMinMs: number;
  private readonly retryMaxMs: number;
  private readonly now: () => number;
  /** Lines between a RING and their ATA (from the line-state events, as the heap trim keeps them). */
  private readonly ringing = new Set<string>();
  /** Set while a send waits for the ringing lines; when it fires, the send goes anyway. */
  private holdTimer: NodeJS.Timeout | undefined;
  private holdExpired = false;
  private readonly holdMaxMs: number;

  constructor(private readonly o: ForwarderOptions) {
    this.holdMaxMs = o.holdMaxMs ?? HOLD_MAX_MS;
    this.maxWaiting = o.maxWaiting ?? DEFAULT_MAX_WAITING;
    this.batch = o.batch ?? 500;
    this.retryMinMs = o.retryMinMs ?? 250;
    this.retryMaxMs = o.retryMaxMs ?? 5000;
    this.now = o.now ?? Date.now;
    this.waiting = o.outbox.count().events;
    // Writes a previous run left in the outbox go first.
    this.kick();
  }

  emit(e: DaemonEvent): void {
    if (this.closed) return;
    if (e.type === 'line-state') {
      if (e.state === 'ringing') this.ringing.add(e.line);
      else this.released(e.line);
    }
    const op = eventToOp(e, this.o.run, this.o.host);
    if (op === undefined) {
      if (e.type === 'line-error') this.released(e.line);
      return;
    }
    if (e.type === 'call-answering') this.released(e.line);
    if (this.waiting >= this.maxWaiting) {
      this.drop(`the outbox is full (${this.maxWaiting} writes waiting)`);
      return;
    }
    try {
      this.o.outbox.push(op);
      this.waiting++;
      this.dropping = false;
    } catch (err) {
      this.drop(`cannot queue it: ${describe(err)}`);
      return;
    }
    this.kick();
  }

  private drop(why: string): void {
    this.dropped++;
    // One log entry per streak of drops.
    if (!this.dropping) this.o.log?.error(`call records ${this.o.location}: dropping writes: ${why}`);
    this.dropping = true;
  }

  /** Start sending unless a send runs, a retry is due, or ringing lines wait for their ATA (at most holdMaxMs). */
  private kick(): void {
    if (this.closed || this.timer !== undefined) return;
    if (this.sending !== undefined) {
      this.again = true;
      return;
    }
    if (this.holding()) return;
    this.again = false;
    this.sending = this.drain().finally(() => {
      this.sending = undefined;
      // The next send may wait for ringing lines again.
      this.holdExpired = false;
      if (this.again) this.kick();
    });
  }

  private holding(): boolean {
    if (this.ringing.size === 0 || this.holdExpired) return false;
    if (this.holdTimer === undefined) {
      this.holdTimer = setTimeout(() => {
        this.holdTimer = undefined;
        this.holdExpired = true;
        this.kick();
      }, this.holdMaxMs);
      this.holdTimer.unref();
    }
    return true;
  }

  /** `line` got its ATA (or stopped ringing): a held send goes once no line rings, after the current turn. */
  private released(line: string): void {
    if (!this.ringing.delete(line) || this.ringing.size > 0 || this.holdTimer === undefined) return;
    clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    setImmediate(() => this.kick());
  }

  private async drain(): Promise<void> {
    // Connect even with nothing to send: a wrong password or host shows at start, not at the first call.
    if (this.store === undefined) {
      try {
        this.store = await this.o.connect();
        this.connected = true;
      } catch (err) {
        this.fail(describe(err));
        return;
      }
    }
    while (!this.closed) {
      let entries: OutboxEntry[];
      try {
        entries = this.o.outbox.peek(this.batch);
      } catch (err) {
        this.fail(`cannot read the outbox: ${describe(err)}`);
        return;
      }
      if (entries.length === 0) return;
      try {
        await this.store.apply(entries.map((e) => e.op));
      } catch (err) {
        this.fail(describe(err));
        return;
      }
      try {
        this.o.outbox.ack(entries[entries.length - 1].seq);
      } catch (err) {
        // Sent but still queued: they go again later, which changes nothing (UPSERTs).
        this.fail(`cannot update the outbox: ${describe(err)}`);
        return;
      }
      this.waiting = Math.max(0, this.waiting - entries.length);
      this.sent += entries.length;
      this.lastSentAt = this.now();
      if (this.failures > 0) this.o.log?.error(`call records ${this.o.location}: sending again after ${this.failures} failed attempt(s)`);
      this.failures = 0;
      this.connected = true;
      this.lastError = undefined;
    }
  }

  private fail(msg: string): void {
    this.connected = false;
    this.lastError = msg;
    if (this.failures++ === 0) {
      this.o.log?.error(`call records ${this.o.location}: cannot send, rows wait in ${this.o.spill}: ${msg}`);
      this.o.onFailing?.(msg);
    }
    if (this.closed) return;
    const delay = Math.min(this.retryMaxMs, this.retryMinMs * 2 ** Math.min(this.failures - 1, 16));
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.kick();
    }, delay);
    this.timer.unref();
  }

  /**
   * Counting the distinct calls scans the outbox: done at most once a second, and only up to
   * EXACT_COUNT_MAX writes (above, estimated at 6 writes a call), so a status page open
   * during a long outage never stalls the event loop.
   */
  private countCache: { at: number; calls: number } | undefined;

  private waitingNow(): { events: number; calls: number } {
    if (this.waiting === 0) return { events: 0, calls: 0 };
    if (this.waiting > EXACT_COUNT_MAX) return { events: this.waiting, calls: Math.ceil(this.waiting / 6) };
    const now = this.now();
    if (this.countCache === undefined || now - this.countCache.at >= 1000) {
      try {
        const c = this.o.outbox.count();
        this.waiting = c.events;
        this.countCache = { at: now, calls: c.calls };
      } catch {
        return { events: this.waiting, calls: this.countCache?.calls ?? 0 };
      }
    }
    return { events: this.waiting, calls: Math.min(this.countCache.calls, this.waiting) };
  }

  status(): ForwarderStatus {
    const waiting = this.waitingNow();
    return {
      backend: 'postgresql',
      location: this.o.location,
      connected: this.connected,
      waiting,
      spill: this.o.spill,
      sent: this.sent,
      dropped: this.dropped,
      ...(this.lastError !== undefined ? { lastError: this.lastError } : {}),
      ...(this.lastSentAt !== undefined ? { lastSentAt: this.lastSentAt } : {}),
    };
  }

  /** Resolves when nothing waits (or after `timeoutMs`); true if the outbox is empty. For shutdown and tests. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = this.now() + timeoutMs;
    while (this.now() < deadline) {
      if (this.timer !== undefined) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      this.kick();
      await this.sending;
      if (this.o.outbox.count().events === 0) return true;
      await new Promise((r) => setTimeout(r, Math.min(200, Math.max(0, deadline - this.now()))));
    }
    return this.o.outbox.count().events === 0;
  }

  /** Try to send what waits for up to `graceMs`, then stop; what is left stays in the outbox for the next start. */
  async close(graceMs = 2000): Promise<void> {
    if (this.closed) return;
    // Shutting down: nothing is answered any more, so nothing waits for ringing lines.
    this.ringing.clear();
    if (this.holdTimer !== undefined) clearTimeout(this.holdTimer);
    this.holdTimer = undefined;
    if (graceMs > 0) await this.flush(graceMs).catch(() => false);
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    await this.sending;
    await this.store?.close().catch(() => undefined);
  }
}
