/**
 * Bit streams for the G3 codec. Inside, the first transmitted bit is the most
 * significant bit of each byte (as G3 files, mgetty's spool and netpbm have it);
 * `lsbFirst` mirrors every byte at the edges, for the DTE-to-modem direction with
 * +FBOR=0 / +FBO=0, where bit 0 goes first on the line (docs/fax-spec.md section 6).
 */

const REVERSED = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let r = 0;
  for (let b = 0; b < 8; b++) if (i & (1 << b)) r |= 0x80 >> b;
  REVERSED[i] = r;
}

/** Mirror the bit order of every byte (a new buffer). */
export function reverseBits(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = REVERSED[data[i] ?? 0] ?? 0;
  return out;
}

export class BitWriter {
  private buf = new Uint8Array(4096);
  private byte = 0;
  private acc = 0;
  private nacc = 0;

  /** Bits written so far. */
  get length(): number {
    return this.byte * 8 + this.nacc;
  }

  /** Append `n` (<= 24) bits of `value`, most significant first. */
  bits(value: number, n: number): void {
    for (let i = n - 1; i >= 0; i--) this.bit((value >> i) & 1);
  }

  bit(b: number): void {
    this.acc = (this.acc << 1) | (b & 1);
    if (++this.nacc === 8) this.flushByte();
  }

  /** Append a code word written as a string of '0' and '1'. */
  code(word: string): void {
    for (let i = 0; i < word.length; i++) this.bit(word.charCodeAt(i) - 48);
  }

  /** Zero bits up to the next byte boundary. */
  pad(): void {
    while (this.nacc !== 0) this.bit(0);
  }

  private flushByte(): void {
    if (this.byte === this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.byte++] = this.acc;
    this.acc = 0;
    this.nacc = 0;
  }

  /** The bytes (the last one zero-padded), in the order asked for. */
  finish(lsbFirst: boolean): Uint8Array {
    this.pad();
    const out = this.buf.slice(0, this.byte);
    return lsbFirst ? reverseBits(out) : out;
  }
}

export class BitReader {
  private readonly data: Uint8Array;
  /** Position in bits. */
  pos = 0;
  readonly bitLength: number;

  constructor(data: Uint8Array, lsbFirst: boolean) {
    this.data = lsbFirst ? reverseBits(data) : data;
    this.bitLength = data.length * 8;
  }

  get atEnd(): boolean {
    return this.pos >= this.bitLength;
  }

  /** The next `n` (<= 24) bits without consuming them; zeros past the end. */
  peek(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const p = this.pos + i;
      const b = p < this.bitLength ? ((this.data[p >> 3] ?? 0) >> (7 - (p & 7))) & 1 : 0;
      v = (v << 1) | b;
    }
    return v;
  }

  read(n: number): number {
    const v = this.peek(n);
    this.pos += n;
    return v;
  }

  /** How many 0 bits follow (stops counting at `max` or at the end of data). */
  zeros(max: number): number {
    let n = 0;
    while (n < max) {
      const p = this.pos + n;
      if (p >= this.bitLength) break;
      if ((((this.data[p >> 3] ?? 0) >> (7 - (p & 7))) & 1) !== 0) break;
      n++;
    }
    return n;
  }
}
