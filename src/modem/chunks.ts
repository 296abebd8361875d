/**
 * Cutting a byte stream into chunks, as a tty read() would. The incremental parsers are
 * tested (and fuzzed) by feeding every way of cutting their input; this is the one
 * place that knows how. Pure.
 */

/** latin1 string -> bytes (one byte per char). */
export function bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** bytes -> latin1 string. */
export function text(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

/** Cut `data` at the given offsets (any order, duplicates and out-of-range ignored). */
export function cutAt(data: Uint8Array, offsets: readonly number[]): Uint8Array[] {
  const points = [...new Set(offsets.filter((o) => o > 0 && o < data.length))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of points) {
    out.push(data.subarray(from, p));
    from = p;
  }
  out.push(data.subarray(from));
  return out;
}

/**
 * Every chunking a test should try: the whole input, each single cut point (two
 * chunks), and one byte at a time.
 */
export function everyChunking(data: Uint8Array): Uint8Array[][] {
  const all: Uint8Array[][] = [[data]];
  for (let p = 1; p < data.length; p++) all.push(cutAt(data, [p]));
  all.push(Array.from(data, (_, i) => data.subarray(i, i + 1)));
  return all;
}
