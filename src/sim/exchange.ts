/**
 * The phone exchange: lines have numbers, and a modem dialling a number rings the modem
 * that has it. Nothing here buffers or delays: the modems own the timing.
 */
import type { CallLeg, DialResult, HayesModem, Network, RemoteParty, RingSpec } from './modem.js';

export class Exchange implements Network {
  private readonly byNumber = new Map<string, HayesModem>();

  /** Ring options used for modem-to-modem calls (cadence, answer time...). */
  constructor(private readonly ringDefaults: RingSpec = {}) {}

  register(number: string, modem: HayesModem): void {
    this.byNumber.set(number, modem);
    modem.number = number;
    modem.network = this;
  }

  unregister(number: string): void {
    this.byNumber.delete(number);
  }

  lookup(number: string): HayesModem | undefined {
    return this.byNumber.get(number);
  }

  dial(from: HayesModem, number: string, party: RemoteParty): DialResult {
    const to = this.byNumber.get(number);
    if (to === undefined) return { kind: 'no-such-number' };
    if (to === from) return { kind: 'busy' };
    const leg: CallLeg | undefined = to.incoming({ ...this.ringDefaults, callerId: from.number }, party);
    return leg === undefined ? { kind: 'busy' } : { kind: 'ringing', leg };
  }
}
