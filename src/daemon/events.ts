/**
 * What the daemon tells the world. Every line supervisor emits these events; the call
 * records (SQLite), the metrics (Prometheus) and the status view subscribe to them, so
 * none of them needs to know how a line works. Plain data: JSON-serialisable.
 */
import type { FaxSummary } from '../fax/fax-call.js';

export type { FaxSummary } from '../fax/fax-call.js';

/** The state of a line as users see it (status, metrics). */
export type LineStatusState =
  | 'starting' // opening, locking, DTR
  | 'initializing' // init chat
  | 'idle' // waiting for a call, lock removed
  | 'ringing' // counting RINGs / screening
  | 'answering' // answer chat
  | 'login' // after CONNECT: issue, prompt, name
  | 'in-session' // the login program / pppd runs
  | 'hanging-up' // after a call: DTR drop or +++ATH0, before the line is re-initialised
  | 'dialout' // another program holds the lock
  | 'resting' // too many failures: waiting before the next try
  | 'error' // a configuration error (lock dir, device missing): waiting before the next try; detail says what
  | 'stopped'; // removed or shut down

export const LINE_STATUS_STATES: readonly LineStatusState[] = [
  'starting', 'initializing', 'idle', 'ringing', 'answering', 'login', 'in-session', 'hanging-up', 'dialout', 'resting', 'error', 'stopped',
];

/** How a call ended. */
export type CallOutcome =
  | 'completed' // the session ran and ended
  | 'denied' // dialin.config / cnd-program said no
  | 'missed' // the phone stopped ringing before we answered
  | 'no-carrier' // the answer chat failed (NO CARRIER, BUSY, ERROR)
  | 'timeout' // the answer chat timed out
  | 'hangup' // the caller hung up before a program started
  | 'login-timeout' // nobody typed a name in time
  | 'refused' // nologin file, unknown login.config user, program missing
  | 'failed'; // anything else

export const CALL_OUTCOMES: readonly CallOutcome[] = [
  'completed', 'denied', 'missed', 'no-carrier', 'timeout', 'hangup', 'login-timeout', 'refused', 'failed',
];

export type DaemonEvent =
  | { type: 'line-state'; line: string; state: LineStatusState; at: number; detail?: string }
  /** A call begins: the first sign of it (activity taken while idle). `callId` is unique in the daemon's life. */
  | { type: 'call-start'; line: string; callId: string; at: number }
  /** Caller data became known (caller ID block). */
  | { type: 'call-caller'; line: string; callId: string; at: number; callerId: string; callerName: string }
  /** RING -> ATA, in ms (the answer latency). */
  | { type: 'call-answering'; line: string; callId: string; at: number; ringToAtaMs: number }
  | { type: 'call-connect'; line: string; callId: string; at: number; connect: string }
  /** The program chosen by login.config was started. */
  | { type: 'call-session'; line: string; callId: string; at: number; loginName: string; program: string; pid: number }
  /** A fax was received in this call (before its call-end): pages, sender id, speed, files, how it ended. */
  | { type: 'call-fax'; line: string; callId: string; at: number; fax: FaxSummary }
  | { type: 'call-end'; line: string; callId: string; at: number; outcome: CallOutcome; exitStatus?: number | null; signal?: string | null; detail?: string }
  | { type: 'modem-init'; line: string; at: number; ok: boolean; detail?: string }
  | { type: 'line-error'; line: string; at: number; message: string; code?: string };

export interface EventSink {
  emit(e: DaemonEvent): void;
}

/** Fan out to several sinks; a sink that throws never stops the others or the line. */
export class EventBus implements EventSink {
  private readonly sinks: EventSink[] = [];
  private readonly onError: (err: unknown, sink: EventSink) => void;

  constructor(onError: (err: unknown, sink: EventSink) => void = () => undefined) {
    this.onError = onError;
  }

  add(sink: EventSink): void {
    this.sinks.push(sink);
  }

  emit(e: DaemonEvent): void {
    for (const s of this.sinks) {
      try {
        s.emit(e);
      } catch (err) {
        this.onError(err, s);
      }
    }
  }
}

/**
 * Sinks that may wait a moment (the daemon: all of them): events are queued and delivered
 * in order by `schedule` (the daemon: setImmediate), so a burst of calls writes every
 * ATA before any sink is touched. `flush()` delivers now (status, stop). Events emitted
 * while a flush delivers (a sink's own reaction) join that flush, after the ones before
 * them; a flush asked for meanwhile (a sink reading the status) leaves the order alone.
 */
export class DeferredSinks implements EventSink {
  private queue: DaemonEvent[] = [];
  private scheduled = false;
  private flushing = false;

  constructor(
    private readonly bus: EventSink,
    private readonly schedule: (fn: () => void) => void,
  ) {}

  emit(e: DaemonEvent): void {
    this.queue.push(e);
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  flush(): void {
    this.scheduled = false;
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.queue.length > 0) {
        const q = this.queue;
        this.queue = [];
        for (const e of q) this.bus.emit(e);
      }
    } finally {
      this.flushing = false;
    }
  }
}

/** One line in `tgetty status`. */
export interface LineStatus {
  line: string;
  path: string;
  state: LineStatusState;
  /** ms since the epoch of the last state change. */
  since: number;
  detail?: string;
  /** The call in progress, if any. */
  call?: { callId: string; startedAt: number; callerId?: string; callerName?: string; connect?: string; loginName?: string; program?: string; pid?: number };
  lastError?: { at: number; message: string };
  calls: number;
  failures: number;
  /** While resting: when the next try is due (ms since the epoch). */
  restingUntil?: number;
}

export interface HeapTrimStats {
  /** Trims run (each with its full collection). */
  trims: number;
  /** Due trims that waited for lines between a RING and the ATA. */
  deferred: number;
  /** Duration of the last trim, the longest, and all of them together (ms). */
  lastMs: number;
  maxMs: number;
  totalMs: number;
  /** Of that, the V8 collections: the longest and all together (ms). */
  collectMaxMs: number;
  collectTotalMs: number;
}

/** Where the call records go, and (for a PostgreSQL pool) how many rows wait to be sent. */
export interface RecordsStatus {
  backend: 'sqlite' | 'postgresql';
  /** The file, or the URL without its password. */
  location: string;
  /** PostgreSQL: is the last send (or connect) good? */
  connected?: boolean;
  /** PostgreSQL: writes (events) waiting in the local outbox, and the calls they belong to. */
  waiting?: { events: number; calls: number };
  /** PostgreSQL: where they wait (the local SQLite file, or `memory`). */
  spill?: string;
  sent?: number;
  dropped?: number;
  /** SQLite: failed writes since start. */
  errors?: number;
  lastError?: string;
  lastSentAt?: number;
}

export interface DaemonStatus {
  pid: number;
  version: string;
  startedAt: number;
  configDir: string;
  /** When the config was last (re)loaded, and whether a reload was rejected since. */
  configLoadedAt: number;
  lastReloadError?: string;
  /** The heap trims after calls (a full collection each: a pause of the whole daemon); absent when off. */
  heapTrim?: HeapTrimStats;
  /** Absent when the daemon runs without records. */
  records?: RecordsStatus;
  lines: LineStatus[];
}

/**
 * Keeps the status of every line from the events (what `tgetty status` shows).
 * Pure bookkeeping: the daemon feeds it and reads `snapshot()`.
 */
export class StatusBoard implements EventSink {
  private readonly lines = new Map<string, LineStatus>();

  addLine(line: string, path: string, at: number): void {
    if (!this.lines.has(line)) this.lines.set(line, { line, path, state: 'starting', since: at, calls: 0, failures: 0 });
  }

  removeLine(line: string): void {
    this.lines.delete(line);
  }

  setResting(line: string, until: number | undefined): void {
    const l = this.lines.get(line);
    if (l === undefined) return;
    if (until === undefined) delete l.restingUntil;
    else l.restingUntil = until;
  }

  emit(e: DaemonEvent): void {
    const l = this.lines.get(e.line);
    if (l === undefined) return;
    switch (e.type) {
      case 'line-state':
        l.state = e.state;
        l.since = e.at;
        if (e.detail !== undefined) l.detail = e.detail;
        else delete l.detail;
        break;
      case 'call-start':
        l.call = { callId: e.callId, startedAt: e.at };
        l.calls++;
        break;
      case 'call-caller':
        if (l.call?.callId === e.callId) Object.assign(l.call, { callerId: e.callerId, callerName: e.callerName });
        break;
      case 'call-connect':
        if (l.call?.callId === e.callId) l.call.connect = e.connect;
        break;
      case 'call-session':
        if (l.call?.callId === e.callId) Object.assign(l.call, { loginName: e.loginName, program: e.program, pid: e.pid });
        break;
      case 'call-end':
        if (l.call?.callId === e.callId) delete l.call;
        break;
      case 'modem-init':
        if (!e.ok) {
          l.failures++;
          l.lastError = { at: e.at, message: e.detail ?? 'modem initialisation failed' };
        }
        break;
      case 'line-error':
        l.lastError = { at: e.at, message: e.message };
        break;
      case 'call-answering':
      case 'call-fax':
        break;
      default: {
        const never: never = e;
        return never;
      }
    }
  }

  snapshot(): LineStatus[] {
    return [...this.lines.values()].map((l) => structuredClone(l));
  }
}
