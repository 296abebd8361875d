/**
 * The phone exchange: lines have numbers, and a modem dialling a number rings the modem
 * that has it. Nothing here buffers or delays: the modems own the timing.
 */
import type { CallLeg, DialResult, HayesModem, Network, RemoteParty, RingSpec } from './modem.js';

/** Anything with a number that can be rung: a modem, a virtual fax machine. */
export interface Answerer {
  incoming(spec: RingSpec, party: RemoteParty): CallLeg | undefined;
}

export class Exchange implements Network {
  private readonly byNumber = new Map<string, Answerer>();

  /** Ring options used for modem-to-modem calls (cadence, answer time...). */
  constructor(private readonly ringDefaults: RingSpec = {}) {}

  register(number: string, modem: HayesModem): void {
    this.byNumber.set(number, modem);
    modem.number = number;
    modem.network = this;
  }

  /** A number that is not a modem (a virtual fax machine). */
  registerAnswerer(number: string, a: Answerer): void {
    this.byNumber.set(number, a);
  }

  unregister(number: string): void {
    this.byNumber.delete(number);
  }

  lookup(number: string): Answerer | undefined {
    return this.byNumber.get(number);
  }

  dial(from: { readonly number: string | undefined }, number: string, party: RemoteParty, spec: RingSpec = {}): DialResult {
    const to = this.byNumber.get(number);
    if (to === undefined) return { kind: 'no-such-number' };
    if ((to as unknown) === from) return { kind: 'busy' };
    const caller = from.number !== undefined ? { callerId: from.number } : {};
    const leg: CallLeg | undefined = to.incoming({ ...this.ringDefaults, ...caller, ...spec }, party);
    return leg === undefined ? { kind: 'busy' } : { kind: 'ringing', leg };
  }
}
