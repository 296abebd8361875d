/**
 * Prometheus metrics from the daemon's events, on a private registry (never the
 * process-global one, so tests and embedders do not share counters), served as text
 * on a loopback HTTP port.
 *
 * Process metrics (CPU, memory, event-loop lag, GC) are off by default: prom-client
 * samples event-loop delay with a timer and observes GC, which would wake an idle
 * daemon that otherwise uses no CPU between calls.
 */
import http from 'node:http';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { TgettyError } from '../core/errors.js';
import { isLoopback } from './loopback.js';
import { INTERRUPTED } from '../fax/queue.js';
import { CALL_OUTCOMES, LINE_STATUS_STATES } from './events.js';
import type { DaemonEvent, EventSink, LineStatusState } from './events.js';

export { isLoopback } from './loopback.js';

/** RING -> ATA is tgetty's own reaction time: milliseconds, so the buckets span 1 ms .. 1 s. */
export const ANSWER_LATENCY_BUCKETS: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

export interface MetricsOptions {
  /** Add prom-client's default process metrics (polls; see the module comment). Default false. */
  processMetrics?: boolean;
  /** In a pool: this host's name as a `host` label on every series (so one dashboard can sum the pool). */
  host?: string;
  /** In a pool: the call rows waiting to be sent to the shared database (tgetty_records_waiting_calls). */
  recordsWaiting?: () => number;
}

export class Metrics implements EventSink {
  readonly registry = new Registry();
  private readonly calls: Counter<'line' | 'outcome'>;
  private readonly latency: Histogram;
  private readonly lineState: Gauge<'line' | 'state'>;
  private readonly initFailures: Counter<'line'>;
  private readonly sessions: Gauge;
  private readonly faxCalls: Counter<'line' | 'end'>;
  private readonly faxPages: Counter<'line'>;
  private readonly faxFailures: Counter<'line' | 'hangup_code'>;
  /** The fax label values each line got (to remove its series with the line). */
  private readonly faxSeen = new Map<string, { ends: Set<string>; codes: Set<string> }>();
  /** Calls whose program is running (a call-end without a session must not decrement). */
  private readonly inSession = new Set<string>();
  private readonly state = new Map<string, LineStatusState>();

  constructor(opts: MetricsOptions = {}) {
    const registers = [this.registry];
    this.calls = new Counter({ name: 'tgetty_calls_total', help: 'Calls by how they ended.', labelNames: ['line', 'outcome'], registers });
    this.latency = new Histogram({
      name: 'tgetty_answer_latency_seconds',
      help: 'Time from the deciding RING to sending the answer command (ATA).',
      buckets: [...ANSWER_LATENCY_BUCKETS],
      registers,
    });
    this.lineState = new Gauge({
      name: 'tgetty_line_state',
      help: 'State of each line: 1 for the current state, 0 for the others.',
      labelNames: ['line', 'state'],
      registers,
    });
    this.initFailures = new Counter({
      name: 'tgetty_modem_init_failures_total',
      help: 'Modem initialisations that failed (no answer, ERROR, timeout).',
      labelNames: ['line'],
      registers,
    });
    this.sessions = new Gauge({ name: 'tgetty_sessions_active', help: 'Login programs (login, pppd, ...) running now.', registers });
    this.faxCalls = new Counter({
      name: 'tgetty_fax_calls_total',
      help: 'Fax calls answered, by how they ended (complete, carrier-lost, modem-hangup, timeout, spool-failed, ...; polled / poll-failed: a caller polled our fax-server-file).',
      labelNames: ['line', 'end'],
      registers,
    });
    this.faxPages = new Counter({ name: 'tgetty_fax_pages_total', help: 'Fax pages received and stored.', labelNames: ['line'], registers });
    this.faxFailures = new Counter({
      name: 'tgetty_fax_failures_total',
      help: 'Fax calls that did not end complete, by hang-up code (the modem\'s +FHNG/+FHS; -1 = our side: spool, disk full, time-out).',
      labelNames: ['line', 'hangup_code'],
      registers,
    });
    if (opts.recordsWaiting !== undefined) {
      const waiting = opts.recordsWaiting;
      new Gauge({
        name: 'tgetty_records_waiting_calls',
        help: 'Call rows waiting in the local outbox for the shared (PostgreSQL) records database.',
        registers,
        collect() {
          this.set(waiting());
        },
      });
    }
    if (opts.host !== undefined) this.registry.setDefaultLabels({ host: opts.host });
    if (opts.processMetrics === true) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * The fax queue runner's series (serve --fax-queue), made on first call so a daemon
   * without a queue exports none. Returns the runner's hooks (FaxQueueService onTry/onScan).
   */
  faxQueue(): { onTry: (r: { job: { status: 'queued' | 'done' | 'failed'; history: readonly { meaning: string }[] } }) => void; onScan: (c: { waiting: number; due: number; sending: number }) => void } {
    const registers = [this.registry];
    const jobs = new Gauge<'state'>({
      name: 'tgetty_fax_queue_jobs',
      help: 'Jobs in the outgoing fax queue at the runner\'s last look: waiting (next try ahead), due (waiting for an idle fax line), sending.',
      labelNames: ['state'],
      registers,
    });
    const sent = new Counter({ name: 'tgetty_fax_queue_sent_total', help: 'Fax jobs sent completely by the queue runner.', registers });
    const failed = new Counter({ name: 'tgetty_fax_queue_failed_total', help: 'Fax jobs the queue runner gave up (command line error, too many failures).', registers });
    const retries = new Counter({ name: 'tgetty_fax_queue_retries_total', help: 'Tries that failed with the job left queued for another try.', registers });
    const interrupted = new Counter({ name: 'tgetty_fax_queue_interrupted_total', help: 'Tries broken off because the daemon stopped (the job stays queued, no try counted).', registers });
    for (const state of ['waiting', 'due', 'sending']) jobs.set({ state }, 0);
    for (const c of [sent, failed, retries, interrupted]) c.inc(0);
    return {
      onTry: (r) => {
        if (r.job.status === 'done') sent.inc();
        else if (r.job.status === 'failed') failed.inc();
        else if (r.job.history.at(-1)?.meaning === INTERRUPTED) interrupted.inc();
        else retries.inc();
      },
      onScan: (c) => {
        jobs.set({ state: 'waiting' }, c.waiting);
        jobs.set({ state: 'due' }, c.due);
        jobs.set({ state: 'sending' }, c.sending);
      },
    };
  }

  /**
   * Make a line's series exist from the start (counters at 0, state `starting`), so
   * rate() and alerts work before the first call. Optional: events add lines too.
   */
  addLine(line: string): void {
    for (const outcome of CALL_OUTCOMES) this.calls.inc({ line, outcome }, 0);
    this.initFailures.inc({ line }, 0);
    this.faxCalls.inc({ line, end: 'complete' }, 0);
    this.faxPages.inc({ line }, 0);
    if (!this.state.has(line)) this.setState(line, 'starting');
  }

  /** Forget a line removed from the config (its series disappear from the output). */
  removeLine(line: string): void {
    for (const outcome of CALL_OUTCOMES) this.calls.remove({ line, outcome });
    for (const state of LINE_STATUS_STATES) this.lineState.remove({ line, state });
    this.initFailures.remove({ line });
    // Fax series carry labels only known when a fax came: drop every one the line got.
    const seen = this.faxSeen.get(line);
    for (const end of seen?.ends ?? ['complete']) this.faxCalls.remove({ line, end });
    for (const code of seen?.codes ?? []) this.faxFailures.remove({ line, hangup_code: code });
    this.faxPages.remove({ line });
    this.faxSeen.delete(line);
    this.state.delete(line);
  }

  private setState(line: string, state: LineStatusState): void {
    this.state.set(line, state);
    for (const s of LINE_STATUS_STATES) this.lineState.set({ line, state: s }, s === state ? 1 : 0);
  }

  emit(e: DaemonEvent): void {
    switch (e.type) {
      case 'line-state':
        this.setState(e.line, e.state);
        break;
      case 'call-answering':
        this.latency.observe(e.ringToAtaMs / 1000);
        break;
      case 'call-session':
        if (!this.inSession.has(e.callId)) {
          this.inSession.add(e.callId);
          this.sessions.inc();
        }
        break;
      case 'call-end':
        this.calls.inc({ line: e.line, outcome: e.outcome });
        if (this.inSession.delete(e.callId)) this.sessions.dec();
        break;
      case 'modem-init':
        if (!e.ok) this.initFailures.inc({ line: e.line });
        break;
      case 'call-fax': {
        let seen = this.faxSeen.get(e.line);
        if (seen === undefined) {
          seen = { ends: new Set(['complete']), codes: new Set() };
          this.faxSeen.set(e.line, seen);
        }
        seen.ends.add(e.fax.end);
        this.faxCalls.inc({ line: e.line, end: e.fax.end });
        // A caller that polled us (fax-server-file) got pages; none came in.
        const served = e.fax.end === 'polled' || e.fax.end === 'poll-failed';
        if (!served) this.faxPages.inc({ line: e.line }, e.fax.pages);
        const failed = served ? e.fax.end === 'poll-failed' : e.fax.end !== 'complete' || e.fax.hangupCode !== 0;
        if (failed) {
          const code = String(e.fax.hangupCode);
          seen.codes.add(code);
          this.faxFailures.inc({ line: e.line, hangup_code: code });
        }
        break;
      }
      case 'call-start':
      case 'call-caller':
      case 'call-connect':
      case 'line-error':
        break;
      default: {
        const never: never = e;
        return never;
      }
    }
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

export interface MetricsServerOptions {
  port: number;
  /** Default 127.0.0.1. */
  host?: string;
  metrics: Metrics;
  /** Allow a non-loopback `host`. The metrics name lines and call outcomes; expose them on purpose only. */
  allowRemote?: boolean;
}

export interface MetricsServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/** Serve GET /metrics (and HEAD); everything else is 404 (405 for other methods on /metrics). */
export async function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const host = opts.host ?? '127.0.0.1';
  if (!isLoopback(host) && opts.allowRemote !== true) {
    throw new TgettyError('DAEMON_FAILED', `metrics: refusing to listen on non-loopback address ${host} (allow it explicitly)`, { input: host });
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) {
    throw new TgettyError('DAEMON_FAILED', `metrics: bad port ${opts.port}`, { input: String(opts.port) });
  }
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD' }).end('method not allowed\n');
      return;
    }
    opts.metrics.text().then(
      (body) => {
        res.writeHead(200, { 'content-type': opts.metrics.contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${err instanceof Error ? err.message : String(err)}\n`);
      },
    );
  });
  // A scraper keeps its connection open; do not let that keep close() waiting.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new TgettyError('DAEMON_FAILED', `metrics: cannot listen on ${host}:${opts.port}: ${err.message}`, { input: `${host}:${opts.port}` }, { cause: err })));
    server.listen(opts.port, host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.port;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
