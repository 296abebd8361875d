/**
 * Reading the pages of a TIFF class F file (what fax2tiff, efax and tgetty's receiver
 * write): each page's strips, raw, in line order (first bit = most significant, FillOrder
 * honoured), with an RTC appended (strips end without one), its resolution and coding.
 * Pure, bounded: a broken file gives FAX_BAD_IMAGE, never a crash. Shared by the
 * simulator's virtual fax machine and `tgetty sendfax`.
 */
import { TgettyError } from '../../core/errors.js';
import { reverseBits } from './bits.js';

export interface TiffFaxPage {
  /** T.4 data in line order, ending in RTC. */
  data: Uint8Array;
  /** 196 lines per inch (else 98). */
  fine: boolean;
  /** 2-D (MR) coding. */
  mr: boolean;
  /** ImageWidth (1728 for A4). */
  width: number;
}

/** RTC: six EOLs (byte-aligned), for TIFF strips, which end without one. */
function rtc(mr: boolean): Uint8Array {
  const one = mr ? [0x00, 0x03] : [0x00, 0x01];
  return Uint8Array.from([...one, ...one, ...one, ...one, ...one, ...one]);
}

const TAG = { width: 256, compression: 259, fillOrder: 266, stripOffsets: 273, stripByteCounts: 279, yRes: 283, t4Options: 292, resUnit: 296 } as const;

/** Is this the start of a TIFF file? */
export function isTiff(buf: Uint8Array): boolean {
  const h = Buffer.from(buf.subarray(0, 4)).toString('latin1');
  return h === 'II*\0' || h === 'MM\0*';
}

export function readTiffF(buf: Buffer, file: string): TiffFaxPage[] {
  const fail = (why: string): never => {
    throw new TgettyError('FAX_BAD_IMAGE', `fax page file ${file}: ${why}`, { path: file });
  };
  const le = buf[0] === 0x49;
  const u16 = (o: number): number => {
    if (o + 2 > buf.length) fail('truncated TIFF');
    return le ? buf.readUInt16LE(o) : buf.readUInt16BE(o);
  };
  const u32 = (o: number): number => {
    if (o + 4 > buf.length) fail('truncated TIFF');
    return le ? buf.readUInt32LE(o) : buf.readUInt32BE(o);
  };
  const pages: TiffFaxPage[] = [];
  let ifd = u32(4);
  const seen = new Set<number>();
  while (ifd !== 0) {
    if (seen.has(ifd) || pages.length > 1000) fail('IFD loop');
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
    if (compression !== 3) fail(`page ${pages.length + 1} is not T.4 (TIFF compression ${compression}; class F needs 3)`);
    const offsets = tags.get(TAG.stripOffsets) ?? [];
    const counts = tags.get(TAG.stripByteCounts) ?? [];
    if (offsets.length === 0 || offsets.length !== counts.length) fail(`page ${pages.length + 1}: no strips`);
    const parts: Buffer[] = offsets.map((o, i) => {
      const c = counts[i] ?? 0;
      if (o + c > buf.length) fail(`page ${pages.length + 1}: strip beyond the end of the file`);
      return buf.subarray(o, o + c);
    });
    const mr = ((tags.get(TAG.t4Options)?.[0] ?? 0) & 1) === 1;
    let data: Uint8Array = Buffer.concat([...parts]);
    // FillOrder 2: the first bit is the least significant one; the line wants it first.
    if ((tags.get(TAG.fillOrder)?.[0] ?? 1) === 2) data = reverseBits(data);
    const yres = tags.get(TAG.yRes)?.[0] ?? 98;
    const perCm = (tags.get(TAG.resUnit)?.[0] ?? 2) === 3;
    pages.push({ data: Buffer.concat([data, rtc(mr)]), fine: perCm ? yres > 59 : yres > 150, mr, width: tags.get(TAG.width)?.[0] ?? 1728 });
    ifd = u32(ifd + 2 + n * 12);
  }
  if (pages.length === 0) fail('no pages');
  return pages;
}
