/**
 * Shared pieces of the parser fuzz tests (src/**\/*.fuzz.test.ts).
 *
 * Run counts come from the environment so the same files serve `npm test` (small,
 * fast defaults) and `node scripts/fuzz.mjs` (FUZZ_RUNS=1000000): see docs/fuzzing.md.
 *   FUZZ_RUNS   runs of the main property of each parser (secondary ones get a share)
 *   FUZZ_SEED   fast-check seed, to replay a failure (fast-check prints it)
 *   FUZZ_BYTES  bytes of garbage for the bounded-memory checks (default 10 MB in a fuzz run, 256 KB otherwise)
 */
import fc from 'fast-check';

function envInt(name: string): number | undefined {
  const v = process.env[name];
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got '${v}'`);
  return n;
}

/** True inside a fuzz run (FUZZ_RUNS set), false under `npm test`. */
export function fuzzing(): boolean {
  return envInt('FUZZ_RUNS') !== undefined;
}

/**
 * Runs for one property: `defaultRuns` under npm test; FUZZ_RUNS * `share` in a fuzz run
 * (share 1 for the parser's main property, less for secondary ones that are slower or
 * explore a smaller space).
 */
export function fuzzRuns(defaultRuns: number, share = 1): number {
  const env = envInt('FUZZ_RUNS');
  if (env === undefined) return defaultRuns;
  return Math.max(1, Math.ceil(env * share));
}

/** fast-check parameters for fc.assert: the run count, and the seed when replaying. */
export function fuzzParams(defaultRuns: number, share = 1): { numRuns: number; seed?: number } {
  const seed = envInt('FUZZ_SEED');
  return {
    numRuns: fuzzRuns(defaultRuns, share),
    ...(seed !== undefined ? { seed } : {}),
  };
}

/** Garbage size for the bounded-memory checks. */
export function garbageBytes(): number {
  return envInt('FUZZ_BYTES') ?? (fuzzing() ? 10 * 1024 * 1024 : 256 * 1024);
}

// ---------------------------------------------------------------------------------------------
// Inputs biased toward the bytes and words the parsers care about

const IAC = 0xff;
/** Single protocol bytes: line ends, HDLC, telnet, editing keys, 8-bit specials. */
export const PROTOCOL_BYTES: readonly number[] = [
  0x0d, 0x0a, 0x00, 0x01, 0x03, 0x04, 0x08, 0x09, 0x10, 0x11, 0x13, 0x15, 0x1b, 0x1c, 0x20, 0x21, 0x22, 0x23, 0x2b,
  0x2d, 0x3b, 0x3d, 0x40, 0x5c, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0xae, 0xc0, 0xf0, 0xf1, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, IAC,
];

/** Words modems, callers and telnet clients send (latin1). */
export const PROTOCOL_WORDS: readonly string[] = [
  'AT', 'ATA', 'ATZ', 'ATE0', 'ATS0=0', 'ATS3=', 'A/', '+++', 'OK', 'ERROR', 'RING', 'RING 1', 'RING;', 'RING/', 'RING: 3 DN9 ',
  'CONNECT', 'CONNECT 33600/ARQ', 'NO CARRIER', 'BUSY', 'NO DIALTONE', 'NO ANSWER', 'FAX', '+FCON', '+FHS:', '+FHNG:',
  'NMBR = ', 'NMBR=', 'NAME = ', 'DATE = ', 'TIME = ', 'MESG = 030735', 'DDN_NMBR= ', 'CALLER NUMBER: ', 'CALLED NUMBER: ',
  'FM:', 'TO:', 'DRON=', 'DROF=', '+CLIP: "', '+MCR: ', 'CARRIER ', 'PROTOCOL: ', '5551234', '\r\n', '\r', '\n',
  '**EMSI_', '**EMSI_INQC816', '**EMSI_CLI', '/AutoPPP/', '\x7e\xff\x03\xc0\x21', '\x7e\xff\x7d\x23\xc0\x21', '\x7d',
  '\xff\xfb\x01', '\xff\xfd\x03', '\xff\xfe\x00', '\xff\xfc\x18', '\xff\xfa\x18\x00', '\xff\xf0', '\xff\xff',
  '\\d', '\\c', '\\r', '\\n', '\\', '"', '""', ' ', '  ', '\t', '#', '-', '@', '\\I', '\\Y', '!', '?',
];

/** One latin1 character (byte), biased toward PROTOCOL_BYTES and printable ASCII. */
export const protocolChar: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...PROTOCOL_BYTES).map((b) => String.fromCharCode(b)), weight: 3 },
  { arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((b) => String.fromCharCode(b)), weight: 3 },
  { arbitrary: fc.integer({ min: 0, max: 255 }).map((b) => String.fromCharCode(b)), weight: 2 },
);

/**
 * A latin1 string made of protocol words and single bytes. `words` adds the caller's
 * own vocabulary (keywords of a config file, say) to PROTOCOL_WORDS.
 */
export function protocolText(opts: { maxParts?: number; words?: readonly string[] } = {}): fc.Arbitrary<string> {
  const words = [...PROTOCOL_WORDS, ...(opts.words ?? [])];
  const part = fc.oneof({ arbitrary: fc.constantFrom(...words), weight: 2 }, { arbitrary: protocolChar, weight: 3 });
  return fc.array(part, { maxLength: opts.maxParts ?? 40 }).map((a) => a.join(''));
}

/** Bytes made of protocol words and single bytes (see protocolText). */
export function protocolBytes(opts: { maxParts?: number; words?: readonly string[] } = {}): fc.Arbitrary<Uint8Array> {
  return protocolText(opts).map(latin1Bytes);
}

/**
 * Text of a config file (mgetty.config, login.config, dialin.config): the file's own words,
 * blanks, line ends, continuations, comments, quotes, typical values and any byte.
 */
export function configTextOf(words: readonly string[], maxParts = 60): fc.Arbitrary<string> {
  return fc
    .array(
      fc.oneof(
        { arbitrary: fc.constantFrom(...words), weight: 3 },
        { arbitrary: fc.constantFrom(' ', '  ', '\t', '\n', '\n', '\r\n', '\\\n', '#', '"', '\\', '""', '\f', '\v', ','), weight: 4 },
        {
          arbitrary: fc.constantFrom('0', '0x1F', '0660', '-1', '38400', '99999999999999999999', 'yes', 'no', 'On', 'rts', 'xon', 'both', 'AT OK', '-', '@', '!'),
          weight: 2,
        },
        { arbitrary: protocolChar, weight: 2 },
      ),
      { maxLength: maxParts },
    )
    .map((a) => a.join(''));
}

/** latin1 string -> bytes (one byte per char; higher code units keep their low byte). */
export function latin1Bytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** bytes -> latin1 string. */
export function latin1String(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Chunkings

/** Cut points for an input of up to `max` bytes (any order, duplicates allowed: chunk() sorts them out). */
export function cutPoints(max = 400): fc.Arbitrary<number[]> {
  return fc.array(fc.nat({ max }), { maxLength: 12 });
}

/** Cut `data` at `points` (out-of-range points and duplicates ignored); always at least one chunk. */
export function chunk(data: Uint8Array, points: readonly number[]): Uint8Array[] {
  const ps = [...new Set(points.filter((p) => p > 0 && p < data.length))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let from = 0;
  for (const p of ps) {
    out.push(data.subarray(from, p));
    from = p;
  }
  out.push(data.subarray(from));
  return out;
}

/** One byte per chunk: the finest chunking, which catches state lost between calls. */
export function bytewise(data: Uint8Array): Uint8Array[] {
  return Array.from(data, (_, i) => data.subarray(i, i + 1));
}

// ---------------------------------------------------------------------------------------------
// Bounded memory

/** A small fast PRNG (xorshift32), so 10 MB of garbage costs no fast-check overhead. */
export class Xorshift {
  private x: number;
  constructor(seed = 0x9e3779b9) {
    this.x = seed >>> 0 || 1;
  }
  next(): number {
    let x = this.x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.x = x >>> 0;
    return this.x;
  }
  /** 0 <= n < max */
  below(max: number): number {
    return this.next() % max;
  }
}

export type GarbageStyle =
  /** Any byte, uniformly. */
  | 'random'
  /** Protocol words and bytes: line ends, RING, CONNECT, IAC, 0x7E, ... */
  | 'protocol'
  /** Printable bytes with no CR/LF at all: one endless line. */
  | 'endless-line';

/**
 * Garbage in chunks of 1..4096 bytes (sizes as a tty read() would return), `total` bytes in
 * all, deterministic for a seed. The buffers are reused: the consumer must not keep them.
 */
export function* garbage(total: number, style: GarbageStyle, seed = 1): Generator<Uint8Array> {
  const rng = new Xorshift(seed);
  const words = PROTOCOL_WORDS.map(latin1Bytes);
  const buf = new Uint8Array(4096);
  let sent = 0;
  while (sent < total) {
    const size = Math.min(total - sent, 1 + rng.below(4096));
    let n = 0;
    while (n < size) {
      if (style === 'random') buf[n++] = rng.below(256);
      else if (style === 'endless-line') buf[n++] = 0x21 + rng.below(0x5e);
      else if (rng.below(3) === 0) {
        const w = words[rng.below(words.length)] ?? new Uint8Array(0);
        for (let k = 0; k < w.length && n < size; k++) buf[n++] = w[k] ?? 0;
      } else {
        buf[n++] = rng.below(2) === 0 ? (PROTOCOL_BYTES[rng.below(PROTOCOL_BYTES.length)] ?? 0) : rng.below(256);
      }
    }
    sent += size;
    yield buf.subarray(0, size);
  }
}

export interface MemoryReport {
  /** Bytes fed. */
  fed: number;
  /** Largest value the probe returned after any chunk. */
  maxProbe: number;
  /** heapUsed after minus before (after a gc when node runs with --expose-gc; else noisy). */
  heapGrowth: number;
  gcExposed: boolean;
}

function collect(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return false;
  gc();
  return true;
}

/**
 * Feed `total` bytes of garbage to `feed` and watch `probe` (a public size getter of the
 * parser: partial line, buffered bytes, ...) after every chunk. Returns the largest probe
 * value and the heap growth; the test asserts its own bounds on both. The probe is the
 * real check; heap growth only backs it up (it is noisy without --expose-gc).
 */
export function feedGarbage(
  feed: (chunk: Uint8Array) => void,
  probe: () => number,
  opts: { total?: number; style?: GarbageStyle; seed?: number } = {},
): MemoryReport {
  const total = opts.total ?? garbageBytes();
  const gcExposed = collect();
  const before = process.memoryUsage().heapUsed;
  let maxProbe = probe();
  let fed = 0;
  for (const c of garbage(total, opts.style ?? 'protocol', opts.seed ?? 1)) {
    feed(c);
    fed += c.length;
    const p = probe();
    if (p > maxProbe) maxProbe = p;
  }
  collect();
  const heapGrowth = process.memoryUsage().heapUsed - before;
  return { fed, maxProbe, heapGrowth, gcExposed };
}

/**
 * Heap growth allowed after feeding garbage. Generous (GC timing without --expose-gc is
 * not under our control), yet far below what keeping the input would cost: a parser that
 * holds 10 MB of input as a JS string or array needs at least that much.
 */
export function heapAllowance(total: number): number {
  return Math.max(8 * 1024 * 1024, total / 2);
}
