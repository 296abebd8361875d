/**
 * Incremental line splitter for modem output. Pure: fed chunks, returns lines.
 *
 * Modems end lines with CR LF, some with CR or LF alone, and echo commands ending in
 * CR, so either byte ends a line; the empty "lines" between a CR and its LF are skipped
 * (spec §5.6). Leading blanks are dropped because modems pad caller-ID lines
 * (`    FM:040404` in the t_ring corpus).
 *
 * Text is kept as latin1 strings: one char per byte, so nothing is lost or re-encoded.
 *
 * mgetty overruns its buffer on lines longer than ~500 bytes (Q30). We cap instead,
 * and every dropped byte is counted on the line it belonged to and in a running total.
 */

export const DEFAULT_MAX_LINE = 512;

export interface ModemLine {
  /** The line without its terminator and leading blanks; at most `maxLine` chars. */
  text: string;
  /** Bytes of this line dropped because it was longer than the cap (0 normally). */
  discarded: number;
}

const CR = 0x0d;
const LF = 0x0a;

/** Blanks mgetty's isspace() skips at the start of a line (CR and LF end lines instead). */
function isLeadingBlank(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0b || b === 0x0c;
}

/** Accept bytes or a latin1 string, so tests and callers can use either. */
export function byteAt(chunk: Uint8Array | string, i: number): number {
  return typeof chunk === 'string' ? chunk.charCodeAt(i) & 0xff : (chunk[i] ?? 0);
}

export class LineSplitter {
  readonly maxLine: number;
  private buf = '';
  private dropped = 0;
  private totalDropped = 0;

  constructor(maxLine = DEFAULT_MAX_LINE) {
    if (!Number.isInteger(maxLine) || maxLine < 1) throw new RangeError(`maxLine must be a positive integer, got ${maxLine}`);
    this.maxLine = maxLine;
  }

  /**
   * One byte in. Returns the completed line when `b` ends a non-empty line, else
   * undefined. Callers that must look at the line while it grows (RING wait) use this.
   */
  push(b: number): ModemLine | undefined {
    if (b === CR || b === LF) {
      if (this.buf.length === 0 && this.dropped === 0) return undefined;
      const line = { text: this.buf, discarded: this.dropped };
      this.buf = '';
      this.dropped = 0;
      return line;
    }
    if (this.buf.length === 0 && this.dropped === 0 && isLeadingBlank(b)) return undefined;
    if (this.buf.length >= this.maxLine) {
      this.dropped++;
      this.totalDropped++;
      return undefined;
    }
    this.buf += String.fromCharCode(b);
    return undefined;
  }

  /** A chunk in, the lines it completed out (in order). */
  feed(chunk: Uint8Array | string): ModemLine[] {
    const out: ModemLine[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const line = this.push(byteAt(chunk, i));
      if (line !== undefined) out.push(line);
    }
    return out;
  }

  /** The line so far (leading blanks already dropped, capped). */
  get partial(): string {
    return this.buf;
  }

  /** Bytes dropped over the splitter's life because lines were too long. */
  get discardedBytes(): number {
    return this.totalDropped;
  }

  /** Forget the partial line (e.g. after an action string ended a RING wait). */
  clear(): void {
    this.buf = '';
    this.dropped = 0;
  }
}
