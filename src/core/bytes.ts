/** Small byte helpers shared by parsers and logs. Pure. */

const PRINTABLE = /^[\x20-\x7e]*$/;

/** Render bytes for a log: printable ASCII as is, everything else as `[xx]` (mgetty's style). */
export function showBytes(data: Uint8Array | string): string {
  // The usual case (RING, CONNECT, ATA) is printable already: no copy, no per-byte join.
  if (typeof data === 'string' && PRINTABLE.test(data)) return data;
  const bytes = typeof data === 'string' ? Buffer.from(data, 'latin1') : data;
  let out = '';
  for (const b of bytes) {
    out += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `[${b.toString(16).padStart(2, '0')}]`;
  }
  return out;
}

/** Latin-1 round trip: one char per byte, so byte-exact protocols can use strings. */
export function latin1(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1');
}

export function toBytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}
