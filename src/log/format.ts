/**
 * Pure formatting of log entries: mgetty-like text lines and JSON lines. Every entry
 * is ONE complete line ending in LF (mgetty instead starts each entry with LF and
 * leaves the last line open; we end them so `tail -f` and log shippers see whole lines).
 */
import { TgettyError, errnoCode } from '../core/errors.js';
import { LogLevel, levelName } from './levels.js';
import type { MessageLevel } from './levels.js';

/** Structured extras for an entry. `err` is special: its reason is appended to the text. */
export interface LogFields {
  err?: unknown;
  [key: string]: unknown;
}

export interface LogEntry {
  /** Wall-clock milliseconds since the epoch. */
  time: number;
  level: MessageLevel;
  /** Device name without `/dev/`, e.g. `ttyS3` or `pts/4`. */
  device: string;
  msg: string;
  fields?: LogFields | undefined;
}

function two(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** `MM/DD HH:MM:SS` in local time (no year, as mgetty). */
export function formatLocalTime(ms: number): string {
  const d = new Date(ms);
  return `${two(d.getMonth() + 1)}/${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** The 3-character tag naming the line in text logs: the last 3 chars of the device. */
export function logInfix(device: string): string {
  if (device === '' || device === 'unknown') return '???';
  return device.length <= 3 ? device : device.slice(-3);
}

/** Human reason for an error value, used after `: ` in text lines. */
export function errorReason(err: unknown): string {
  if (err instanceof TgettyError) return `${err.message} [${err.code}]`;
  if (err instanceof Error) return err.message;
  if (typeof err === 'string') return err;
  try {
    return JSON.stringify(err) ?? String(err);
  } catch {
    return String(err);
  }
}

function errorCodeOf(err: unknown): string | undefined {
  if (err instanceof TgettyError) return err.code;
  return errnoCode(err);
}

/**
 * Replace characters that would break the one-line-per-entry rule or a terminal
 * (C0 controls, DEL, C1 controls) with `_`, as mgetty does for non-printables.
 */
export function sanitizeText(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '_');
}

/**
 * One field of a log line, in single quotes: `'`, `\` and every control character
 * (C0, DEL, C1, U+2028/U+2029) escaped (`\'`, `\\`, `\xHH`, `\uHHHH`). Every value a
 * caller can choose (login name, caller ID and name, connect string, EMSI data) goes
 * through this, so a name like `x', cmd='/bin/sh` stays inside its field in the log
 * file and in syslog. The only escaping function: use it for every quoted field.
 */
export function logField(value: string | number | undefined): string {
  const s = value === undefined ? '' : String(value);
  // The common case (digits, a plain name) needs no copy.
  if (!/['\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(s)) return `'${s}'`;
  const out = s.replace(/['\\\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => {
    if (c === "'" || c === '\\') return `\\${c}`;
    const n = c.charCodeAt(0);
    return n > 0xff ? `\\u${n.toString(16).padStart(4, '0')}` : `\\x${n.toString(16).padStart(2, '0')}`;
  });
  return `'${out}'`;
}

/** The text of an entry without time or infix (also what syslog gets). */
export function entryText(e: LogEntry): string {
  const err = e.fields?.err;
  const reason = err !== undefined ? `: ${errorReason(err)}` : '';
  return sanitizeText(e.msg + reason);
}

/**
 * One text line: `MM/DD HH:MM:SS <infix>  <text>` (NOISE indented by one more space,
 * JUNK by two), AUDIT as `MM/DD HH:MM:SS ##### <text>`. Ends with LF.
 */
export function formatText(e: LogEntry): string {
  const time = formatLocalTime(e.time);
  const text = entryText(e);
  if (e.level === LogLevel.AUDIT) return `${time} ##### ${text}\n`;
  const indent = e.level === LogLevel.NOISE ? ' ' : e.level === LogLevel.JUNK ? '  ' : '';
  return `${time} ${logInfix(e.device)}  ${indent}${text}\n`;
}

const CORE_KEYS = new Set(['time', 'level', 'levelNo', 'dev', 'msg', 'error', 'errorCode']);

function jsonSafe(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return errorReason(value);
  return value;
}

/**
 * One JSON line: `{"time","level","levelNo","dev","msg", ...fields}`. A field whose
 * name clashes with a core key is kept under `_<name>`. Never throws: fields that
 * cannot be serialised (cycles) are replaced by a note.
 */
export function formatJson(e: LogEntry): string {
  const obj: Record<string, unknown> = {
    time: new Date(e.time).toISOString(),
    level: levelName(e.level),
    levelNo: e.level,
    dev: e.device,
    msg: e.msg,
  };
  const err = e.fields?.err;
  if (err !== undefined) {
    obj.error = errorReason(err);
    const code = errorCodeOf(err);
    if (code !== undefined) obj.errorCode = code;
  }
  const core = JSON.stringify(obj, jsonSafe);
  if (e.fields === undefined) return `${core}\n`;
  for (const [k, v] of Object.entries(e.fields)) {
    if (k === 'err' || v === undefined) continue;
    obj[CORE_KEYS.has(k) ? `_${k}` : k] = v;
  }
  try {
    return `${JSON.stringify(obj, jsonSafe)}\n`;
  } catch {
    return `${core.slice(0, -1)},"fieldsError":"fields not serialisable"}\n`;
  }
}
