/**
 * PPP on a login line: spotting the start of the caller's first LCP frame (AutoPPP,
 * spec §5.13 rule 2), and building real LCP frames for tests and the simulator's
 * callers. Pure: no I/O, no timers.
 *
 * The detector follows mgetty's rule: flag 0x7E, then Address 0xFF, Control 0x03,
 * Protocol 0xC0 0x21, each of the last four possibly HDLC-escaped (0x7D, then the byte
 * XOR 0x20), as pppd sends them with the default ACCM. Deliberately NOT accepted:
 * - a frame without the leading flag (pppd always sends the flag first; mgetty needs it);
 * - the address/control-field-compressed form `7E C0 21`: RFC 1661 §6.6 forbids ACFC
 *   on LCP frames, so a real peer never starts that way, and accepting it would only
 *   add false positives.
 * Only the bytes up to the LCP protocol number are checked (not the LCP code), as
 * mgetty does.
 */

export const HDLC_FLAG = 0x7e;
export const HDLC_ESCAPE = 0x7d;
/** RFC 1662 §C.2: the FCS-16 of a frame plus its own FCS bytes. */
export const PPP_GOOD_FCS = 0xf0b8;

/** The bytes after the flag that make an LCP frame, once un-escaped. */
const LCP_START = [0xff, 0x03, 0xc0, 0x21] as const;

export interface PppMatch {
  /** Index (in the chunk just fed) of the byte that completed the detection (the 0x21). */
  offset: number;
  /** Index of the first byte after it: `chunk.subarray(end)` is still unread frame data. */
  end: number;
}

/**
 * Incremental detector. One instance lives for a whole call: its state persists across
 * prompts, so a frame cut by a re-printed prompt (^C = 0x03 is the Control field) is
 * still recognised, as with mgetty.
 */
export class PppDetector {
  /** 0 = nothing seen; n = flag plus n-1 bytes of LCP_START matched. */
  private lvl = 0;
  private escaped = false;

  /** How far into a frame start we are (0 = not in one). For logs and tests. */
  get level(): number {
    return this.lvl;
  }

  /** One byte; true when it completes the frame start. The detector then starts over. */
  push(byte: number): boolean {
    const b = byte & 0xff;
    if (b === HDLC_FLAG) {
      // A flag always (re)starts a frame, also in the middle of one.
      this.lvl = 1;
      this.escaped = false;
      return false;
    }
    if (b === HDLC_ESCAPE) {
      // The escape does not break a match: it changes the meaning of the next byte.
      this.escaped = true;
      return false;
    }
    const c = this.escaped ? b ^ 0x20 : b;
    this.escaped = false;
    if (this.lvl >= 1 && c === LCP_START[this.lvl - 1]) {
      this.lvl++;
      if (this.lvl === LCP_START.length + 1) {
        this.lvl = 0;
        return true;
      }
      return false;
    }
    this.lvl = 0;
    return false;
  }

  /** A chunk; the first detection in it, or undefined. Bytes after the match are not looked at. */
  feed(chunk: Uint8Array): PppMatch | undefined {
    for (let i = 0; i < chunk.length; i++) {
      if (this.push(chunk[i] ?? 0)) return { offset: i, end: i + 1 };
    }
    return undefined;
  }

  reset(): void {
    this.lvl = 0;
    this.escaped = false;
  }
}

// ---------------------------------------------------------------------------------
// Building frames (RFC 1661 LCP, RFC 1662 HDLC-like framing)

const FCS_TABLE: Uint16Array = (() => {
  const t = new Uint16Array(256);
  for (let b = 0; b < 256; b++) {
    let v = b;
    for (let i = 0; i < 8; i++) v = v & 1 ? (v >>> 1) ^ 0x8408 : v >>> 1;
    t[b] = v;
  }
  return t;
})();

/** RFC 1662 §C.2 FCS-16 over `data`, starting from `fcs` (0xFFFF for a new frame). Not complemented. */
export function fcs16(data: Uint8Array, fcs = 0xffff): number {
  let f = fcs & 0xffff;
  for (const b of data) f = (f >>> 8) ^ (FCS_TABLE[(f ^ b) & 0xff] ?? 0);
  return f;
}

/**
 * HDLC byte stuffing (RFC 1662 §4.2): 0x7E and 0x7D always, and each control byte
 * 0x00–0x1F whose bit is set in `accm`, become 0x7D, byte XOR 0x20.
 */
export function hdlcStuff(data: Uint8Array, accm = 0xffffffff): Uint8Array {
  const out: number[] = [];
  for (const b of data) {
    const escape = b === HDLC_FLAG || b === HDLC_ESCAPE || (b < 0x20 && ((accm >>> b) & 1) === 1);
    if (escape) out.push(HDLC_ESCAPE, b ^ 0x20);
    else out.push(b);
  }
  return Uint8Array.from(out);
}

/** The inverse of hdlcStuff for the bytes between two flags. */
export function hdlcUnstuff(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let esc = false;
  for (const b of data) {
    if (b === HDLC_ESCAPE) {
      esc = true;
      continue;
    }
    out.push(esc ? b ^ 0x20 : b);
    esc = false;
  }
  return Uint8Array.from(out);
}

/** Address, Control, Protocol, payload and FCS (low byte first) -> stuffed frame between flags. */
export function pppFrame(protocol: number, payload: Uint8Array, accm = 0xffffffff): Uint8Array {
  const body = new Uint8Array(4 + payload.length + 2);
  body.set([0xff, 0x03, (protocol >>> 8) & 0xff, protocol & 0xff], 0);
  body.set(payload, 4);
  const fcs = fcs16(body.subarray(0, 4 + payload.length)) ^ 0xffff;
  body[4 + payload.length] = fcs & 0xff;
  body[5 + payload.length] = (fcs >>> 8) & 0xff;
  const stuffed = hdlcStuff(body, accm);
  const out = new Uint8Array(stuffed.length + 2);
  out[0] = HDLC_FLAG;
  out.set(stuffed, 1);
  out[out.length - 1] = HDLC_FLAG;
  return out;
}

export interface LcpRequestOptions {
  /** The Magic-Number option (type 5). */
  magic: number;
  /** LCP Identifier (default 1). */
  id?: number;
  /** Transmit ACCM used for the byte stuffing (default 0xFFFFFFFF: every control byte escaped, as before LCP is up). */
  accm?: number;
  /** Shorthand: false stuffs with ACCM 0 (only 0x7E/0x7D escaped) unless `accm` is given. Default true. */
  escapeAll?: boolean;
  /** Async-Control-Character-Map option value offered to the peer (type 2; default 0, as pppd). */
  asyncMap?: number;
  /** Offer Protocol-Field- and Address-and-Control-Field-Compression (types 7, 8; default true, as pppd). */
  compression?: boolean;
  /** Maximum-Receive-Unit option (type 1), omitted by default. */
  mru?: number;
}

/** A complete LCP Configure-Request frame as pppd sends it first (flags, stuffing, FCS). */
export function lcpConfigureRequest(o: LcpRequestOptions): Uint8Array {
  const opts: number[] = [];
  const u32 = (v: number): number[] => [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
  if (o.mru !== undefined) opts.push(1, 4, (o.mru >>> 8) & 0xff, o.mru & 0xff);
  opts.push(2, 6, ...u32(o.asyncMap ?? 0));
  opts.push(5, 6, ...u32(o.magic));
  if (o.compression ?? true) opts.push(7, 2, 8, 2);
  const len = 4 + opts.length;
  const lcp = Uint8Array.from([1, (o.id ?? 1) & 0xff, (len >>> 8) & 0xff, len & 0xff, ...opts]);
  const accm = o.accm ?? ((o.escapeAll ?? true) ? 0xffffffff : 0);
  return pppFrame(0xc021, lcp, accm);
}
