/**
 * Caller ID and call data (spec §7). Pure.
 *
 * `applyCallerIdLine` is the parser every complete modem line goes through, while
 * waiting for RINGs and during chats (spec §7.2). The refinements that only apply to
 * RING-wait lines (`RING;a;b`, `RING: 3 DN9 8888`, `FM:`/`TO:`, cadence) live in
 * ring.ts and use `setCalledNumber` / `matchMsn` from here.
 */

export interface CallData {
  /** `none` until some line tells us; `\Y`, CALLER_ID, audit lines. */
  callerId: string;
  callerName: string;
  callDate: string;
  callTime: string;
  /** The number that was called (MSN), cut at `/`. */
  calledNr: string;
  /** Text after `CONNECT ` (`33600/ARQ`), or composed with carrier/protocol. */
  connect: string;
  /** Distinctive ring: 0 = none, else RING digit/letter, MSN index or cadence pattern. */
  distRing: number;
  /** Rockwell `CARRIER ` / ELSA `+MCR: `, used to compose `connect`. */
  carrier: string;
  /** Rockwell `PROTOCOL: ` / ELSA `+MRR: `, used to compose `connect`. */
  protocol: string;
  /** Rockwell `MESG = ` lines: the first goes to mesg1, later ones to mesg2. */
  mesg1: string;
  mesg2: string;
}

export type CallDataField = keyof CallData;

export function newCallData(): CallData {
  return {
    callerId: 'none',
    callerName: '',
    callDate: '',
    callTime: '',
    calledNr: '',
    connect: '',
    distRing: 0,
    carrier: '',
    protocol: '',
    mesg1: '',
    mesg2: '',
  };
}

/**
 * The RESET state between two calls: every field back to its start value. mgetty clears
 * only caller ID, time and called number, so a call without caller ID inherits the previous
 * call's name and date (spec Q33); tgetty deliberately starts each call from nothing.
 */
export function resetCallData(d: CallData): void {
  Object.assign(d, newCallData());
}

/** One change made by a line, for the log (`caller ID: 0555 (Rockwell)`). */
export interface CidUpdate {
  field: CallDataField;
  value: string;
  /** Which format matched (origin column of the spec table). */
  format: string;
}

type Special = 'plain' | 'connect' | 'clip' | 'mesg' | 'ignore';

export interface CallerIdFormat {
  /** Case-sensitive line prefix; `null` for the digit-first (ELink) rule. */
  prefix: string | null;
  /** The field the rest of the line goes to, `null` for recognised-and-ignored lines. */
  field: CallDataField | null;
  origin: string;
  /** A line in this format and what it sets (the tests parse every example). */
  example: string;
  sets: Partial<CallData>;
  special: Special;
}

function fmt(prefix: string | null, field: CallDataField | null, origin: string, example: string, sets: Partial<CallData>, special: Special = 'plain'): CallerIdFormat {
  return { prefix, field, origin, example, sets, special };
}

/**
 * The formats, in the order they are tried (first matching prefix wins; the order
 * matters for `TIME: ` vs `TIME = ` vs `TIME=` and `RING;` vs `RING`).
 */
export const CALLER_ID_FORMATS: readonly CallerIdFormat[] = [
  fmt(null, 'callerId', 'ELink ISDN (any line starting with a digit)', '0891234567 ISDN', { callerId: '0891234567' }),
  fmt('RING;', 'callerId', 'ELSA', 'RING;0891234', { callerId: '0891234' }),
  fmt('RING', null, 'RING (handled by the RING wait)', 'RING 1', {}, 'ignore'),
  fmt('OK', null, 'result code', 'OK', {}, 'ignore'),
  fmt('CONNECT ', 'connect', 'CONNECT line', 'CONNECT 33600/ARQ', { connect: '33600/ARQ' }, 'connect'),
  fmt('CALLER NAME: ', 'callerName', 'ZyXEL 1496', 'CALLER NAME: JOE', { callerName: 'JOE' }),
  fmt('CALLER NUMBER: ', 'callerId', 'ZyXEL 1496, isdn4linux', 'CALLER NUMBER: 5551234', { callerId: '5551234' }),
  fmt('TIME: ', 'callTime', 'ZyXEL', 'TIME: 11-21 19:30', { callTime: '11-21 19:30' }),
  fmt('REASON FOR NO CALLER NUMBER: ', 'callerId', 'ZyXEL', 'REASON FOR NO CALLER NUMBER: P', { callerId: 'P' }),
  fmt('REASON FOR NO CALLER NAME: ', 'callerName', 'ZyXEL', 'REASON FOR NO CALLER NAME: O', { callerName: 'O' }),
  fmt('CALLED NUMBER: ', 'calledNr', 'isdn4linux', 'CALLED NUMBER: 35655024', { calledNr: '35655024' }),
  fmt('FM:', 'callerId', 'ZyXEL 2864I (refined by the RING wait)', 'FM:040404', { callerId: '040404' }),
  fmt('CARRIER ', 'carrier', 'Rockwell', 'CARRIER 28800', { carrier: '28800' }),
  fmt('PROTOCOL: ', 'protocol', 'Rockwell', 'PROTOCOL: LAPM', { protocol: 'LAPM' }),
  fmt('+MCR: ', 'carrier', 'ELSA', '+MCR: V34', { carrier: 'V34' }),
  fmt('+MRR: ', 'protocol', 'ELSA', '+MRR: 28800', { protocol: '28800' }),
  fmt('DATE = ', 'callDate', 'Rockwell', 'DATE = 1121', { callDate: '1121' }),
  fmt('TIME = ', 'callTime', 'Rockwell', 'TIME = 1930', { callTime: '1930' }),
  fmt('NMBR = ', 'callerId', 'Rockwell', 'NMBR = 5551234', { callerId: '5551234' }),
  fmt('NAME = ', 'callerName', 'Rockwell', 'NAME = JOE "X" O\'Neil', { callerName: 'JOE  X  O Neil' }),
  fmt('MESG = ', 'mesg1', 'Rockwell (Bell Canada, see decodeMesg)', 'MESG = 030735353531323334', { mesg1: '030735353531323334' }, 'mesg'),
  fmt('DDN_NMBR= ', 'callerId', 'Rockwell variant', 'DDN_NMBR= 5551234', { callerId: '5551234' }),
  fmt('DATE=', 'callDate', 'Digi, Zoom, ELSA', 'DATE=1121', { callDate: '1121' }),
  fmt('TIME=', 'callTime', 'Digi, Zoom, ELSA', 'TIME=1930', { callTime: '1930' }),
  fmt('NMBR=', 'callerId', 'Digi, Zoom, ELSA', 'NMBR=5551234', { callerId: '5551234' }),
  fmt('NAME=', 'callerName', 'Digi, Zoom, ELSA', 'NAME=JOE', { callerName: 'JOE' }),
  fmt('NDID=', 'calledNr', 'Digi/Patton', 'NDID=35655024', { calledNr: '35655024' }),
  fmt("CALLER'S NUMBER: ", 'callerId', 'misc', "CALLER'S NUMBER: 5551234", { callerId: '5551234' }),
  fmt('NBR=', 'callerId', 'Kortex', 'NBR=5551234', { callerId: '5551234' }),
  fmt('CallerID: ', 'callerId', 'USR (Russian firmware)', 'CallerID: 5551234', { callerId: '5551234' }),
  fmt('Diverting number:', 'callerId', 'ZyXEL Omni', 'Diverting number:5551234', { callerId: '5551234' }),
  fmt('+CLIP: ', 'callerId', 'GSM (Debian: first digit run only)', '+CLIP: "0301234567",129,,,,0', { callerId: '0301234567' }, 'clip'),
];

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= '0' && c <= '9';
}

/** isspace() of the C locale. */
function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
}

export function trimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isSpace(s.charAt(a))) a++;
  while (b > a && isSpace(s.charAt(b - 1))) b--;
  return s.slice(a, b);
}

/** Quotes and non-printables become spaces, so values are safe in `'...'` shell args and logs. */
export function cleanCidText(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.charCodeAt(0);
    out += ch === '"' || ch === "'" || c < 0x20 || c > 0x7e ? ' ' : ch;
  }
  return out;
}

/** The first run of digits in `s` after skipping non-digits from `from`; also where it ends. */
export function firstDigitRun(s: string, from = 0): { digits: string; end: number } {
  let i = from;
  while (i < s.length && !isDigit(s[i])) i++;
  const start = i;
  while (i < s.length && isDigit(s[i])) i++;
  return { digits: s.slice(start, i), end: i };
}

/**
 * Feed one complete line to the caller-ID parser. Mutates `d`; returns what changed
 * (empty if the line is not caller-ID data).
 */
export function applyCallerIdLine(d: CallData, rawLine: string): CidUpdate[] {
  const line = trimSpace(rawLine);
  if (line.length === 0) return [];
  // Q13: any digit-first line replaces the caller ID, also numeric result codes.
  if (isDigit(line[0])) {
    const value = firstDigitRun(line).digits;
    d.callerId = value;
    return [{ field: 'callerId', value, format: 'ELink' }];
  }
  for (const f of CALLER_ID_FORMATS) {
    if (f.prefix === null || !line.startsWith(f.prefix)) continue;
    const rest = line.slice(f.prefix.length);
    switch (f.special) {
      case 'ignore':
        return [];
      case 'connect': {
        // Rockwell/ELSA report carrier and protocol on their own lines before CONNECT.
        const value = d.carrier !== '' || d.protocol !== '' ? `${cleanCidText(rest)}/${d.carrier} ${d.protocol}` : cleanCidText(rest);
        d.connect = value;
        return [{ field: 'connect', value, format: f.origin }];
      }
      case 'clip': {
        // Debian's patch keeps only the number out of `"0301234567",129,,,,0`.
        const value = firstDigitRun(rest).digits;
        d.callerId = value;
        return [{ field: 'callerId', value, format: f.origin }];
      }
      case 'mesg': {
        const value = cleanCidText(rest);
        const field: CallDataField = d.mesg1 === '' ? 'mesg1' : 'mesg2';
        d[field] = value;
        return [{ field, value, format: f.origin }];
      }
      case 'plain': {
        const field = f.field;
        if (field === null || field === 'distRing') return [];
        const value = cleanCidText(rest);
        d[field] = value;
        return [{ field, value, format: f.origin }];
      }
    }
  }
  return [];
}

/**
 * Rockwell MESG in Bell Canada format: `03` (parameter: number), two hex digits of
 * length L, then the number as hex-encoded ASCII. The digits are the low nibble chars,
 * i.e. every second character starting at index 5. Returns undefined if not that format.
 */
export function decodeMesg(msg: string): string | undefined {
  const m = trimSpace(msg);
  if (!m.startsWith('03') || m.length < 4) return undefined;
  const lenHex = m.slice(2, 4);
  if (!/^[0-9A-Fa-f]{2}$/.test(lenHex)) return undefined;
  const len = parseInt(lenHex, 16);
  let out = '';
  for (let k = 0; k < len; k++) {
    const ch = m[5 + 2 * k];
    if (ch === undefined) break; // short message: keep what is there
    out += ch;
  }
  return out;
}

/** Apply decodeMesg to message 1 (done before dialin.config is consulted). */
export function applyMesg(d: CallData): CidUpdate[] {
  const value = decodeMesg(d.mesg1);
  if (value === undefined) return [];
  d.callerId = value;
  return [{ field: 'callerId', value, format: 'Rockwell MESG' }];
}

/**
 * 1-based index of the first msn-list entry that equals the tail of the called number,
 * 0 if none (ISDN numbers arrive with or without area code, so compare the end).
 */
export function matchMsn(calledNr: string, msnList: readonly string[]): number {
  for (let i = 0; i < msnList.length; i++) {
    const msn = msnList[i];
    if (msn !== undefined && msn !== '' && calledNr.endsWith(msn)) return i + 1;
  }
  return 0;
}

/**
 * A called number seen on a RING-wait line: stored (cut at `/`) as calledNr, and the
 * distinctive ring becomes its msn-list index (0 if none).
 */
export function setCalledNumber(d: CallData, raw: string, msnList: readonly string[]): CidUpdate[] {
  const slash = raw.indexOf('/');
  // Cleaned like every other caller-ID value: it reaches argv and the environment (a NUL there makes spawn throw).
  const nr = cleanCidText(trimSpace(slash >= 0 ? raw.slice(0, slash) : raw));
  d.calledNr = nr;
  d.distRing = matchMsn(nr, msnList);
  return [
    { field: 'calledNr', value: nr, format: 'MSN' },
    { field: 'distRing', value: String(d.distRing), format: 'MSN' },
  ];
}
