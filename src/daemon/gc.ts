/**
 * A full V8 garbage collection the daemon can ask for at a quiet moment. V8 runs a full
 * collection only when its old generation nears a limit, and keeps the pages it freed
 * committed; a getty answering a call now and then never gets there, so RSS crept up
 * call after call (the soak: 6 of 8.7 MB growth was old-space pages holding garbage).
 * `gc` is not exposed by default: the flag is set at run time and the function taken from
 * a fresh context, where V8 installs it. No node flag is needed in the unit.
 */
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gcFn: (() => void) | null | undefined;

function getGc(): (() => void) | null {
  if (gcFn !== undefined) return gcFn;
  try {
    setFlagsFromString('--expose-gc');
    const f: unknown = runInNewContext('gc');
    gcFn = typeof f === 'function' ? (f as () => void) : null;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/** The user asked for compaction on every full GC themselves (node flag): leave it on. */
const userCompacts = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)].some((a) => /^--compact[-_]on[-_]every[-_]full[-_]gc$/.test(a));

/**
 * Run a full, synchronous collection (mark-compact: V8 unmaps the pages it empties).
 * An incremental one, tried before, left the pages committed (the soak: +6.7 MB).
 *
 * With `compact`, this one collection also evacuates every fragmented page. A plain full
 * collection moves objects out of only a few of the most fragmented pages (a fragmentation
 * threshold and a quota per collection) and keeps the rest committed; a getty's old space
 * is mostly pages with some live objects each (one call's state among many calls'
 * garbage), so committed old space crept up call after call while the live bytes stayed
 * flat. The flag is set for this collection only, so V8's own full collections keep their
 * usual cost. (If V8 is already marking incrementally, it chose the pages to evacuate when
 * that began, and this collection compacts as that marking decided.)
 * False when gc cannot be had.
 */
export function fullGc(opts: { compact?: boolean } = {}): boolean {
  const gc = getGc();
  if (gc === null) return false;
  if (opts.compact !== true || userCompacts) {
    gc();
    return true;
  }
  try {
    setFlagsFromString('--compact-on-every-full-gc');
    gc();
  } finally {
    setFlagsFromString('--no-compact-on-every-full-gc');
  }
  return true;
}

/** Old space as V8 reports it: live bytes and committed bytes (what the tests compare). */
export function oldSpace(): { used: number; committed: number } {
  const s = getHeapSpaceStatistics().find((x) => x.space_name === 'old_space');
  return { used: s?.space_used_size ?? 0, committed: s?.space_size ?? 0 };
}
