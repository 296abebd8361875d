/**
 * Reading the configuration files from disk: the only module of src/config that does I/O.
 * Files are read as latin1 so every byte is one character (the parsers are byte-exact).
 * A missing file means mgetty's default behaviour; nothing here throws for bad files.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, isAbsolute } from 'node:path';
import { errnoCode } from '../core/errors.js';
import type { Diagnostic } from './diagnostics.js';
import { parseMgettyConfig } from './mgetty-config.js';
import type { ParsedConfig } from './mgetty-config.js';
import { parseLoginConfig, loginConfigPermissionProblem } from './login-config.js';
import type { ParsedLoginConfig } from './login-config.js';
import { parseDialinConfig } from './dialin-config.js';
import type { ParsedDialin } from './dialin-config.js';

/** Debian's config directory, and the older layout the 2001 setup guides use. */
export const DEBIAN_CONFIG_DIR = '/etc/mgetty';
export const LEGACY_CONFIG_DIR = '/etc/mgetty+sendfax';

export const MGETTY_CONFIG = 'mgetty.config';
export const LOGIN_CONFIG = 'login.config';
export const DIALIN_CONFIG = 'dialin.config';

/**
 * The config directory: `explicit` if given, else /etc/mgetty if it exists, else
 * /etc/mgetty+sendfax if that exists, else /etc/mgetty. `exists` is injectable for tests.
 */
export function findConfigDir(explicit?: string, exists: (p: string) => boolean = existsSync): string {
  if (explicit !== undefined && explicit !== '') return explicit;
  if (exists(DEBIAN_CONFIG_DIR)) return DEBIAN_CONFIG_DIR;
  if (exists(LEGACY_CONFIG_DIR)) return LEGACY_CONFIG_DIR;
  return DEBIAN_CONFIG_DIR;
}

/** `login-conf-file` value -> path: relative names live in the config directory. */
export function resolveLoginConfFile(dir: string, value: string | undefined): string {
  const v = value === undefined || value === '' ? LOGIN_CONFIG : value;
  return isAbsolute(v) ? v : join(dir, v);
}

type ReadResult = { text: string } | { missing: true } | { error: Diagnostic };

function readText(path: string): ReadResult {
  try {
    return { text: readFileSync(path, 'latin1') };
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return { missing: true };
    const why = err instanceof Error ? err.message : String(err);
    return {
      error: {
        severity: 'error', code: 'CONFIG_UNREADABLE', kind: 'unreadable', file: path, line: 0,
        message: `cannot read the file (${errnoCode(err) ?? why}); built-in defaults are used instead`,
      },
    };
  }
}

export interface LoadedMgettyConfig {
  path: string;
  /** undefined when the file is missing or unreadable (defaults apply). */
  parsed: ParsedConfig | undefined;
  diagnostics: Diagnostic[];
}

export function loadMgettyConfig(path: string): LoadedMgettyConfig {
  const r = readText(path);
  if ('error' in r) return { path, parsed: undefined, diagnostics: [r.error] };
  if ('missing' in r) {
    return {
      path,
      parsed: undefined,
      diagnostics: [
        {
          severity: 'warning', code: 'CONFIG_UNREADABLE', kind: 'missing-file', file: path, line: 0,
          message: 'no config file found; built-in defaults are used',
        },
      ],
    };
  }
  const parsed = parseMgettyConfig(r.text, path);
  return { path, parsed, diagnostics: parsed.diagnostics };
}

export interface FileStat {
  uid: number;
  mode: number;
}

export interface LoadedLoginConfig {
  path: string;
  /** undefined when missing or unreadable. */
  parsed: ParsedLoginConfig | undefined;
  stat: FileStat | undefined;
  /** False if missing, unreadable or failing the ownership/mode check: use the built-in default. */
  usable: boolean;
  diagnostics: Diagnostic[];
}

/** Read login.config and apply mgetty's security rule (root-owned, no group/other bits). */
export function loadLoginConfig(path: string): LoadedLoginConfig {
  let stat: FileStat | undefined;
  try {
    const s = statSync(path);
    stat = { uid: s.uid, mode: s.mode };
  } catch {
    stat = undefined;
  }
  const r = readText(path);
  if ('missing' in r) return { path, parsed: undefined, stat, usable: false, diagnostics: [] };
  if ('error' in r) return { path, parsed: undefined, stat, usable: false, diagnostics: [r.error] };
  const parsed = parseLoginConfig(r.text, path);
  const diagnostics = [...parsed.diagnostics];
  const problem = stat === undefined ? 'cannot be checked (stat failed)' : loginConfigPermissionProblem(stat, process.getuid?.() ?? 0);
  if (problem !== undefined) {
    diagnostics.push({
      severity: 'error', code: 'CONFIG_INSECURE', kind: 'insecure', file: path, line: 0,
      message: `${problem}; the built-in default '* - - /bin/login @' is used instead`,
    });
  }
  return { path, parsed, stat, usable: problem === undefined, diagnostics };
}

export interface LoadedDialinConfig {
  path: string;
  /**
   * undefined when missing or unreadable: every call is accepted. When the file fails the
   * ownership check this is a single `!all` rule: every call is refused (fail closed).
   */
  parsed: ParsedDialin | undefined;
  /** False when the file exists but fails the ownership/mode check. */
  secure: boolean;
  diagnostics: Diagnostic[];
}

/**
 * tgetty's rule for dialin.config (mgetty has none, a deliberate difference): owned by root
 * (or by the uid tgetty runs as) and not writable by group or others. Reading is fine:
 * the file holds no secret and Debian ships it 0644. Returns the problem, or undefined.
 */
export function dialinConfigPermissionProblem(stat: FileStat, runAs = 0): string | undefined {
  const bad: string[] = [];
  if (stat.uid !== 0 && stat.uid !== runAs) bad.push(`it is owned by uid ${stat.uid}`);
  if ((stat.mode & 0o022) !== 0) bad.push(`its mode 0${(stat.mode & 0o7777).toString(8)} lets group or others write it`);
  if (bad.length === 0) return undefined;
  return `not trusted because ${bad.join(' and ')}; it must be owned by ${runAs === 0 ? 'root' : `root or uid ${runAs}`} and not writable by group or others`;
}

export function loadDialinConfig(path: string, runAs: number = process.getuid?.() ?? 0): LoadedDialinConfig {
  const r = readText(path);
  if ('missing' in r) return { path, parsed: undefined, secure: true, diagnostics: [] };
  if ('error' in r) return { path, parsed: undefined, secure: true, diagnostics: [r.error] };
  let problem: string | undefined;
  try {
    const st = statSync(path);
    problem = dialinConfigPermissionProblem({ uid: st.uid, mode: st.mode }, runAs);
  } catch {
    problem = 'not trusted because it cannot be checked (stat failed)';
  }
  const parsed = parseDialinConfig(r.text, path);
  if (problem === undefined) return { path, parsed, secure: true, diagnostics: parsed.diagnostics };
  // Whoever may write the file decides who gets a line; the admin meant it to restrict
  // callers, so an untrusted file refuses every call instead of silently letting all in.
  const diag: Diagnostic = {
    severity: 'error', code: 'CONFIG_INSECURE', kind: 'insecure', file: path, line: 0,
    message: `${problem}; every call is refused until this is fixed`,
  };
  const closed: ParsedDialin = {
    file: path,
    tokens: [{ token: 'all', negate: true, file: `${path} (insecure)`, line: 0 }],
    diagnostics: [...parsed.diagnostics, diag],
    lineCount: parsed.lineCount,
  };
  return { path, parsed: closed, secure: false, diagnostics: closed.diagnostics };
}

export interface LoadedConfigFiles {
  dir: string;
  mgetty: LoadedMgettyConfig;
  login: LoadedLoginConfig;
  dialin: LoadedDialinConfig;
  /** All diagnostics of the three files, in that order. */
  diagnostics: Diagnostic[];
}

/**
 * Read mgetty.config, login.config and dialin.config from `dir`. `loginConfFile` is the
 * effective `login-conf-file` value (a port section may set it); relative = inside `dir`.
 */
export function loadConfigFiles(dir: string, opts: { loginConfFile?: string } = {}): LoadedConfigFiles {
  const mgetty = loadMgettyConfig(join(dir, MGETTY_CONFIG));
  const login = loadLoginConfig(resolveLoginConfFile(dir, opts.loginConfFile));
  const dialin = loadDialinConfig(join(dir, DIALIN_CONFIG));
  return { dir, mgetty, login, dialin, diagnostics: [...mgetty.diagnostics, ...login.diagnostics, ...dialin.diagnostics] };
}
