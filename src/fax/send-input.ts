/**
 * The files `tgetty sendfax` is given, as fax pages (T.4 MH data, first bit on top, as a
 * G3 file has it). By content, not by name:
 * - raw G3 (mgetty's spool, pbm2g3, pbmtog3, gs -sDEVICE=faxg3): one page, sent as it is
 *   (a 64-byte DigiFax header from gs -sDEVICE=dfaxhigh/dfaxlow is skipped, as sendfax does);
 * - TIFF class F (fax2tiff, efax, tgetty's receiver): every page, decoded and coded again
 *   as MH at 1728 pixels (the session offers MH only);
 * - PBM: coded with the repo's codec, cut or padded to 1728 pixels;
 * - PDF and PostScript: through Ghostscript, `gs -sDEVICE=faxg3` at 204x196 (fine) or
 *   204x98 (-n) dpi, one G3 page each, run without a shell with the allow-listed environment.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TgettyError, toTgettyError } from '../core/errors.js';
import { blankBitmap, getRow, parsePbm, rowBytes, type Bitmap } from './codec/bitmap.js';
import { decodeG3, encodeG3 } from './codec/t4.js';
import { isTiff, readTiffF } from './codec/tiff-read.js';

export const FAX_WIDTH = 1728;

export type InputKind = 'g3' | 'tiff' | 'pbm' | 'pdf' | 'postscript';

export interface InputPage {
  /** T.4 MH data, first bit of the line in the most significant bit. */
  data: Uint8Array;
  /** The file it came from, and its page number there (1-based). */
  file: string;
  pageInFile: number;
  /** The page's own resolution when the file says (TIFF), and its pixels to convert it. */
  fine?: boolean;
  bitmap?: Bitmap;
}

export interface InputFile {
  file: string;
  kind: InputKind;
  pages: InputPage[];
  /** What was done to it, for the log. */
  notes: string[];
}

export interface InputOptions {
  /** Normal resolution (-n): Ghostscript renders at 98 lpi; otherwise 196. */
  normal: boolean;
  /** Ghostscript (default `gs` in the safe PATH). */
  gs?: string;
  env: Record<string, string>;
  /** Kill Ghostscript after this long (default 120 s). */
  gsTimeoutMs?: number;
}

/** What a file holds, by its first bytes. */
export function inputKind(head: Uint8Array): InputKind {
  const s = Buffer.from(head.subarray(0, 8)).toString('latin1');
  if (isTiff(head)) return 'tiff';
  if (s.startsWith('%PDF')) return 'pdf';
  if (s.startsWith('%!') || s.startsWith('\x04%!')) return 'postscript';
  if (/^P[14]\s/.test(s.slice(0, 3))) return 'pbm';
  return 'g3';
}

const DIGIFAX = '\0PC Research, Inc';

/** A raw G3 page: the bytes, without a DigiFax header if there is one. */
export function g3Page(buf: Uint8Array): { data: Uint8Array; note?: string } {
  if (buf.length > 64 && Buffer.from(buf.subarray(0, DIGIFAX.length)).toString('latin1') === DIGIFAX) return { data: buf.subarray(64), note: 'DigiFax header skipped' };
  return { data: buf };
}

/** The bitmap cut or padded (white, on the right) to the fax width. */
export function fitWidth(b: Bitmap, width = FAX_WIDTH): Bitmap {
  if (b.width === width) return b;
  const out = blankBitmap(width, b.height);
  const n = rowBytes(width);
  const copyBits = Math.min(width, b.width);
  for (let y = 0; y < b.height; y++) {
    const src = getRow(b, y);
    const dst = out.data.subarray(y * n, (y + 1) * n);
    dst.set(src.subarray(0, copyBits >> 3));
    const rem = copyBits & 7;
    if (rem > 0) dst[copyBits >> 3] = (src[copyBits >> 3] ?? 0) & (0xff << (8 - rem)) & 0xff;
  }
  return out;
}

/** The pages of a file's bytes that need no program (G3, TIFF, PBM). */
export function pagesFromBytes(buf: Buffer, file: string): InputFile {
  const kind = inputKind(buf);
  const notes: string[] = [];
  if (buf.length === 0) throw new TgettyError('FAX_BAD_IMAGE', `${file}: empty file`, { path: file });
  if (kind === 'g3') {
    const p = g3Page(buf);
    if (p.note !== undefined) notes.push(p.note);
    return { file, kind, pages: [{ data: p.data, file, pageInFile: 1 }], notes };
  }
  if (kind === 'pbm') {
    let bm: Bitmap;
    try {
      bm = parsePbm(buf);
    } catch (err) {
      throw new TgettyError('FAX_BAD_IMAGE', `${file}: not a PBM the codec reads`, { path: file }, { cause: err });
    }
    if (bm.width !== FAX_WIDTH) notes.push(`${bm.width} pixels wide: ${bm.width > FAX_WIDTH ? 'cut' : 'padded'} to ${FAX_WIDTH}`);
    return { file, kind, pages: [{ data: encodeG3(fitWidth(bm)), file, pageInFile: 1 }], notes };
  }
  if (kind === 'tiff') {
    const pages = readTiffF(buf, file).map((p, i) => {
      const { bitmap, badLines } = decodeG3(p.data, { width: p.width, twoD: p.mr });
      if (badLines > 0) notes.push(`page ${i + 1}: ${badLines} bad line(s) in the TIFF`);
      if (p.width !== FAX_WIDTH) notes.push(`page ${i + 1}: ${p.width} pixels wide, fitted to ${FAX_WIDTH}`);
      const fitted = fitWidth(bitmap);
      return { data: encodeG3(fitted), file, pageInFile: i + 1, fine: p.fine, bitmap: fitted };
    });
    return { file, kind, pages, notes };
  }
  throw new TgettyError('FAX_BAD_IMAGE', `${file}: ${kind} needs Ghostscript`, { path: file });
}

/**
 * A page in the session's resolution: a normal page in a fine session gets every line
 * twice, a fine page in a normal session every other line. Pages that do not say their
 * resolution (raw G3, PBM) are taken to be in the session's, as sendfax takes them.
 */
export function inResolution(page: InputPage, fine: boolean): { page: InputPage; converted: boolean } {
  if (page.fine === undefined || page.fine === fine || page.bitmap === undefined) return { page, converted: false };
  const src = page.bitmap;
  const height = fine ? src.height * 2 : Math.ceil(src.height / 2);
  const out = blankBitmap(src.width, height);
  const n = rowBytes(src.width);
  for (let y = 0; y < height; y++) out.data.set(getRow(src, fine ? y >> 1 : y * 2), y * n);
  return { page: { ...page, data: encodeG3(out), fine, bitmap: out }, converted: true };
}

/** Ghostscript's arguments for a PDF or PostScript file into `outPattern` (one G3 file a page). */
export function gsArgs(file: string, outPattern: string, normal: boolean): string[] {
  return ['-q', '-dSAFER', '-dBATCH', '-dNOPAUSE', '-sDEVICE=faxg3', normal ? '-r204x98' : '-r204x196', '-sPAPERSIZE=a4', '-dFIXEDMEDIA', '-dPDFFitPage', `-sOutputFile=${outPattern}`, '--', file];
}

function runGs(gs: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(gs, args, { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => {
      if (stderr.length < 4000) stderr += b.toString('utf8');
    });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new TgettyError('FAX_BAD_IMAGE', `cannot run ${gs}: ${err.message}`, {}, { cause: err }));
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new TgettyError('FAX_BAD_IMAGE', `${gs} failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-3).join(' / ')}`));
    });
  });
}

/** Load every file, in order. A file that cannot be read or converted is an error (sendfax: exit 1). */
export async function loadInputFile(file: string, o: InputOptions): Promise<InputFile> {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw toTgettyError(err, 'FAX_BAD_IMAGE', { path: file });
  }
  const kind = inputKind(buf);
  if (kind !== 'pdf' && kind !== 'postscript') return pagesFromBytes(buf, file);
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-sendfax-gs-'));
  try {
    await runGs(o.gs ?? 'gs', gsArgs(file, join(dir, 'p%04d.g3'), o.normal), o.env, o.gsTimeoutMs ?? 120_000);
    const names = readdirSync(dir).filter((n) => /^p\d{4}\.g3$/.test(n)).sort();
    if (names.length === 0) throw new TgettyError('FAX_BAD_IMAGE', `${file}: Ghostscript made no pages`, { path: file });
    const pages = names.map((n, i) => ({ data: new Uint8Array(readFileSync(join(dir, n))), file, pageInFile: i + 1 }));
    return { file, kind, pages, notes: [`${pages.length} page(s) from Ghostscript (faxg3, ${o.normal ? 'normal' : 'fine'})`] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
