/**
 * Modem result codes and the single command/response exchange (spec §6.4). Pure.
 */
import { byteAt } from './lines.js';

export type ResultKind = 'OK' | 'ERROR' | 'CONNECT' | 'NO CARRIER' | 'BUSY' | 'NO DIALTONE' | 'NO ANSWER' | 'RING';

export interface ModemResult {
  kind: ResultKind;
  /** Text after `CONNECT ` (`33600/ARQ`); '' for other results and a bare CONNECT. */
  rest: string;
  /** True when the modem answered with a V0 digit code. */
  numeric: boolean;
}

/**
 * Hayes V0 codes. 5 (CONNECT 1200) is the classic code as well; codes above 8 vary
 * between modems and are not guessed.
 */
const NUMERIC: Readonly<Record<string, [ResultKind, string]>> = {
  '0': ['OK', ''],
  '1': ['CONNECT', ''],
  '2': ['RING', ''],
  '3': ['NO CARRIER', ''],
  '4': ['ERROR', ''],
  '5': ['CONNECT', '1200'],
  '6': ['NO DIALTONE', ''],
  '7': ['BUSY', ''],
  '8': ['NO ANSWER', ''],
};

const WORDS: readonly ResultKind[] = ['OK', 'ERROR', 'NO CARRIER', 'BUSY', 'NO DIALTONE', 'NO ANSWER', 'RING'];

/** Printable ASCII only, surrounding blanks removed: stray CR/LF and line noise vanish. */
export function printableTrim(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    if (c >= 0x20 && c < 0x7f) out += ch;
  }
  return out.trim();
}

/**
 * Classify one modem line as a result code, or undefined (echo, information text,
 * caller ID, garbage). `CONNECT` must be the whole line or be followed by a blank.
 */
export function classifyResult(line: string): ModemResult | undefined {
  const s = printableTrim(line);
  const num = NUMERIC[s];
  if (num !== undefined) return { kind: num[0], rest: num[1], numeric: true };
  if (s === 'CONNECT') return { kind: 'CONNECT', rest: '', numeric: false };
  if (s.startsWith('CONNECT ')) return { kind: 'CONNECT', rest: s.slice(8).trim(), numeric: false };
  for (const w of WORDS) if (s === w) return { kind: w, rest: '', numeric: false };
  return undefined;
}

/** The last result code in a block of modem text (lines split at CR/LF), if any. */
export function lastResult(text: string): ModemResult | undefined {
  let found: ModemResult | undefined;
  for (const l of text.split(/[\r\n]+/)) found = classifyResult(l) ?? found;
  return found;
}

export type ExchangeOutcome =
  | { ok: true; lines: string[]; answer?: string; rest: Uint8Array }
  | { ok: false; error: 'ERROR' | 'timeout'; lines: string[]; rest: Uint8Array };

export interface ExchangeOptions {
  /**
   * Identification variant (ATI…): remember the n-th (1-based) non-echo line as
   * `answer`. The exchange still has to end in OK (Q32).
   */
  answerLine?: number;
}

/** Wait this long before sending the command (mgetty does, modems need it). */
export const EXCHANGE_PRE_DELAY_MS = 50;
/** Overall timeout of one exchange; the runner enforces it and calls `timeout()`. */
export const EXCHANGE_TIMEOUT_MS = 10_000;
/** Cap on one response line; longer lines are cut (the caller only needs OK/ERROR). */
const MAX_LINE = 512;

/**
 * One command, one answer: send `command` CR, read lines until exactly `OK` or
 * `ERROR`. Echo and unsolicited lines (even RING) are consumed. Only printable bytes
 * are kept (spec §6.4).
 */
/** At most this many non-echo lines are kept for an exchange's outcome (ATI answers are a few). */
export const MAX_EXCHANGE_LINES = 64;

export class CommandExchange {
  private line = '';
  private readonly seen: string[] = [];
  private count = 0;
  private answer: string | undefined;
  private outcome: ExchangeOutcome | undefined;

  constructor(
    readonly command: string,
    private readonly opts: ExchangeOptions = {},
  ) {}

  /** The bytes to write: the command and CR. */
  get bytes(): Uint8Array {
    const out = new Uint8Array(this.command.length + 1);
    for (let i = 0; i < this.command.length; i++) out[i] = this.command.charCodeAt(i) & 0xff;
    out[this.command.length] = 0x0d;
    return out;
  }

  /** Result so far; `'pending'` until OK, ERROR or `timeout()`. */
  get state(): 'pending' | ExchangeOutcome {
    return this.outcome ?? 'pending';
  }

  /** Bytes in. Once finished, the bytes after the final line are returned as `rest`. */
  feed(chunk: Uint8Array | string): 'pending' | ExchangeOutcome {
    if (this.outcome !== undefined) return this.outcome;
    for (let i = 0; i < chunk.length; i++) {
      const b = byteAt(chunk, i);
      if (b === 0x0d || b === 0x0a) {
        const done = this.endLine(toRest(chunk, i + 1));
        if (done !== undefined) return done;
      } else if (b >= 0x20 && b < 0x7f && this.line.length < MAX_LINE) {
        this.line += String.fromCharCode(b);
      }
    }
    return 'pending';
  }

  /** The runner's timer ran out. */
  timeout(): ExchangeOutcome {
    this.outcome ??= { ok: false, error: 'timeout', lines: [...this.seen], rest: new Uint8Array(0) };
    return this.outcome;
  }

  private endLine(rest: Uint8Array): ExchangeOutcome | undefined {
    const text = this.line;
    this.line = '';
    if (text.length === 0) return undefined;
    if (text === 'OK') {
      this.outcome = { ok: true, lines: [...this.seen], rest, ...(this.answer !== undefined ? { answer: this.answer } : {}) };
      return this.outcome;
    }
    if (text === 'ERROR') {
      this.outcome = { ok: false, error: 'ERROR', lines: [...this.seen], rest };
      return this.outcome;
    }
    if (isEcho(text, this.command)) return undefined;
    this.count++;
    // A modem babbling without OK/ERROR must not grow memory: keep the first lines only.
    if (this.seen.length < MAX_EXCHANGE_LINES) this.seen.push(text);
    if (this.opts.answerLine !== undefined && this.count === this.opts.answerLine) this.answer = text;
    return undefined;
  }
}

/** Modems echo in the case typed, but some upper-case it; compare blind to case. */
function isEcho(text: string, command: string): boolean {
  return text.trim().toUpperCase() === command.trim().toUpperCase();
}

function toRest(chunk: Uint8Array | string, from: number): Uint8Array {
  if (typeof chunk !== 'string') return chunk.subarray(from);
  const out = new Uint8Array(Math.max(0, chunk.length - from));
  for (let i = from; i < chunk.length; i++) out[i - from] = chunk.charCodeAt(i) & 0xff;
  return out;
}
