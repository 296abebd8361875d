/**
 * A multi-page TIFF Class F file (the TIFF used for fax, TIFF 6.0 section 11 plus the
 * Class F additions) from fax pages. The T.4 data goes in as it is, one strip a page:
 * nothing is re-encoded. Pure: bytes out.
 */
import { FAX_XDPI, faxYdpi, type FaxPage } from './page.js';

export interface TiffMeta {
  /** The sender's station id (ImageDescription). */
  description?: string;
  software?: string;
  /** DateTime, as the TIFF field wants it: 'YYYY:MM:DD HH:MM:SS'. */
  dateTime?: string;
}

const SHORT = 3;
const LONG = 4;
const RATIONAL = 5;
const ASCII = 2;

interface Entry {
  tag: number;
  type: number;
  /** Numbers (SHORT/LONG), [num, den] pairs (RATIONAL) or text (ASCII). */
  values: number[] | string;
}

function ascii(s: string): string {
  // Station ids come from the far end: printable ASCII only, no NUL inside the field.
  return s.replace(/[^\x20-\x7e]/g, '?');
}

/** Encode one IFD at `offset`, with its out-of-line values after it; returns the bytes. */
function ifd(entries: Entry[], offset: number, next: number): Buffer {
  entries.sort((a, b) => a.tag - b.tag);
  const head = 2 + entries.length * 12 + 4;
  const extra: Buffer[] = [];
  let extraAt = offset + head;
  const table = Buffer.alloc(head);
  table.writeUInt16LE(entries.length, 0);
  entries.forEach((e, i) => {
    const at = 2 + i * 12;
    let data: Buffer;
    let count: number;
    if (e.type === ASCII) {
      data = Buffer.from(`${e.values as string}\0`, 'latin1');
      count = data.length;
    } else {
      const nums = e.values as number[];
      const size = e.type === SHORT ? 2 : 4;
      data = Buffer.alloc(nums.length * size);
      nums.forEach((v, j) => (size === 2 ? data.writeUInt16LE(v, j * 2) : data.writeUInt32LE(v >>> 0, j * 4)));
      count = e.type === RATIONAL ? nums.length / 2 : nums.length;
    }
    table.writeUInt16LE(e.tag, at);
    table.writeUInt16LE(e.type, at + 2);
    table.writeUInt32LE(count, at + 4);
    if (data.length <= 4) data.copy(table, at + 8);
    else {
      if (extraAt % 2 === 1) {
        extra.push(Buffer.alloc(1));
        extraAt++;
      }
      table.writeUInt32LE(extraAt, at + 8);
      extra.push(data);
      extraAt += data.length;
    }
  });
  table.writeUInt32LE(next, head - 4);
  return Buffer.concat([table, ...extra]);
}

export function writeTiffF(pages: readonly FaxPage[], meta: TiffMeta = {}): Buffer {
  const header = Buffer.from([0x49, 0x49, 42, 0, 0, 0, 0, 0]);
  const parts: Buffer[] = [header];
  let at = header.length;
  const align = (): void => {
    if (at % 2 === 1) {
      parts.push(Buffer.alloc(1));
      at++;
    }
  };
  const ifds: { start: number; buf: Buffer; count: number }[] = [];
  pages.forEach((p, i) => {
    // Strip data first (word aligned), then the IFD that points at it.
    align();
    const stripAt = at;
    parts.push(Buffer.from(p.g3));
    at += p.g3.length;
    align();
    const entries = pageEntries(p, i, pages.length, stripAt, meta);
    const buf = ifd(entries, at, 0);
    ifds.push({ start: at, buf, count: entries.length });
    parts.push(buf);
    at += buf.length;
  });
  // Chain: the header points at the first IFD, each IFD's last field at the next one.
  header.writeUInt32LE(ifds[0]?.start ?? 0, 4);
  ifds.forEach((d, i) => d.buf.writeUInt32LE(ifds[i + 1]?.start ?? 0, 2 + d.count * 12));
  return Buffer.concat(parts);
}

function pageEntries(p: FaxPage, i: number, total: number, stripAt: number, meta: TiffMeta): Entry[] {
  return [
    { tag: 254, type: LONG, values: [2] }, // NewSubfileType: a page of a multi-page document
    { tag: 256, type: LONG, values: [p.width] },
    { tag: 257, type: LONG, values: [p.height] },
    { tag: 258, type: SHORT, values: [1] },
    { tag: 259, type: SHORT, values: [3] }, // CCITT T.4
    { tag: 262, type: SHORT, values: [0] }, // WhiteIsZero
    { tag: 266, type: SHORT, values: [1] }, // FillOrder: MSB first
    { tag: 273, type: LONG, values: [stripAt] },
    { tag: 274, type: SHORT, values: [1] },
    { tag: 277, type: SHORT, values: [1] },
    { tag: 278, type: LONG, values: [p.height] },
    { tag: 279, type: LONG, values: [p.g3.length] },
    { tag: 282, type: RATIONAL, values: [FAX_XDPI, 1] },
    { tag: 283, type: RATIONAL, values: [faxYdpi(p), 1] },
    { tag: 292, type: LONG, values: [p.twoD ? 1 : 0] }, // T4Options: 2-D or not; EOLs not byte-aligned
    { tag: 296, type: SHORT, values: [2] }, // inches
    { tag: 297, type: SHORT, values: [i, total] },
    { tag: 326, type: LONG, values: [p.badLines] }, // BadFaxLines
    { tag: 327, type: SHORT, values: [p.badLines > 0 ? 1 : 0] }, // CleanFaxData: 0 clean, 1 regenerated
    ...(meta.description !== undefined ? [{ tag: 270, type: ASCII, values: ascii(meta.description) }] : []),
    ...(meta.software !== undefined ? [{ tag: 305, type: ASCII, values: ascii(meta.software) }] : []),
    ...(meta.dateTime !== undefined ? [{ tag: 306, type: ASCII, values: ascii(meta.dateTime).slice(0, 19) }] : []),
  ];
}
