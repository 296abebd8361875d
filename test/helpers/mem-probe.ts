/**
 * Memory probe for the soak bench, preloaded into the daemon under test with
 * `node --expose-gc --import <this file> bin/tgetty.mjs serve ...`. It changes nothing in
 * the daemon until it gets SIGUSR2; then it collects garbage (so the numbers are what is
 * RETAINED, not what the collector has not got to yet), appends one JSON line of V8 and
 * process memory figures to $TGETTY_MEMPROBE_OUT and, if $TGETTY_MEMPROBE_SNAPSHOTS names
 * a dir, writes a heap snapshot there; if $TGETTY_MEMPROBE_SMAPS names a dir, a copy of
 * /proc/self/smaps. With $TGETTY_MEMPROBE_TRIM=1 it then calls malloc_trim(0) and reports
 * the RSS it gave back (what glibc held as free heap). Bench-only: the product has no such hook.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import v8 from 'node:v8';
import { mallocInfo, mallocTrim, type MallocInfo } from '../../src/os/malloc.js';

export interface ProbeSample {
  seq: number;
  /** process.memoryUsage() before the forced GC (bytes). */
  before: NodeJS.MemoryUsage;
  /** process.memoryUsage() after it (bytes). */
  after: NodeJS.MemoryUsage;
  /** Bytes used / committed per V8 heap space after the GC. */
  spaces: Record<string, { used: number; size: number }>;
  /** V8 malloced memory (outside the JS heap, inside V8) after the GC. */
  mallocedMemory: number;
  /** Native contexts alive (a leaked vm context or worker would show here). */
  nativeContexts: number;
  /** Active libuv handles and requests (sockets, timers, fs watchers, ...). */
  handles: Record<string, number>;
  gc: boolean;
  /** glibc malloc totals after the GC (absent without mallinfo2: glibc < 2.33). */
  malloc?: MallocInfo;
  /** VmRSS after the GC, kB. */
  rssKb: number;
  /** With TGETTY_MEMPROBE_TRIM=1: VmRSS and malloc totals after malloc_trim(0). */
  trimmed?: { rssKb: number; malloc?: MallocInfo; ms: number };
  snapshot?: string;
}

const out = process.env.TGETTY_MEMPROBE_OUT;
const snapDir = process.env.TGETTY_MEMPROBE_SNAPSHOTS;
const smapsDir = process.env.TGETTY_MEMPROBE_SMAPS;
const trim = process.env.TGETTY_MEMPROBE_TRIM === '1';
/** TGETTY_MEMPROBE_GC=0: report without collecting, to watch the heap as V8 alone leaves it. */
const collect = process.env.TGETTY_MEMPROBE_GC !== '0';
let seq = 0;

function handleCounts(): Record<string, number> {
  const counts: Record<string, number> = {};
  // getActiveResourcesInfo: stable since Node 17; names the kind of each live handle.
  for (const r of process.getActiveResourcesInfo()) counts[r] = (counts[r] ?? 0) + 1;
  return counts;
}

function vmRssKb(): number {
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
}

function sample(): void {
  const n = ++seq;
  const before = process.memoryUsage();
  const gc = collect ? (globalThis as { gc?: () => void }).gc : undefined;
  // Twice: the first full GC runs finalizers (weak callbacks) that free more on the second.
  gc?.();
  gc?.();
  const after = process.memoryUsage();
  const spaces: Record<string, { used: number; size: number }> = {};
  for (const s of v8.getHeapSpaceStatistics()) spaces[s.space_name] = { used: s.space_used_size, size: s.space_size };
  const hs = v8.getHeapStatistics();
  const s: ProbeSample = {
    seq: n,
    before,
    after,
    spaces,
    mallocedMemory: hs.malloced_memory,
    nativeContexts: hs.number_of_native_contexts,
    handles: handleCounts(),
    gc: gc !== undefined,
    rssKb: vmRssKb(),
  };
  const mi = mallocInfo();
  if (mi !== undefined) s.malloc = mi;
  if (smapsDir !== undefined && smapsDir !== '') writeFileSync(join(smapsDir, `smaps-${n}.txt`), readFileSync('/proc/self/smaps')) // /proc sizes are 0: copyFileSync copies nothing;
  if (trim) {
    const t0 = performance.now();
    mallocTrim(0);
    const after = mallocInfo();
    s.trimmed = { rssKb: vmRssKb(), ms: performance.now() - t0, ...(after !== undefined ? { malloc: after } : {}) };
  }
  if (snapDir !== undefined && snapDir !== '') s.snapshot = v8.writeHeapSnapshot(join(snapDir, `daemon-${n}.heapsnapshot`));
  if (out !== undefined && out !== '') appendFileSync(out, `${JSON.stringify(s)}\n`);
}

process.on('SIGUSR2', sample);
