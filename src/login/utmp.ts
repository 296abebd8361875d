/**
 * utmp/wtmp records for a call (spec §9.5), as pure builders plus a writer.
 *
 * mgetty only rewrites the record init made for its pid; tgetty is one daemon for many
 * lines, so it writes its own records and picks the ut_id itself (see `utmpId`). The
 * writer never throws: a getty must not drop a caller because /run/utmp is broken, so
 * failures are logged and the call goes on.
 */
import { closeSync, fchownSync } from 'node:fs';
import { createExclusive } from '../os/safe-open.js';
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { errnoCode } from '../core/errors.js';
import { DEAD_PROCESS, LOGIN_PROCESS, USER_PROCESS, writeUtmp } from '../os/utmp.js';
import { getgrnam } from '../os/passwd.js';
import type { UtmpRecord } from '../os/utmp.js';
import { logField } from '../log/format.js';

export type { UtmpRecord } from '../os/utmp.js';
export { DEAD_PROCESS, LOGIN_PROCESS, USER_PROCESS } from '../os/utmp.js';

/** What the writer logs through (a subset of src/log's Logger). */
export interface UtmpLog {
  error(msg: string): void;
  warn(msg: string): void;
  noise(msg: string): void;
}

/** ut_line: the device name without `/dev/` (`ttyS0`, `pts/4`), at most 32 bytes. */
export function utmpLine(device: string): string {
  return device.startsWith('/dev/') ? device.slice(5) : device;
}

/**
 * ut_id (4 bytes) for a line. A leading `tty` is dropped (`ttyS0` -> `S0`, `ttyQZ0` -> `QZ0`,
 * the inittab convention, and what shadow's login picks itself), then the last 4
 * characters are kept (`pts/4` -> `ts/4`, `pts/12` -> `s/12`, as agetty does). Unique per
 * line in practice, and stable, so every record of one line replaces the previous one.
 */
export function utmpId(device: string): string {
  let s = utmpLine(device);
  if (s.startsWith('tty') && s.length > 3) s = s.slice(3);
  const b = Buffer.from(s, 'utf8');
  return b.length <= 4 ? s : b.subarray(b.length - 4).toString('latin1');
}

/** Host column of the LOGIN_PROCESS record: the caller ID when known, else the connect string. */
export function loginHost(callerId: string | undefined, connect: string | undefined): string {
  if (callerId !== undefined && callerId !== '' && callerId !== 'none') return callerId;
  return connect ?? '';
}

function base(type: number, device: string, pid: number, user: string, host: string, timeMs: number): UtmpRecord {
  return { type, pid, line: utmpLine(device), id: utmpId(device), user, host, time: Math.floor(timeMs / 1000) };
}

/** LOGIN_PROCESS, user `LOGIN` (what /bin/login looks for by pid). */
export function loginRecord(device: string, pid: number, host: string, timeMs: number): UtmpRecord {
  return base(LOGIN_PROCESS, device, pid, 'LOGIN', host, timeMs);
}

/** USER_PROCESS for a login.config entry with a utmp column (user = that text, host = connect). */
export function userRecord(device: string, pid: number, user: string, host: string, timeMs: number): UtmpRecord {
  return base(USER_PROCESS, device, pid, user, host, timeMs);
}

/** DEAD_PROCESS: the session on this line ended (user and host cleared, as init does). */
export function deadRecord(device: string, pid: number, timeMs: number): UtmpRecord {
  return base(DEAD_PROCESS, device, pid, '', '', timeMs);
}

export interface UtmpWriterOptions {
  /** utmp file (Debian: /run/utmp). Created with mode 0664 (group utmp if it exists) when missing. */
  utmpFile: string;
  /** wtmp file (Debian: /var/log/wtmp); undefined = no wtmp records. Never created: `last` wants it made by the admin. */
  wtmpFile?: string;
  clock?: Clock;
  log?: UtmpLog;
  /** The low-level write (tests inject a failing one). Default: libc writeUtmp. */
  write?: (utmpFile: string, wtmpFile: string | undefined, r: UtmpRecord) => void;
}

/** Writes a line's records; every method returns false (after logging) instead of throwing. */
export class UtmpWriter {
  readonly utmpFile: string;
  readonly wtmpFile: string | undefined;
  private readonly clock: Clock;
  private readonly log: UtmpLog | undefined;
  private readonly write: (utmpFile: string, wtmpFile: string | undefined, r: UtmpRecord) => void;

  constructor(opts: UtmpWriterOptions) {
    this.utmpFile = opts.utmpFile;
    this.wtmpFile = opts.wtmpFile;
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log;
    this.write = opts.write ?? writeUtmp;
  }

  loginProcess(device: string, pid: number, host: string): boolean {
    return this.put(loginRecord(device, pid, host, this.clock.now()));
  }

  userProcess(device: string, pid: number, user: string, host: string): boolean {
    return this.put(userRecord(device, pid, user, host, this.clock.now()));
  }

  deadProcess(device: string, pid: number): boolean {
    return this.put(deadRecord(device, pid, this.clock.now()));
  }

  /** Write any record (utmp, and wtmp if configured). */
  put(r: UtmpRecord): boolean {
    try {
      this.ensureUtmpFile();
      this.write(this.utmpFile, this.wtmpFile, r);
      this.log?.noise(`utmp: type=${r.type} pid=${r.pid} line=${r.line} id=${r.id} user=${logField(r.user)} host=${logField(r.host)}`);
      return true;
    } catch (e) {
      this.log?.error(`utmp: cannot write type=${r.type} for ${r.line} to ${this.utmpFile}: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    }
  }

  private ensureUtmpFile(): void {
    // glibc never creates utmp, and a fresh Debian 12 VM may lack /run/utmp (spike §2):
    // create it like systemd-tmpfiles does (0664, group utmp) so `who` works.
    // O_EXCL|O_NOFOLLOW (createExclusive): a planted file or symlink is never written
    // through; chown on the fd, not the name, so the name cannot be swapped in between.
    let fd: number;
    try {
      ({ fd } = createExclusive(this.utmpFile, 0o664)); // 0664 whatever the umask
    } catch (e) {
      if (errnoCode(e) === 'EEXIST') return;
      throw e;
    }
    try {
      const g = getgrnam('utmp');
      if (g !== undefined && process.getuid?.() === 0) {
        try {
          fchownSync(fd, 0, g.gid);
        } catch (e) {
          this.log?.warn(`utmp: cannot give ${this.utmpFile} to group utmp: ${e instanceof Error ? e.message : String(e)}`);
        }
      }
    } finally {
      closeSync(fd);
    }
    this.log?.warn(`utmp: created missing ${this.utmpFile} (mode 0664)`);
  }
}
