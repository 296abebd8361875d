/**
 * A full V8 garbage collection the daemon can ask for at a quiet moment. V8 runs a full
 * collection only when its old generation nears a limit, and keeps the pages it freed
 * committed; a getty answering a call now and then never gets there, so RSS crept up
 * call after call (the soak: 6 of 8.7 MB growth was old-space pages holding garbage).
 * `gc` is not exposed by default: the flag is set at run time and the function taken from
 * a fresh context, where V8 installs it. No node flag is needed in the unit.
 */
import { setFlagsFromString } from 'node:v8';
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

/**
 * Run a full, synchronous collection (mark-compact: V8 unmaps the pages it empties).
 * An incremental one, tried before, left the pages committed (the soak: +6.7 MB).
 * False when gc cannot be had.
 */
export function fullGc(): boolean {
  const gc = getGc();
  if (gc === null) return false;
  gc();
  return true;
}
