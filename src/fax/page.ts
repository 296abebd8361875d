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
  /**
   * The bytes come LSB first (the first line bit in bit 0). Class 2 modems with +FBOR=0 and
   * class 2.0 with +FBO=1 deliver received pages MSB first, as mgetty's spool files and
   * netpbm have them (docs/fax-spec.md section 6): then this is false.
   */
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
