/**
 * The incoming fax spool: the first usable `fax-spool-in` directory, one G3 file a page
 * under mgetty's names, and the fax's PDF and TIFF beside them. Directories such as
 * /tmp are writable by others, so every file is created with O_CREAT|O_EXCL|O_NOFOLLOW
 * (createExclusive), written under a temporary name and linked to its final name with
 * link(2), which never replaces what is there. A page is only given its name once all
 * of it is on disk: a write that fails (disk full) leaves no half page under a page name.
 */
import { closeSync, fchownSync, fsyncSync, linkSync, statfsSync, unlinkSync, writeSync, accessSync, constants as fsc, lstatSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TgettyError, errnoCode } from '../core/errors.js';
import { createExclusive } from '../os/safe-open.js';
import { faxStem, pageFileName, type FaxNameParts } from './names.js';

export interface SpoolOptions {
  /** fax-spool-in, in order. */
  dirs: readonly string[];
  /** diskspace: KB that must be free in a directory for it to be used. */
  minFreeKb: number;
  /** fax-mode. */
  mode: number;
  /** fax-owner / fax-group, resolved; undefined = leave as created. */
  owner?: { uid: number; gid: number };
}

export interface WrittenFile {
  path: string;
  bytes: number;
}

/** Why a directory was passed over, for the log. */
export interface SkippedDir {
  dir: string;
  reason: string;
}

/** Pick the first directory that is a writable directory with enough free space. */
export function pickSpoolDir(o: SpoolOptions): { dir: string; skipped: SkippedDir[] } | { dir: undefined; skipped: SkippedDir[] } {
  const skipped: SkippedDir[] = [];
  for (const dir of o.dirs) {
    try {
      if (!statSync(dir).isDirectory()) {
        skipped.push({ dir, reason: 'not a directory' });
        continue;
      }
      accessSync(dir, fsc.W_OK | fsc.X_OK);
      const fs = statfsSync(dir);
      const freeKb = (fs.bavail * fs.bsize) / 1024;
      if (freeKb < o.minFreeKb) {
        skipped.push({ dir, reason: `only ${Math.floor(freeKb)} KB free, diskspace wants ${o.minFreeKb}` });
        continue;
      }
      return { dir, skipped };
    } catch (err) {
      skipped.push({ dir, reason: errnoCode(err) ?? String(err) });
    }
  }
  return { dir: undefined, skipped };
}

/** One fax being received into a spool directory. */
export class FaxSpoolWriter {
  readonly stem: string;
  private tmpSeq = 0;

  private constructor(
    readonly dir: string,
    stem: string,
    private readonly o: SpoolOptions,
  ) {
    this.stem = stem;
  }

  /** A stem not yet used in `dir` (the page-1 name, PDF and TIFF all free). */
  static open(dir: string, parts: FaxNameParts, o: SpoolOptions, exists: (p: string) => boolean = defaultExists): FaxSpoolWriter {
    for (let bump = 0; bump < 1000; bump++) {
      const stem = faxStem(parts, bump);
      if (![pageFileName(stem, 1), `${stem}.pdf`, `${stem}.tif`].some((n) => exists(join(dir, n)))) return new FaxSpoolWriter(dir, stem, o);
    }
    throw new TgettyError('FAX_SPOOL_FAILED', `no free fax file name in ${dir}`, { file: dir });
  }

  /** Write page `n` (1-based) under its final name; all or nothing. */
  writePage(n: number, data: Uint8Array): WrittenFile {
    return this.writeFile(pageFileName(this.stem, n), data);
  }

  writePdf(data: Uint8Array): WrittenFile {
    return this.writeFile(`${this.stem}.pdf`, data);
  }

  writeTiff(data: Uint8Array): WrittenFile {
    return this.writeFile(`${this.stem}.tif`, data);
  }

  private writeFile(name: string, data: Uint8Array): WrittenFile {
    const final = join(this.dir, name);
    const tmp = join(this.dir, `.${name}.${process.pid}.${this.tmpSeq++}.tmp`);
    const { fd } = createExclusive(tmp, this.o.mode);
    try {
      if (this.o.owner !== undefined) fchownSync(fd, this.o.owner.uid, this.o.owner.gid);
      let at = 0;
      while (at < data.length) at += writeSync(fd, data, at, data.length - at);
      fsyncSync(fd);
      closeSync(fd);
      // link(2) fails if the name exists (EEXIST), and never follows a symlink there.
      linkSync(tmp, final);
      return { path: final, bytes: data.length };
    } catch (err) {
      try {
        closeSync(fd);
      } catch {
        // closed above already
      }
      throw new TgettyError('FAX_SPOOL_FAILED', `cannot write ${final}: ${errnoCode(err) ?? String(err)}`, { file: final }, { cause: err });
    } finally {
      try {
        unlinkSync(tmp);
      } catch {
        // gone already
      }
    }
  }
}

function defaultExists(p: string): boolean {
  try {
    // lstat: a planted symlink counts as taken.
    lstatSync(p);
    return true;
  } catch (err) {
    return errnoCode(err) !== 'ENOENT';
  }
}
