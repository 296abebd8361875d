/** utmp and wtmp records through glibc's utmpx functions (its own locking, as login and agetty use). */
import { fail, koffi, lib } from './ffi.js';

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
