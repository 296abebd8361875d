/**
 * T.30 session parameters as the class 2 / 2.0 commands write them: `vr,br,wd,ln,df,ec,bf,st`
 * (+FDCC, +FDIS, +FDCS; +FCC, +FIS, +FCS). Pure.
 */
import type { FaxParams } from './signals.js';

const KEYS = ['vr', 'br', 'wd', 'ln', 'df', 'ec', 'bf', 'st'] as const;

/** What this modem can do, per field: the +FDCC=? / +FCC=? answer and the limits of a set. */
const MAX: Readonly<Record<(typeof KEYS)[number], number>> = { vr: 1, br: 5, wd: 4, ln: 2, df: 1, ec: 0, bf: 0, st: 7 };

export const PARAM_RANGES = '(0,1),(0-5),(0-4),(0-2),(0,1),(0),(0),(0-7)';

/** The modem's default capabilities (fine, 14400, A4 width, unlimited length, 1-D). */
export function defaultParams(): FaxParams {
  return { vr: 1, br: 5, wd: 0, ln: 2, df: 0, ec: 0, bf: 0, st: 0 };
}

export function formatParams(p: FaxParams): string {
  return KEYS.map((k) => p[k].toString(16).toUpperCase()).join(',');
}

/**
 * `1,5,0,2` sets the fields given and keeps the others (an empty field keeps its value too).
 * Class 2.0 writes the values in hex, class 2 in decimal; the ranges are single digits
 * either way. Undefined: out of range or not a number (the command says ERROR).
 */
export function parseParams(arg: string, base: FaxParams): FaxParams | undefined {
  const parts = arg.split(',');
  if (parts.length > KEYS.length) return undefined;
  const out = { ...base };
  for (let i = 0; i < parts.length; i++) {
    const t = (parts[i] ?? '').trim();
    if (t === '') continue;
    if (!/^[0-9A-Fa-f]$/.test(t)) return undefined;
    const v = parseInt(t, 16);
    const key = KEYS[i];
    if (key === undefined || v > MAX[key]) return undefined;
    out[key] = v;
  }
  return out;
}

/** What the caller chooses from its own settings and the answerer's DIS (the DCS). */
export function negotiate(local: FaxParams, remote: FaxParams): FaxParams {
  return {
    vr: Math.min(local.vr, remote.vr),
    br: Math.min(local.br, remote.br),
    wd: Math.min(local.wd, remote.wd),
    ln: Math.min(local.ln, remote.ln),
    df: Math.min(local.df, remote.df),
    ec: 0,
    bf: 0,
    // The slower of the two scan line times.
    st: Math.max(local.st, remote.st),
  };
}
