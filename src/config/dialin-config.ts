/**
 * dialin.config, caller screening by caller ID (spec §4.1). Tokens are compared in file order;
 * the first match decides (`!token` rejects); no match accepts. Pure.
 */
import type { Diagnostic } from './diagnostics.js';
import { physicalLineCount } from './mgetty-config.js';

export interface DialinToken {
  /** The text compared (without the `!`). */
  token: string;
  /** `!` prefix: a match rejects the call. */
  negate: boolean;
  file: string;
  line: number;
}

export interface ParsedDialin {
  file: string;
  tokens: DialinToken[];
  diagnostics: Diagnostic[];
  lineCount: number;
}

/** Caller ID text used when none is known. */
export const NO_CALLER_ID = 'none';

/**
 * Parse dialin.config. No line continuation here (mgetty reads it with a simpler reader).
 * Tokens split at blanks and commas. CR counts as a blank so files with DOS line ends work
 * (mgetty would keep the CR in the last token of each line, which then never matches).
 */
export function parseDialinConfig(text: string, file: string): ParsedDialin {
  const tokens: DialinToken[] = [];
  const diagnostics: Diagnostic[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i].replace(/^[ \t\r\f\v]+/, '');
    if (l === '' || l.startsWith('#')) continue;
    for (const t of l.split(/[ \t\r\f\v,]+/)) {
      if (t === '') continue;
      const negate = t.startsWith('!');
      const token = negate ? t.slice(1) : t;
      if (token === '') {
        // An empty prefix matches every caller: a lone `!` rejects everything after this point.
        diagnostics.push({
          severity: 'warning', code: 'CONFIG_BAD_VALUE', kind: 'suspicious', file, line: i + 1,
          message: "a lone '!' matches every caller, so every call not accepted earlier is rejected",
          hint: "write '!all' if that is intended",
        });
      }
      tokens.push({ token, negate, file, line: i + 1 });
    }
  }
  return { file, tokens, diagnostics, lineCount: physicalLineCount(text) };
}

export interface DialinDecision {
  accept: boolean;
  /** The deciding token; undefined = no token matched (implicit accept). */
  token?: DialinToken;
  /** One line for the log, e.g. `dialin.config:4: '!555' matches '5551234': reject`. */
  reason: string;
}

/** Screen a caller ID. undefined or empty = no caller ID (compared as `none`). */
export function evaluateDialin(tokens: readonly DialinToken[], callerId: string | undefined): DialinDecision {
  const cid = callerId === undefined || callerId === '' ? NO_CALLER_ID : callerId;
  for (const t of tokens) {
    if (t.token === 'all' || cid.startsWith(t.token)) {
      const shown = (t.negate ? '!' : '') + t.token;
      return {
        accept: !t.negate,
        token: t,
        reason: `${t.file}:${t.line}: '${shown}' matches caller '${cid}': ${t.negate ? 'reject' : 'accept'}`,
      };
    }
  }
  return { accept: true, reason: `no dialin.config token matches caller '${cid}': accept` };
}
