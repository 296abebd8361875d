/**
 * The RING-wait recogniser (spec §5.6) as a pure incremental machine.
 *
 * Fed the modem's bytes while the getty counts RINGs; returns events: complete lines
 * (with the caller-ID changes they made), rings, and the action strings that end a wait
 * (`CONNECT` when the modem answered by itself, fax, errors). The runner owns timeouts,
 * the ring counter and SIGUSR1 (a virtual RING); this machine only reads bytes.
 */
import type { CallData, CidUpdate } from './callerid.js';
import { applyCallerIdLine, firstDigitRun, setCalledNumber, trimSpace } from './callerid.js';
import { LineSplitter } from './lines.js';

export type RingAction = 'CONNECT' | 'NO CARRIER' | 'BUSY' | 'ERROR' | '+FCON' | 'FAX' | '+FHS:' | '+FHNG:';

/**
 * Matched against the line *while it grows*, so `CONNECT 33600` ends the wait at
 * `CONNECT`. (mgetty also lists `+FCO` CR, which can never match a CR-free line.)
 */
export const RING_ACTIONS: readonly RingAction[] = ['CONNECT', 'NO CARRIER', 'BUSY', 'ERROR', '+FCON', 'FAX', '+FHS:', '+FHNG:'];
const ACTION_SET: ReadonlySet<string> = new Set(RING_ACTIONS);

export type RingEvent =
  /** A complete line, after the caller-ID parser ran on it. */
  | { kind: 'line'; text: string; discarded: number; updates: CidUpdate[] }
  /** One RING (or a line that counts as one, Q9). `distRing` is set when this line set it. */
  | { kind: 'ring'; line: string; distRing?: number }
  /** The wait ends with this action; `line` is the text that matched. */
  | { kind: 'action'; action: RingAction; line: string };

export interface RingFeed {
  events: RingEvent[];
  /** Bytes of the chunk after the ring or action that ended this feed, not looked at (empty otherwise). */
  rest: Uint8Array;
}

const isLetter = (c: string): boolean => (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
const isDigitChar = (c: string): boolean => c >= '0' && c <= '9';

function skipBlanks(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t')) i++;
  return i;
}

export class RingWatcher {
  private readonly lines = new LineSplitter();
  /** DRON/DROF cadence bits since the last ring: count and pattern. */
  private cadenceCount = 0;
  private cadenceBits = 0;
  /** Rockwell block lines seen since the last ring (Q9: the block counts once both are in). */
  private blockNmbr = false;
  private blockName = false;

  constructor(
    readonly data: CallData,
    private readonly msnList: readonly string[] = [],
  ) {}

  /** Reads up to the first ring or action; the bytes after it come back in `rest`. */
  feed(chunk: Uint8Array): RingFeed {
    const events: RingEvent[] = [];
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] ?? 0;
      const line = this.lines.push(b);
      if (line !== undefined) {
        const updates = applyCallerIdLine(this.data, line.text);
        events.push({ kind: 'line', text: line.text, discarded: line.discarded, updates });
        const ring = this.classify(line.text);
        if (ring !== undefined) {
          // One ring per feed: the runner counts it and may leave the wait (answer, cid-program),
          // so what follows is handed back instead of being classified and lost.
          events.push(ring);
          return { events, rest: chunk.subarray(i + 1) };
        }
        continue;
      }
      const sofar = this.lines.partial;
      if (ACTION_SET.has(sofar)) {
        this.lines.clear();
        events.push({ kind: 'action', action: sofar as RingAction, line: sofar });
        return { events, rest: chunk.subarray(i + 1) };
      }
    }
    return { events, rest: chunk.subarray(chunk.length) };
  }

  /** The line so far, for logs ("junk on the line"). */
  get partial(): string {
    return this.lines.partial;
  }

  get discardedBytes(): number {
    return this.lines.discardedBytes;
  }

  private ring(line: string, distRing: number | undefined): RingEvent {
    this.blockNmbr = false;
    this.blockName = false;
    if (this.cadenceCount > 0) {
      distRing = this.cadenceBits;
      this.cadenceCount = 0;
      this.cadenceBits = 0;
    }
    if (distRing === undefined) return { kind: 'ring', line };
    this.data.distRing = distRing;
    return { kind: 'ring', line, distRing };
  }

  private classify(raw: string): RingEvent | undefined {
    const line = trimSpace(raw);
    if (line.startsWith('FM:') || line.startsWith('TO:')) return this.ring(line, this.zyxel(line));
    if (line.startsWith('NMBR') || line.startsWith('NAME')) return this.block(line);
    if (line.startsWith('DRON') || line.startsWith('DROF')) {
      this.cadence(line.slice(4));
      return undefined;
    }
    if (line.startsWith('RING')) return this.ring(line, this.ringVariant(line.slice(4)));
    return undefined;
  }

  /**
   * Q9 (Debian's build, observed): a Rockwell caller-ID block counts as one RING once both
   * its NMBR and NAME lines are in, in either order, or at once when NMBR is `O` or `P`
   * (out of area / private: no name follows). A lone NMBR or NAME, or a second NMBR, does
   * not count. Not while cadence reports are pending (spec: "no DRON/DROF seen"; we read
   * that as "since the last ring"). A counted ring of any kind starts a new block.
   */
  private block(line: string): RingEvent | undefined {
    let i = skipBlanks(line, 4);
    if (line[i] === '=') i = skipBlanks(line, i + 1);
    const value = trimSpace(line.slice(i));
    if (line.startsWith('NMBR')) {
      if (value === 'O' || value === 'P') return this.cadenceCount === 0 ? this.ring(line, undefined) : undefined;
      this.blockNmbr = true;
    } else this.blockName = true;
    if (!this.blockNmbr || !this.blockName) return undefined;
    if (this.cadenceCount > 0) {
      this.blockNmbr = false;
      this.blockName = false;
      return undefined;
    }
    return this.ring(line, undefined);
  }

  /**
   * Cadence: the first report, or a duration above 9 (tenths of a second), is a long
   * bit. Bits are shifted in, first bit highest, so long,long = 3 (t_ring corpus).
   * The bit order is our reading; the corpus cannot tell (only symmetric patterns).
   */
  private cadence(after: string): void {
    let i = skipBlanks(after, 0);
    if (after[i] === '=') i = skipBlanks(after, i + 1);
    const value = parseInt(firstDigitRun(after.slice(i)).digits || '0', 10);
    const bit = this.cadenceCount === 0 || value > 9 ? 1 : 0;
    this.cadenceBits = ((this.cadenceBits << 1) | bit) & 0x3fffffff;
    this.cadenceCount++;
  }

  /** `FM:<from> [/sub/] TO:<to>` or `TO:<to>`: caller from FM, MSN match on TO. */
  private zyxel(line: string): number | undefined {
    let i = 0;
    if (line.startsWith('FM:')) {
      i = skipBlanks(line, 3);
      const run = firstDigitRun(line.slice(i));
      if (run.digits !== '' && isDigitChar(line[i] ?? '')) this.data.callerId = run.digits;
      i = skipBlanks(line, i + run.end);
      if (line[i] === '/') {
        // sub-address `/…/` is not part of either number
        const close = line.indexOf('/', i + 1);
        i = close < 0 ? line.length : close + 1;
      }
      i = skipBlanks(line, i);
    }
    if (!line.startsWith('TO:', i)) return undefined;
    const to = line.slice(skipBlanks(line, i + 3)).split(/[ \t]/)[0] ?? '';
    setCalledNumber(this.data, to, this.msnList);
    return this.data.distRing;
  }

  /** The text after `RING`; returns the distinctive ring this line sets, if any. */
  private ringVariant(after: string): number | undefined {
    const rest = after.slice(skipBlanks(after, 0));
    if (rest.length === 0) return undefined;
    const c = rest.charAt(0);
    if (c === ':') {
      // Zoom MX/S `RING: 3 DN9 8888`: fixed offsets, ring number then caller
      const d = rest.charAt(6);
      const run = firstDigitRun(rest, 8);
      if (run.digits !== '' && isDigitChar(rest.charAt(8))) this.data.callerId = run.digits;
      return isDigitChar(d) ? d.charCodeAt(0) - 48 : undefined;
    }
    if (c === '/') {
      // isdn4linux `RING/<to>`: only the called number
      setCalledNumber(this.data, rest.slice(1), this.msnList);
      return this.data.distRing;
    }
    if (c === ';' || rest.length > 1) {
      // ELSA `RING;<from>[;<to>]` and `RING <from> [<to>]`
      const from = firstDigitRun(rest);
      if (from.digits !== '') this.data.callerId = from.digits;
      let j = from.end;
      while (j < rest.length && !isDigitChar(rest.charAt(j))) j++;
      if (j < rest.length) {
        setCalledNumber(this.data, rest.slice(j), this.msnList);
        return this.data.distRing;
      }
      return undefined;
    }
    if (isDigitChar(c)) return c.charCodeAt(0) - 48;
    if (isLetter(c)) return c.toUpperCase().charCodeAt(0) - 64;
    return undefined;
  }
}
