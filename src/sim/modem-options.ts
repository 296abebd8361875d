/**
 * What a simulated Hayes modem (./modem.ts) is built with: its clock, output, personality,
 * fax, number, network and fault settings. A room of its own so modem.ts stays the byte
 * intake and the executor.
 */
import type { Clock } from '../core/clock.js';
import type { DialResult, RemoteParty, RingSpec } from './at/calls.js';
import type { ModemFaults } from './at/faults.js';
import type { HandlerSet } from './at/registry.js';
import type { Personality } from './personality.js';

/** The phone network a modem dials into (the exchange). */
export interface Network {
  dial(from: { readonly number: string | undefined }, number: string, party: RemoteParty, spec?: RingSpec): DialResult;
}

export interface ModemOptions {
  clock: Clock;
  /** Bytes for the DTE. */
  output: (bytes: Uint8Array) => void;
  personality?: Personality;
  /** A class 2 and 2.0 fax modem (+FCLASS=? says 0,2,2.0; src/sim/fax). */
  fax?: boolean;
  /** The modem's own number (for caller ID when it dials out). */
  number?: string;
  network?: Network;
  /** The carrier dropped while connected: the line should hang up (close the pty master). */
  onCarrierLost?: () => void;
  /** Something worth a transcript note (state changes). */
  onEvent?: (text: string) => void;
  faults?: ModemFaults;
  /** Seed for the garbage generator (deterministic tests). */
  seed?: number;
  /** Fax pages leave at this rate instead of the negotiated one (tests with real peers). */
  faxPaceBps?: number;
  /** The fax receiver's T.30 T2 (default 6 s). */
  faxT2Ms?: number;
  /** More handler sets, registered after the modem's own (so they take precedence). */
  commands?: readonly HandlerSet[];
}
