/**
 * Telnet (RFC 854) for callers that "dial in" over TCP. Pure: bytes in, bytes out.
 *
 * Option negotiation follows RFC 1143 (the Q method, without the queue bit): a request
 * is sent only on a state change and an acknowledgement is never answered, so there are
 * no negotiation loops whatever the client does. We offer WILL ECHO (the getty echoes,
 * so the client must not), WILL/DO SUPPRESS-GO-AHEAD and WILL/DO BINARY; everything else
 * is refused.
 */

export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
export const SB = 250;
export const SE = 240;
export const OPT_BINARY = 0;
export const OPT_ECHO = 1;
export const OPT_SGA = 3;

type Q = 'no' | 'yes' | 'wantno' | 'wantyes';

const CR = 13;
const LF = 10;
const NUL = 0;

/** Which options each side may have, and which we ask for at the start. */
export interface TelnetPolicy {
  /** Options we agree to enable on our side (answer DO with WILL). */
  weWill: readonly number[];
  /** Options we let the peer enable (answer WILL with DO). */
  heMay: readonly number[];
  /** Our opening offers: WILL these... */
  offer: readonly number[];
  /** ...and DO these. */
  ask: readonly number[];
  /**
   * A CR LF from the peer becomes one CR (a caller's Return key, for a getty). A client
   * showing a server's output keeps the LF; CR NUL becomes CR either way.
   */
  crLfIsReturn: boolean;
}

/** The simulator's side for telnet callers: we echo (the getty does), SGA and BINARY both ways. */
export const SERVER_POLICY: TelnetPolicy = {
  weWill: [OPT_BINARY, OPT_ECHO, OPT_SGA],
  heMay: [OPT_BINARY, OPT_SGA],
  offer: [OPT_ECHO, OPT_SGA, OPT_BINARY],
  ask: [OPT_SGA, OPT_BINARY],
  crLfIsReturn: true,
};

export class TelnetCodec {
  /** Options on our side (we WILL). */
  private readonly us = new Map<number, Q>();
  /** Options on the peer's side (he WILL). */
  private readonly him = new Map<number, Q>();
  private readonly weWill: ReadonlySet<number>;
  private readonly heMay: ReadonlySet<number>;
  private st: 'data' | 'iac' | 'opt' | 'sb' | 'sb-iac' | 'cr' = 'data';
  private cmd = 0;

  /** `send` carries negotiation bytes to the peer. */
  constructor(
    private readonly send: (bytes: Buffer) => void,
    private readonly policy: TelnetPolicy = SERVER_POLICY,
  ) {
    this.weWill = new Set(policy.weWill);
    this.heMay = new Set(policy.heMay);
  }

  /** Our opening offers. */
  start(): void {
    for (const o of this.policy.offer) this.requestUs(o);
    for (const o of this.policy.ask) this.requestHim(o);
  }

  /** Is the option enabled on our side / the client's side? */
  ours(opt: number): boolean {
    return this.us.get(opt) === 'yes';
  }

  his(opt: number): boolean {
    return this.him.get(opt) === 'yes';
  }

  private requestUs(opt: number): void {
    if ((this.us.get(opt) ?? 'no') !== 'no') return;
    this.us.set(opt, 'wantyes');
    this.send(Buffer.from([IAC, WILL, opt]));
  }

  private requestHim(opt: number): void {
    if ((this.him.get(opt) ?? 'no') !== 'no') return;
    this.him.set(opt, 'wantyes');
    this.send(Buffer.from([IAC, DO, opt]));
  }

  /** Bytes from the client -> application bytes for the modem (negotiation handled). */
  decode(chunk: Uint8Array): Buffer {
    // Most chunks are plain data: no IAC, and no CR to look at (or BINARY). Pass them on.
    if (this.st === 'data' && chunk.indexOf(IAC) < 0 && (this.his(OPT_BINARY) || chunk.indexOf(CR) < 0)) {
      return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    }
    const out = Buffer.allocUnsafe(chunk.length);
    const src = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    let binary = this.his(OPT_BINARY);
    let n = 0;
    for (let i = 0; i < chunk.length; i++) {
      if (this.st === 'data' && binary) {
        // Copy the run up to the next IAC in one go (binary data has an IAC in 256 bytes).
        const j = src.indexOf(IAC, i);
        const end = j < 0 ? src.length : j;
        n += src.copy(out, n, i, end);
        i = end;
        if (j < 0) break;
      }
      const b = chunk[i] ?? 0;
      switch (this.st) {
        case 'cr':
          this.st = 'data';
          // NVT: CR NUL and CR LF both mean "the Return key": the getty gets one CR.
          if (b === NUL) break;
          if (b === LF) {
            if (!this.policy.crLfIsReturn) out[n++] = LF;
            break;
          }
          i--; // not part of the line end: process it as ordinary input
          break;
        case 'data':
          if (b === IAC) this.st = 'iac';
          else if (b === CR && !binary) {
            out[n++] = CR;
            this.st = 'cr';
          } else out[n++] = b;
          break;
        case 'iac':
          if (b === IAC) {
            out[n++] = IAC;
            this.st = 'data';
          } else if (b === WILL || b === WONT || b === DO || b === DONT) {
            this.cmd = b;
            this.st = 'opt';
          } else if (b === SB) this.st = 'sb';
          else this.st = 'data'; // NOP, GA, AYT, IP, ...: nothing to do for a modem line
          break;
        case 'opt':
          this.negotiate(this.cmd, b);
          binary = this.his(OPT_BINARY);
          this.st = 'data';
          break;
        case 'sb':
          if (b === IAC) this.st = 'sb-iac';
          break;
        case 'sb-iac':
          this.st = b === SE ? 'data' : 'sb';
          break;
      }
    }
    return out.subarray(0, n);
  }

  /** Application bytes -> bytes for the client (IAC doubled; lone CR as CR NUL unless binary). */
  encode(data: Uint8Array): Buffer {
    const binary = this.ours(OPT_BINARY);
    if (data.indexOf(IAC) < 0 && (binary || data.indexOf(CR) < 0)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    const out = Buffer.allocUnsafe(data.length * 2);
    let n = 0;
    if (binary) {
      // Only IAC to double: copy the runs between them (a byte loop was a twentieth of the
      // bank's CPU per MB of binary data, where an IAC comes every 256 bytes on average).
      const src = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
      for (let i = 0; i < src.length; ) {
        const j = src.indexOf(IAC, i);
        const end = j < 0 ? src.length : j + 1;
        n += src.copy(out, n, i, end);
        if (j >= 0) out[n++] = IAC;
        i = end;
      }
      return out.subarray(0, n);
    }
    for (let i = 0; i < data.length; i++) {
      const b = data[i] ?? 0;
      out[n++] = b;
      if (b === IAC) out[n++] = IAC;
      else if (b === CR && !binary && data[i + 1] !== LF) out[n++] = NUL;
    }
    return out.subarray(0, n);
  }

  private negotiate(cmd: number, opt: number): void {
    if (cmd === WILL || cmd === WONT) {
      const s = this.him.get(opt) ?? 'no';
      if (cmd === WILL) {
        if (s === 'no') {
          if (this.heMay.has(opt)) {
            this.him.set(opt, 'yes');
            this.send(Buffer.from([IAC, DO, opt]));
          } else this.send(Buffer.from([IAC, DONT, opt]));
        } else if (s === 'wantyes') this.him.set(opt, 'yes');
        else if (s === 'wantno') this.him.set(opt, 'no');
        // 'yes': an acknowledgement; never answered.
      } else {
        if (s === 'yes') {
          this.him.set(opt, 'no');
          this.send(Buffer.from([IAC, DONT, opt]));
        } else this.him.set(opt, 'no');
      }
      return;
    }
    const s = this.us.get(opt) ?? 'no';
    if (cmd === DO) {
      if (s === 'no') {
        if (this.weWill.has(opt)) {
          this.us.set(opt, 'yes');
          this.send(Buffer.from([IAC, WILL, opt]));
        } else this.send(Buffer.from([IAC, WONT, opt]));
      } else if (s === 'wantyes') this.us.set(opt, 'yes');
      else if (s === 'wantno') this.us.set(opt, 'no');
    } else {
      if (s === 'yes') {
        this.us.set(opt, 'no');
        this.send(Buffer.from([IAC, WONT, opt]));
      } else this.us.set(opt, 'no');
    }
  }
}
