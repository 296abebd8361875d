/**
 * The one place koffi loads libc for the platform layer: the library handle, errno, and
 * the error a failed call throws. src/os (users, utmp, syslog, sockets, fds, malloc) and
 * src/line (termios, modem lines, ptys) bind their functions through it, so the native
 * surface stays small and reviewable in two folders.
 */
import koffi from 'koffi';
import { TgettyError } from '../core/errors.js';

export const lib = koffi.load('libc.so.6');
export { koffi };

const c_errno = lib.func('int *__errno_location(void)');
const c_strerror = lib.func('const char *strerror(int errnum)');
/** close(2) and fcntl(2), shared by the modules that bind through this file. */
export const c_close = lib.func('int close(int fd)');
export const c_fcntl = lib.func('int fcntl(int fd, int cmd, ...)');

export function errno(): number {
  const p = c_errno() as unknown;
  return koffi.decode(p, 'int') as number;
}

export function strerror(e: number): string {
  return c_strerror(e) as string;
}

/** Raise a TgettyError for a failed libc call, with errno text. */
export function fail(what: string, context: Record<string, unknown> = {}): never {
  const e = errno();
  throw new TgettyError(what.startsWith('ioctl') ? 'LINE_IOCTL_FAILED' : 'LINE_OPEN_FAILED', `${what}: ${strerror(e)}`, {
    ...context,
    errno: e,
  });
}
