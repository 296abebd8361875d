/**
 * The login-name reader (spec §5.13), byte by byte. Pure: the runner writes the prompt,
 * reads the tty (raw, no OPOST), feeds the bytes here, writes `echo` back unmodified,
 * and acts on the result. Timers (login-time, Q1) and EOF are the runner's.
 *
 * Per byte, in mgetty's order: FIDO TSYNC/YOOHOO (when enabled), the AutoPPP detector,
 * NUL/0x01 ignored, strip to 7 bits, ^\ and ^D, ^U/^C restart, ^Q/^S ignored, DEL/BS
 * erase, ESC ignored, then echo + store (a leading space or `-` is echoed and erased:
 * `-froot` never becomes an option of login), `**EMSI_` starts a FIDO packet, CR/LF end.
 *
 * Deliberate differences from mgetty (each has a test):
 * - Control characters that have no rule (TAB, BEL, ^V, ...) are neither echoed nor
 *   stored: mgetty echoes and stores them [observed: name `a TAB b BEL c`]; we let no
 *   control character pass into a name.
 * - 0x80/0x81 (Q27) are dropped: mgetty filters 0x00/0x01 before stripping the 8th bit,
 *   so they became NUL (truncating the name) / 0x01. After stripping they are controls,
 *   so the previous rule drops them.
 * - The same filter holds inside an EMSI packet (7 bits, no control character stored;
 *   0x8D ends it like CR): mgetty stores the packet's bytes raw, and they reached the
 *   program's argv. The runner turns FIDO on only when login.config has a `/FIDO/` line.
 * - Upper-case-only terminals are reported (`upperOnly`); mgetty does nothing. The name
 *   itself stays as typed (drop-in), the runner may fold it for matching.
 */
import { PppDetector } from './ppp.js';

/** What the name read produced. */
export type NameResult =
  /** A name; `endedWith` decides ICRNL/ONLCR for login (cr: set them; lf: clear them). */
  | { kind: 'name'; name: string; endedWith: 'cr' | 'lf'; upperOnly: boolean }
  /** A PPP frame start: use the `/AutoPPP/` login.config entry; the termios kept for it is raw. */
  | { kind: 'autoppp' }
  /**
   * A FidoNet handshake: `tsync`, `yoohoo` or the EMSI packet text (`**EMSI_INQC816`).
   * The dispatcher matches it against `/FIDO/`. `nonInq`: an EMSI packet that is not
   * EMSI_INQ (mgetty logs `non-INQ EMSI packet: ...` and still uses it).
   */
  | { kind: 'fido'; packet: string; nonInq: boolean }
  /**
   * ^U, ^C (or an EMSI_CLI packet): print the prompt again. `emsi` false means without
   * the EMSI request even when fido-send-emsi is on (after EMSI_CLI).
   */
  | { kind: 'restart'; emsi: boolean }
  /** ^\ at any time, ^D on an empty line: exit 0 at once. */
  | { kind: 'quit'; key: 'quit' | 'eof' }
  /** Just CR or LF: print CR + issue + prompt again and restart the login timer (Q31). */
  | { kind: 'empty'; endedWith: 'cr' | 'lf' }
  /** The name is exactly `NO CARRIER` or `ERROR` (a misconfigured modem talking): exit 0. */
  | { kind: 'modem-error'; text: string };

export interface NameFeed {
  /** Bytes to write back to the line, in order, before acting on `result`. */
  echo: Uint8Array;
  result?: NameResult;
  /**
   * Bytes of the chunk after the one that produced `result`: not consumed. After
   * `restart`/`empty` the runner prints the prompt and feeds them again; after
   * `autoppp` they are the rest of the frame, for pppd.
   */
  rest: Uint8Array;
}

export interface NameReaderOptions {
  /**
   * FIDO: TSYNC/YOOHOO bytes and `**EMSI_` packets. Debian's mgetty has this compiled in
   * and active whatever `fido-send-emsi` says [observed]; that setting only controls the
   * EMSI request before the prompt. Default false here; a drop-in runner passes true.
   */
  fido?: boolean;
  /** Watch for a PPP frame (default true). */
  autoPpp?: boolean;
  /**
   * The call's detector: pass the one that watched the post-CONNECT window so a frame
   * that started there is still recognised. Its state persists across prompts.
   */
  detector?: PppDetector;
  /** Longest name (mgetty: 1024). */
  maxLength?: number;
}

const BS = 0x08;
const CR = 0x0d;
const LF = 0x0a;
const ERASE = [BS, 0x20, BS];
const EMSI_START = '**EMSI_';
const EMSI_INQ = '**EMSI_INQC816';
/** mgetty: the name buffer holds 1024 characters plus the terminator. */
export const MAX_NAME_LENGTH = 1024;

export class NameReader {
  private readonly fido: boolean;
  private readonly autoPpp: boolean;
  readonly detector: PppDetector;
  private readonly max: number;
  private buf = '';
  /** Set while reading an EMSI packet (no echo, no editing; filtered as a name is). */
  private packet: string | undefined;
  private finished = false;

  constructor(opts: NameReaderOptions = {}) {
    this.fido = opts.fido ?? false;
    this.autoPpp = opts.autoPpp ?? true;
    this.detector = opts.detector ?? new PppDetector();
    this.max = opts.maxLength ?? MAX_NAME_LENGTH;
  }

  /** True once a result other than restart/empty was returned; later feeds consume nothing. */
  get done(): boolean {
    return this.finished;
  }

  /** The text typed so far at this prompt. */
  get typed(): string {
    return this.packet ?? this.buf;
  }

  feed(chunk: Uint8Array): NameFeed {
    const echo: number[] = [];
    if (this.finished) return { echo: new Uint8Array(0), rest: chunk };
    for (let i = 0; i < chunk.length; i++) {
      const result = this.packet === undefined ? this.byte(chunk[i] ?? 0, echo) : this.packetByte(chunk[i] ?? 0, echo);
      if (result !== undefined) {
        // Each prompt starts with an empty line; the PPP detector keeps its state.
        this.buf = '';
        this.packet = undefined;
        this.finished = result.kind !== 'restart' && result.kind !== 'empty';
        return { echo: Uint8Array.from(echo), result, rest: chunk.subarray(i + 1) };
      }
    }
    return { echo: Uint8Array.from(echo), rest: chunk.subarray(chunk.length) };
  }

  private byte(raw: number, echo: number[]): NameResult | undefined {
    // 1. FIDO session starts (raw bytes, before anything else).
    // Neither CR nor LF ended these reads, so mgetty ends the line with CR LF [observed].
    if (this.fido && raw === 0xae) return this.fidoEnd('tsync', [CR, LF], echo);
    if (this.fido && raw === 0xf1) return this.fidoEnd('yoohoo', [CR, LF], echo);
    // 2. AutoPPP: the frame's bytes were echoed by the rules below until here (transcript B).
    if (this.autoPpp && this.detector.push(raw)) {
      echo.push(CR, LF);
      return { kind: 'autoppp' };
    }
    // 3. Ignored before stripping.
    if (raw === 0x00 || raw === 0x01) return undefined;
    // 4. 7 bits.
    const c = raw & 0x7f;
    switch (c) {
      case 0x1c: // ^\ (VQUIT)
        return { kind: 'quit', key: 'quit' };
      case 0x04: // ^D: only on an empty line
        return this.buf === '' ? { kind: 'quit', key: 'eof' } : undefined;
      case 0x15: // ^U
      case 0x03: // ^C
        return { kind: 'restart', emsi: true };
      case 0x11: // ^Q
      case 0x13: // ^S
      case 0x1b: // ESC
        return undefined;
      case 0x7f:
      case BS:
        if (this.buf !== '') {
          echo.push(...ERASE);
          this.buf = this.buf.slice(0, -1);
        }
        return undefined;
      case CR:
      case LF:
        echo.push(c);
        // A full buffer "erases" the terminator in the echo too, as mgetty does.
        if (this.buf.length > this.max) echo.push(...ERASE);
        return this.lineEnd(c === CR ? 'cr' : 'lf', echo);
      default:
        break;
    }
    // Deliberate: no control character is echoed or stored (this also drops 0x80/0x81, Q27).
    if (c < 0x20) return undefined;
    echo.push(c);
    const ch = String.fromCharCode(c);
    // mgetty's buffer has room for max+1 characters: the one after the max is echoed and
    // kept (a BS can still erase it) but the terminator overwrites it [observed].
    if (this.buf.length > this.max || (this.buf === '' && (ch === ' ' || ch === '-'))) {
      // A leading `-` or space never reaches login as (part of) an option: `-froot` -> `froot`.
      echo.push(...ERASE);
      return undefined;
    }
    this.buf += ch;
    if (this.fido && this.buf.endsWith(EMSI_START)) {
      // Everything before the packet start is discarded.
      this.packet = EMSI_START;
      this.buf = '';
    }
    return undefined;
  }

  /**
   * EMSI packet bytes: no echo, no editing, up to CR (or a complete INQ). The packet
   * becomes the program's name argument and the call record's login name, so it gets the
   * name's filter: 7 bits, and no control character is stored (mgetty stores them raw).
   */
  private packetByte(raw: number, echo: number[]): NameResult | undefined {
    const packet = this.packet ?? EMSI_START;
    const c = raw & 0x7f;
    if (c !== CR) {
      if (c < 0x20 || c === 0x7f) return undefined;
      // Bounded like the name buffer; further bytes are dropped.
      if (packet.length < this.max) this.packet = packet + String.fromCharCode(c);
      if (this.packet !== EMSI_INQ) return undefined;
    }
    const text = this.packet ?? packet;
    if (text.startsWith('**EMSI_CLI')) return { kind: 'restart', emsi: false };
    // Only LF follows an EMSI packet, whether CR or the complete INQ ended it [observed].
    return this.fidoEnd(text, [LF], echo);
  }

  private fidoEnd(packet: string, eol: number[], echo: number[]): NameResult {
    echo.push(...eol);
    return { kind: 'fido', packet, nonInq: packet.startsWith(EMSI_START) && !packet.startsWith('**EMSI_INQ') };
  }

  private lineEnd(endedWith: 'cr' | 'lf', echo: number[]): NameResult {
    // The other half of the line end: LF after CR, CR after LF.
    echo.push(endedWith === 'cr' ? LF : CR);
    const name = this.buf.slice(0, this.max);
    if (name === '') return { kind: 'empty', endedWith };
    if (name === 'NO CARRIER' || name === 'ERROR') return { kind: 'modem-error', text: name };
    return { kind: 'name', name, endedWith, upperOnly: isUpperOnly(name) };
  }
}

/** An upper-case-only terminal: at least one letter, none of them lower case. */
export function isUpperOnly(name: string): boolean {
  return /[A-Z]/.test(name) && !/[a-z]/.test(name);
}
