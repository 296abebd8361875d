/**
 * Opening paths in directories that other users can write (the lock dir is /run/lock,
 * mode 1777; a run or log dir may be group-writable). Whatever another user planted
 * under the name we open must not block the daemon's only thread (a FIFO), become its
 * controlling tty (a symlink to their pty), make us write through a symlink, or make us
 * read a huge file. So every open here is
 *   O_NOFOLLOW (a symlink fails with ELOOP), O_NONBLOCK (a FIFO or device never blocks
 *   the open), O_NOCTTY (a tty never becomes ours), and Node adds O_CLOEXEC,
 * followed by fstat() on the fd (not a second lookup of the name) and a check that it is
 * a regular file. Creating is O_CREAT|O_EXCL|O_NOFOLLOW with fchmod() on the fd.
 * See docs/security.md, "Paths in directories others can write".
 */
import { closeSync, constants as fsc, fchmodSync, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { errnoCode } from '../core/errors.js';

const SAFE = fsc.O_NOFOLLOW | fsc.O_NONBLOCK | fsc.O_NOCTTY;

/** What a path names, when it is not something we accept. */
export type FileKind = 'symlink' | 'fifo' | 'directory' | 'char-device' | 'block-device' | 'socket' | 'unknown';

export function fileKind(st: Stats): FileKind | 'file' {
  if (st.isFile()) return 'file';
  if (st.isFIFO()) return 'fifo';
  if (st.isDirectory()) return 'directory';
  if (st.isCharacterDevice()) return 'char-device';
  if (st.isBlockDevice()) return 'block-device';
  if (st.isSocket()) return 'socket';
  if (st.isSymbolicLink()) return 'symlink';
  return 'unknown';
}

/** Identity of an open file: compare with a later lstat() of the name. */
export interface FileId {
  dev: number;
  ino: number;
}

export function sameFile(a: FileId, b: FileId): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

export type SafeRead =
  | { ok: true; data: Buffer; st: Stats }
  | { ok: false; code: 'ENOENT' | 'ENOTDIR' }
  /** Something is there but we will not read it: a symlink, FIFO, device, directory, a file over the limit, or an open error. */
  | { ok: false; code: string; refused: string; st?: Stats };

/**
 * Read at most `maxBytes` of the regular file at `path`, never following a symlink at the
 * last component and never blocking. A larger file is refused (EFBIG) unless `truncate`:
 * then its first `maxBytes` are returned. Never throws.
 */
export function readSmallFile(path: string, maxBytes: number, opts: { truncate?: boolean } = {}): SafeRead {
  let fd: number;
  try {
    fd = openSync(path, fsc.O_RDONLY | SAFE);
  } catch (err) {
    const code = errnoCode(err) ?? 'EIO';
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, code };
    // O_NOFOLLOW on a symlink: ELOOP (Linux), or EMLINK/EFTYPE elsewhere.
    return { ok: false, code, refused: code === 'ELOOP' ? 'a symbolic link' : `cannot be opened (${code})` };
  }
  try {
    const st = fstatSync(fd);
    const kind = fileKind(st);
    if (kind !== 'file') return { ok: false, code: kind === 'directory' ? 'EISDIR' : 'ENOTREG', refused: `not a regular file (${kind})`, st };
    if (st.size > maxBytes && opts.truncate !== true) return { ok: false, code: 'EFBIG', refused: `too large (${st.size} bytes, at most ${maxBytes} expected)`, st };
    // One byte more than we take, to notice a file that grew past the limit since fstat.
    const buf = Buffer.alloc(Math.min(maxBytes, st.size) + 1);
    let n = 0;
    while (n < buf.length) {
      const got = readSync(fd, buf, n, buf.length - n, n);
      if (got === 0) break;
      n += got;
    }
    if (n > maxBytes) {
      if (opts.truncate !== true) return { ok: false, code: 'EFBIG', refused: `too large (over ${maxBytes} bytes)`, st };
      n = maxBytes;
    }
    return { ok: true, data: buf.subarray(0, n), st };
  } catch (err) {
    return { ok: false, code: errnoCode(err) ?? 'EIO', refused: `cannot be read (${errnoCode(err) ?? 'EIO'})` };
  } finally {
    closeSync(fd);
  }
}

/**
 * Create `path` (it must not exist: O_EXCL, so a planted symlink or file fails with
 * EEXIST), write-only, with exactly `mode` whatever the umask. Returns the fd and its
 * identity. Throws the open/fchmod error (the fd is closed then).
 */
export function createExclusive(path: string, mode: number): { fd: number; id: FileId } {
  const fd = openSync(path, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | SAFE, mode);
  try {
    fchmodSync(fd, mode);
    const st = fstatSync(fd);
    return { fd, id: { dev: st.dev, ino: st.ino } };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/** Error thrown by openAppend for a path that names something other than a regular file. */
export class NotRegularFileError extends Error {
  readonly code = 'ENOTREG';
  constructor(
    readonly path: string,
    readonly kind: string,
  ) {
    super(`${path} is not a regular file (${kind}); not writing to it`);
  }
}

/**
 * Open (creating with `mode` if missing) a file to append to, e.g. a log file: never
 * through a symlink (ELOOP), never a FIFO, device or directory (NotRegularFileError),
 * never blocking. `charDevice`: a character device is accepted too (a log file path the
 * caller named itself, such as /dev/full in a test; never a name in a shared dir).
 * Returns the fd and its stat. Throws.
 */
export function openAppend(path: string, mode: number, opts: { charDevice?: boolean } = {}): { fd: number; st: Stats } {
  const fd = openSync(path, fsc.O_WRONLY | fsc.O_APPEND | fsc.O_CREAT | SAFE, mode);
  try {
    const st = fstatSync(fd);
    const kind = fileKind(st);
    if (kind !== 'file' && !(kind === 'char-device' && opts.charDevice === true)) throw new NotRegularFileError(path, kind);
    return { fd, st };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}
