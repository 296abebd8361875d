/**
 * Pages for the virtual fax machine: raw G3 files (one page each, line order as netpbm's
 * pbmtog3 and mgetty's pbm2g3 write them: first bit = most significant), TIFF class F
 * (every page's strips read raw, FillOrder honoured: src/fax/codec/tiff-read.ts) and PBM (encoded with the T.4 codec).
 */
import { readFileSync } from 'node:fs';
import { TgettyError } from '../../core/errors.js';
import { parsePbm } from '../../fax/codec/bitmap.js';
import { encodeG3 } from '../../fax/codec/t4.js';
import { readTiffF } from '../../fax/codec/tiff-read.js';

export interface SimFaxPage {
  /** T.4 data in line order. */
  data: Uint8Array;
  /** 196 lines per inch (else 98). */
  fine: boolean;
  /** 2-D (MR) coding. */
  mr: boolean;
}

function fail(file: string, why: string): never {
  throw new TgettyError('SIM_FAILED', `fax page file ${file}: ${why}`, { path: file });
}

/** The pages in one file. `fine` is used for raw G3 (which does not say). */
export function loadPages(file: string, opts: { fine?: boolean } = {}): SimFaxPage[] {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (err) {
    throw new TgettyError('SIM_FAILED', `cannot read fax page file ${file}`, { path: file }, { cause: err });
  }
  return pagesFromBytes(buf, file, opts);
}

export function pagesFromBytes(buf: Buffer, file: string, opts: { fine?: boolean } = {}): SimFaxPage[] {
  const head = buf.subarray(0, 4).toString('latin1');
  if (head === 'II*\0' || head === 'MM\0*') return tiffPages(buf, file);
  if (/^P[14]\s/.test(buf.subarray(0, 3).toString('latin1'))) {
    let bm;
    try {
      bm = parsePbm(buf);
    } catch (err) {
      throw new TgettyError('SIM_FAILED', `fax page file ${file}: not a PBM the codec reads`, { path: file }, { cause: err });
    }
    // A page of more than ~1200 lines is a fine page (A4 is 1143 normal, 2287 fine lines).
    return [{ data: encodeG3(bm), fine: opts.fine ?? bm.height > 1200, mr: false }];
  }
  if (buf.length === 0) fail(file, 'empty');
  return [{ data: new Uint8Array(buf), fine: opts.fine ?? true, mr: false }];
}

function tiffPages(buf: Buffer, file: string): SimFaxPage[] {
  try {
    return readTiffF(buf, file).map((p) => ({ data: p.data, fine: p.fine, mr: p.mr }));
  } catch (err) {
    throw new TgettyError('SIM_FAILED', err instanceof Error ? err.message : String(err), { path: file }, { cause: err });
  }
}
