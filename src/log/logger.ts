/**
 * The logger of one line (or of the process before the line is known). Entries below
 * the configured level go to the per-line file (text or JSON lines); AUDIT, ERROR and
 * FATAL also go to the audit channel (syslog, or stderr under systemd). Logging never
 * throws and never stops the getty: a broken file falls back to stderr.
 */
import { join } from 'node:path';
import { showBytes } from '../core/bytes.js';
import { systemClock } from '../core/clock.js';
import type { Clock } from '../core/clock.js';
import { entryText, formatJson, formatText } from './format.js';
import type { LogEntry, LogFields } from './format.js';
import { DEFAULT_LOG_LEVEL, LogLevel, clampLevel } from './levels.js';
import type { MessageLevel } from './levels.js';
import { LogFile, journalAuditSink, journalPriority, resolveAuditMode, syslogAuditSink } from './sinks.js';
import type { AuditMode, AuditSink } from './sinks.js';
import { devId } from '../core/device.js';

export const DEFAULT_LOG_DIR = '/var/log/tgetty';

export type LogFormat = 'text' | 'json';

export interface LoggerOptions {
  /** Device name (`ttyS3`, `pts/4`, `/dev/ttyS3`); default `unknown` (before the line is known). */
  device?: string;
  /** Configured level 0..9 (clamped); default 4. */
  level?: number;
  /** Directory of the per-line files `<devId>.log`; default /var/log/tgetty. */
  logDir?: string;
  /** Explicit log file path (overrides logDir); `null` = no file, every entry to stderr. */
  file?: string | null;
  format?: LogFormat;
  /** Audit channel: a mode, or a sink (tests). Default 'auto' = stderr under systemd, else syslog. */
  audit?: AuditMode | AuditSink;
  clock?: Clock;
  /** Where warnings and fallback lines go; default process.stderr. */
  stderr?: (s: string) => void;
  /** Environment used by 'auto' to detect systemd; default process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * Write the file entries of one event-loop turn or more together, later: `defer(flush)` is
   * called once per batch (the daemon: batchedDeferral, 25 ms). Entries keep their time and order; audit
   * lines still go out at once. Without it every entry is one write(2) when it is made.
   */
  defer?: (flush: () => void) => void;
}

export interface Logger {
  readonly device: string;
  /** The log file path, or undefined when logging to stderr only. */
  readonly file: string | undefined;
  /** Configured level 0..9. */
  readonly level: number;
  /** Entries that should have gone to the file but went to stderr instead. */
  readonly droppedCount: number;
  setLevel(level: number): void;
  /** Would an entry of this level be written? (Skip expensive formatting when not.) */
  enabled(level: MessageLevel): boolean;
  log(level: MessageLevel, msg: string, fields?: LogFields): void;
  fatal(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  audit(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  mesg(msg: string, fields?: LogFields): void;
  noise(msg: string, fields?: LogFields): void;
  junk(msg: string, fields?: LogFields): void;
  /** `<prefix><bytes>` with printable ASCII as is and the rest as `[xx]`. */
  dump(level: MessageLevel, prefix: string, bytes: Uint8Array | string, fields?: LogFields): void;
  /** The line is idle: the next entry reopens the file if logrotate moved it, and retries a broken one. */
  idle(): void;
  /** Close and reopen the file now (after rotation). */
  reopen(): void;
  /** Close the file at exit. A later entry would reopen it: logging never stops. */
  close(): void;
  /** Write deferred entries now (see LoggerOptions.defer); a no-op otherwise. */
  flush(): void;
}

/** Loggers with deferred entries: written out if the process exits before their turn comes. */
const pendingLoggers = new Set<{ flush(): void }>();
let exitHookInstalled = false;

function flushAtExit(l: { flush(): void }): void {
  pendingLoggers.add(l);
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const p of [...pendingLoggers]) p.flush();
  });
}

/**
 * A `defer` for many loggers at once: every flush asked for is run together, `delayMs`
 * after the first. The daemon uses it so that the log writes of a burst of simultaneous
 * calls come after the burst's answers (ATA) instead of between them, and as one batch.
 * Pending entries are still written at exit and by `flush()`/`close()` of their logger.
 */
export function batchedDeferral(clock: Clock, delayMs: number): (flush: () => void) => void {
  let pending: (() => void)[] = [];
  let armed = false;
  const run = (): void => {
    armed = false;
    const fns = pending;
    pending = [];
    for (const fn of fns) fn();
  };
  return (fn) => {
    pending.push(fn);
    if (armed) return;
    armed = true;
    clock.setTimeout(run, delayMs);
  };
}

/** `pts/4` -> `pts-4`: the device as one path component (log file names, pid files). */
export function deviceId(device: string): string {
  return devId(stripDev(device));
}

function stripDev(device: string): string {
  return device.replace(/^\/dev\//, '').replace(/^\/+/, '');
}

/** Path of the per-line log file. */
export function logFilePath(logDir: string, device: string): string {
  return join(logDir, `${deviceId(device)}.log`);
}

function defaultStderr(s: string): void {
  process.stderr.write(s);
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const device = stripDev(opts.device ?? 'unknown') || 'unknown';
  const clock = opts.clock ?? systemClock;
  const stderr = opts.stderr ?? defaultStderr;
  const format = opts.format ?? 'text';
  const filePath = opts.file === null ? undefined : (opts.file ?? logFilePath(opts.logDir ?? DEFAULT_LOG_DIR, device));
  const logFile = filePath === undefined ? undefined : new LogFile(filePath, stderr, typeof opts.file === 'string');

  const auditOpt = opts.audit ?? 'auto';
  const auditMode = typeof auditOpt === 'string' ? resolveAuditMode(auditOpt, opts.env ?? process.env) : 'custom';
  // Under journald every stderr line carries its priority, and the audit copy of a line
  // already on stderr would only duplicate it.
  const journal = auditMode === 'stderr';
  const auditSink: AuditSink | undefined =
    typeof auditOpt !== 'string' ? auditOpt
    : auditMode === 'syslog' ? syslogAuditSink()
    : auditMode === 'stderr' ? journalAuditSink(stderr)
    : undefined;

  let level = clampLevel(opts.level ?? DEFAULT_LOG_LEVEL);
  let dropped = 0;

  const toStderr = (lvl: MessageLevel, line: string): void => {
    try {
      stderr(journal ? `<${journalPriority(lvl)}>${line}` : line);
    } catch {
      // Nowhere left to write.
    }
  };

  const defer = opts.defer;
  let queue: LogEntry[] = [];
  let scheduled = false;
  const self = { flush: (): void => flush() };
  const lineOf = (entry: LogEntry): string => (format === 'json' ? formatJson(entry) : formatText(entry));
  const flush = (): void => {
    scheduled = false;
    pendingLoggers.delete(self);
    if (queue.length === 0) return;
    const entries = queue;
    queue = [];
    try {
      const lines = entries.map(lineOf);
      if (logFile === undefined || !logFile.write(lines.join(''))) {
        if (logFile !== undefined) dropped += entries.length;
        entries.forEach((e, i) => toStderr(e.level, lines[i] ?? ''));
      }
    } catch {
      // A logger must never take the getty down.
    }
  };

  const log = (lvl: MessageLevel, msg: string, fields?: LogFields): void => {
    if (lvl > level) return;
    try {
      const entry: LogEntry = { time: clock.now(), level: lvl, device, msg, fields };
      let onStderr = false;
      if (defer !== undefined && logFile !== undefined) {
        queue.push(entry);
        if (!scheduled) {
          scheduled = true;
          flushAtExit(self);
          defer(flush);
        }
      } else {
        const line = lineOf(entry);
        if (logFile === undefined) {
          toStderr(lvl, line);
          onStderr = true;
        } else if (!logFile.write(line)) {
          dropped++;
          toStderr(lvl, line);
          onStderr = true;
        }
      }
      if (auditSink !== undefined && lvl <= LogLevel.AUDIT && !(journal && onStderr)) {
        const text = entryText(entry);
        // AUDIT lines name the device themselves; errors need it in a shared syslog.
        auditSink.write(lvl, lvl === LogLevel.AUDIT ? text : `${device}: ${text}`);
      }
    } catch {
      // A logger must never take the getty down.
    }
  };

  return {
    device,
    file: filePath,
    get level() {
      return level;
    },
    get droppedCount() {
      return dropped;
    },
    setLevel(n) {
      level = clampLevel(n);
    },
    enabled: (lvl) => lvl <= level,
    log,
    fatal: (m, f) => log(LogLevel.FATAL, m, f),
    error: (m, f) => log(LogLevel.ERROR, m, f),
    audit: (m, f) => log(LogLevel.AUDIT, m, f),
    warn: (m, f) => log(LogLevel.WARN, m, f),
    mesg: (m, f) => log(LogLevel.MESG, m, f),
    noise: (m, f) => log(LogLevel.NOISE, m, f),
    junk: (m, f) => log(LogLevel.JUNK, m, f),
    dump(lvl, prefix, bytes, fields) {
      if (lvl > level) return;
      log(lvl, prefix + showBytes(bytes), fields);
    },
    idle: () => {
      flush();
      logFile?.markIdle();
    },
    reopen: () => {
      flush();
      logFile?.reopen();
    },
    close: () => {
      flush();
      logFile?.close();
    },
    flush,
  };
}
