/**
 * Where log lines go: the per-line log file (kept open; after an idle time the first
 * entry checks whether logrotate moved it) and the audit channel (syslog, or stderr for journald).
 * Nothing here throws into the caller: a getty must keep answering calls when /var/log
 * is full.
 */
import { closeSync, mkdirSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { errnoCode } from '../core/errors.js';
import { LOG_ALERT, LOG_AUTH, LOG_ERR, LOG_NOTICE, openSyslog, syslog } from '../os/syslog.js';
import { openAppend } from '../os/safe-open.js';
import { LogLevel } from './levels.js';
import type { MessageLevel } from './levels.js';

/** Write a whole buffer with synchronous writes (a short write is continued, not lost). */
function writeAll(fd: number, data: Buffer): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}

/**
 * An append-only log file opened lazily (mode 0640; Node opens every fd close-on-exec,
 * so login never inherits it). It is opened with O_NOFOLLOW|O_NONBLOCK|O_NOCTTY and must
 * be a regular file (safe-open.ts): a symlink, FIFO or device planted in a log dir that
 * others can write is refused, never written through. When it cannot be opened or written, one warning goes to
 * `warn` and `write()` returns false until `markIdle()`/`reopen()` allow a new try.
 */
export class LogFile {
  private fd: number | undefined;
  /** Identity of the open file, to notice rotation (the path now names another file, or none). */
  private ino = 0;
  private dev = 0;
  private checkRotation = false;
  private failed = false;
  private warned = false;
  private triedMkdir = false;

  constructor(
    readonly path: string,
    private readonly warn: (s: string) => void,
    /** The caller named this exact path (LoggerOptions.file): a character device is accepted. */
    private readonly explicit = false,
  ) {}

  /** True while the file is known to be unusable (entries go elsewhere). */
  get broken(): boolean {
    return this.failed;
  }

  /** True while the file descriptor is open. */
  get isOpen(): boolean {
    return this.fd !== undefined;
  }

  /** Append one line. Returns false if it could not be written to the file. */
  write(line: string): boolean {
    if (this.fd !== undefined && this.checkRotation) {
      this.checkRotation = false;
      if (this.rotated()) this.closeFd();
    }
    if (this.fd === undefined) {
      if (this.failed || !this.open()) return false;
    }
    try {
      writeAll(this.fd as number, Buffer.from(line, 'utf8'));
      return true;
    } catch (err) {
      this.fail('write', err);
      return false;
    }
  }

  /**
   * The line is idle. The fd stays open (closing and reopening it cost syscalls on the
   * way from RING to ATA); the next entry first checks with one stat(2) whether the path
   * still names this file, and reopens it if logrotate moved it. A broken file is retried.
   */
  markIdle(): void {
    this.checkRotation = true;
    this.failed = false;
    this.triedMkdir = false;
  }

  /** Close the file (at exit). A later entry opens it again. */
  close(): void {
    this.closeFd();
    this.failed = false;
    this.triedMkdir = false;
  }

  /** Close and open again now (after rotation, e.g. on SIGHUP). Returns true if the file is open. */
  reopen(): boolean {
    this.close();
    return this.open();
  }

  private rotated(): boolean {
    try {
      const st = statSync(this.path, { throwIfNoEntry: false });
      return st === undefined || st.ino !== this.ino || st.dev !== this.dev;
    } catch {
      return true;
    }
  }

  private open(): boolean {
    let st;
    try {
      ({ fd: this.fd, st } = openAppend(this.path, 0o640, { charDevice: this.explicit }));
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' || this.triedMkdir) {
        this.fail('open', err);
        return false;
      }
      // The log dir may not exist on a fresh install: create it once, then retry.
      this.triedMkdir = true;
      try {
        mkdirSync(dirname(this.path), { recursive: true, mode: 0o755 });
        ({ fd: this.fd, st } = openAppend(this.path, 0o640, { charDevice: this.explicit }));
      } catch (err2) {
        this.fail('open', err2);
        return false;
      }
    }
    this.ino = st.ino;
    this.dev = st.dev;
    this.checkRotation = false;
    this.failed = false;
    this.warned = false;
    return true;
  }

  private fail(what: string, err: unknown): void {
    this.closeFd();
    this.failed = true;
    if (this.warned) return;
    this.warned = true;
    const code = errnoCode(err) ?? (err instanceof Error ? err.message : String(err));
    try {
      this.warn(`tgetty: cannot ${what} log file ${this.path}: ${code}; logging to stderr until it can be reopened\n`);
    } catch {
      // stderr itself is gone: nothing left to tell.
    }
  }

  private closeFd(): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    try {
      closeSync(fd);
    } catch {
      // EIO/ENOSPC on close of a log file: the data is already as lost as it will be.
    }
  }
}

/** The audit channel: AUDIT, ERROR and FATAL entries (text without time stamp). */
export interface AuditSink {
  write(level: MessageLevel, text: string): void;
}

export type AuditMode = 'auto' | 'syslog' | 'stderr' | 'none';

/** syslog / sd-daemon priority of an audit-channel level (both use the same numbers). */
export function auditPriority(level: MessageLevel): number | undefined {
  switch (level) {
    case LogLevel.FATAL:
      return LOG_ALERT;
    case LogLevel.ERROR:
      return LOG_ERR;
    case LogLevel.AUDIT:
      return LOG_NOTICE;
    default:
      return undefined;
  }
}

/** sd-daemon priority for any level, used when every line goes to journald via stderr. */
export function journalPriority(level: MessageLevel): number {
  switch (level) {
    case LogLevel.FATAL:
      return 1;
    case LogLevel.ERROR:
      return 3;
    case LogLevel.WARN:
      return 4;
    case LogLevel.AUDIT:
      return 5;
    case LogLevel.MESG:
      return 6;
    case LogLevel.NOISE:
    case LogLevel.JUNK:
      return 7;
  }
}

/** True when started by systemd with stderr going to the journal. */
export function underSystemd(env: NodeJS.ProcessEnv): boolean {
  return (env.INVOCATION_ID ?? '') !== '' || (env.JOURNAL_STREAM ?? '') !== '';
}

export function resolveAuditMode(mode: AuditMode, env: NodeJS.ProcessEnv): 'syslog' | 'stderr' | 'none' {
  if (mode !== 'auto') return mode;
  return underSystemd(env) ? 'stderr' : 'syslog';
}

let syslogOpened = false;

/** syslog(3) with ident `tgetty`, facility LOG_AUTH, opened on first use (as mgetty). */
export function syslogAuditSink(ident = 'tgetty'): AuditSink {
  return {
    write(level, text) {
      const prio = auditPriority(level);
      if (prio === undefined) return;
      try {
        if (!syslogOpened) {
          openSyslog(ident, LOG_AUTH);
          syslogOpened = true;
        }
        syslog(prio, text);
      } catch {
        // No syslog (koffi or libc problem): the log file still has the line.
      }
    },
  };
}

/** `<prio>text` lines on stderr, so journald keeps the priority. */
export function journalAuditSink(stderr: (s: string) => void): AuditSink {
  return {
    write(level, text) {
      const prio = auditPriority(level);
      if (prio === undefined) return;
      try {
        stderr(`<${prio}>${text}\n`);
      } catch {
        // stderr closed: nothing to do.
      }
    },
  };
}
