/**
 * Where the call records go, for `tgetty serve` and `tgetty calls`: `--records` wins over
 * the environment variable TGETTY_RECORDS, which wins over `records-url` in the global
 * section of mgetty.config; with none of them, the default file (paths.records).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { findConfigDir, loadMgettyConfig, MGETTY_CONFIG } from '../config/load.js';
import { daemonSetting } from '../config/mgetty-config.js';
import type { Diagnostic } from '../config/diagnostics.js';

export interface RecordsSetting {
  /** The value (a file or a URL); undefined = the default file. */
  records?: string;
  /** Where it came from, as errors name it: `--records`, `TGETTY_RECORDS`, `records-url (FILE:LINE)`. */
  recordsFrom?: string;
  /** Something to tell the admin (a password in a file other users can read). */
  warning?: string;
}

/**
 * `records-url` of the global section, or undefined when it is not set (or the file is
 * missing or unreadable: the daemon reports that file itself; `tgetty calls` as a user who
 * cannot read it falls back to the default file).
 */
export function configRecordsSetting(configDir: string | undefined): RecordsSetting | undefined {
  const file = join(findConfigDir(configDir), MGETTY_CONFIG);
  const a = daemonSetting(loadMgettyConfig(file).parsed, 'records-url');
  if (a === undefined || typeof a.value !== 'string') return undefined;
  const out: RecordsSetting = { records: a.value, recordsFrom: `records-url (${a.file}:${a.line})` };
  const warning = passwordWarning(file, a.value);
  if (warning !== undefined) out.warning = warning;
  return out;
}

/** Why a records-url with a password in `file` is a risk (every local user can read it), or undefined. */
export function passwordWarning(file: string, url: string): string | undefined {
  if (!/^[A-Za-z][A-Za-z0-9+.-]*:\/\/[^/@:]*:[^@/]+@/.test(url)) return undefined;
  try {
    const mode = statSync(file).mode & 0o777;
    if ((mode & 0o004) === 0) return undefined;
    return `the password in records-url is readable by every local user (${file} has mode 0${mode.toString(8)}); chmod 0640 (or 0600) the file, or put the URL in TGETTY_RECORDS in a mode 0600 environment file`;
  } catch {
    // Read a moment ago; a vanished file has nothing to warn about.
    return undefined;
  }
}

/** The same warning as a `config check` diagnostic at the keyword's file:line. */
export function recordsUrlDiagnostics(parsed: Parameters<typeof daemonSetting>[0], file: string): Diagnostic[] {
  const a = daemonSetting(parsed, 'records-url');
  if (a === undefined || typeof a.value !== 'string') return [];
  const message = passwordWarning(file, a.value);
  return message === undefined ? [] : [{ severity: 'warning', code: 'CONFIG_BAD_VALUE', kind: 'bad-value', file: a.file, line: a.line, message }];
}
