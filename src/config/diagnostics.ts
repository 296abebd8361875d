/**
 * Diagnostics of the configuration layer. Parsing never throws on bad input (mgetty warns
 * and carries on); every problem becomes one of these, located by file and line. Pure.
 */
import { TgettyError } from '../core/errors.js';
import type { ErrorCode } from '../core/errors.js';

export type DiagnosticKind =
  | 'unknown-keyword'
  | 'bad-value'
  | 'out-of-range'
  | 'adjusted'
  | 'not-used'
  | 'malformed'
  | 'unreadable'
  | 'missing-file'
  | 'insecure'
  | 'suspicious'
  /** A chat that will not do what it looks like (config check only). */
  | 'broken-chat'
  /** A user, group, program, file or directory the config names does not exist (config check only). */
  | 'not-found';

export interface Diagnostic {
  /** 'error': the line/value/file is ignored or unusable; 'warning': accepted, but look at it. */
  severity: 'error' | 'warning';
  code: ErrorCode;
  kind: DiagnosticKind;
  file: string;
  /** 1-based line (the first physical line of a continued line); 0 = the file as a whole. */
  line: number;
  /** What is wrong, without the location (formatDiagnostic adds `file:line:`). */
  message: string;
  /** How to fix it, e.g. "did you mean 'rings'?". */
  hint?: string;
  /** The `port` section the line belongs to (undefined = global / not sectioned). */
  section?: string;
}

/** `file:line: severity: message (hint)`, the form used in logs and by `tgetty check`. */
export function formatDiagnostic(d: Diagnostic): string {
  const loc = d.line > 0 ? `${d.file}:${d.line}` : d.file;
  return `${loc}: ${d.severity}: ${d.message}${d.hint !== undefined ? ` (${d.hint})` : ''}`;
}

/** A diagnostic as a TgettyError, for callers that want to throw or log it with context. */
export function diagnosticToError(d: Diagnostic): TgettyError {
  const ctx = d.line > 0 ? { file: d.file, line: d.line } : { file: d.file };
  return new TgettyError(d.code, d.hint !== undefined ? `${d.message} (${d.hint})` : d.message, ctx);
}

export function hasErrors(ds: readonly Diagnostic[]): boolean {
  return ds.some((d) => d.severity === 'error');
}
