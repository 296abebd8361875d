/**
 * What a modem prints for caller ID and distinctive ring. Written from the public formats
 * listed in the spec (§7.2); the getty's own caller-ID parser is deliberately not used.
 */
import type { CidFormat } from './personality.js';

export interface CallerInfo {
  /** Digits, or `P` (private) / `O` (out of area) as telcos send them. */
  number?: string;
  name?: string;
  /** Call time; caller-ID blocks carry month, day, hour, minute (UTC here, for reproducible tests). */
  when?: Date;
}

function two(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * The lines (without line ends) of the caller-ID block sent after the first RING.
 * `ring-number` and `elsa` put the number into the RING line itself, so they have no block.
 */
export function callerIdBlock(format: CidFormat, info: CallerInfo): string[] {
  const when = info.when ?? new Date(0);
  const mmdd = two(when.getUTCMonth() + 1) + two(when.getUTCDate());
  const hhmm = two(when.getUTCHours()) + two(when.getUTCMinutes());
  const lines: string[] = [];
  switch (format) {
    case 'mdmf':
    case 'mdmf-compact': {
      const sep = format === 'mdmf' ? ' = ' : '=';
      lines.push(`DATE${sep}${mmdd}`, `TIME${sep}${hhmm}`);
      if (info.number !== undefined) lines.push(`NMBR${sep}${info.number}`);
      if (info.name !== undefined) lines.push(`NAME${sep}${info.name}`);
      return lines;
    }
    case 'clip': {
      if (info.number === undefined) return [];
      const type = info.number.startsWith('+') ? 145 : 129;
      const name = info.name !== undefined ? `"${info.name}"` : '';
      return [`+CLIP: "${info.number}",${type},,,${name},0`];
    }
    case 'zyxel':
      lines.push(`TIME: ${two(when.getUTCMonth() + 1)}-${two(when.getUTCDate())} ${two(when.getUTCHours())}:${two(when.getUTCMinutes())}`);
      lines.push(info.number !== undefined ? `CALLER NUMBER: ${info.number}` : 'REASON FOR NO CALLER NUMBER: P');
      if (info.name !== undefined) lines.push(`CALLER NAME: ${info.name}`);
      return lines;
    case 'ring-number':
    case 'elsa':
    case 'none':
      return [];
  }
}

export type DistinctiveFormat = 'digit' | 'letter' | 'dron';

/**
 * The RING line itself (and any cadence lines before it) for one ring.
 * `distinctive` 0 = an ordinary ring.
 */
export function ringLines(format: CidFormat, info: CallerInfo, distinctive: number, dformat: DistinctiveFormat): string[] {
  const out: string[] = [];
  let ring = 'RING';
  if (format === 'ring-number' && info.number !== undefined) ring = `RING ${info.number}`;
  else if (format === 'elsa' && info.number !== undefined) ring = `RING;${info.number}`;
  else if (distinctive > 0) {
    if (dformat === 'digit') ring = `RING ${distinctive}`;
    else if (dformat === 'letter') ring = `RING ${String.fromCharCode(64 + distinctive)}`;
    else {
      // Cadence report: one DROF/DRON line per bit of the ring number, long (>= 1 s) for 1.
      const bits = distinctive.toString(2);
      for (let i = 0; i < bits.length; i++) {
        const long = bits[i] === '1';
        out.push(`${i % 2 === 0 ? 'DROF' : 'DRON'}=${i === 0 ? 40 : long ? 20 : 5}`);
      }
    }
  }
  out.push(ring);
  return out;
}
