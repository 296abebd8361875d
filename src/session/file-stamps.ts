/**
 * Change stamps for files, from one shared inotify watch per directory. The way from RING
 * to ATA asks "did anything happen to dialin.config / the nologin file since I last looked?"
 * and gets the answer from memory instead of a stat(2): with 64 lines ringing at once, each
 * syscall saved is saved 64 times before the last ATA.
 *
 * A stamp is a number that changes whenever the file may have changed: any event that names
 * it (create, write, chmod, rename, delete), an event without a name, a broken or re-made
 * watch. Equal stamps mean "no change seen": a caller may reuse what it read then. Without
 * a watch (no such directory, inotify exhausted) there is no stamp and the caller looks
 * itself, as before. The watches never keep the process alive (persistent: false).
 */
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

interface DirWatch {
  watcher: FSWatcher;
  /**
   * Stamp of the last event per file name, only for names someone asked about: a busy
   * directory (/etc: resolv.conf written through temp files with random names) must not
   * grow this map for the daemon's whole life.
   */
  byName: Map<string, number>;
  /** Stamp of the watch's creation or of its last unnamed event: a floor for every file. */
  floor: number;
}

/** One counter for every watch, so a stamp never repeats, even across a re-made watch. */
let counter = 0;
const dirs = new Map<string, DirWatch>();

function openWatch(dir: string): DirWatch | undefined {
  let watcher: FSWatcher;
  try {
    watcher = watch(dir, { persistent: false });
  } catch {
    return undefined;
  }
  const dw: DirWatch = { watcher, byName: new Map(), floor: ++counter };
  const self = basename(dir);
  const drop = (): void => {
    if (dirs.get(dir) === dw) dirs.delete(dir);
    watcher.close();
  };
  watcher.on('change', (_type, filename) => {
    if (filename === null) {
      dw.floor = ++counter;
      return;
    }
    const name = filename.toString();
    // The directory itself was removed or moved (inotify names it after the watched dir):
    // this watch sees nothing any more; the next look makes a new one (a new floor).
    if (name === self) {
      drop();
      dw.floor = ++counter;
      return;
    }
    if (dw.byName.has(name)) dw.byName.set(name, ++counter);
  });
  watcher.on('error', drop);
  dirs.set(dir, dw);
  return dw;
}

/** The stamp of `path` now, or undefined when its directory cannot be watched. */
export function fileStamp(path: string): number | undefined {
  return stampOf(dirname(path), basename(path));
}

/** fileStamp() with the path already split (the hot path keeps the two parts). */
export function stampOf(dir: string, name: string): number | undefined {
  const dw = dirs.get(dir) ?? openWatch(dir);
  if (dw === undefined) return undefined;
  const last = dw.byName.get(name);
  // First question about this name: from now on its events count. The caller has no
  // earlier stamp of it to compare with, so the floor is a safe answer.
  if (last === undefined) dw.byName.set(name, 0);
  return Math.max(dw.floor, last ?? 0);
}

/** How many names the watch of `dir` keeps a stamp for (tests: it must stay bounded). */
export function stampedNames(dir: string): number {
  return dirs.get(dir)?.byName.size ?? 0;
}

/** Close every watch (tests; a daemon keeps them for its life). */
export function closeFileStamps(): void {
  for (const dw of dirs.values()) dw.watcher.close();
  dirs.clear();
}
