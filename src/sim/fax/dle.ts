/**
 * DLE framing of fax page data between the DTE and the modem (T.32, EIA-592): a DLE in the
 * data is sent twice, DLE ETX ends the page. Incremental: a chunk may end between the DLE
 * and the byte after it. Pure.
 */
export const DLE = 0x10;
export const ETX = 0x03;
export const SUB = 0x1a;
export const DC1 = 0x11;
export const DC2 = 0x12;
export const CAN = 0x18;
/**
 * Class 2.0 page ends that carry the post-page message (real sendfax sends them instead of
 * DLE ETX + AT+FET): DLE ',' another page follows, DLE ';' another document, DLE '.' the end.
 */
export const COMMA = 0x2c;
export const SEMICOLON = 0x3b;
export const DOT = 0x2e;

/** Double every DLE (what the modem sends the DTE). */
export function dleStuff(data: Uint8Array): Uint8Array {
  let n = 0;
  for (const b of data) if (b === DLE) n++;
  if (n === 0) return data;
  const out = new Uint8Array(data.length + n);
  let j = 0;
  for (const b of data) {
    out[j++] = b;
    if (b === DLE) out[j++] = DLE;
  }
  return out;
}

export interface UnstuffResult {
  /** The page data in this chunk, DLEs undoubled. */
  data: Uint8Array;
  /** DLE ETX seen: the page ends. */
  end: boolean;
  /** Bytes of the chunk used (all, unless the page ended inside it). */
  used: number;
  /** What ended it: ETX, or ',', ';', '.' (class 2.0 with the post-page message). */
  by?: number;
}

/** Reads what the DTE sends after CONNECT (+FDT) up to DLE ETX. */
export class DleUnstuffer {
  private pendingDle = false;

  push(chunk: Uint8Array): UnstuffResult {
    const out: number[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] ?? 0;
      if (this.pendingDle) {
        this.pendingDle = false;
        if (b === DLE) out.push(DLE);
        else if (b === SUB) out.push(DLE, DLE); // class 2.0: DLE SUB stands for two DLEs
        else if (b === ETX || b === DOT || b === COMMA || b === SEMICOLON) return { data: Uint8Array.from(out), end: true, used: i + 1, by: b };
        // DLE and anything else: dropped, as modems do (it is not page data).
        continue;
      }
      if (b === DLE) this.pendingDle = true;
      else out.push(b);
    }
    return { data: Uint8Array.from(out), end: false, used: chunk.length };
  }
}
