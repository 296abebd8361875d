/**
 * The tty's libc calls Node lacks (termios, modem control lines, ptys, queue sizes),
 * through koffi (src/os/ffi.ts loads libc; the rest of the platform is in src/os).
 *
 * Every fd opened here gets O_CLOEXEC: a leaked pty master in a child would stop
 * hangups from ever reaching the session (measured in the spike).
 */
import { TgettyError } from '../core/errors.js';
import { c_close, c_fcntl, errno, fail, koffi, lib } from '../os/ffi.js';

// ---- constants (Linux, x86_64 / aarch64 generic) ----
export const O_RDONLY = 0;
export const O_RDWR = 0o2;
export const O_NOCTTY = 0o400;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;

export const TCSANOW = 0;
export const TCSADRAIN = 1;
export const TCIFLUSH = 0;
export const TCOFLUSH = 1;
export const TCIOFLUSH = 2;

export const TIOCMGET = 0x5415;
export const TIOCMBIS = 0x5416;
export const TIOCMBIC = 0x5417;
export const TIOCSCTTY = 0x540e;
/** Hang up the tty this fd is on (vhangup(2) for any tty, not only the caller's own; Linux >= 2.6.29, CAP_SYS_ADMIN). */
export const TIOCVHANGUP = 0x5437;
/** Wait until one of the given input lines (TIOCM_CAR | TIOCM_DSR | TIOCM_CTS | TIOCM_RNG) changes. */
export const TIOCMIWAIT = 0x545c;
export const TIOCM_DTR = 0x002;
export const TIOCM_RTS = 0x004;
export const TIOCM_CTS = 0x020;
export const TIOCM_CAR = 0x040;
export const TIOCM_RNG = 0x080;
export const TIOCM_DSR = 0x100;

// c_iflag
export const IGNBRK = 0o1;
export const BRKINT = 0o2;
export const IGNPAR = 0o4;
export const ISTRIP = 0o40;
export const INLCR = 0o100;
export const IGNCR = 0o200;
export const ICRNL = 0o400;
export const IXON = 0o2000;
export const IXANY = 0o4000;
export const IXOFF = 0o10000;
export const IMAXBEL = 0o20000;
// c_oflag
export const OPOST = 0o1;
export const ONLCR = 0o4;
export const TAB3 = 0o14000;
// c_cflag
export const CSIZE = 0o60;
export const CS8 = 0o60;
export const CSTOPB = 0o100;
export const CREAD = 0o200;
export const PARENB = 0o400;
export const HUPCL = 0o2000;
export const CLOCAL = 0o4000;
export const CRTSCTS = 0o20000000000;
// c_lflag
export const ISIG = 0o1;
export const ICANON = 0o2;
export const ECHO = 0o10;
export const ECHOE = 0o20;
export const ECHOK = 0o40;
export const ECHOCTL = 0o1000;
export const ECHOKE = 0o4000;
export const IEXTEN = 0o100000;
// c_cc indices
export const VINTR = 0;
export const VQUIT = 1;
export const VERASE = 2;
export const VKILL = 3;
export const VEOF = 4;
export const VTIME = 5;
export const VMIN = 6;
export const VSWTC = 7;
export const VSTART = 8;
export const VSTOP = 9;
export const VSUSP = 10;
export const VEOL = 11;
export const VREPRINT = 12;
export const VDISCARD = 13;
export const VWERASE = 14;
export const VLNEXT = 15;
export const VEOL2 = 16;

/** Baud rate -> termios speed constant (Linux). mgetty's speed table. */
export const SPEEDS: ReadonlyMap<number, number> = new Map([
  [50, 0o1], [75, 0o2], [110, 0o3], [134, 0o4], [150, 0o5], [200, 0o6], [300, 0o7],
  [600, 0o10], [1200, 0o11], [1800, 0o12], [2400, 0o13], [4800, 0o14], [9600, 0o15],
  [19200, 0o16], [38400, 0o17], [57600, 0o10001], [115200, 0o10002], [230400, 0o10003],
  [460800, 0o10004],
]);

// ---- structs ----
// Registered by name: the function prototypes below refer to 'termios *'.
export const TermiosT = koffi.struct('termios', {
  c_iflag: 'uint32_t',
  c_oflag: 'uint32_t',
  c_cflag: 'uint32_t',
  c_lflag: 'uint32_t',
  c_line: 'uint8_t',
  c_cc: koffi.array('uint8_t', 32, 'Array'),
  c_ispeed: 'uint32_t',
  c_ospeed: 'uint32_t',
});

export interface Termios {
  c_iflag: number;
  c_oflag: number;
  c_cflag: number;
  c_lflag: number;
  c_line: number;
  c_cc: number[];
  c_ispeed: number;
  c_ospeed: number;
}

// ---- functions ----
const c_open = lib.func('int open(const char *path, int flags, ...)');
const c_tcgetattr = lib.func('int tcgetattr(int fd, _Out_ termios *t)');
const c_tcsetattr = lib.func('int tcsetattr(int fd, int act, const termios *t)');
const c_cfsetspeed = lib.func('int cfsetspeed(_Inout_ termios *t, uint32_t speed)');
const c_cfgetospeed = lib.func('uint32_t cfgetospeed(const termios *t)');
const c_cfmakeraw = lib.func('void cfmakeraw(_Inout_ termios *t)');
const c_tcflush = lib.func('int tcflush(int fd, int queue)');
const c_tcdrain = lib.func('int tcdrain(int fd)');
const c_ioctl_int = lib.func('int ioctl(int fd, unsigned long req, ...)');
const c_posix_openpt = lib.func('int posix_openpt(int flags)');
const c_grantpt = lib.func('int grantpt(int fd)');
const c_unlockpt = lib.func('int unlockpt(int fd)');
const c_ptsname = lib.func('const char *ptsname(int fd)');

// ---- file descriptors and termios ----

/** open(2) with O_CLOEXEC always added. */
export function openFd(path: string, flags: number): number {
  const fd = c_open(path, flags | O_CLOEXEC, 'int', 0) as number;
  if (fd < 0) fail(`open(${path})`, { path });
  return fd;
}

export function closeFd(fd: number): void {
  c_close(fd);
}

export function tcgetattr(fd: number): Termios {
  const t = {} as Termios;
  if ((c_tcgetattr(fd, t) as number) !== 0) fail('tcgetattr', { fd });
  return t;
}

export function tcsetattr(fd: number, t: Termios, when = TCSANOW): void {
  if ((c_tcsetattr(fd, when, t) as number) !== 0) fail('tcsetattr', { fd });
}

/** Set both speeds in `t` (baud as a number, e.g. 38400). Throws for speeds not in the table. */
export function cfsetspeed(t: Termios, baud: number): void {
  const code = SPEEDS.get(baud);
  if (code === undefined) throw new TgettyError('CLI_BAD_SPEED', `invalid port speed ${baud}`, { input: String(baud) });
  if ((c_cfsetspeed(t, code) as number) !== 0) fail('cfsetspeed');
}

/** Current output speed of `t` in baud, or 0 if unknown. */
export function cfgetspeed(t: Termios): number {
  const code = c_cfgetospeed(t) as number;
  for (const [baud, c] of SPEEDS) if (c === code) return baud;
  return 0;
}

export function cfmakeraw(t: Termios): void {
  c_cfmakeraw(t);
}

export function tcflush(fd: number, queue = TCIOFLUSH): void {
  c_tcflush(fd, queue);
}

export function tcdrain(fd: number): void {
  c_tcdrain(fd);
}

// ---- modem control lines ----

/** TIOCMGET. Throws LINE_IOCTL_FAILED on a pty (ENOTTY). */
export function getModemBits(fd: number): number {
  const out = new Int32Array(1);
  if ((c_ioctl_int(fd, TIOCMGET, 'int *', out) as number) !== 0) fail('ioctl(TIOCMGET)', { fd });
  return out[0] ?? 0;
}

export function setModemBits(fd: number, bits: number, on: boolean): void {
  const arg = new Int32Array([bits]);
  if ((c_ioctl_int(fd, on ? TIOCMBIS : TIOCMBIC, 'int *', arg) as number) !== 0) fail(`ioctl(${on ? 'TIOCMBIS' : 'TIOCMBIC'})`, { fd });
}

/**
 * Block the calling thread until one of the input lines in `mask` changes (TIOCMIWAIT):
 * for a worker thread of its own, never the event loop. Throws when the port has no
 * modem lines (a pty: ENOTTY/EINVAL) or is gone (EIO).
 */
export function waitModemChange(fd: number, mask: number): void {
  if ((c_ioctl_int(fd, TIOCMIWAIT, 'int', mask) as number) !== 0) fail('ioctl(TIOCMIWAIT)', { fd });
}

/**
 * TIOCVHANGUP on `fd`: every open file of that tty (in any process) is revoked: reads give
 * EOF, writes EIO; the session whose controlling tty it is gets SIGHUP. The fd used stays
 * open but is revoked too: close it and open the device again. Throws (EPERM) unless root.
 */
export function vhangupFd(fd: number): void {
  if ((c_ioctl_int(fd, TIOCVHANGUP, 'int', 0) as number) !== 0) fail('ioctl(TIOCVHANGUP)', { fd });
}

// ---- ptys (the virtual modem bank and tests) ----

export interface Pty {
  /** Master fd (O_CLOEXEC, non-blocking). */
  master: number;
  /** Slave path, e.g. /dev/pts/7. */
  slave: string;
}

export function openPty(): Pty {
  const master = c_posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK) as number;
  if (master < 0) fail('posix_openpt');
  if ((c_grantpt(master) as number) !== 0 || (c_unlockpt(master) as number) !== 0) {
    c_close(master);
    fail('grantpt/unlockpt');
  }
  const slave = c_ptsname(master) as string | null;
  if (slave === null) {
    c_close(master);
    fail('ptsname');
  }
  return { master, slave };
}

// ---- queue sizes and blocking mode (appended for src/line/tty-line.ts) ----

export const TIOCOUTQ = 0x5411;
export const FIONREAD = 0x541b;
const F_GETFL = 3;
const F_SETFL = 4;

/** Bytes waiting in the tty's input queue (FIONREAD): lets tests prove the kernel kept data. */
export function inputPending(fd: number): number {
  const out = new Int32Array(1);
  if ((c_ioctl_int(fd, FIONREAD, 'int *', out) as number) !== 0) fail('ioctl(FIONREAD)', { fd });
  return out[0] ?? 0;
}

/** Bytes not yet sent from the tty's output queue (TIOCOUTQ): a drain that never blocks the event loop. */
export function outputPending(fd: number): number {
  const out = new Int32Array(1);
  if ((c_ioctl_int(fd, TIOCOUTQ, 'int *', out) as number) !== 0) fail('ioctl(TIOCOUTQ)', { fd });
  return out[0] ?? 0;
}

/** Set or clear O_NONBLOCK on `fd` (the open file description, shared by its dups). */
export function setNonBlocking(fd: number, on: boolean): void {
  const flags = c_fcntl(fd, F_GETFL, 'int', 0) as number;
  if (flags < 0) fail('fcntl(F_GETFL)', { fd });
  const next = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
  if ((c_fcntl(fd, F_SETFL, 'int', next) as number) < 0) fail('fcntl(F_SETFL)', { fd });
}

const F_DUPFD_CLOEXEC = 1030;

/** A second fd on the same open file description (close-on-exec). */
export function dupFd(fd: number): number {
  const n = c_fcntl(fd, F_DUPFD_CLOEXEC, 'int', 0) as number;
  if (n < 0) fail('fcntl(F_DUPFD_CLOEXEC)', { fd });
  return n;
}

/** Current open(2) flags of `fd` (F_GETFL), for tests and diagnostics. */
export function getFdFlags(fd: number): number {
  const flags = c_fcntl(fd, F_GETFL, 'int', 0) as number;
  if (flags < 0) fail('fcntl(F_GETFL)', { fd });
  return flags;
}

// ---- waiting for writability (the sim's pty masters: libuv cannot wait on a tty for it) ----
export const POLLIN = 0x001;
export const POLLOUT = 0x004;
const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
const c_poll = lib.func('int poll(void *fds, unsigned long nfds, int timeout)');
const c_eventfd = lib.func('int eventfd(unsigned int initval, int flags)');

/** Bytes of one `struct pollfd` (int fd; short events; short revents). */
export const POLLFD_SIZE = 8;

/**
 * poll(2) on `nfds` entries of `fds` (struct pollfd, POLLFD_SIZE bytes each, filled in by
 * the caller; revents written back in place). Returns how many have events; 0 on timeout or
 * EINTR.
 */
export function pollFds(fds: Buffer, nfds: number, timeoutMs: number): number {
  const r = c_poll(fds, nfds, timeoutMs) as number;
  if (r < 0) {
    if (errno() === 4) return 0; // EINTR
    fail('poll');
  }
  return r;
}

/** A non-blocking eventfd (close-on-exec): a thread blocked in poll() is woken by writing 8 bytes to it. */
export function openEventFd(): number {
  const fd = c_eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK) as number;
  if (fd < 0) fail('eventfd');
  return fd;
}
