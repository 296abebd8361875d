/**
 * Memory and CPU of other processes, read from /proc (Linux), for the benchmarks.
 *
 * Memory is compared as PSS (proportional set size): a page shared by k processes counts
 * 1/k in each, so a sum over N processes counts a shared libc once. RSS sums count it N
 * times; USS (private pages only) ignores shared code entirely. All three are in kB.
 */
import { readdirSync, readFileSync, realpathSync } from 'node:fs';

export interface MemKb {
  /** Proportional set size. */
  pss: number;
  /** Resident set size (shared pages counted in full). */
  rss: number;
  /** Unique set size: Private_Clean + Private_Dirty (what the process alone costs). */
  uss: number;
}

function field(text: string, key: string, file: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
  if (m?.[1] === undefined) throw new Error(`${file}: no ${key} field`);
  return Number(m[1]);
}

/** PSS, RSS and USS of one process, in kB (from /proc/PID/smaps_rollup). */
export function mem(pid: number): MemKb {
  const file = `/proc/${pid}/smaps_rollup`;
  const text = readFileSync(file, 'utf8');
  return {
    pss: field(text, 'Pss', file),
    rss: field(text, 'Rss', file),
    uss: field(text, 'Private_Clean', file) + field(text, 'Private_Dirty', file),
  };
}

/**
 * PSS of one process as if it were the only Node process on the machine, in kB (issue 21).
 * PSS splits a page shared by k processes k ways, so every other Node process running (the
 * bench itself, a Node modem simulator, other work on the machine) makes a Node daemon's
 * share of the node binary look smaller. Here the mappings only a Node process has (the
 * node executable, native addons `*.node`) count in full (their RSS); every other mapping
 * (libc and the other shared libraries, which non-Node processes share too) counts its
 * PSS, and private memory counts in full either way.
 */
export function pssAlone(pid: number): number {
  const text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  let exe = '';
  try {
    exe = realpathSync(`/proc/${pid}/exe`);
  } catch {
    // Not ours to read: no mapping is taken as the node binary.
  }
  let nodeOnly = false;
  let total = 0;
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head !== null) {
      const path = head[1] ?? '';
      nodeOnly = path !== '' && (path === exe || path.endsWith('.node'));
      continue;
    }
    const m = /^(Rss|Pss):\s+(\d+) kB/.exec(line);
    if (m === null) continue;
    if ((m[1] === 'Rss') === nodeOnly) total += Number(m[2]);
  }
  return total;
}

/** PSS of one process, in kB. */
export function pss(pid: number): number {
  return mem(pid).pss;
}

/** RSS of one process, in kB. */
export function rss(pid: number): number {
  return mem(pid).rss;
}

/** USS (private pages) of one process, in kB. */
export function uss(pid: number): number {
  return mem(pid).uss;
}

/**
 * CPU time used by one process so far: utime + stime, in clock ticks (CLK_TCK, 100 per
 * second on Linux). Fields 14 and 15 of /proc/PID/stat, counted after the `)` that ends
 * the command name (which may itself contain spaces or parentheses).
 */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`/proc/${pid}/stat: cannot read utime/stime`);
  return utime + stime;
}

/**
 * CPU time used by one process so far, in ns, from the scheduler's own accounting
 * (/proc/PID/task/TID/schedstat, first field: time on a CPU). Ticks are 10 ms apart, too
 * coarse for a burst of 64 answers; this is exact. `main` is the main thread (the event
 * loop), `total` adds V8's and libuv's helper threads alive at the time of reading.
 * Undefined when the kernel has no schedstat (CONFIG_SCHED_INFO off).
 */
export function cpuNs(pid: number): { main: number; total: number } | undefined {
  let total = 0;
  let main = 0;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  for (const tid of tids) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8');
    } catch {
      continue; // the thread ended meanwhile
    }
    const ns = Number(text.split(' ')[0]);
    if (!Number.isFinite(ns)) return undefined;
    total += ns;
    if (tid === String(pid)) main = ns;
  }
  return { main, total };
}

/** Clock ticks per second of cpuTicks() (CLK_TCK; 100 on every Linux Node runs on). */
export const TICKS_PER_SECOND = 100;

/** PSS, RSS and USS summed over several processes, in kB. */
export function memSum(pids: readonly number[]): MemKb {
  const total: MemKb = { pss: 0, rss: 0, uss: 0 };
  for (const p of pids) {
    const m = mem(p);
    total.pss += m.pss;
    total.rss += m.rss;
    total.uss += m.uss;
  }
  return total;
}

/** Sum of PSS over several processes, in kB. */
export function pssSum(pids: readonly number[]): number {
  return memSum(pids).pss;
}

/** Sum of RSS over several processes, in kB (counts shared pages once per process). */
export function rssSum(pids: readonly number[]): number {
  return memSum(pids).rss;
}

/** Sum of CPU ticks (utime + stime) over several processes. */
export function cpuTicksSum(pids: readonly number[]): number {
  let total = 0;
  for (const p of pids) total += cpuTicks(p);
  return total;
}

/** Is the process alive (and not a zombie)? */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** Where a process's resident memory is, in kB (from /proc/PID/smaps). */
export interface RssBreakdown {
  /** The brk heap: glibc malloc's main arena (native allocations of the main thread). */
  brk: number;
  /** Anonymous mappings: the V8 heap, other malloc arenas, large malloc chunks, thread stacks. */
  anon: number;
  /** How many anonymous mappings (V8 pages and malloc arena heaps both count). */
  anonMappings: number;
  /** File-backed mappings: node, shared libraries, addons (mostly shared code). */
  file: number;
  /** Everything else ([stack], [vdso], ...). */
  other: number;
}

export function rssBreakdown(pid: number): RssBreakdown {
  const text = readFileSync(`/proc/${pid}/smaps`, 'utf8');
  const out: RssBreakdown = { brk: 0, anon: 0, anonMappings: 0, file: 0, other: 0 };
  let kind: 'brk' | 'anon' | 'file' | 'other' = 'other';
  for (const line of text.split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head !== null) {
      const path = head[1] ?? '';
      kind = path === '' ? 'anon' : path === '[heap]' ? 'brk' : path.startsWith('/') ? 'file' : 'other';
      if (kind === 'anon') out.anonMappings++;
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss?.[1] !== undefined) out[kind] += Number(rss[1]);
  }
  return out;
}
