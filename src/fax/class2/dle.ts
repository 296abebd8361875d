/**
 * Phase C data framing between DTE and a class 2 modem: DLE (0x10) is doubled inside
 * the data, DLE ETX ends a page. Class 2.0 also lets the modem send DLE SUB for two
 * DLEs. Other DLE pairs carry no data and are counted. Pure, incremental.
 */
export const DLE = 0x10;
export const ETX = 0x03;
export const SUB = 0x1a;
export const DC2 = 0x12;
export const XON = 0x11;

export interface UnstuffResult {
  /** Page bytes from this chunk. */
  data: Uint8Array;
  /** DLE ETX was seen: the page ended; `rest` follows it. */
  ended: boolean;
  rest: Uint8Array;
}

export class DleDecoder {
  private pendingDle = false;
  /** DLE pairs that were neither data nor the end (logged by the caller). */
  unknownPairs = 0;

  feed(chunk: Uint8Array): UnstuffResult {
    const out = new Uint8Array(chunk.length * 2);
    let n = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] ?? 0;
      if (this.pendingDle) {
        this.pendingDle = false;
        if (b === DLE) out[n++] = DLE;
        else if (b === SUB) {
          out[n++] = DLE;
          out[n++] = DLE;
        } else if (b === ETX) return { data: out.slice(0, n), ended: true, rest: chunk.subarray(i + 1) };
        else this.unknownPairs++;
      } else if (b === DLE) this.pendingDle = true;
      else out[n++] = b;
    }
    return { data: out.slice(0, n), ended: false, rest: new Uint8Array(0) };
  }
}

/** Page data as the DTE sends it: every DLE doubled, then DLE ETX. */
export function stuffPage(data: Uint8Array): Uint8Array {
  let dles = 0;
  for (const b of data) if (b === DLE) dles++;
  const out = new Uint8Array(data.length + dles + 2);
  let n = 0;
  for (const b of data) {
    out[n++] = b;
    if (b === DLE) out[n++] = DLE;
  }
  out[n++] = DLE;
  out[n++] = ETX;
  return out;
}
