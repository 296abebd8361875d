/**
 * Fault injection: what a misbehaving modem does to its output (silence, late or split
 * results, stray CR/LF, junk bytes) and when it drops the carrier. The output pump and
 * the call state ask this room; nothing else knows about faults.
 */

export interface ModemFaults {
  /** The modem sends nothing at all in command mode (no echo, no results). */
  silent?: boolean;
  /** Result codes and information text come this much later. */
  responseDelayMs?: number;
  /** Write result codes in pieces of this many bytes (true = 1), `splitDelayMs` (default 20) apart. */
  splitResults?: boolean | number;
  splitDelayMs?: number;
  /** Extra CR / LF bytes around result codes. */
  strayCrLf?: boolean;
  /** This many junk bytes before every result code. */
  garbageBeforeResults?: number;
  /** Once connected, never leave data mode (ignores +++ and stays there after the carrier is gone). */
  stuckInData?: boolean;
  /** Drop the carrier on entering this state, after `dropCarrierAfterMs`. */
  dropCarrierAt?: 'ringing' | 'answering' | 'connected';
  dropCarrierAfterMs?: number;
}

/** How one piece of output is queued: its delay, and whether it must be a write of its own. */
export interface QueuedPiece {
  bytes: Uint8Array;
  delay: number;
  separate?: boolean;
}

export class FaultInjector {
  faults: ModemFaults;
  private rand: number;

  constructor(faults: ModemFaults | undefined, seed: number | undefined) {
    this.faults = { ...faults };
    this.rand = (seed ?? 0x2545f491) >>> 0 || 1;
  }

  /** A result code or information text as the faulty modem writes it. */
  shapeResult(text: string, cr: string, lf: string): string {
    const f = this.faults;
    let s = text;
    if (f.strayCrLf === true) s = `${cr}${s}${lf}${cr}`;
    if ((f.garbageBeforeResults ?? 0) > 0) s = this.garbage(f.garbageBeforeResults ?? 0) + s;
    return s;
  }

  /** Echo and results are swallowed (data still flows). */
  get silent(): boolean {
    return this.faults.silent === true;
  }

  /** A result's bytes as queued pieces: delayed and split as the faults say. */
  pieces(bytes: Uint8Array): QueuedPiece[] {
    const f = this.faults;
    const split = f.splitResults === true ? 1 : typeof f.splitResults === 'number' ? f.splitResults : 0;
    let delay = f.responseDelayMs ?? 0;
    if (split <= 0) return [{ bytes, delay }];
    const out: QueuedPiece[] = [];
    for (let k = 0; k < bytes.length; k += split) {
      out.push({ bytes: bytes.subarray(k, k + split), delay, separate: true });
      delay = f.splitDelayMs ?? 20;
    }
    return out;
  }

  /** Junk bytes (deterministic per seed). Avoids CR/LF so it cannot look like a line end. */
  garbage(count: number): string {
    let s = '';
    for (let k = 0; k < count; k++) {
      // xorshift32: deterministic junk for reproducible tests.
      let x = this.rand;
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.rand = x >>> 0;
      let b = this.rand & 0xff;
      if (b === 10 || b === 13) b ^= 0x40;
      s += String.fromCharCode(b);
    }
    return s;
  }
}
