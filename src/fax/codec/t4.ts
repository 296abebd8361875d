/**
 * ITU-T T.4 coding of fax pages: one-dimensional modified Huffman (MH) and
 * two-dimensional modified READ (MR, K = 2 or 4), encoder and decoder. Pure.
 *
 * The decoder is built to survive a bad line as a fax receiver must: a code that
 * cannot be read makes the line "bad", the previous line is repeated in its place and
 * decoding picks up at the next EOL. `strict` turns the first bad line into an error.
 */
import { TgettyError } from '../../core/errors.js';
import { BitReader, BitWriter } from './bits.js';
import { blankBitmap, changingElements, fillBlack, getRow, rowBytes, type Bitmap } from './bitmap.js';
import {
  BLACK_MAKEUP, BLACK_TERMINATING, EOL, EXTENDED_MAKEUP, MODE, WHITE_MAKEUP, WHITE_TERMINATING, runCodes, type Colour,
} from './tables.js';

export interface EncodeOptions {
  /** MR with this K (a 1-D line every K lines); undefined = MH. */
  k?: 2 | 4;
  /** Fill bits so that every EOL ends on a byte boundary (what modems and TIFF's EOL alignment expect). */
  alignEol?: boolean;
  /** Minimum bits per coded line, EOL included (minimum scan line time: zero fill). */
  minLineBits?: number;
  /** End the page with RTC (six EOLs). Default true. */
  rtc?: boolean;
  /** Bit order of the output bytes; default false (first bit = most significant). */
  lsbFirst?: boolean;
}

export interface DecodeOptions {
  /** Pixels per line (1728 for A4 at any resolution). */
  width: number;
  /** MR (tag bit after each EOL); default MH. */
  twoD?: boolean;
  lsbFirst?: boolean;
  /** Throw on the first bad line instead of repeating the previous line. */
  strict?: boolean;
  /** Stop after this many lines (a bound against hostile input). Default 8192. */
  maxLines?: number;
}

export interface DecodeResult {
  bitmap: Bitmap;
  /** Lines that could not be decoded and were replaced by the line before. */
  badLines: number;
  /** The page ended with RTC (six EOLs) rather than at the end of the data. */
  rtc: boolean;
  /** Bit offset just past the last coded line: what a container keeps (TIFF strips carry no RTC). */
  endBit: number;
}

function writeRun(w: BitWriter, colour: Colour, run: number): void {
  const makeup = colour === 'white' ? WHITE_MAKEUP : BLACK_MAKEUP;
  const term = colour === 'white' ? WHITE_TERMINATING : BLACK_TERMINATING;
  while (run > 2560 + 63) {
    w.code(EXTENDED_MAKEUP[EXTENDED_MAKEUP.length - 1] ?? '');
    run -= 2560;
  }
  if (run >= 64) {
    const m = run >> 6;
    w.code(m <= 27 ? (makeup[m - 1] ?? '') : (EXTENDED_MAKEUP[m - 28] ?? ''));
    run -= m << 6;
  }
  w.code(term[run] ?? '');
}

function other(c: Colour): Colour {
  return c === 'white' ? 'black' : 'white';
}

function encode1d(w: BitWriter, changes: readonly number[], width: number): void {
  let colour: Colour = 'white';
  let at = 0;
  for (const c of [...changes, width]) {
    writeRun(w, colour, c - at);
    at = c;
    colour = other(colour);
  }
}

/** b1: the first change on the reference line right of a0 whose colour is opposite a0's. */
function findB1(ref: readonly number[], a0: number, colour: Colour): number {
  // Even indices are changes to black, odd ones to white.
  let i = 0;
  while (i < ref.length && (ref[i] ?? 0) <= a0) i++;
  if ((i & 1) !== (colour === 'white' ? 0 : 1)) i++;
  return i;
}

function encode2d(w: BitWriter, cur: readonly number[], ref: readonly number[], width: number): void {
  const at = (list: readonly number[], i: number): number => (i < list.length ? (list[i] ?? width) : width);
  let a0 = -1;
  let colour: Colour = 'white';
  while (a0 < width) {
    let ia1 = 0;
    while (ia1 < cur.length && (cur[ia1] ?? 0) <= a0) ia1++;
    const a1 = at(cur, ia1);
    const ib1 = findB1(ref, a0, colour);
    const b1 = at(ref, ib1);
    const b2 = at(ref, ib1 + 1);
    if (b2 < a1) {
      w.code(MODE.pass);
      a0 = b2;
    } else if (Math.abs(a1 - b1) <= 3) {
      w.code(MODE.vertical.get(a1 - b1) ?? '');
      a0 = a1;
      colour = other(colour);
    } else {
      const a2 = at(cur, ia1 + 1);
      w.code(MODE.horizontal);
      writeRun(w, colour, a1 - Math.max(a0, 0));
      writeRun(w, other(colour), a2 - a1);
      a0 = a2;
    }
  }
}

/** Encode a page as G3 (MH, or MR with opts.k). Begins with an EOL, as T.4 asks. */
export function encodeG3(page: Bitmap, opts: EncodeOptions = {}): Uint8Array {
  const w = new BitWriter();
  const eol = (tag?: 0 | 1): void => {
    const extra = tag === undefined ? 0 : 1;
    if (opts.alignEol === true) while ((w.length + EOL.length + extra) % 8 !== 0) w.bit(0);
    w.code(EOL);
    if (tag !== undefined) w.bit(tag);
  };
  let ref: number[] = [];
  for (let y = 0; y < page.height; y++) {
    const cur = changingElements(getRow(page, y), page.width);
    const oneD = opts.k === undefined || y % opts.k === 0;
    const start = w.length;
    eol(opts.k === undefined ? undefined : oneD ? 1 : 0);
    if (oneD) encode1d(w, cur, page.width);
    else encode2d(w, cur, ref, page.width);
    // Zero fill before the next EOL stands in for the minimum scan line time.
    if (opts.minLineBits !== undefined) while (w.length - start < opts.minLineBits) w.bit(0);
    ref = cur;
  }
  if (opts.rtc !== false) for (let i = 0; i < 6; i++) eol(opts.k === undefined ? undefined : 1);
  return w.finish(opts.lsbFirst === true);
}

/** A 13-bit look-ahead table per colour: entry = (length << 16) | (run + 1) | makeup flag. */
interface RunTable {
  entries: Int32Array;
}
const MAKEUP_FLAG = 1 << 15;
const LOOKAHEAD = 13;

function buildRunTable(colour: Colour): RunTable {
  const entries = new Int32Array(1 << LOOKAHEAD);
  for (const [word, rc] of runCodes(colour)) {
    const base = parseInt(word, 2) << (LOOKAHEAD - word.length);
    const v = (word.length << 16) | (rc.makeup ? MAKEUP_FLAG : 0) | (rc.run + 1);
    for (let i = 0; i < 1 << (LOOKAHEAD - word.length); i++) entries[base + i] = v;
  }
  return { entries };
}

const TABLES: Record<Colour, RunTable> = { white: buildRunTable('white'), black: buildRunTable('black') };

type Mode = { kind: 'pass' } | { kind: 'horizontal' } | { kind: 'vertical'; d: number };
const MODES: Array<[string, Mode]> = [
  [MODE.pass, { kind: 'pass' }],
  [MODE.horizontal, { kind: 'horizontal' }],
  ...[...MODE.vertical].map(([d, word]): [string, Mode] => [word, { kind: 'vertical', d }]),
];

class BadLine extends Error {}

function readRun(r: BitReader, colour: Colour): number {
  let total = 0;
  for (;;) {
    const v = TABLES[colour].entries[r.peek(LOOKAHEAD)] ?? 0;
    if (v === 0) throw new BadLine(`no ${colour} code at bit ${r.pos}`);
    r.pos += v >> 16;
    total += (v & 0x7fff) - 1;
    if ((v & MAKEUP_FLAG) === 0) return total;
    if (total > 1 << 16) throw new BadLine('run too long');
  }
}

function readMode(r: BitReader): Mode {
  for (const [word, mode] of MODES) {
    if (r.peek(word.length) === parseInt(word, 2)) {
      r.pos += word.length;
      return mode;
    }
  }
  throw new BadLine(`no 2-D mode code at bit ${r.pos}`);
}

function decode1d(r: BitReader, row: Uint8Array, width: number): void {
  let a = 0;
  let colour: Colour = 'white';
  while (a < width) {
    const run = readRun(r, colour);
    if (a + run > width) throw new BadLine(`run of ${run} past the end of the line at ${a}`);
    if (colour === 'black') fillBlack(row, a, a + run);
    a += run;
    colour = other(colour);
  }
}

function decode2d(r: BitReader, row: Uint8Array, ref: readonly number[], width: number): void {
  const at = (i: number): number => (i < ref.length ? (ref[i] ?? width) : width);
  let a0 = -1;
  let colour: Colour = 'white';
  const paint = (from: number, to: number): void => {
    if (to > width || to < from) throw new BadLine(`change at ${to} outside the line`);
    if (colour === 'black') fillBlack(row, from, to);
  };
  while (a0 < width) {
    const mode = readMode(r);
    const ib1 = findB1(ref, a0, colour);
    const start = Math.max(a0, 0);
    if (mode.kind === 'pass') {
      const b2 = at(ib1 + 1);
      paint(start, b2);
      a0 = b2;
    } else if (mode.kind === 'vertical') {
      const a1 = at(ib1) + mode.d;
      if (a1 < start) throw new BadLine(`vertical mode goes back to ${a1}`);
      paint(start, a1);
      a0 = a1;
      colour = other(colour);
    } else {
      const a1 = start + readRun(r, colour);
      paint(start, a1);
      colour = other(colour);
      const a2 = a1 + readRun(r, colour);
      paint(a1, a2);
      colour = other(colour);
      a0 = a2;
    }
  }
}

/** Skip to just before the next EOL (at least 11 zeros, then a 1); false at the end of data. */
function resync(r: BitReader): boolean {
  while (!r.atEnd) {
    if (r.zeros(11) === 11) return true;
    r.pos++;
  }
  return false;
}

/** Decode one G3 page. Width comes from the session (DCS) or the file's header. */
export function decodeG3(data: Uint8Array, opts: DecodeOptions): DecodeResult {
  const { width } = opts;
  if (!Number.isInteger(width) || width <= 0 || width > 8192) throw new TgettyError('FAX_BAD_G3', `bad page width ${width}`);
  const maxLines = opts.maxLines ?? 8192;
  const r = new BitReader(data, opts.lsbFirst === true);
  const n = rowBytes(width);
  const rows: Uint8Array[] = [];
  let ref: number[] = [];
  let badLines = 0;
  let eols = 0;
  let rtc = false;
  let twoDNext = false;
  let endBit = 0;
  while (!r.atEnd && rows.length < maxLines) {
    const z = r.zeros(r.bitLength);
    if (z >= 11) {
      r.pos += z;
      if (r.atEnd) break;
      r.pos++; // the EOL's 1
      if (opts.twoD === true) twoDNext = r.read(1) === 0;
      if (++eols >= 6) {
        rtc = true;
        break;
      }
      continue;
    }
    if (r.bitLength - r.pos < 8 && r.peek(r.bitLength - r.pos) === 0) break; // padding at the end
    eols = 0;
    const row = new Uint8Array(n);
    const lineStart = r.pos;
    try {
      if (twoDNext) decode2d(r, row, ref, width);
      else decode1d(r, row, width);
      // A line is followed by an EOL (or the end of the data): anything else means the
      // codes were read wrong, and the row would be garbage.
      if (!r.atEnd && r.zeros(11) < 11 && r.peek(Math.min(24, r.bitLength - r.pos)) !== 0) throw new BadLine(`no EOL after ${width} pixels`);
      rows.push(row);
      endBit = r.pos;
      ref = changingElements(row, width);
    } catch (e) {
      if (!(e instanceof BadLine)) throw e;
      if (opts.strict === true) {
        throw new TgettyError('FAX_BAD_G3', `G3 line ${rows.length + 1}: ${e.message}`, { line: rows.length + 1, bit: lineStart });
      }
      badLines++;
      const prev = rows[rows.length - 1];
      rows.push(prev !== undefined ? prev.slice() : row.fill(0));
      if (prev === undefined) ref = [];
      // No 11 zeros occur inside coded data, so the next EOL after the line's start is the real one.
      r.pos = lineStart + 1;
      if (!resync(r)) break;
    }
  }
  const bitmap = blankBitmap(width, rows.length);
  rows.forEach((row, y) => bitmap.data.set(row, y * n));
  return { bitmap, badLines, rtc, endBit };
}
