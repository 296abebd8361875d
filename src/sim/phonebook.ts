/**
 * The dial-out phone book (`tgetty sim --phonebook FILE`, as tcpser's `-n NUMBER=HOST:PORT`):
 * a number the old computer dials becomes a TCP host and port. One entry per line:
 *
 *   # comment
 *   5551000 = bbs.example.org:23
 *   555-1001 = 127.0.0.1:2424 raw
 *   5551002 = [::1]:23 telnet
 *
 * `telnet` (the default) negotiates options with the host; `raw` passes bytes untouched.
 * The port defaults to 23. Numbers match whatever the user puts between the digits
 * (`555-1000`, `(555) 1000`): only digits, letters, `*` and `#` count. Pure.
 */
import { TgettyError } from '../core/errors.js';

export type DialProtocol = 'telnet' | 'raw';

export interface DialTarget {
  host: string;
  port: number;
  protocol: DialProtocol;
}

export interface PhonebookEntry extends DialTarget {
  number: string;
  line: number;
}

/** The part of a number that counts when matching: `555-1000` and `5551000` are one number. */
export function normaliseNumber(s: string): string {
  return s.replace(/[^0-9A-Za-z*#]/g, '').toLowerCase();
}

/**
 * `host`, `host:port`, `[v6]` or `[v6]:port`. Undefined when it is not an address at all.
 * A bare IPv6 address without brackets is not accepted: its colons make the port ambiguous.
 */
export function parseAddress(s: string): { host: string; port: number } | undefined {
  let host: string;
  let port = 23;
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(s);
  if (v6 !== null) {
    host = v6[1] ?? '';
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else {
    const m = /^([A-Za-z0-9.-]+)(?::(\d+))?$/.exec(s);
    if (m === null) return undefined;
    host = m[1] ?? '';
    if (m[2] !== undefined) port = Number(m[2]);
  }
  if (host === '' || !Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host, port };
}

export class Phonebook {
  private readonly byNumber = new Map<string, PhonebookEntry>();

  constructor(readonly entries: readonly PhonebookEntry[] = []) {
    for (const e of entries) this.byNumber.set(normaliseNumber(e.number), e);
  }

  lookup(dialled: string): PhonebookEntry | undefined {
    const n = normaliseNumber(dialled);
    return n === '' ? undefined : this.byNumber.get(n);
  }

  get size(): number {
    return this.byNumber.size;
  }
}

/** Parse a phone book file's text. Bad lines are errors naming the file and line. */
export function parsePhonebook(text: string, file = 'phonebook'): Phonebook {
  const entries: PhonebookEntry[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const l = raw.trim();
    if (l === '' || l.startsWith('#')) return;
    const bad = (why: string): never => {
      throw new TgettyError('CONFIG_MALFORMED_LINE', why, { file, line: lineNo, input: raw.slice(0, 200) });
    };
    const eq = l.indexOf('=');
    if (eq < 0) bad('expected NUMBER = HOST[:PORT] [telnet|raw]');
    const number = l.slice(0, eq).trim();
    const key = normaliseNumber(number);
    if (key === '') bad('no number before =');
    const words = l.slice(eq + 1).trim().split(/\s+/).filter((w) => w !== '');
    if (words.length === 0 || words.length > 2) bad('expected NUMBER = HOST[:PORT] [telnet|raw]');
    const addr = parseAddress(words[0] ?? '');
    if (addr === undefined) bad(`not a host or host:port: ${words[0] ?? ''}`);
    const proto = (words[1] ?? 'telnet').toLowerCase();
    if (proto !== 'telnet' && proto !== 'raw') bad(`unknown protocol ${words[1] ?? ''} (telnet or raw)`);
    const dup = seen.get(key);
    if (dup !== undefined) bad(`number ${number} is already on line ${dup}`);
    seen.set(key, lineNo);
    entries.push({ number, host: addr?.host ?? '', port: addr?.port ?? 23, protocol: proto as DialProtocol, line: lineNo });
  });
  return new Phonebook(entries);
}

/**
 * What a dial string (after ATD, with its T/P dial modifier removed) reaches: a phone
 * book entry, else a host[:port] written out (it has a letter, a dot or a colon), else
 * undefined (a plain number: the sim's own exchange).
 */
export function resolveDial(dialled: string, book: Phonebook | undefined): DialTarget | undefined {
  const entry = book?.lookup(dialled);
  if (entry !== undefined) return { host: entry.host, port: entry.port, protocol: entry.protocol };
  if (!/[A-Za-z.:[\]]/.test(dialled)) return undefined;
  const addr = parseAddress(dialled);
  return addr === undefined ? undefined : { ...addr, protocol: 'telnet' };
}
