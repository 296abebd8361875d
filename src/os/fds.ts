/** The process's own file descriptors: nothing inherited from whoever started us may reach a child. */
import { readdirSync } from 'node:fs';
import { c_fcntl, lib } from './ffi.js';

const F_GETFD = 1;
const F_SETFD = 2;
const FD_CLOEXEC = 1;
/** linux/close_range.h: set FD_CLOEXEC on the range instead of closing it (Linux 5.11). */
const CLOSE_RANGE_CLOEXEC = 1 << 2;
/** glibc 2.34 has the wrapper; an older one has not, then the fallback below is used. */
const c_close_range = ((): ((first: number, last: number, flags: number) => number) | undefined => {
  try {
    return lib.func('int close_range(uint32_t first, uint32_t last, int flags)') as (first: number, last: number, flags: number) => number;
  } catch {
    return undefined;
  }
})();

/**
 * Mark every fd >= `first` close-on-exec, so nothing a shell or service manager left
 * open in this process (`exec 251<file`, a leaked socket) reaches a session or hook.
 * The fds stay open here (Node's own are CLOEXEC already; closing fds under a running
 * Node is not safe). A child still gets the fds spawn() sets up for it: libuv dup2()s
 * them into place, which clears the flag on the copy. Returns the method that worked;
 * `only: 'fcntl'` skips close_range (tests of the fallback).
 */
export function cloexecFrom(first = 3, only?: 'fcntl'): 'close_range' | 'fcntl' {
  if (only === undefined && c_close_range !== undefined && c_close_range(first, 0xffffffff, CLOSE_RANGE_CLOEXEC) === 0) return 'close_range';
  // ENOSYS/EINVAL (kernel < 5.11): one fcntl per fd listed in /proc/self/fd.
  for (const name of readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    if (!Number.isInteger(fd) || fd < first) continue;
    const flags = c_fcntl(fd, F_GETFD, 'int', 0) as number;
    // The directory's own fd is already closed again: nothing to do for it.
    if (flags >= 0 && (flags & FD_CLOEXEC) === 0) c_fcntl(fd, F_SETFD, 'int', flags | FD_CLOEXEC);
  }
  return 'fcntl';
}

/** FD_CLOEXEC of `fd` (tests), or undefined when the fd is not open. */
export function isCloexec(fd: number): boolean | undefined {
  const flags = c_fcntl(fd, F_GETFD, 'int', 0) as number;
  return flags < 0 ? undefined : (flags & FD_CLOEXEC) !== 0;
}
