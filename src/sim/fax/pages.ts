/**
 * Pages for the virtual fax machine: raw G3 files (one page each, line order as netpbm's
 * pbmtog3 and mgetty's pbm2g3 write them: first bit = most significant), TIFF class F
 * (every page's strips read raw, FillOrder honoured) and PBM (encoded with the T.4 codec).
 */
import { readFileSync } from 'node:fs';
import { TgettyError } from '../../core/errors.js';
import { parsePbm } from '../../fax/codec/bitmap.js';
import { reverseBits } from '../../fax/codec/bits.js';
import { encodeG3 } from '../../fax/codec/t4.js';

export interface SimFaxPage {
  /** T.4 data in line order. */
  data: Uint8Array;
  /** 196 lines per inch (else 98). */
  fine: boolean;
  /** 2-D (MR) coding. */
  mr: boolean;
}

/** RTC: six EOLs (byte-aligned), for TIFF strips, which end without one. */
function rtc(mr: boolean): Uint8Array {
  const one = mr ? [0x00, 0x03] : [0x00, 0x01];
  return Uint8Array.from([...one, ...one, ...one, ...one, ...one, ...one]);
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

const TAG = { width: 256, compression: 259, fillOrder: 266, stripOffsets: 273, stripByteCounts: 279, yRes: 283, t4Options: 292, resUnit: 296 } as const;

function tiffPages(buf: Buffer, file: string): SimFaxPage[] {
  const le = buf[0] === 0x49;
  const u16 = (o: number): number => {
    if (o + 2 > buf.length) fail(file, 'truncated TIFF');
    return le ? buf.readUInt16LE(o) : buf.readUInt16BE(o);
  };
  const u32 = (o: number): number => {
    if (o + 4 > buf.length) fail(file, 'truncated TIFF');
    return le ? buf.readUInt32LE(o) : buf.readUInt32BE(o);
  };
  const pages: SimFaxPage[] = [];
  let ifd = u32(4);
  const seen = new Set<number>();
  while (ifd !== 0) {
    if (seen.has(ifd) || pages.length > 1000) fail(file, 'IFD loop');
    seen.add(ifd);
    const n = u16(ifd);
    const tags = new Map<number, number[]>();
    for (let i = 0; i < n; i++) {
      const e = ifd + 2 + i * 12;
      const tag = u16(e);
      const type = u16(e + 2);
      const count = u32(e + 4);
      const size = type === 3 ? 2 : type === 4 ? 4 : type === 5 ? 8 : 1;
      const at = count * size > 4 ? u32(e + 8) : e + 8;
      const vals: number[] = [];
      for (let k = 0; k < Math.min(count, 100_000); k++) {
        if (type === 3) vals.push(u16(at + k * 2));
        else if (type === 4) vals.push(u32(at + k * 4));
        else if (type === 5) vals.push(u32(at + k * 8) / Math.max(1, u32(at + k * 8 + 4)));
        else vals.push(buf[at + k] ?? 0);
      }
      tags.set(tag, vals);
    }
    const compression = tags.get(TAG.compression)?.[0] ?? 1;
    if (compression !== 3) fail(file, `page ${pages.length + 1} is not T.4 (TIFF compression ${compression}; class F needs 3)`);
    const offsets = tags.get(TAG.stripOffsets) ?? [];
    const counts = tags.get(TAG.stripByteCounts) ?? [];
    if (offsets.length === 0 || offsets.length !== counts.length) fail(file, `page ${pages.length + 1}: no strips`);
    const parts: Buffer[] = offsets.map((o, i) => {
      const c = counts[i] ?? 0;
      if (o + c > buf.length) fail(file, `page ${pages.length + 1}: strip beyond the end of the file`);
      return buf.subarray(o, o + c);
    });
    const mr = ((tags.get(TAG.t4Options)?.[0] ?? 0) & 1) === 1;
    let data: Uint8Array = Buffer.concat([...parts]);
    // FillOrder 2: the first bit is the least significant one; the line wants it first.
    if ((tags.get(TAG.fillOrder)?.[0] ?? 1) === 2) data = reverseBits(data);
    const yres = tags.get(TAG.yRes)?.[0] ?? 98;
    const perCm = (tags.get(TAG.resUnit)?.[0] ?? 2) === 3;
    pages.push({ data: Buffer.concat([data, rtc(mr)]), fine: perCm ? yres > 59 : yres > 150, mr });
    ifd = u32(ifd + 2 + n * 12);
  }
  if (pages.length === 0) fail(file, 'no pages');
  return pages;
}
