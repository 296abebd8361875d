/**
 * Expanding a chat SEND element into timed output (spec §6.3). Pure: the runner
 * performs the ops in order (sleep, write).
 *
 * The input is one element as the config splitter produced it: `\r \n \t \\ \"` are
 * already resolved there, any other backslash pair arrives as two characters. This
 * stage knows only `\d` (pause 500 ms) and `\c` (no CR at the end); `\x` sends `x`
 * (Q8: `\p` sends `p`, there is no pause escape `\p`).
 */
import type { ErrorCode } from '../core/errors.js';

export type SendOp = { kind: 'delay'; ms: number } | { kind: 'bytes'; data: Uint8Array };

export interface SendDiagnostic {
  code: ErrorCode;
  message: string;
  /** The element as given (latin1). */
  element: string;
}

/** mgetty waits this long before every send, even an empty one. */
export const SEND_PRE_DELAY_MS = 50;
/** `\d` */
export const SEND_PAUSE_MS = 500;

/**
 * A lone backslash at the end of an element. mgetty sends a NUL and then text of the
 * following chat elements (a buffer overrun, Q8). tgetty deliberately differs: it sends
 * nothing for the backslash and reports this diagnostic.
 */
export const TRAILING_BACKSLASH_CODE: ErrorCode = 'CHAT_SYNTAX';
export function trailingBackslashDiagnostic(element: string): SendDiagnostic {
  return {
    code: TRAILING_BACKSLASH_CODE,
    message: `chat send string ends in a lone backslash; nothing is sent for it (mgetty would send a NUL and garbage): ${JSON.stringify(element)}`,
    element,
  };
}

export interface SendPlan {
  ops: SendOp[];
  diagnostics: SendDiagnostic[];
}

function bytesOf(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** Expand one SEND element (latin1 string) into ops: always a 50 ms delay first. */
export function expandSend(element: string): SendPlan {
  const ops: SendOp[] = [{ kind: 'delay', ms: SEND_PRE_DELAY_MS }];
  const diagnostics: SendDiagnostic[] = [];
  // `\c` anywhere in the element suppresses the final CR, so it is only a flag here.
  let noCr = false;
  let pending = '';
  const flush = (): void => {
    if (pending !== '') ops.push({ kind: 'bytes', data: bytesOf(pending) });
    pending = '';
  };
  for (let i = 0; i < element.length; i++) {
    const ch = element.charAt(i);
    if (ch !== '\\') {
      pending += ch;
      continue;
    }
    if (i + 1 >= element.length) {
      diagnostics.push(trailingBackslashDiagnostic(element));
      break;
    }
    const next = element.charAt(++i);
    if (next === 'd') {
      flush();
      ops.push({ kind: 'delay', ms: SEND_PAUSE_MS });
    } else if (next === 'c') {
      noCr = true;
    } else {
      pending += next;
    }
  }
  if (!noCr) pending += '\r';
  flush();
  return { ops, diagnostics };
}

/** Everything the ops write, concatenated (for logs and tests). */
export function sendBytes(ops: readonly SendOp[]): Uint8Array {
  const parts = ops.filter((o): o is Extract<SendOp, { kind: 'bytes' }> => o.kind === 'bytes').map((o) => o.data);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Total pause time of the ops in ms. */
export function sendDelayMs(ops: readonly SendOp[]): number {
  return ops.reduce((n, o) => n + (o.kind === 'delay' ? o.ms : 0), 0);
}
