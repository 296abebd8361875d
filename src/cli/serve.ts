/**
 * `tgetty serve`: the daemon with everything around it: call records, metrics, the
 * status socket, sd_notify and the signals (HUP = reload, TERM/INT = stop).
 */
import { Daemon } from '../daemon/daemon.js';
import type { RecordsSetup } from '../daemon/records-setup.js';
import { parseRecordsTarget, redactUrl } from '../daemon/record-store.js';
import { TgettyError } from '../core/errors.js';
import { configRecordsSetting } from './records-setting.js';
import type { Metrics, MetricsServer, startMetricsServer } from '../daemon/metrics.js';
import { startStatusServer } from '../daemon/status-server.js';
import type { HttpStatusServer } from '../daemon/http/server.js';
import type { LateSink } from '../daemon/http/index.js';
import * as sd from '../daemon/notify.js';
import type { ConfigValue } from '../config/keywords.js';
import { createLogger, type LogFormat } from '../log/logger.js';
import { lockDirProblem } from '../line/lock.js';
import { DEFAULT_PATHS, type SystemPaths } from './paths.js';
import { hostname } from 'node:os';
import type { CliIo } from './io.js';

export interface ServeOptions {
  paths: SystemPaths;
  lines?: string[];
  overrides: Record<string, ConfigValue>;
  logFormat: LogFormat;
  metricsPort?: number;
  metricsHost?: string;
  metricsAllowRemote?: boolean;
  /** Run without the call records. */
  noRecords?: boolean;
  /** A file (SQLite) or a postgresql:// URL; default paths.records. */
  records?: string;
  /** Said in errors about `records` (`--records` or `TGETTY_RECORDS`). */
  recordsFrom?: string;
  /** With a PostgreSQL `records`: the local SQLite copy and outbox; default paths.records. */
  recordsSpool?: string;
  /** This host's name in the records and on the page; default os.hostname(). */
  hostName?: string;
  /** The web status page: PORT or ADDRESS:PORT (off when absent). */
  http?: string;
  httpAuthFile?: string;
  peers?: string[];
  peerTokenFile?: string;
  /** Run the outgoing fax queue in this dir on idle fax lines. */
  faxQueue?: string;
  /** The sender program for it; default this tgetty's `sendfax`. */
  faxSender?: string;
  version: string;
  io: CliIo;
  /** Resolves when the daemon should stop (default: SIGTERM or SIGINT). */
  stopSignal?: Promise<void>;
}

/** systemd's variables are for us only: children (login, pppd) must not inherit them. */
function takeSystemdEnv(): NodeJS.ProcessEnv {
  const keep: NodeJS.ProcessEnv = {};
  for (const k of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']) {
    if (process.env[k] !== undefined) keep[k] = process.env[k];
    delete process.env[k];
  }
  return keep;
}

export async function serveCommand(o: ServeOptions): Promise<number> {
  // A records value with an unknown scheme is a usage error before anything starts (thrown: exit 2).
  // --records > TGETTY_RECORDS (both in o.records) > records-url in mgetty.config > the default file.
  const fromConfig = o.noRecords === true || o.records !== undefined ? undefined : configRecordsSetting(o.paths.configDir);
  const recordsFrom = fromConfig?.recordsFrom ?? o.recordsFrom ?? '--records';
  const target = o.noRecords === true ? undefined : parseRecordsTarget(o.records ?? fromConfig?.records ?? o.paths.records, recordsFrom);
  if (fromConfig?.warning !== undefined) o.io.err(`tgetty serve: warning: ${fromConfig.warning}\n`);
  if (o.recordsSpool !== undefined && parseRecordsTarget(o.recordsSpool, '--records-spool').kind !== 'sqlite') {
    throw new TgettyError('CLI_USAGE', `--records-spool '${redactUrl(o.recordsSpool)}': the local copy is an SQLite file; give a file path`, { input: redactUrl(o.recordsSpool) });
  }
  const sdEnv = takeSystemdEnv();
  const log = createLogger({ device: 'tgetty', logDir: o.paths.logDir, format: o.logFormat });
  let records: RecordsSetup | undefined;
  if (target?.kind === 'postgresql' && recordsFrom === '--records' && /^[^:]+:\/\/[^/@:]*:[^@/]+@/.test(target.url)) {
    // /proc/PID/cmdline is readable by every local user.
    o.io.err(`tgetty serve: warning: the password in --records is visible to every local user (ps); put the URL in TGETTY_RECORDS in a mode 0600 environment file instead\n`);
  }
  if (target !== undefined) {
    // paths.records holds the URL when --records gave one: the spool is then the default file.
    const spoolFile = o.recordsSpool ?? (/^[A-Za-z][A-Za-z0-9+.-]*:/.test(o.paths.records) ? DEFAULT_PATHS.records : o.paths.records);
    // Loaded only with records: SQLite (better-sqlite3) and the pool's code are not needed with --no-records.
    const { setupRecords } = await import('../daemon/records-setup.js');
    records = setupRecords({ target, spoolFile, log, ...(o.hostName !== undefined ? { host: o.hostName } : {}), warn: (m) => o.io.err(`tgetty serve: ${m}\n`) });
  }
  // prom-client is loaded only when metrics are wanted: it costs start-up time, heap, and
  // work on every state change of every line.
  // The page's sink exists before the daemon; the page itself starts once the lines run.
  // Without --http the page's code (and prom-client, which its server module imports) is not loaded.
  let pageSink: LateSink | undefined;
  if (o.http !== undefined) pageSink = new (await import('../daemon/http/index.js')).LateSink();
  let metrics: Metrics | undefined;
  let startServer: typeof startMetricsServer | undefined;
  if (o.metricsPort !== undefined) {
    const mod = await import('../daemon/metrics.js');
    // A pool (shared records, peers, or a host name given): every series gets a `host` label.
    const pool = target?.kind === 'postgresql' || (o.peers?.length ?? 0) > 0 || o.hostName !== undefined;
    const recordsStatus = records?.status;
    metrics = new mod.Metrics({
      ...(pool ? { host: o.hostName ?? hostname() } : {}),
      ...(target?.kind === 'postgresql' && recordsStatus !== undefined ? { recordsWaiting: () => recordsStatus().waiting?.calls ?? 0 } : {}),
    });
    startServer = mod.startMetricsServer;
  }
  const daemon = new Daemon({
    paths: o.paths,
    ...(o.lines !== undefined ? { lines: o.lines } : {}),
    overrides: o.overrides,
    logFormat: o.logFormat,
    sinks: [...(metrics !== undefined ? [metrics] : []), ...(records?.sinks ?? []), ...(pageSink !== undefined ? [pageSink] : [])],
    version: o.version,
    log,
    ...(records !== undefined ? { recordsStatus: records.status } : {}),
  });
  try {
    daemon.start();
  } catch (err) {
    o.io.err(`tgetty serve: ${err instanceof Error ? err.message : String(err)}\n`);
    await records?.close();
    log.close();
    return 1;
  }
  // Said once here, where the admin starting the daemon looks; the lines retry with back-off.
  const lockProblem = lockDirProblem(o.paths.lockDir);
  if (lockProblem !== undefined) {
    log.error(`configuration error: ${lockProblem}`);
    o.io.err(`tgetty serve: configuration error: ${lockProblem}. No line answers until it is fixed (\`tgetty status\` shows them as 'error').\n`);
  }
  const syncMetricLines = (() => {
    let known = new Set<string>();
    return () => {
      if (metrics === undefined) return;
      const now = new Set(daemon.lines);
      for (const l of now) if (!known.has(l)) metrics.addLine(l);
      for (const l of known) if (!now.has(l)) metrics.removeLine(l);
      known = now;
    };
  })();
  syncMetricLines();

  let reloading: Promise<{ ok: boolean; errors: string[] }> | undefined;
  const reload = (): Promise<{ ok: boolean; errors: string[] }> => {
    reloading ??= (async () => {
      sd.reloading(sdEnv);
      try {
        const r = await daemon.reload();
        syncMetricLines();
        if (r.ok && o.noRecords !== true && o.records === undefined && configRecordsSetting(o.paths.configDir)?.records !== fromConfig?.records) {
          log.mesg('records-url changed in the configuration: the call records keep going where they went until tgetty serve is restarted');
        }
        return r;
      } finally {
        sd.ready(sdEnv);
        reloading = undefined;
      }
    })();
    return reloading;
  };

  let statusServer: Awaited<ReturnType<typeof startStatusServer>> | undefined;
  try {
    statusServer = await startStatusServer({ runDir: o.paths.runDir, handlers: { status: () => daemon.status(), reload }, log });
  } catch (err) {
    log.error('status socket disabled', { err });
    o.io.err(`tgetty serve: status socket disabled: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  let metricsServer: MetricsServer | undefined;
  if (o.metricsPort !== undefined && startServer !== undefined && metrics !== undefined) {
    try {
      metricsServer = await startServer({ port: o.metricsPort, host: o.metricsHost ?? '127.0.0.1', metrics, allowRemote: o.metricsAllowRemote === true });
      log.mesg(`metrics on http://${o.metricsHost ?? '127.0.0.1'}:${metricsServer.port}/metrics`);
    } catch (err) {
      log.error('metrics server disabled', { err });
      o.io.err(`tgetty serve: metrics disabled: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }

  let page: HttpStatusServer | undefined;
  if (o.http !== undefined) {
    try {
      const { startPage } = await import('../daemon/http/index.js');
      const local = records?.local;
      page = await startPage({
        listen: o.http,
        ...(o.httpAuthFile !== undefined ? { authFile: o.httpAuthFile } : {}),
        ...(o.peers !== undefined ? { peers: o.peers } : {}),
        ...(o.peerTokenFile !== undefined ? { peerTokenFile: o.peerTokenFile } : {}),
        status: () => daemon.status(),
        ...(o.hostName !== undefined ? { host: o.hostName } : {}),
        ...(local !== undefined ? { calls: (q) => local.query(q) } : {}),
        log,
      });
      if (pageSink !== undefined) pageSink.target = page.sink;
      log.mesg(`web status page on ${page.url}`);
      o.io.out(`tgetty serve: web status page on ${page.url}\n`);
    } catch (err) {
      log.error('web status page disabled', { err });
      o.io.err(`tgetty serve: web status page disabled: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }

  let faxQueue: { stop(): Promise<void> } | undefined;
  if (o.faxQueue !== undefined) {
    const { FaxQueueService } = await import('../daemon/fax-queue-service.js');
    const { systemClock } = await import('../core/clock.js');
    const own = o.faxSender === undefined;
    const svc = new FaxQueueService({
      dir: o.faxQueue,
      sender: own ? { program: process.execPath, args: [process.argv[1], 'sendfax'] } : { program: o.faxSender!, args: [] },
      // tgetty's own sendfax takes the lock in the daemon's lock dir.
      ...(own ? { senderArgs: ['--lock-dir', o.paths.lockDir, ...(o.paths.configDir !== undefined ? ['--config-dir', o.paths.configDir] : [])] } : {}),
      mailProgram: (line) => daemon.faxMailProgram(line) ?? '/usr/sbin/sendmail',
      clock: systemClock,
      log,
      idleLines: () => daemon.idleFaxLines(),
      // A line becoming idle wakes the runner: no polling while jobs wait for a line.
      linePollMs: 0,
      ...(metrics !== undefined ? metrics.faxQueue() : {}),
    });
    daemon.onFaxLineIdle(() => svc.lineIdle());
    svc.start();
    faxQueue = svc;
  }

  const watchdog = sd.startWatchdog(sdEnv);
  sd.ready(sdEnv);
  sd.status(`serving ${daemon.lines.length} line(s)`, sdEnv);
  o.io.out(`tgetty serve: ${daemon.lines.length} line(s): ${daemon.lines.join(', ')}${statusServer !== undefined ? ` (status: ${statusServer.path})` : ''}\n`);

  const onHup = (): void => {
    log.mesg('SIGHUP: reloading the configuration');
    // A rejected reload is logged (once) by the daemon itself.
    void reload();
  };
  process.on('SIGHUP', onHup);
  const stop =
    o.stopSignal ??
    new Promise<void>((resolve) => {
      const onStop = (sig: NodeJS.Signals): void => {
        log.mesg(`${sig}: stopping`);
        process.off('SIGTERM', onStop);
        process.off('SIGINT', onStop);
        resolve();
      };
      process.on('SIGTERM', onStop);
      process.on('SIGINT', onStop);
    });
  await stop;
  process.off('SIGHUP', onHup);
  sd.stopping(sdEnv);
  // Before the lines: a sender still sending holds a line's lock (bounded wait, then signalled).
  await faxQueue?.stop();
  watchdog.stop();
  await daemon.stop();
  await statusServer?.close();
  await metricsServer?.close();
  await page?.close();
  await records?.close();
  return 0;
}
