/**
 * The `Environment=` lines of a systemd unit, read the way systemd reads them, so the
 * benchmarks can start the daemon "as shipped" (the V8 and glibc settings of
 * contrib/systemd/tgetty.service) without systemd.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The shipped daemon unit (from dist/test/helpers). */
export const SHIPPED_UNIT = resolve(import.meta.dirname, '../../../contrib/systemd/tgetty.service');

/**
 * systemd's Environment= value: space-separated K=V assignments; double or single quotes
 * (with backslash escapes) let one assignment hold spaces. Specifiers and $VAR are not
 * expanded (systemd does not expand $ in Environment= either).
 */
export function parseEnvAssignments(value: string): [string, string][] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: string | undefined;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    const escaped = c === '\\' && i + 1 < value.length;
    if (quote !== undefined) {
      if (c === quote) quote = undefined;
      else word += escaped ? (value[++i]) : c;
    } else if (c === ' ' || c === '\t') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else {
      word += escaped ? (value[++i]) : c;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new Error(`unterminated quote in environment assignments: ${value}`);
  if (inWord) words.push(word);
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw new Error(`not an assignment K=V: ${w}`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** The assignments of every `Environment=` line of a unit's [Service] section, in order (an empty one resets, as in systemd). */
export function unitEnvironment(unitText: string): [string, string][] {
  let section = '';
  let out: [string, string][] = [];
  // Continuation lines (a trailing backslash) join the next line, as systemd reads them.
  for (const raw of unitText.replace(/\\\n/g, ' ').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec !== null) {
      section = sec[1];
      continue;
    }
    const m = /^Environment\s*=\s*(.*)$/.exec(line);
    if (section !== 'Service' || m === null) continue;
    const value = m[1];
    if (value === '') out = [];
    else out.push(...parseEnvAssignments(value));
  }
  return out;
}

/** The Environment= assignments of the shipped unit (SHIPPED_UNIT), what "as shipped" means in the benchmarks. */
export function shippedUnitEnvironment(): [string, string][] {
  return unitEnvironment(readFileSync(SHIPPED_UNIT, 'utf8'));
}
