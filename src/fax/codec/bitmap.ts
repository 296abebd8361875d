/**
 * A bilevel page as the codec sees it: rows packed 8 pixels a byte, the leftmost pixel
 * in the most significant bit, 1 = black (PBM's P4 layout, so a PBM file is one copy
 * away). Pure: PBM text in and out, no I/O.
 */
import { TgettyError } from '../../core/errors.js';

export interface Bitmap {
  width: number;
  height: number;
  /** height rows of rowBytes(width) bytes. */
  data: Uint8Array;
}

export function rowBytes(width: number): number {
  return (width + 7) >> 3;
}

export function blankBitmap(width: number, height: number): Bitmap {
  return { width, height, data: new Uint8Array(rowBytes(width) * height) };
}

export function getRow(b: Bitmap, y: number): Uint8Array {
  const n = rowBytes(b.width);
  return b.data.subarray(y * n, (y + 1) * n);
}

export function pixel(b: Bitmap, x: number, y: number): 0 | 1 {
  const byte = b.data[y * rowBytes(b.width) + (x >> 3)] ?? 0;
  return ((byte >> (7 - (x & 7))) & 1) as 0 | 1;
}

/** Positions where the colour changes along a row (imaginary white pixel before x = 0). */
export function changingElements(row: Uint8Array, width: number): number[] {
  const out: number[] = [];
  let colour = 0;
  for (let x = 0; x < width; x++) {
    const byte = row[x >> 3] ?? 0;
    // Whole bytes of the current colour skip eight pixels at once.
    if ((x & 7) === 0 && x + 8 <= width && byte === (colour === 0 ? 0 : 0xff)) {
      x += 7;
      continue;
    }
    const p = (byte >> (7 - (x & 7))) & 1;
    if (p !== colour) {
      out.push(x);
      colour = p;
    }
  }
  return out;
}

/** Paint pixels [from, to) of a packed row black. */
export function fillBlack(row: Uint8Array, from: number, to: number): void {
  let x = from;
  while (x < to && (x & 7) !== 0) {
    row[x >> 3] = (row[x >> 3] ?? 0) | (0x80 >> (x & 7));
    x++;
  }
  while (x + 8 <= to) {
    row[x >> 3] = 0xff;
    x += 8;
  }
  while (x < to) {
    row[x >> 3] = (row[x >> 3] ?? 0) | (0x80 >> (x & 7));
    x++;
  }
}

function pbmError(message: string): TgettyError {
  return new TgettyError('FAX_BAD_IMAGE', `PBM: ${message}`);
}

/** Parse a PBM file (P4 raw or P1 plain). Only the first image of a multi-image file. */
export function parsePbm(buf: Uint8Array): Bitmap {
  let pos = 0;
  const token = (): string => {
    for (;;) {
      while (pos < buf.length && /\s/.test(String.fromCharCode(buf[pos] ?? 0))) pos++;
      if (buf[pos] === 0x23) {
        while (pos < buf.length && buf[pos] !== 0x0a) pos++;
        continue;
      }
      break;
    }
    const start = pos;
    while (pos < buf.length && !/\s/.test(String.fromCharCode(buf[pos] ?? 0)) && buf[pos] !== 0x23) pos++;
    return Buffer.from(buf.subarray(start, pos)).toString('latin1');
  };
  const magic = token();
  if (magic !== 'P4' && magic !== 'P1') throw pbmError(`not a PBM file (magic '${magic.slice(0, 8)}')`);
  const width = Number(token());
  const height = Number(token());
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0 || width > 65535 || height > 65535) {
    throw pbmError(`bad size ${width}x${height}`);
  }
  const out = blankBitmap(width, height);
  if (magic === 'P4') {
    pos++; // the single whitespace byte after the height
    const need = out.data.length;
    if (buf.length - pos < need) throw pbmError(`truncated: ${buf.length - pos} of ${need} bytes of pixels`);
    out.data.set(buf.subarray(pos, pos + need));
    return out;
  }
  const n = rowBytes(width);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      while (pos < buf.length && (buf[pos] === 0x20 || buf[pos] === 0x0a || buf[pos] === 0x0d || buf[pos] === 0x09)) pos++;
      const c = buf[pos++];
      if (c !== 0x30 && c !== 0x31) throw pbmError(`bad pixel at ${x},${y}`);
      if (c === 0x31) out.data[y * n + (x >> 3)] = (out.data[y * n + (x >> 3)] ?? 0) | (0x80 >> (x & 7));
    }
  }
  return out;
}

/** A raw (P4) PBM file of the bitmap. */
export function formatPbm(b: Bitmap): Buffer {
  return Buffer.concat([Buffer.from(`P4\n${b.width} ${b.height}\n`, 'latin1'), Buffer.from(b.data)]);
}

export function bitmapsEqual(a: Bitmap, b: Bitmap): boolean {
  return a.width === b.width && a.height === b.height && Buffer.from(a.data).equals(Buffer.from(b.data));
}
