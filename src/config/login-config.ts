/**
 * login.config, the login dispatcher (spec §3): which program runs, as whom, for a login name.
 * Same line reader as mgetty.config; `!version 1|2`; first complete matching line wins; the
 * built-in default is `* - - /bin/login @`. Pure.
 */
import type { Diagnostic } from './diagnostics.js';
import { readLogicalLines, physicalLineCount, parseCInt } from './mgetty-config.js';

export interface LoginEntry {
  /** Name pattern: `*`, `*x*`, `*x`, `x*`, exact, `/AutoPPP/`, `/FIDO/`. */
  pattern: string;
  /** Version 2 callback column: 'Y' = callback logins only, 'N' = normal logins only, 'any'. */
  callback: 'Y' | 'N' | 'any';
  /** User to switch to; undefined (`-`) = stay root. */
  user: string | undefined;
  /** utmp/wtmp user text; undefined (`-`) = no record; `@` = the login name. */
  utmp: string | undefined;
  /** Program run with execv (no shell, no PATH search). */
  program: string;
  /** Argument words (at most 9), before substitution (see expandArgs). */
  args: string[];
  file: string;
  line: number;
  version: 1 | 2;
  /** True for the built-in default entry. */
  builtin?: boolean;
}

export interface ParsedLoginConfig {
  file: string;
  /** Complete entries in file order. Incomplete lines are left out (they can never be used). */
  entries: LoginEntry[];
  diagnostics: Diagnostic[];
  lineCount: number;
}

export const MAX_LOGIN_ARGS = 9;

/** What mgetty does with no file or no matching line. */
export const DEFAULT_LOGIN_ENTRY: LoginEntry = Object.freeze({
  pattern: '*',
  callback: 'any' as const,
  user: undefined,
  utmp: undefined,
  program: '/bin/login',
  args: Object.freeze(['@']) as string[],
  file: '<built-in>',
  line: 0,
  version: 1 as const,
  builtin: true,
});

export function parseLoginConfig(text: string, file: string): ParsedLoginConfig {
  const entries: LoginEntry[] = [];
  const diagnostics: Diagnostic[] = [];
  let version: 1 | 2 = 1;

  for (const { text: ln, line } of readLogicalLines(text)) {
    const words = ln.split(' ');
    if (words[0] === '!version') {
      const r = parseCInt(words[1] ?? '');
      if (r !== undefined && (r.value === 1 || r.value === 2)) {
        version = r.value;
      } else {
        diagnostics.push({
          severity: 'error', code: 'CONFIG_BAD_VALUE', kind: 'bad-value', file, line,
          message: `'${ln}': only versions 1 and 2 exist; version 1 is used for the following lines`,
        });
        version = 1;
      }
      continue;
    }

    const cols = version === 2 ? ['pattern', 'callback', 'userid', 'utmp', 'program'] : ['pattern', 'userid', 'utmp', 'program'];
    if (words.length < cols.length) {
      const missing = cols.slice(words.length).join(', ');
      diagnostics.push({
        severity: 'error', code: 'CONFIG_MALFORMED_LINE', kind: 'malformed', file, line,
        message: `login.config line '${ln}' has no ${missing} column, line skipped`,
        hint:
          version === 2
            ? 'version 2 columns: name-pattern callback userid utmp program [args]'
            : "columns: name-pattern userid utmp program [args], e.g. '* - - /bin/login @'",
      });
      continue;
    }
    const o = version === 2 ? 1 : 0;
    let args = words.slice(o + 4);
    if (args.length > MAX_LOGIN_ARGS) {
      diagnostics.push({
        severity: 'warning', code: 'CONFIG_OUT_OF_RANGE', kind: 'out-of-range', file, line,
        message: `at most ${MAX_LOGIN_ARGS} arguments are passed; truncated at '${args[MAX_LOGIN_ARGS]}'`,
      });
      args = args.slice(0, MAX_LOGIN_ARGS);
    }
    const cb = version === 2 ? (words[1][0] ?? '').toUpperCase() : '';
    const program = words[o + 3];
    if (!program.startsWith('/')) {
      // execv does no PATH search: a relative name is looked up in the getty's working directory.
      diagnostics.push({
        severity: 'warning', code: 'CONFIG_BAD_VALUE', kind: 'suspicious', file, line,
        message: `program '${program}' is not an absolute path; it is run without a PATH search`,
        hint: 'write the full path, e.g. /usr/sbin/pppd',
      });
    }
    entries.push({
      pattern: words[0],
      callback: cb === 'Y' ? 'Y' : cb === 'N' ? 'N' : 'any',
      user: words[o + 1] === '-' ? undefined : words[o + 1],
      utmp: words[o + 2] === '-' ? undefined : words[o + 2],
      program,
      args,
      file,
      line,
      version,
    });
  }
  return { file, entries, diagnostics, lineCount: physicalLineCount(text) };
}

/** Mark mgetty puts before a name produced by a Fido handshake; only `/FIDO/` and wildcards see it. */
const FIDO_MARK = '\xff';

/**
 * Whether a name pattern matches. `fido` = the name came from a FidoNet handshake: then
 * `/FIDO/` matches, and other patterns see the name with mgetty's internal marker in front.
 */
export function loginPatternMatches(pattern: string, name: string, fido = false): boolean {
  if (fido && pattern === '/FIDO/') return true;
  const n = fido ? FIDO_MARK + name : name;
  if (pattern === '*') return true;
  const head = pattern.startsWith('*');
  const tail = pattern.endsWith('*');
  if (head && tail) return n.includes(pattern.slice(1, -1));
  if (head) return n.endsWith(pattern.slice(1));
  if (tail) return n.startsWith(pattern.slice(0, -1));
  return n === pattern;
}

export interface LoginMatchOptions {
  /** This login is a callback (version 2 `Y` lines apply, `N` lines do not). */
  callback?: boolean;
  /** The name came from a Fido handshake. */
  fido?: boolean;
  /** The getty detected a PPP frame (the name is then `/AutoPPP/`). */
  autoppp?: boolean;
  /**
   * Q16: may a caller reach the `/AutoPPP/` and `/FIDO/` lines by typing those names?
   * true (default, as mgetty) = yes; false = those lines only serve detected PPP / Fido calls.
   * Set from the tgetty keyword `typed-special-names`.
   */
  typedSpecialNames?: boolean;
}

const SPECIAL = new Set(['/AutoPPP/', '/FIDO/']);

/** The first entry that matches `name` (and the callback mode), else the built-in default. */
export function matchLogin(entries: readonly LoginEntry[], name: string, opts: LoginMatchOptions = {}): LoginEntry {
  const cb = opts.callback === true;
  for (const e of entries) {
    if (e.callback === 'Y' && !cb) continue;
    if (e.callback === 'N' && cb) continue;
    if (opts.typedSpecialNames === false && SPECIAL.has(e.pattern)) {
      const detected = e.pattern === '/AutoPPP/' ? opts.autoppp === true : opts.fido === true;
      if (detected && (e.pattern !== '/AutoPPP/' || name === '/AutoPPP/')) return e;
      continue;
    }
    if (loginPatternMatches(e.pattern, name, opts.fido === true)) return e;
  }
  return DEFAULT_LOGIN_ENTRY;
}

export interface LoginCallInfo {
  /** The login name (empty in ttyprompt mode). */
  name: string;
  /** Connect string (text after CONNECT, or DIRECT); empty if unknown. */
  connect?: string;
  /** Caller ID; empty/undefined = unknown. */
  callerId?: string;
}

/**
 * The argv for execv: argv[0] is the program's base name, then the argument words with
 * whole-word substitution: `@` -> the name as ONE element (dropped if the name is empty),
 * `\I` -> connect string or `??`, `\Y` -> caller ID or `none`.
 */
export function expandArgs(entry: LoginEntry, info: LoginCallInfo): string[] {
  const argv = [entry.program.slice(entry.program.lastIndexOf('/') + 1)];
  for (const w of entry.args) {
    if (w === '@') {
      if (info.name !== '') argv.push(info.name);
    } else if (w === '\\I') {
      argv.push(info.connect !== undefined && info.connect !== '' ? info.connect : '??');
    } else if (w === '\\Y') {
      argv.push(info.callerId !== undefined && info.callerId !== '' ? info.callerId : 'none');
    } else {
      argv.push(w);
    }
  }
  return argv;
}

/** The utmp user text for an entry: undefined = write no record, `@` = the login name. */
export function utmpName(entry: LoginEntry, name: string): string | undefined {
  if (entry.utmp === undefined) return undefined;
  return entry.utmp === '@' ? name : entry.utmp;
}

/**
 * mgetty's security rule for login.config: owned by root, no group/other bits. Returns the
 * problem as text, or undefined if the file may be used. `runAs` is the uid tgetty runs
 * as: when that is not root (the demo, a user's own test bank), a file owned by that
 * user is accepted too — such a tgetty can only start programs as that user anyway.
 */
export function loginConfigPermissionProblem(stat: { uid: number; mode: number }, runAs = 0): string | undefined {
  const bad: string[] = [];
  const owner = runAs === 0 ? 'root' : `root or uid ${runAs}`;
  if (stat.uid !== 0 && stat.uid !== runAs) bad.push(`it is owned by uid ${stat.uid}`);
  if ((stat.mode & 0o077) !== 0) bad.push(`its mode 0${(stat.mode & 0o7777).toString(8)} gives group or others access`);
  if (bad.length === 0) return undefined;
  return `ignored because ${bad.join(' and ')}; it must be owned by ${owner} and have mode 0600`;
}
