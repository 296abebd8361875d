/**
 * The issue text and the login prompt (spec §8): token expansion and the exact bytes
 * sent after CONNECT. Pure: the runner reads the issue file, runs the issue command,
 * knows the time, the utmp count and the port speed, and passes them in.
 *
 * Strings here are latin1 (one char per byte), like everything byte-exact in tgetty.
 */

/** What the tokens expand to. */
export interface IssueContext {
  /** uname nodename: `@` (every one of them, Q19). */
  hostname: string;
  /** uname sysname, release, version, machine: `\s` `\R` `\V` `\m`. */
  sysname: string;
  release: string;
  version: string;
  machine: string;
  /** Device name, e.g. `ttyS0`: `\P` and `\L`. */
  device: string;
  /** Text after `CONNECT ` (empty for a bare CONNECT, `DIRECT` in direct mode): `\I`. */
  connect: string;
  /** Caller ID; empty or undefined is shown as `none`: `\Y`. */
  callerId?: string | undefined;
  /** Current port speed (termios), decimal: `\S`. */
  speed: number;
  /** Number of USER_PROCESS records in utmp: `\N` and `\U`. */
  users: number;
  /** Now, in ms since the epoch; `\C` `\D` `\T` use the LOCAL time fields. */
  now: number;
}

/**
 * mgetty's expansion buffer (300) less its safety margin: no further input is expanded
 * once the output holds this many characters. The check runs before each input
 * character, so the token that crosses the line is still added whole [observed with
 * Debian's mgetty: 295 `X` + `@Z` -> 295 `X` + `vm`; 296 `X` -> all, no warning;
 * 297 `X` -> 296 and a warning]. (The issue asked for a plain 300-character cut; this is
 * the drop-in behaviour and bounded just the same.)
 */
export const EXPANSION_LIMIT = 296;

export interface Expansion {
  text: string;
  /** True when input was left unexpanded at the limit; the runner logs a warning (mgetty: `input line too long - data truncated`). */
  truncated: boolean;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => String(n).padStart(2, '0');

function hms(d: Date): string {
  return `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** ctime(3) without the newline: `Sat Nov 21 19:41:44 2026`, day of month padded with a space. */
export function ctimeString(now: number): string {
  const d = new Date(now);
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${hms(d)} ${d.getFullYear()}`;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  n: '\n',
  r: '\r',
  g: '\x07',
  b: '\b',
  v: '\x0b',
  f: '\x0c',
  t: '\t',
};

/**
 * `\<digits>` as strtol(..., 0) reads it (Q26): `0x` + hex digits is hex, a leading 0
 * is octal, anything else decimal; all digits valid for the base are consumed. Returns
 * the value and the index after the number. `\0x` without a hex digit reads as 0.
 */
function cNumber(s: string, i: number): { value: number; next: number } {
  let base = 10;
  let j = i;
  if (s[j] === '0') {
    if ((s[j + 1] === 'x' || s[j + 1] === 'X') && /[0-9a-fA-F]/.test(s[j + 2] ?? '')) {
      base = 16;
      j += 2;
    } else {
      base = 8;
    }
  }
  let value = 0;
  for (; j < s.length; j++) {
    const d = parseInt(s[j] ?? '', base);
    if (Number.isNaN(d)) break;
    // strtol saturates at LONG_MAX (low byte 0xFF); keep a JS-safe stand-in for it.
    value = value > 2 ** 52 ? value : value * base + d;
  }
  if (value > 2 ** 52) value = 0xff;
  return { value, next: j };
}

/** Expand the tokens of spec §8.1, and tell whether the 300-character limit cut it. */
export function expand(text: string, ctx: IssueContext): Expansion {
  let out = '';
  let truncated = false;
  const d = new Date(ctx.now);
  for (let i = 0; i < text.length; i++) {
    const c = text[i] ?? '';
    // C string semantics: a NUL in the text (from a file) ends it.
    if (c === '\0') break;
    if (out.length >= EXPANSION_LIMIT) {
      truncated = true;
      break;
    }
    let piece: string;
    if (c === '@') {
      piece = ctx.hostname;
    } else if (c !== '\\') {
      piece = c;
    } else {
      i++;
      // mgetty reads past the end of the string on a trailing lone backslash; we output nothing for it (deliberate).
      // An escaped NUL ends the C string just the same.
      if (i >= text.length || text[i] === '\0') break;
      const t = text[i] ?? '';
      if (t >= '0' && t <= '9') {
        const { value, next } = cNumber(text, i);
        i = next - 1;
        // The character is stored in a C string: code 0 (also 256, ...) ends it.
        if ((value & 0xff) === 0) break;
        piece = String.fromCharCode(value & 0xff);
      } else {
        switch (t) {
          case 'P':
          case 'L':
            piece = ctx.device;
            break;
          case 'I':
            piece = ctx.connect;
            break;
          case 'Y':
            piece = ctx.callerId === undefined || ctx.callerId === '' ? 'none' : ctx.callerId;
            break;
          case 'S':
            piece = String(ctx.speed);
            break;
          case 's':
            piece = ctx.sysname;
            break;
          case 'm':
            piece = ctx.machine;
            break;
          case 'R':
            piece = ctx.release;
            break;
          case 'V':
            piece = ctx.version;
            break;
          case 'N':
          case 'U':
            piece = String(ctx.users);
            break;
          case 'C':
            piece = ctimeString(ctx.now);
            break;
          case 'D':
            // M/D/YYYY without padding (Q26; the manual's dd/mm/yy is wrong).
            piece = `${d.getMonth() + 1}/${d.getDate()}/${d.getFullYear()}`;
            break;
          case 'T':
            piece = hms(d);
            break;
          default:
            // `\n` `\t` ...; any other escaped char stands for itself (`\\` -> `\`, `\@` -> `@`).
            piece = SIMPLE_ESCAPES[t] ?? t;
        }
      }
    }
    out += piece;
  }
  return { text: out, truncated };
}

/** Expand the tokens of spec §8.1 (see `expand` for the truncation flag). */
export function expandTokens(text: string, ctx: IssueContext): string {
  return expand(text, ctx).text;
}

// ---------------------------------------------------------------------------------
// Issue file and prompt

/** The `issue-file` setting (or `-i`), classified as mgetty does (§8.3). */
export type IssueSetting =
  | { kind: 'text'; text: string }
  | { kind: 'file'; path: string }
  | { kind: 'command'; command: string; argv: string[] };

/** No shell: argv is the command split on blanks. */
function splitArgv(command: string): string[] {
  return command.split(/[ \t\n]+/).filter((a) => a !== '');
}

/**
 * `!cmd` runs a program, `/path` is a file, anything else is literal text.
 *
 * Deliberate difference: mgetty runs `!cmd` with `/bin/sh -c`. tgetty runs it WITHOUT
 * a shell: the command is split into argv on whitespace (no quoting, no `;`, no
 * variables), so nothing in the configuration is ever shell-interpreted.
 */
export function parseIssueSetting(value: string): IssueSetting {
  if (value.startsWith('!')) {
    const command = value.slice(1);
    return { kind: 'command', command, argv: splitArgv(command) };
  }
  if (value.startsWith('/')) return { kind: 'file', path: value };
  return { kind: 'text', text: value };
}

export interface IssueOutput {
  /** Bytes to send first: always the leading CR, then the expanded issue (if any). */
  bytes: Uint8Array;
  /**
   * For `!command`: the argv of the program the runner must run next, its output going
   * straight to the tty, with nothing appended.
   */
  run?: string[];
  /** Some line hit the expansion limit (the runner logs a warning). */
  truncated: boolean;
}

/** fgets() with mgetty's 1024-byte buffer returns at most 1023 bytes per chunk. */
const FILE_CHUNK = 1023;

function toBytes(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

function toLatin1(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += String.fromCharCode(x);
  return s;
}

/**
 * The bytes of the issue output (§8.3), sent in the "sane" output mode. Tabs are NOT
 * expanded here: the tty's OPOST + TAB3 does that, and ONLCR is off, which is why a
 * file's own LF goes out raw and lines end `LF CR` (Q20).
 *
 * - `text`: the setting's literal text -> CR, expanded text, CR LF.
 * - `file`: the file's content (read by the caller; pass '' when it is missing or
 *   unreadable: only the CR is sent) -> CR, then each line (fgets-sized chunk, its LF
 *   kept) expanded and followed by one CR.
 * - `command`: the text after `!` -> CR, and `run` = argv (split on whitespace, no shell).
 */
export function renderIssue(kind: IssueSetting['kind'], body: string | Uint8Array, ctx: IssueContext): IssueOutput {
  const src = typeof body === 'string' ? body : toLatin1(body);
  let out = '\r';
  let truncated = false;
  switch (kind) {
    case 'text': {
      const e = expand(src, ctx);
      out += e.text + '\r\n';
      truncated = e.truncated;
      break;
    }
    case 'file': {
      let i = 0;
      while (i < src.length) {
        const nl = src.indexOf('\n', i);
        const end = Math.min(nl === -1 ? src.length : nl + 1, i + FILE_CHUNK);
        const e = expand(src.slice(i, end), ctx);
        out += e.text + '\r';
        truncated ||= e.truncated;
        i = end;
      }
      break;
    }
    case 'command':
      return { bytes: toBytes(out), run: splitArgv(src), truncated };
  }
  return { bytes: toBytes(out), truncated };
}

/** Debian's FidoNet EMSI request: `**EMSI_REQA77E` CR, DC1, 14 spaces, CR (Q21). */
export const EMSI_REQUEST = '**EMSI_REQA77E\r\x11' + ' '.repeat(14) + '\r';

/**
 * The prompt as sent before reading a name (§8.2, §5.13): the EMSI request when
 * fido-send-emsi is on, then CR LF and the expanded prompt. Raw output (no OPOST), so
 * the bytes go out exactly as returned. Also used to re-print it after ^U / ^C.
 */
export function renderPrompt(prompt: string, ctx: IssueContext, opts: { emsi: boolean }): Uint8Array {
  return toBytes((opts.emsi ? EMSI_REQUEST : '') + '\r\n' + expandTokens(prompt, ctx));
}
