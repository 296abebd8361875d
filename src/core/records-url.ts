/**
 * A call records setting (`--records`, TGETTY_RECORDS, `records-url` in mgetty.config): a
 * file path (SQLite) or a `postgresql://` URL. Pure; here so that the config layer can
 * check the keyword's value with the same rules the daemon applies.
 */
import { TgettyError } from './errors.js';

/** Where `--records` / TGETTY_RECORDS points. */
export type RecordsTarget = { kind: 'sqlite'; file: string } | { kind: 'postgresql'; url: string; display: string };

/** The URL with any password replaced by `***`: for logs, errors and `status`. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '') return url;
    u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
  }
}

/**
 * Parse a records setting: a file path (SQLite) or a `postgresql://` / `postgres://` URL.
 * Anything else that looks like `scheme:` is refused, so a typo such as `mysql://...` or
 * `postgresq://...` is an error instead of a file named after it (a relative path with a
 * colon in it can be given as `./a:b`).
 */
export function parseRecordsTarget(value: string, where = '--records'): RecordsTarget {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(value);
  if (scheme === null) {
    if (value === '') throw new TgettyError('CLI_USAGE', `${where}: empty value: give a file path or a postgresql:// URL`, { input: value });
    return { kind: 'sqlite', file: value };
  }
  const name = scheme[1].toLowerCase();
  const shown = redactUrl(value);
  if (name !== 'postgresql' && name !== 'postgres') {
    throw new TgettyError(
      'CLI_USAGE',
      `${where} '${shown}': unsupported scheme '${scheme[1]}:'; give a file path (SQLite) or a postgresql://user@host/db URL${value.includes('//') ? '' : ` (a file name with a colon: ./${value})`}`,
      { input: shown },
    );
  }
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new TgettyError('CLI_USAGE', `${where} '${shown}': not a valid URL; expected postgresql://user[:password]@host[:port]/database`, { input: shown });
  }
  if (u.pathname === '' || u.pathname === '/') {
    throw new TgettyError('CLI_USAGE', `${where} '${shown}': no database name; expected postgresql://user@host[:port]/database`, { input: shown });
  }
  if (u.hostname === '' && !u.searchParams.has('host')) {
    throw new TgettyError('CLI_USAGE', `${where} '${shown}': no host; expected postgresql://user@host[:port]/database (or ?host=/socket/dir)`, { input: shown });
  }
  return { kind: 'postgresql', url: value, display: shown };
}
