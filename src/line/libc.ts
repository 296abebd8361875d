/**
 * The libc calls Node lacks, through koffi (no compiled addon). Keep this file the
 * only user of koffi so the native surface stays small and reviewable.
 *
 * Every fd opened here gets O_CLOEXEC: a leaked pty master in a child would stop
 * hangups from ever reaching the session (measured in the spike).
 */
import { readdirSync } from 'node:fs';
import koffi from 'koffi';
import { TgettyError } from '../core/errors.js';

const lib = koffi.load('libc.so.6');

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

const PasswdT = koffi.struct('passwd', {
  pw_name: 'char *',
  pw_passwd: 'char *',
  pw_uid: 'uint32_t',
  pw_gid: 'uint32_t',
  pw_gecos: 'char *',
  pw_dir: 'char *',
  pw_shell: 'char *',
});

const GroupT = koffi.struct('group', {
  gr_name: 'char *',
  gr_passwd: 'char *',
  gr_gid: 'uint32_t',
  gr_mem: 'void *',
});

const ExitStatusT = koffi.struct('__exit_status', { e_termination: 'int16_t', e_exit: 'int16_t' });
const TimevalT = koffi.struct('ut_tv32', { tv_sec: 'int32_t', tv_usec: 'int32_t' });
const UtmpxT = koffi.struct('utmpx', {
  ut_type: 'int16_t',
  ut_pid: 'int32_t',
  ut_line: koffi.array('uint8_t', 32),
  ut_id: koffi.array('uint8_t', 4),
  ut_user: koffi.array('uint8_t', 32),
  ut_host: koffi.array('uint8_t', 256),
  ut_exit: ExitStatusT,
  ut_session: 'int32_t',
  ut_tv: TimevalT,
  ut_addr_v6: koffi.array('int32_t', 4),
  __glibc_reserved: koffi.array('uint8_t', 20),
});

// ---- functions ----
const c_open = lib.func('int open(const char *path, int flags, ...)');
const c_close = lib.func('int close(int fd)');
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
const c_getpwnam = lib.func('passwd *getpwnam(const char *name)');
const c_getpwuid = lib.func('passwd *getpwuid(uint32_t uid)');
const c_getgrnam = lib.func('group *getgrnam(const char *name)');
const c_utmpxname = lib.func('int utmpxname(const char *file)');
const c_setutxent = lib.func('void setutxent(void)');
const c_endutxent = lib.func('void endutxent(void)');
const c_getutxent = lib.func('utmpx *getutxent(void)');
const c_pututxline = lib.func('utmpx *pututxline(const utmpx *ut)');
const c_updwtmpx = lib.func('void updwtmpx(const char *file, const utmpx *ut)');
const c_openlog = lib.func('void openlog(const char *ident, int option, int facility)');
const c_syslog = lib.func('void syslog(int priority, const char *fmt, ...)');
const c_errno = lib.func('int *__errno_location(void)');
const c_strerror = lib.func('const char *strerror(int errnum)');

function errno(): number {
  const p = c_errno() as unknown;
  return koffi.decode(p, 'int') as number;
}

/** Raise a TgettyError for a failed libc call, with errno text. */
function fail(what: string, context: Record<string, unknown> = {}): never {
  const e = errno();
  const text = c_strerror(e) as string;
  throw new TgettyError(what.startsWith('ioctl') ? 'LINE_IOCTL_FAILED' : 'LINE_OPEN_FAILED', `${what}: ${text}`, {
    ...context,
    errno: e,
  });
}

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

// ---- users and groups ----

export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  dir: string;
  shell: string;
}

function decodePasswd(p: unknown): PasswdEntry | undefined {
  if (p === null || p === undefined) return undefined;
  const pw = koffi.decode(p, PasswdT) as { pw_name: string; pw_uid: number; pw_gid: number; pw_dir: string; pw_shell: string };
  return { name: pw.pw_name, uid: pw.pw_uid, gid: pw.pw_gid, dir: pw.pw_dir, shell: pw.pw_shell };
}

export function getpwnam(name: string): PasswdEntry | undefined {
  return decodePasswd(c_getpwnam(name));
}

export function getpwuid(uid: number): PasswdEntry | undefined {
  return decodePasswd(c_getpwuid(uid));
}

export function getgrnam(name: string): { name: string; gid: number } | undefined {
  const p = c_getgrnam(name) as unknown;
  if (p === null || p === undefined) return undefined;
  const gr = koffi.decode(p, GroupT) as { gr_name: string; gr_gid: number };
  return { name: gr.gr_name, gid: gr.gr_gid };
}

// ---- utmp / wtmp ----

export const UT_EMPTY = 0;
export const INIT_PROCESS = 5;
export const LOGIN_PROCESS = 6;
export const USER_PROCESS = 7;
export const DEAD_PROCESS = 8;

export interface UtmpRecord {
  type: number;
  pid: number;
  line: string;
  id: string;
  user: string;
  host: string;
  /** Seconds since the epoch. */
  time: number;
}

function fixed(s: string, n: number): number[] {
  const b = Buffer.from(s, 'utf8').subarray(0, n);
  const out = new Array<number>(n).fill(0);
  for (let i = 0; i < b.length; i++) out[i] = b[i] ?? 0;
  return out;
}

function unfixed(a: ArrayLike<number>): string {
  const bytes: number[] = [];
  for (let i = 0; i < a.length; i++) {
    const v = a[i] ?? 0;
    if (v === 0) break;
    bytes.push(v);
  }
  return Buffer.from(bytes).toString('utf8');
}

function toStruct(r: UtmpRecord): Record<string, unknown> {
  return {
    ut_type: r.type,
    ut_pid: r.pid,
    ut_line: fixed(r.line, 32),
    ut_id: fixed(r.id, 4),
    ut_user: fixed(r.user, 32),
    ut_host: fixed(r.host, 256),
    ut_exit: { e_termination: 0, e_exit: 0 },
    ut_session: 0,
    ut_tv: { tv_sec: Math.floor(r.time), tv_usec: 0 },
    ut_addr_v6: [0, 0, 0, 0],
    __glibc_reserved: new Array<number>(20).fill(0),
  };
}

/**
 * Write one record to the utmp file `utmpFile` (replacing the entry with the same
 * ut_id/line, as pututxline does) and append it to `wtmpFile`. Throws on failure.
 * Must run on the main thread (glibc uses SIGALRM around its lock).
 */
export function writeUtmp(utmpFile: string, wtmpFile: string | undefined, r: UtmpRecord): void {
  const s = toStruct(r);
  c_utmpxname(utmpFile);
  c_setutxent();
  const res = c_pututxline(s) as unknown;
  c_endutxent();
  if (res === null) fail(`pututxline(${utmpFile})`, { file: utmpFile });
  if (wtmpFile !== undefined) c_updwtmpx(wtmpFile, s);
}

/** Read every record of a utmp-format file. */
export function readUtmp(utmpFile: string): UtmpRecord[] {
  const out: UtmpRecord[] = [];
  c_utmpxname(utmpFile);
  c_setutxent();
  for (;;) {
    const p = c_getutxent() as unknown;
    if (p === null) break;
    const u = koffi.decode(p, UtmpxT) as {
      ut_type: number; ut_pid: number; ut_line: number[]; ut_id: number[]; ut_user: number[]; ut_host: number[];
      ut_tv: { tv_sec: number };
    };
    out.push({
      type: u.ut_type, pid: u.ut_pid, line: unfixed(u.ut_line), id: unfixed(u.ut_id),
      user: unfixed(u.ut_user), host: unfixed(u.ut_host), time: u.ut_tv.tv_sec,
    });
  }
  c_endutxent();
  return out;
}

// ---- syslog ----

export const LOG_AUTH = 4 << 3;
export const LOG_PID = 0x01;
export const LOG_ALERT = 1;
export const LOG_ERR = 3;
export const LOG_WARNING = 4;
export const LOG_NOTICE = 5;
export const LOG_INFO = 6;

let syslogIdent: Buffer | undefined;

export function openSyslog(ident: string, facility = LOG_AUTH): void {
  // openlog keeps the pointer: hold the buffer for the life of the process.
  syslogIdent = Buffer.from(`${ident}\0`, 'utf8');
  c_openlog(syslogIdent, LOG_PID, facility);
}

export function syslog(priority: number, message: string): void {
  c_syslog(priority, '%s', 'str', message);
}

// ---- queue sizes and blocking mode (appended for src/line/tty-line.ts) ----

export const TIOCOUTQ = 0x5411;
export const FIONREAD = 0x541b;
const F_GETFL = 3;
const F_SETFL = 4;
const c_fcntl = lib.func('int fcntl(int fd, int cmd, ...)');

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

// ---- fds inherited from whoever started us ----

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

// ---- unix datagram sockets (appended for src/daemon/notify.ts: sd_notify without libsystemd) ----

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
/** sizeof(sun_path) in struct sockaddr_un (Linux). */
export const SUN_PATH_MAX = 108;
const c_socket = lib.func('int socket(int domain, int type, int protocol)');
const c_sendto = lib.func('intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t addrlen)');
const c_bind = lib.func('int bind(int fd, const void *addr, uint32_t addrlen)');
const c_recv = lib.func('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)');

/**
 * struct sockaddr_un for `sunPath`: the raw bytes of sun_path. A filesystem path is
 * NUL-terminated here; an abstract name starts with a NUL byte and is NOT terminated
 * (its length is part of the name), so the address length is exact in both cases.
 */
function sockaddrUn(sunPath: Buffer): { addr: Buffer; len: number } {
  const abstract = sunPath[0] === 0;
  const used = abstract ? sunPath.length : sunPath.length + 1;
  if (sunPath.length === 0 || used > SUN_PATH_MAX) {
    throw new TgettyError('INTERNAL', `unix socket address too long or empty (${sunPath.length} bytes)`, { input: sunPath.toString('utf8') });
  }
  const addr = Buffer.alloc(2 + SUN_PATH_MAX);
  addr.writeUInt16LE(AF_UNIX, 0); // sa_family_t is host order; every Linux port we target is little-endian
  sunPath.copy(addr, 2);
  return { addr, len: 2 + used };
}

function unixDgramSocket(): number {
  const fd = c_socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) as number;
  if (fd < 0) fail('socket(AF_UNIX, SOCK_DGRAM)');
  return fd;
}

/** Send one datagram to the unix socket `sunPath` (see sockaddrUn) from a fresh socket. Throws on failure. */
export function sendUnixDatagram(sunPath: Buffer, payload: Buffer): void {
  const { addr, len } = sockaddrUn(sunPath);
  const fd = unixDgramSocket();
  try {
    const n = Number(c_sendto(fd, payload, payload.length, 0, addr, len));
    if (n < 0) fail('sendto', { path: sunPath.toString('utf8') });
  } finally {
    c_close(fd);
  }
}

/** A bound unix datagram socket (tests: the receiving end of sd_notify). Close it with closeFd. */
export function bindUnixDatagram(sunPath: Buffer): number {
  const { addr, len } = sockaddrUn(sunPath);
  const fd = unixDgramSocket();
  if ((c_bind(fd, addr, len) as number) !== 0) {
    const e = errno();
    c_close(fd);
    throw new TgettyError('LINE_OPEN_FAILED', `bind(${sunPath.toString('utf8')}): ${c_strerror(e) as string}`, { errno: e });
  }
  return fd;
}

/** One queued datagram, or undefined if none is waiting (never blocks: MSG_DONTWAIT). */
export function recvDatagram(fd: number, max = 4096): Buffer | undefined {
  const buf = Buffer.alloc(max);
  const n = Number(c_recv(fd, buf, max, MSG_DONTWAIT));
  if (n < 0) {
    const e = errno();
    if (e === 11) return undefined; // EAGAIN: nothing queued
    fail('recv', { fd });
  }
  return buf.subarray(0, n);
}

// ---- malloc statistics (soak measurements; releasing free heap to the kernel) ----

const MallInfo2T = koffi.struct('mallinfo2', {
  arena: 'size_t',
  ordblks: 'size_t',
  smblks: 'size_t',
  hblks: 'size_t',
  hblkhd: 'size_t',
  usmblks: 'size_t',
  fsmblks: 'size_t',
  uordblks: 'size_t',
  fordblks: 'size_t',
  keepcost: 'size_t',
});

/** Bound on first use, not at load: mallinfo2 is glibc >= 2.33, and a missing symbol must not break the rest of this file. */
function optionalFunc(bind: () => (...args: unknown[]) => unknown): () => ((...args: unknown[]) => unknown) | undefined {
  let fn: ((...args: unknown[]) => unknown) | null | undefined;
  return () => {
    if (fn === undefined) {
      try {
        fn = bind();
      } catch {
        fn = null;
      }
    }
    return fn ?? undefined;
  };
}
const c_mallinfo2 = optionalFunc(() => lib.func('mallinfo2', MallInfo2T, []));
const c_malloc_trim = optionalFunc(() => lib.func('int malloc_trim(size_t pad)'));

/** glibc malloc totals over every arena, in bytes. */
export interface MallocInfo {
  /** Bytes obtained from the kernel with brk/sbrk or as arena heaps (not mmapped chunks). */
  arena: number;
  /** Bytes in large chunks mmapped one by one. */
  mmapped: number;
  /** Bytes in use by the program (both kinds). */
  inUse: number;
  /** Free bytes held in the arenas (fragmentation + not yet trimmed). */
  free: number;
  /** Free bytes at the top of the main arena (trimmable by brk). */
  topFree: number;
}

/** mallinfo2(3) (glibc >= 2.33 sums every arena); undefined where the C library has none. */
export function mallocInfo(): MallocInfo | undefined {
  const f = c_mallinfo2();
  if (f === undefined) return undefined;
  const m = f() as Record<string, number | bigint>;
  const n = (k: string): number => Number(m[k] ?? 0);
  return { arena: n('arena'), mmapped: n('hblkhd'), inUse: n('uordblks') + n('hblkhd'), free: n('fordblks'), topFree: n('keepcost') };
}

/** Is malloc_trim(3) there (glibc)? */
export function canTrimMalloc(): boolean {
  return c_malloc_trim() !== undefined;
}

/** malloc_trim(3): give free pages of every arena back to the kernel. True if any memory was released; false also without glibc. */
export function mallocTrim(pad = 0): boolean {
  const f = c_malloc_trim();
  return f !== undefined && (f(pad) as number) === 1;
}
