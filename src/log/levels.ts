/**
 * Log levels with mgetty's meaning for `-x` and `debug`: a message is written iff its
 * level is <= the configured level. 7..9 are accepted as configured levels and behave
 * like 6 (JUNK).
 */

export const LogLevel = {
  FATAL: 0,
  ERROR: 1,
  AUDIT: 2,
  WARN: 3,
  MESG: 4,
  NOISE: 5,
  JUNK: 6,
} as const;

/** A level a message can have (0..6). */
export type MessageLevel = (typeof LogLevel)[keyof typeof LogLevel];

export type LevelName = 'fatal' | 'error' | 'audit' | 'warn' | 'mesg' | 'noise' | 'junk';

const NAMES: readonly LevelName[] = ['fatal', 'error', 'audit', 'warn', 'mesg', 'noise', 'junk'];

/** The default configured level (mgetty's compiled-in default). */
export const DEFAULT_LOG_LEVEL = LogLevel.MESG;
/** Highest configured level accepted. */
export const MAX_LOG_LEVEL = 9;

export function levelName(level: MessageLevel): LevelName {
  return NAMES[level] ?? 'junk';
}

/** Clamp any number to a configured level 0..9 (non-integers round down, NaN -> 0). */
export function clampLevel(n: number): number {
  if (!Number.isFinite(n)) return n > 0 ? MAX_LOG_LEVEL : 0;
  return Math.min(MAX_LOG_LEVEL, Math.max(0, Math.trunc(n)));
}

/**
 * Parse a `-x` / `debug` value the way mgetty does (C atoi): leading blanks and an
 * optional sign, then the leading digits; no digits -> 0. The result is clamped to 0..9.
 */
export function parseLogLevel(text: string): number {
  const m = /^[ \t]*([+-]?)(\d+)/.exec(text);
  if (m === null) return 0;
  const n = Number(m[2]);
  return clampLevel(m[1] === '-' ? -n : n);
}
