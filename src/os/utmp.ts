/** utmp and wtmp records through glibc's utmpx functions (its own locking, as login and agetty use). */
import { endianness } from 'node:os';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { c_fcntl, fail, koffi, lib } from './ffi.js';

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

const c_utmpxname = lib.func('int utmpxname(const char *file)');
const c_setutxent = lib.func('void setutxent(void)');
const c_endutxent = lib.func('void endutxent(void)');
const c_getutxent = lib.func('utmpx *getutxent(void)');
const c_pututxline = lib.func('utmpx *pututxline(const utmpx *ut)');
const c_updwtmpx = lib.func('void updwtmpx(const char *file, const utmpx *ut)');

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
 * Run the record encoding once without writing anything, so the first real write of a
 * process does not also compile it (the hand-off calls this while the caller types).
 */
export function warmUtmp(): void {
  koffi.encode(Buffer.alloc(koffi.sizeof(UtmpxT)), UtmpxT, toStruct({ type: LOGIN_PROCESS, pid: 0, line: '', id: '', user: '', host: '', time: 0 }));
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

/** Where the fields lie in one record (from the struct above, so the layout is written once). */
const UTMPX_SIZE = koffi.sizeof(UtmpxT);
const OFF = {
  type: koffi.offsetof(UtmpxT, 'ut_type'),
  pid: koffi.offsetof(UtmpxT, 'ut_pid'),
  line: koffi.offsetof(UtmpxT, 'ut_line'),
  id: koffi.offsetof(UtmpxT, 'ut_id'),
  user: koffi.offsetof(UtmpxT, 'ut_user'),
  host: koffi.offsetof(UtmpxT, 'ut_host'),
  sec: koffi.offsetof(UtmpxT, 'ut_tv') + koffi.offsetof(TimevalT, 'tv_sec'),
};
const RAW = koffi.array('uint8_t', UTMPX_SIZE, 'Typed');
const LE = endianness() === 'LE';

/** A NUL-padded char[n] field as a string (up to the first NUL). */
function field(b: Buffer, off: number, n: number): string {
  const nul = b.indexOf(0, off);
  return b.toString('utf8', off, nul < 0 || nul > off + n ? off + n : nul);
}

export interface UtmpFilter {
  /** Only records of this ut_line. */
  line?: string;
  /** Only records of these types. */
  types?: readonly number[];
  /** Read through glibc's getutxent even when the file could be read whole (tests compare the two). */
  viaGlibc?: boolean;
}

function parseRecord(b: Buffer, at: number, filter: UtmpFilter): UtmpRecord | undefined {
  const type = LE ? b.readInt16LE(at + OFF.type) : b.readInt16BE(at + OFF.type);
  if (filter.types !== undefined && !filter.types.includes(type)) return undefined;
  const line = field(b, at + OFF.line, 32);
  if (filter.line !== undefined && line !== filter.line) return undefined;
  return {
    type,
    pid: LE ? b.readInt32LE(at + OFF.pid) : b.readInt32BE(at + OFF.pid),
    line,
    id: field(b, at + OFF.id, 4),
    user: field(b, at + OFF.user, 32),
    host: field(b, at + OFF.host, 256),
    time: LE ? b.readInt32LE(at + OFF.sec) : b.readInt32BE(at + OFF.sec),
  };
}

/** struct flock (x86_64 and arm64): l_type, l_whence (short), l_start, l_len (off_t), l_pid. */
const FLOCK_BYTES = 32;
const F_SETLK = 6;
const F_RDLCK = 0;
const F_UNLCK = 2;

function setLock(fd: number, type: number): boolean {
  const fl = Buffer.alloc(FLOCK_BYTES); // l_whence SEEK_SET, l_start 0, l_len 0: the whole file
  if (LE) fl.writeInt16LE(type, 0);
  else fl.writeInt16BE(type, 0);
  return (c_fcntl(fd, F_SETLK, 'void *', fl) as number) === 0;
}

/**
 * The whole file in one read, under the read lock glibc's readers and writers use (a
 * whole-file fcntl lock), so no record is read half-written. Undefined when the file
 * cannot be opened or the lock is held (a writer at work): then glibc reads it, waiting
 * for the lock as it does.
 */
export function readWhole(utmpFile: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(utmpFile, 'r');
  } catch {
    return undefined;
  }
  try {
    if (!setLock(fd, F_RDLCK)) return undefined;
    try {
      const size = fstatSync(fd).size;
      const buf = Buffer.allocUnsafe(size - (size % UTMPX_SIZE));
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, got);
        if (n === 0) break;
        got += n;
      }
      return buf.subarray(0, got - (got % UTMPX_SIZE));
    } finally {
      setLock(fd, F_UNLCK);
    }
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Read the records of a utmp-format file (all of them, or those `filter` names). The file
 * is read in one piece and the records parsed from its bytes: glibc's getutxent takes and
 * drops its lock (fcntl, sigaction, alarm) and reads for every record, and the takeover of
 * every line reads the whole file, so a daemon of 256 lines spent ~4 ms of its event loop
 * per call in it (issue 21). glibc remains the reader when the fast path cannot be had.
 */
export function readUtmp(utmpFile: string, filter: UtmpFilter = {}): UtmpRecord[] {
  const out: UtmpRecord[] = [];
  const whole = filter.viaGlibc === true ? undefined : readWhole(utmpFile);
  if (whole !== undefined) {
    for (let at = 0; at + UTMPX_SIZE <= whole.length; at += UTMPX_SIZE) {
      const r = parseRecord(whole, at, filter);
      if (r !== undefined) out.push(r);
    }
    return out;
  }
  c_utmpxname(utmpFile);
  c_setutxent();
  try {
    for (;;) {
      const p = c_getutxent() as unknown;
      if (p === null) break;
      const raw = koffi.decode(p, RAW) as Uint8Array;
      const r = parseRecord(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength), 0, filter);
      if (r !== undefined) out.push(r);
    }
  } finally {
    c_endutxent();
  }
  return out;
}
