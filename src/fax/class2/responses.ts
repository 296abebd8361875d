/**
 * What a class 2 or class 2.0 fax modem says, as one type. Class 2 (the SP-2388 draft
 * most modems implement) and class 2.0 (EIA-592 / ITU-T T.32) name the same reports
 * differently: +FCON / +FCO, +FTSI / +FTI, +FDCS / +FCS, +FPTS / +FPS, +FHNG / +FHS.
 * Pure.
 */

/** T.30 session parameters: resolution, bit rate, width, length, data format, ECM, BFT, scan time. */
export interface SessionParams {
  /** 0 normal (98 lpi), 1 fine (196 lpi). */
  vr: number;
  /** 0..5: 2400, 4800, 7200, 9600, 12000, 14400 bit/s. */
  br: number;
  /** 0 1728 pixels, 1 2048, 2 2432. */
  wd: number;
  ln: number;
  /** 0 MH (1-D), 1 MR (2-D). */
  df: number;
  ec: number;
  bf: number;
  st: number;
}

export type FaxResponse =
  | { kind: 'ok' }
  | { kind: 'error' }
  | { kind: 'connect' }
  | { kind: 'no-carrier' }
  /** Fax connection: +FCON (2), +FCO (2.0), or FAX from adaptive answer. */
  | { kind: 'fax-connect' }
  /** Remote station id: +FTSI/+FTI (the sender's, when we receive), +FCSI/+FCI (the answerer's, when we send), +FCIG/+FPI (a poller's, when we answered). */
  | { kind: 'remote-id'; id: string; role: 'transmitter' | 'called' | 'poller' }
  /** The caller polls us (DTC): +FDTC (2) / +FTC (2.0), with what it can receive. */
  | { kind: 'poll-request'; params: SessionParams }
  /** Negotiated (+FDCS/+FCS) or offered (+FDIS/+FIS) parameters. */
  | { kind: 'params'; params: SessionParams; negotiated: boolean }
  | { kind: 'cfr' }
  /** Page transfer status: 1 good, 2 bad (retrain), 3 good (retrain), ...; line counts when given. */
  | { kind: 'page-status'; status: number; lines: number | undefined }
  /** Post-page message: 0 more pages (MPS), 1 new document (EOM), 2 end (EOP). */
  | { kind: 'post-page'; message: number }
  | { kind: 'hangup'; code: number }
  /** The answerer has a document for us to poll (+FPOLL class 2, +FPO class 2.0), after polling was asked for. */
  | { kind: 'poll' }
  | { kind: 'other'; text: string };

export const BIT_RATES = [2400, 4800, 7200, 9600, 12000, 14400] as const;
export const PAGE_WIDTHS = [1728, 2048, 2432] as const;

function num(s: string | undefined, radix: number): number {
  const v = s === undefined ? NaN : parseInt(s.trim(), radix);
  return Number.isFinite(v) ? v : 0;
}

/** `+FDCS:1,5,0,2,0,0,0,0` (class 2: decimal; class 2.0 allows hex digits, which are the same for 0..9). */
export function parseParams(text: string): SessionParams {
  const f = text.split(',');
  const v = (i: number): number => num(f[i], 16);
  return { vr: v(0), br: v(1), wd: v(2), ln: v(3), df: v(4), ec: v(5), bf: v(6), st: v(7) };
}

/** The id in `+FTSI:"  49 30 1234 "` (quotes optional), trimmed. */
function stationId(text: string): string {
  const m = /^\s*"(.*)"\s*$/.exec(text);
  return (m !== null ? (m[1] ?? '') : text).trim();
}

export function parseFaxResponse(line: string): FaxResponse {
  const t = line.trim();
  const u = t.toUpperCase();
  if (u === 'OK') return { kind: 'ok' };
  if (u === 'ERROR') return { kind: 'error' };
  if (u === 'NO CARRIER') return { kind: 'no-carrier' };
  if (u === 'CONNECT' || u.startsWith('CONNECT ')) return { kind: 'connect' };
  if (u === 'FAX' || u === '+FCON' || u === '+FCO') return { kind: 'fax-connect' };
  if (u === '+FCFR') return { kind: 'cfr' };
  if (u === '+FPOLL' || u === '+FPO') return { kind: 'poll' };
  const m = /^\+F([A-Z]+)\s*:\s*(.*)$/.exec(t);
  if (m === null) return { kind: 'other', text: t };
  const name = (m[1] ?? '').toUpperCase();
  const rest = m[2] ?? '';
  switch (name) {
    case 'TSI':
    case 'TI':
      return { kind: 'remote-id', id: stationId(rest), role: 'transmitter' };
    case 'CSI':
    case 'CI':
      return { kind: 'remote-id', id: stationId(rest), role: 'called' };
    case 'CIG':
    case 'PI':
      return { kind: 'remote-id', id: stationId(rest), role: 'poller' };
    case 'DTC':
    case 'TC':
      return { kind: 'poll-request', params: parseParams(rest) };
    case 'DCS':
    case 'CS':
      return { kind: 'params', params: parseParams(rest), negotiated: true };
    case 'DIS':
    case 'IS':
      return { kind: 'params', params: parseParams(rest), negotiated: false };
    case 'PTS':
    case 'PS': {
      const f = rest.split(',');
      const lines = f[1] !== undefined && f[1].trim() !== '' ? num(f[1], name === 'PS' ? 16 : 10) : undefined;
      return { kind: 'page-status', status: num(f[0], 10), lines };
    }
    case 'ET':
      return { kind: 'post-page', message: num(rest, 10) };
    case 'HNG':
      return { kind: 'hangup', code: num(rest, 10) };
    case 'HS': {
      // Class 2.0 writes class 2's decimal codes with the tens as a hex digit: 100 -> A0, 73 -> 73.
      const v = num(rest, 16);
      return { kind: 'hangup', code: v % 16 <= 9 ? Math.floor(v / 16) * 10 + (v % 16) : v };
    }
    default:
      return { kind: 'other', text: t };
  }
}
