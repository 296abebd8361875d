/**
 * A V8 garbage collection the daemon can ask for. V8 runs a full collection only when
 * its old generation reaches a limit; a getty that answers a call now and then never gets
 * there, so the heap's committed pages grew call after call (the soak: +9 MB over 1,000
 * calls, all of it collectable). `gc` is not exposed by default: the flag is set at run
 * time and the function taken from a fresh context, where V8 installs it.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type GcFn = (opts?: { type?: 'major' | 'minor'; execution?: 'sync' | 'async' }) => Promise<void> | undefined;

let gcFn: GcFn | null | undefined;

function getGc(): GcFn | null {
  if (gcFn !== undefined) return gcFn;
  try {
    setFlagsFromString('--expose-gc');
    const f: unknown = runInNewContext('gc');
    gcFn = typeof f === 'function' ? (f as GcFn) : null;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/**
 * Start a full collection that runs incrementally (`execution: 'async'`), so no line waits
 * for a stop-the-world pause; resolves when it is done. Undefined when gc cannot be had.
 */
export function collectGarbage(): Promise<void> | undefined {
  const gc = getGc();
  if (gc === null) return undefined;
  // The promise comes from the fresh context's realm: adopt it into ours.
  return Promise.resolve(gc({ type: 'major', execution: 'async' }));
}
