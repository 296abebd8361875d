/**
 * What two fax ends say to each other in the simulator's exchange: the T.30 messages of
 * a call (no tones, no HDLC framing, but the same steps), and the page data in line
 * order. Both ends of a call (a virtual modem's fax handler set, a virtual fax machine)
 * speak only this.
 *
 * Line order: the byte's most significant bit is the bit sent first on the line (as
 * T.4 writes codes, and as netpbm's and mgetty's G3 files hold them).
 */

/** T.30 session parameters, in the order +FDCC/+FDIS/+FDCS (+FCC/+FIS/+FCS) list them. */
export interface FaxParams {
  /** Vertical resolution: 0 normal (98 lpi), 1 fine (196 lpi). */
  vr: number;
  /** Bit rate: 0 2400, 1 4800, 2 7200, 3 9600, 4 12000, 5 14400. */
  br: number;
  /** Page width: 0 1728 pixels, 1 2048, 2 2432, ... */
  wd: number;
  /** Page length: 0 A4, 1 B4, 2 unlimited. */
  ln: number;
  /** Data format: 0 1-D MH, 1 2-D MR, 2 uncompressed, 3 2-D MMR. */
  df: number;
  /** Error correction: 0 none. */
  ec: number;
  /** Binary file transfer: 0 none. */
  bf: number;
  /** Minimum scan line time code (0 = 0 ms ... 7). */
  st: number;
}

export type FaxSignal =
  /** Answerer: its identification (CSI) and capabilities (DIS); `poll`: it has a document for a polling caller (DIS bit 9). */
  | { t: 'dis'; caps: FaxParams; id: string; poll?: boolean }
  /** Caller, instead of DCS: it polls (DTC with its CIG and what it can receive); the answerer sends from here on. */
  | { t: 'dtc'; caps: FaxParams; id: string }
  /** Caller: its identification (TSI) and the chosen parameters (DCS), then training. */
  | { t: 'dcs'; params: FaxParams; id: string }
  /** Answerer: training good, ready to receive (CFR). */
  | { t: 'cfr' }
  /** Caller: phase C (page data) starts. */
  | { t: 'page' }
  /** Page data, line order. */
  | { t: 'data'; bytes: Uint8Array }
  /** Caller: end of page and what follows: 0 another page (MPS), 1 another document (EOM), 2 the end (EOP). */
  | { t: 'pmc'; next: 0 | 1 | 2 }
  /** Answerer: the page's status: 1 good (MCF), 2 bad, retrain (RTN), 3 good, retrain (RTP). */
  | { t: 'pmr'; status: number }
  /** Disconnect: the call ends normally. */
  | { t: 'dcn' };

export const BIT_RATES = [2400, 4800, 7200, 9600, 12000, 14400] as const;
