/**
 * The ip232 framing (VICE, openMSX, BeebEm and other emulators; tcpser's `-v PORT`): the
 * emulator's serial port is a TCP connection to the modem, data both ways, with 0xFF as an
 * escape byte. Emulator to modem: FF 00 = DTR low, FF 01 = DTR high, FF FF = a data byte
 * 0xFF. Modem to emulator: FF 00 = DCD low, FF 01 = DCD high, FF FF = a data byte 0xFF.
 * Any other byte after FF carries no meaning in that direction and is dropped (tcpser does
 * the same). Pure: no I/O.
 */

export const IP232_ESCAPE = 0xff;
export const IP232_LOW = 0x00;
export const IP232_HIGH = 0x01;

/** The modem's bytes for the emulator: each 0xFF doubled. */
export function ip232Encode(data: Uint8Array): Uint8Array {
  let n = 0;
  for (const b of data) if (b === IP232_ESCAPE) n++;
  if (n === 0) return data;
  const out = Buffer.allocUnsafe(data.length + n);
  let k = 0;
  for (const b of data) {
    out[k++] = b;
    if (b === IP232_ESCAPE) out[k++] = IP232_ESCAPE;
  }
  return out;
}

/** The modem's DCD as the emulator gets it. */
export function ip232Dcd(on: boolean): Buffer {
  return Buffer.from([IP232_ESCAPE, on ? IP232_HIGH : IP232_LOW]);
}

export interface Ip232Input {
  /** The emulator's data bytes (may be empty). */
  data: Buffer;
  /** DTR changes in this chunk, in order (true = high). */
  dtr: boolean[];
}

/** The emulator's stream, decoded; an escape split across two reads is carried over. */
export class Ip232Decoder {
  private escaped = false;

  push(chunk: Buffer): Ip232Input {
    const dtr: boolean[] = [];
    // The common case, no escape at all: the chunk as it is, no copy.
    if (!this.escaped && !chunk.includes(IP232_ESCAPE)) return { data: chunk, dtr };
    const out = Buffer.allocUnsafe(chunk.length);
    let k = 0;
    for (const b of chunk) {
      if (this.escaped) {
        this.escaped = false;
        if (b === IP232_ESCAPE) out[k++] = b;
        else if (b === IP232_LOW) dtr.push(false);
        else if (b === IP232_HIGH) dtr.push(true);
      } else if (b === IP232_ESCAPE) this.escaped = true;
      else out[k++] = b;
    }
    return { data: out.subarray(0, k), dtr };
  }

  /** A new connection starts with no escape pending. */
  reset(): void {
    this.escaped = false;
  }
}

/** `PORT[,COUNT]`: COUNT modems (default 1) on ports PORT, PORT+1, ... */
export function parseIp232Spec(s: string): { port: number; count: number } | undefined {
  const m = /^(\d+)(?:,(\d+))?$/.exec(s);
  if (m === null) return undefined;
  const port = Number(m[1]);
  const count = m[2] === undefined ? 1 : Number(m[2]);
  if (port < 1 || count < 1 || port + count - 1 > 65535) return undefined;
  return { port, count };
}
