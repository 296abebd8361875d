/**
 * One received or prepared fax page: its T.4 data as it goes into a container (first
 * bit = most significant, no RTC), and what the decoder learnt from it. Pure.
 */
import { reverseBits } from './codec/bits.js';
import { decodeG3 } from './codec/t4.js';

export interface FaxPage {
  /** T.4 data, most significant bit first, ending after the last line (no RTC). */
  g3: Uint8Array;
  width: number;
  /** Lines, as decoded. */
  height: number;
  /** MR (2-D) coding. */
  twoD: boolean;
  /** 196 lines per inch (fine) or 98 (normal); 204 dots per inch across, always. */
  fine: boolean;
  /** Lines that could not be decoded (repeated from the line before). */
  badLines: number;
}

export interface PageFormat {
  width: number;
  twoD: boolean;
  fine: boolean;
  /** The bytes come LSB first, as from a class 2 modem with +FBOR=0 or an mgetty spool file. */
  lsbFirst: boolean;
}

/** A page from the data a modem delivered (or a G3 file): decoded once to count and check it. */
export function pageFromG3(data: Uint8Array, f: PageFormat): FaxPage {
  const msb = f.lsbFirst ? reverseBits(data) : data;
  const res = decodeG3(msb, { width: f.width, twoD: f.twoD });
  return {
    g3: msb.slice(0, Math.ceil(res.endBit / 8)),
    width: f.width,
    height: res.bitmap.height,
    twoD: f.twoD,
    fine: f.fine,
    badLines: res.badLines,
  };
}

export const FAX_XDPI = 204;
export function faxYdpi(p: Pick<FaxPage, 'fine'>): number {
  return p.fine ? 196 : 98;
}
