/**
 * Per-line pid file `<runDir>/tgetty.pid.<devId>` (pid + LF, mode 0644), for scripts
 * that want to signal the getty of one line. Unlike mgetty (Q14), tgetty's callers
 * remove it on every clean exit. The run dir may be writable by others (a configured
 * one): the temp file is created O_EXCL|O_NOFOLLOW, rename(2) replaces a name without
 * following it, and reading never follows a symlink or blocks on a FIFO (safe-open.ts).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { TgettyError, errnoCode } from '../core/errors.js';
import { devId as toDevId } from '../core/device.js';
import { createExclusive, readSmallFile } from '../os/safe-open.js';

export const DEFAULT_RUN_DIR = '/run';

/** devId is the device as one path component (`pts/4` -> `pts-4`). */
export function pidFilePath(runDir: string, devId: string): string {
  return join(runDir, `tgetty.pid.${toDevId(devId)}`);
}

/**
 * Write the pid file atomically (temp file + rename, so a reader never sees it half
 * written). Returns its path. Throws PIDFILE_FAILED.
 */
export function writePidFile(runDir: string, devId: string, pid: number = process.pid): string {
  const path = pidFilePath(runDir, devId);
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const { fd } = createExclusive(tmp, 0o644); // 0644 whatever the umask
    try {
      const data = Buffer.from(`${pid}\n`, 'latin1');
      writeSync(fd, data, 0, data.length);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    return path;
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // never created or already renamed
    }
    const code = errnoCode(err) ?? 'EIO';
    throw new TgettyError('PIDFILE_FAILED', `cannot write pid file ${path} (${code}); check that ${runDir} exists and is writable, or configure another run directory`, {
      file: path, errno: code,
    }, { cause: err });
  }
}

/** The pid in the file, or undefined if there is no file or no valid pid in it. */
export function readPidFile(runDir: string, devId: string): number | undefined {
  const r = readSmallFile(pidFilePath(runDir, devId), 64);
  if (!r.ok) return undefined;
  const m = /^\s*(\d+)\s*$/.exec(r.data.toString('latin1'));
  const pid = m === null ? 0 : Number(m[1]);
  return pid > 0 ? pid : undefined;
}

/**
 * Remove the pid file if it names `pid` (default: this process), so a getty never
 * deletes the file of a newer instance on the same line. Returns true if removed.
 */
export function removePidFile(runDir: string, devId: string, pid: number = process.pid): boolean {
  if (readPidFile(runDir, devId) !== pid) return false;
  try {
    unlinkSync(pidFilePath(runDir, devId));
    return true;
  } catch {
    return false;
  }
}
