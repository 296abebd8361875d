/**
 * A scripted caller: the test (or a person at a terminal) on the far end of an incoming
 * call. `await call.connected`, `call.write()`, `await call.waitFor(/login:/)`,
 * `call.hangup()`, `await call.ended`.
 */
import { EventEmitter } from 'node:events';
import type { Clock } from '../core/clock.js';
import { TgettyError } from '../core/errors.js';
import { ExpectBuffer } from './expect.js';
import type { CallLeg, EndReason, RemoteParty } from './modem.js';

export type CallState = 'ringing' | 'connected' | 'ended';

export class Call extends EventEmitter<{ data: [Buffer]; connected: [string]; ended: [EndReason]; ring: [number] }> {
  /** Resolves with the CONNECT text; rejects if the call ends first. */
  readonly connected: Promise<string>;
  /** Resolves with the reason, whichever side ended the call. */
  readonly ended: Promise<EndReason>;
  /** Everything the caller received. */
  readonly received: ExpectBuffer;
  state: CallState = 'ringing';
  /** Rings so far (the first comes as the call is placed, before anyone can listen). */
  rings = 0;
  private leg: CallLeg | undefined;
  private resolveConnected!: (s: string) => void;
  private rejectConnected!: (e: Error) => void;
  private resolveEnded!: (r: EndReason) => void;

  /** The modem-facing side of this caller. */
  readonly party: RemoteParty;

  constructor(clock: Clock, label: string) {
    super();
    this.received = new ExpectBuffer(clock, `${label} caller`);
    this.connected = new Promise<string>((res, rej) => {
      this.resolveConnected = res;
      this.rejectConnected = rej;
    });
    // Nobody has to await `connected`; a call that never connects must not be an unhandled rejection.
    this.connected.catch(() => undefined);
    this.ended = new Promise<EndReason>((res) => {
      this.resolveEnded = res;
    });
    this.party = {
      connected: (c) => {
        if (this.state !== 'ringing') return;
        this.state = 'connected';
        this.resolveConnected(c);
        this.emit('connected', c);
      },
      data: (bytes) => {
        const b = Buffer.from(bytes);
        this.received.push(b);
        this.emit('data', b);
      },
      ended: (reason) => this.finish(reason),
      ringing: (n) => {
        if (this.state !== 'ringing') return;
        this.rings = n;
        this.emit('ring', n);
      },
    };
  }

  /** Called by the bank once the modem took the call. */
  attach(leg: CallLeg): void {
    this.leg = leg;
  }

  write(data: Uint8Array | string): void {
    if (this.state !== 'connected') throw new TgettyError('SIM_FAILED', `caller cannot send: call is ${this.state}`, { state: this.state });
    this.leg?.send(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return this.received.waitFor(re, timeoutMs);
  }

  /** The caller hangs up (drops carrier on the modem). */
  hangup(): void {
    if (this.state === 'ended') return;
    this.leg?.hangup();
    this.finish('remote-hangup');
  }

  private finish(reason: EndReason): void {
    if (this.state === 'ended') return;
    const was = this.state;
    this.state = 'ended';
    if (was === 'ringing') this.rejectConnected(new TgettyError('SIM_FAILED', `call ended before CONNECT: ${reason}`, { state: reason }));
    this.received.close(`call ended: ${reason}`);
    this.resolveEnded(reason);
    this.emit('ended', reason);
  }
}
