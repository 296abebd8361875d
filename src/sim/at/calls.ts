/**
 * The call state: one call at a time, in or out, from RING (or dialling) through
 * answering to CONNECT and back, with the modem's mode (command, data, online command).
 * Results and data for the DTE go out through the host; the far end is a RemoteParty.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import { callerIdBlock, ringLines, type DistinctiveFormat } from '../callerid.js';
import type { CidFormat, Personality } from '../personality.js';
import type { EscapeDetector } from './escape.js';
import type { FaultInjector } from './faults.js';
import type { Profile } from './profile.js';
import type { FaxSignal } from '../fax/signals.js';

/** Why a call ended, as reported to the far end. */
export type EndReason =
  | 'hangup' // the modem's DTE hung up (ATH, or a fault)
  | 'remote-hangup' // the far end hung up
  | 'not-answered' // rang maxRings times, nobody answered
  | 'no-carrier' // answered, but the call outcome was NO CARRIER
  | 'busy'
  | 'no-answer'
  | 'carrier-lost' // a fault dropped the carrier
  | 'aborted'; // the DTE sent a byte while the modem was answering/dialling

export type CallOutcome = 'connect' | 'no-carrier' | 'busy' | 'no-answer';

/** An incoming call as the network presents it to the modem. */
export interface RingSpec {
  callerId?: string;
  callerName?: string;
  cidFormat?: CidFormat;
  /** Distinctive ring number (1..9); 0 or absent = normal ring. */
  distinctive?: number;
  distinctiveFormat?: DistinctiveFormat;
  /** Time between RINGs (default 6000 ms). The first RING comes at once. */
  ringCadenceMs?: number;
  /** The caller gives up after this many rings (default 10). */
  maxRings?: number;
  /** What the modem reports after it answers (default connect). */
  outcome?: CallOutcome;
  /** Text after `CONNECT ` (default: the personality's). */
  connect?: string;
  /** Answer-to-result time: the handshake (default 500 ms). */
  answerDelayMs?: number;
  /** The caller is a fax (it sends CNG): a fax modem's adaptive answer tells it from a data caller by this. */
  fax?: boolean;
  /** Delay from the first RING to the caller-ID block (default 500 ms). */
  cidDelayMs?: number;
}

/** The far end of a call, as seen by the modem. */
export interface RemoteParty {
  /** The modem reported CONNECT: data may flow. */
  connected(connect: string): void;
  /** Bytes the DTE sent while in data mode. */
  data(bytes: Uint8Array): void;
  /** The call is over on the modem's side. */
  ended(reason: EndReason): void;
  /** A fax call's T.30 message (DIS, DCS, page data, MCF, DCN...); data-only parties leave it out. */
  signal?(s: FaxSignal): void;
  /** The line rang (the n-th time): a caller hears the ringing tone. */
  ringing?(n: number): void;
}

/** The handle the far end uses to drive its side of a call. Stale handles do nothing. */
export interface CallLeg {
  send(bytes: Uint8Array): void;
  /** A fax call's T.30 message for the modem. */
  signal(s: FaxSignal): void;
  hangup(): void;
  readonly active: boolean;
}

export type ModemState = 'idle' | 'ringing' | 'answering' | 'dialing' | 'connected';
export type ModemMode = 'command' | 'data' | 'online-command';

/** What handlers may do with calls (the AtContext's `calls`). */
export interface CallControl {
  readonly state: ModemState;
  readonly mode: ModemMode;
  /** ATA: answer the ringing call (or wait S7 seconds for a carrier that never comes). */
  answer(): void;
  /** ATD: dial through the network. */
  dial(dialString: string): void;
  /** ATH<n> / ATZ: end any call; off-hook afterwards if asked. */
  hangup(offHook: boolean): void;
  /** ATO: back to data mode from online command mode; false if there is no call to go back to. */
  online(): boolean;
  /**
   * Connect now to `far` (CONNECT <connect> for the DTE, data mode): for handler sets that
   * make their own calls (dial-out to a socket) and for test behaviours.
   */
  connectNow(connect: string, far: RemoteParty): CallLeg;
  /** The ringing incoming call's spec (undefined when nothing rings). */
  readonly ringing: RingSpec | undefined;
  /**
   * Take the call as a fax call (no data handshake, no CONNECT, command mode): answer the
   * ringing call, or dial `number` with the caller marked as a fax. The link's messages
   * and its end go to `link`; returns false (and says nothing) when it cannot.
   */
  faxAnswer(link: FaxLinkHandler): boolean;
  faxDial(number: string, link: FaxLinkHandler): boolean;
  /** Send a T.30 message to the far end of the current call. */
  faxSend(s: FaxSignal): void;
  /** End the call from this side without a result code (the fax handler reports +FHNG itself). */
  faxHangup(): void;
  /**
   * Start an outgoing call of a handler set's own (dial-out to a socket): the modem is
   * dialling until the handler says `connect` or `fail`. Meanwhile a DTE byte, ATH or the
   * S7 timeout (NO ANSWER) end it, and `onEnd` tells the handler to drop its connection.
   */
  beginDial(what: string, onEnd: (reason: EndReason) => void): PendingDial;
}

/** The fax handler set's side of a fax call. */
export interface FaxLinkHandler {
  /** The far end answered (dial) or the answer is done (answer): T.30 starts. */
  linked(): void;
  signal(s: FaxSignal): void;
  /** The far end hung up, or dialling failed ('busy', 'no-answer', 'no-carrier'). */
  ended(reason: EndReason): void;
}

/** A handler set's outgoing call while it is being placed. */
export interface PendingDial {
  /** Still dialling (not connected, failed or ended by the DTE). */
  readonly active: boolean;
  /** The far end answered: CONNECT <connect>, data mode. `far` gets the DTE's data and the end. */
  connect(connect: string, far: RemoteParty): CallLeg | undefined;
  /** The call failed: the result code for the DTE (BUSY, NO ANSWER, NO CARRIER, ...). */
  fail(code: string, reason: EndReason): void;
}

export interface ActiveCall {
  id: number;
  dir: 'in' | 'out';
  state: Exclude<ModemState, 'idle'>;
  /** Where the modem sends DTE data and its hangup. */
  far: RemoteParty;
  spec: RingSpec;
  rings: number;
  connect: string;
  timers: TimerHandle[];
  /** Set for fax calls: T.30 messages and the far end's hangup go here. */
  fax?: FaxLinkHandler;
}

/** What the call state needs from the modem around it. */
export interface CallHost {
  readonly clock: Clock;
  readonly personality: Personality;
  profile(): Profile;
  readonly escape: EscapeDetector;
  readonly faults: FaultInjector;
  result(code: string, connect?: string): void;
  infoLine(line: string): void;
  /** Data for the DTE. */
  data(bytes: Uint8Array): void;
  event(text: string): void;
  /** The carrier dropped while connected: the line should hang up. */
  carrierLost(): void;
  /** S0 auto-answer: run ATA through the command handlers (undefined: answer as a data modem). */
  autoAnswer?(): void;
}

export type DialResult =
  | { kind: 'ringing'; leg: CallLeg }
  | { kind: 'busy' }
  | { kind: 'no-such-number' };

/** Places a call in the network; undefined when there is no network (NO DIALTONE). */
export type Dialer = (number: string, party: RemoteParty, spec?: RingSpec) => DialResult;

const NOBODY: RemoteParty = { connected: () => undefined, data: () => undefined, ended: () => undefined };

export class CallState implements CallControl {
  mode: ModemMode = 'command';
  offHook = false;
  /** A stuck-in-data fault took hold: the modem swallows everything. */
  stuck = false;
  private call: ActiveCall | undefined;
  private nextCallId = 1;
  private answerTimer: TimerHandle | undefined;
  private lastDialled = '';

  constructor(
    private readonly host: CallHost,
    private readonly dialer: () => Dialer | undefined,
  ) {}

  get state(): ModemState {
    return this.call?.state ?? 'idle';
  }

  get connect(): string | undefined {
    return this.call?.connect;
  }

  get inCall(): boolean {
    return this.call !== undefined;
  }

  get available(): boolean {
    return this.call === undefined && !this.offHook && !this.stuck;
  }

  /** DTE bytes in data mode, for the far end. */
  toRemote(bytes: Uint8Array): void {
    this.call?.far.data(bytes);
  }

  // ---------------------------------------------------------------- answering

  incoming(spec: RingSpec, party: RemoteParty): CallLeg | undefined {
    if (!this.available) return undefined;
    const call = this.newCall('in', 'ringing', party, spec, spec.connect ?? this.host.personality.connect);
    this.host.profile().s[1] = 0;
    this.host.event(`incoming call from ${spec.callerId ?? 'unknown'}`);
    this.maybeDropCarrier('ringing');
    this.ringOnce(call);
    return this.legFor(call);
  }

  private newCall(dir: 'in' | 'out', state: ActiveCall['state'], far: RemoteParty, spec: RingSpec, connect: string): ActiveCall {
    const call: ActiveCall = { id: this.nextCallId++, dir, state, far, spec, rings: 0, connect, timers: [] };
    this.call = call;
    return call;
  }

  private legFor(call: ActiveCall): CallLeg {
    const isCurrent = (): boolean => this.call === call;
    return {
      send: (bytes) => {
        if (isCurrent()) this.fromRemote(bytes);
      },
      hangup: () => {
        if (isCurrent()) this.remoteHangup();
      },
      signal: (sig) => {
        if (isCurrent()) call.fax?.signal(sig);
      },
      get active() {
        return isCurrent();
      },
    };
  }

  private ringOnce(call: ActiveCall): void {
    if (this.call !== call || call.state !== 'ringing') return;
    const { spec } = call;
    const p = this.host.profile();
    if (call.rings >= (spec.maxRings ?? 10)) {
      this.host.event('caller gave up');
      this.endCall('not-answered', true);
      return;
    }
    call.rings++;
    p.s[1] = call.rings;
    call.far.ringing?.(call.rings);
    const format = spec.cidFormat ?? this.host.personality.defaultCidFormat;
    const cidOn = !this.host.personality.cidRequiresEnable || p.cid > 0;
    const effFormat: CidFormat = cidOn ? format : 'none';
    const caller = { number: spec.callerId, name: spec.callerName, when: new Date(this.host.clock.now()) };
    for (const l of ringLines(effFormat, caller, spec.distinctive ?? 0, spec.distinctiveFormat ?? 'digit')) {
      // RING is a result code (numeric 2 with V0, silent with Q1); cadence lines are information text.
      if (l.startsWith('RING')) this.host.result(l);
      else this.host.infoLine(l);
    }
    if (call.rings === 1 && effFormat !== 'none') {
      const block = callerIdBlock(effFormat, caller);
      if (block.length > 0) {
        this.after(call, spec.cidDelayMs ?? 500, () => {
          if (this.call !== call || call.state !== 'ringing') return;
          for (const l of block) this.host.infoLine(l);
        });
      }
    }
    const s0 = p.s[0] ?? 0;
    if (s0 > 0 && call.rings >= s0) {
      this.host.event('auto-answer');
      // As if the DTE had sent ATA: a handler set (fax) may answer its own way.
      if (this.host.autoAnswer !== undefined) this.host.autoAnswer();
      else this.answer();
      return;
    }
    this.after(call, spec.ringCadenceMs ?? 6000, () => this.ringOnce(call));
  }

  private after(call: ActiveCall, ms: number, fn: () => void): void {
    call.timers.push(this.host.clock.setTimeout(fn, ms));
  }

  answer(): void {
    const call = this.call;
    if (call === undefined || call.state !== 'ringing' || call.dir !== 'in') {
      if (call !== undefined) {
        this.host.result('ERROR');
        return;
      }
      // Off-hook in answer mode with nobody calling: no carrier after S7 seconds.
      const t = this.host.clock.setTimeout(() => {
        this.answerTimer = undefined;
        this.host.result('NO CARRIER');
      }, (this.host.profile().s[7] ?? 50) * 1000);
      this.answerTimer?.cancel();
      this.answerTimer = t;
      return;
    }
    this.clearTimers(call);
    call.state = 'answering';
    this.host.event('answering');
    this.maybeDropCarrier('answering');
    this.after(call, call.spec.answerDelayMs ?? 500, () => this.answered(call));
  }

  private answered(call: ActiveCall): void {
    if (this.call !== call || call.state !== 'answering') return;
    const outcome = call.spec.outcome ?? 'connect';
    if (outcome === 'connect') {
      this.goConnected(call);
      call.far.connected(call.connect);
      return;
    }
    const text = { 'no-carrier': 'NO CARRIER', busy: 'BUSY', 'no-answer': 'NO ANSWER' }[outcome];
    this.endCall(outcome, true);
    this.host.result(text);
  }

  private goConnected(call: ActiveCall): void {
    this.clearTimers(call);
    call.state = 'connected';
    this.mode = 'data';
    this.host.escape.reset(this.host.clock.monotonic());
    this.host.event(`connected ${call.connect}`);
    this.host.result('CONNECT', call.connect);
    this.maybeDropCarrier('connected');
  }

  connectNow(connect: string, far: RemoteParty): CallLeg {
    if (this.call !== undefined) this.endCall('hangup', true);
    const call = this.newCall('out', 'dialing', far, {}, connect);
    this.goConnected(call);
    return this.legFor(call);
  }

  beginDial(what: string, onEnd: (reason: EndReason) => void): PendingDial {
    if (this.call !== undefined) this.endCall('hangup', true);
    this.answerTimer?.cancel();
    const far: RemoteParty = { connected: () => undefined, data: () => undefined, ended: (r) => onEnd(r) };
    const call = this.newCall('out', 'dialing', far, {}, this.host.personality.connect);
    this.host.event(`dialling ${what}`);
    this.after(call, (this.host.profile().s[7] ?? 50) * 1000, () => {
      if (this.call !== call || call.state !== 'dialing') return;
      this.endCall('no-answer', true);
      this.host.result('NO ANSWER');
    });
    const dialling = (): boolean => this.call === call && call.state === 'dialing';
    return {
      get active() {
        return dialling();
      },
      connect: (connect, remote) => {
        if (!dialling()) return undefined;
        call.connect = connect;
        call.far = remote;
        this.goConnected(call);
        return this.legFor(call);
      },
      fail: (code, reason) => {
        if (!dialling()) return;
        this.endCall(reason, false);
        this.host.result(code);
      },
    };
  }

  online(): boolean {
    if (this.call?.state !== 'connected' || this.mode !== 'online-command') return false;
    this.mode = 'data';
    this.host.result('CONNECT', this.call.connect);
    return true;
  }

  /** The +++ escape completed. */
  escaped(): void {
    if (this.mode !== 'data' || this.call === undefined) return;
    this.mode = 'online-command';
    this.host.event('escape: online command mode');
    this.host.result('OK');
  }

  /** A DTE byte while answering or dialling aborts the handshake, as on real modems. True if it did. */
  abortByDte(): boolean {
    const st = this.call?.state;
    if (st !== 'answering' && st !== 'dialing') return false;
    this.host.event(`${st} aborted by DTE byte`);
    this.endCall('aborted', true);
    this.host.result('NO CARRIER');
    return true;
  }

  // ---------------------------------------------------------------- dialling

  dial(dialString: string): void {
    if (this.call !== undefined) {
      this.host.result('ERROR');
      return;
    }
    let s = dialString.toUpperCase();
    const stay = s.endsWith(';');
    if (stay) s = s.slice(0, -1);
    if (s.startsWith('L')) s = this.lastDialled;
    this.lastDialled = s;
    const number = s.replace(/[^0-9*#]/g, '');
    if (stay) {
      this.host.result('OK');
      return;
    }
    const dialer = this.dialer();
    if (dialer === undefined || number === '') {
      this.host.result(dialer === undefined ? 'NO DIALTONE' : 'NO CARRIER');
      return;
    }
    this.dialOut(dialer, number);
  }

  private dialOut(dialer: Dialer, number: string): void {
    const call = this.newCall('out', 'dialing', NOBODY, {}, this.host.personality.connect);
    this.host.event(`dialling ${number}`);
    const party: RemoteParty = {
      connected: (connect) => {
        if (this.call !== call || call.state !== 'dialing') return;
        call.connect = connect;
        this.goConnected(call);
      },
      data: (bytes) => {
        if (this.call === call) this.fromRemote(bytes);
      },
      ended: () => {
        if (this.call === call) this.remoteHangup();
      },
      signal: (sig) => {
        if (this.call === call) call.fax?.signal(sig);
      },
    };
    const r = dialer(number, party);
    if (r.kind !== 'ringing') {
      const text = r.kind === 'busy' ? (this.host.profile().x >= 3 ? 'BUSY' : 'NO CARRIER') : 'NO CARRIER';
      // Dialling takes a moment even when it fails.
      this.after(call, 1000, () => {
        if (this.call !== call) return;
        this.endCall(r.kind === 'busy' ? 'busy' : 'no-carrier', false);
        this.host.result(text);
      });
      return;
    }
    const leg = r.leg;
    call.far = { connected: () => undefined, data: (b) => leg.send(b), ended: () => leg.hangup(), signal: (sig) => leg.signal(sig) };
    this.after(call, (this.host.profile().s[7] ?? 50) * 1000, () => {
      if (this.call !== call || call.state !== 'dialing') return;
      this.endCall('no-answer', true);
      this.host.result('NO ANSWER');
    });
  }

  // ---------------------------------------------------------------- fax calls

  get ringing(): RingSpec | undefined {
    const c = this.call;
    return c !== undefined && c.state === 'ringing' && c.dir === 'in' ? c.spec : undefined;
  }

  faxAnswer(link: FaxLinkHandler): boolean {
    const call = this.call;
    if (call === undefined || call.state !== 'ringing' || call.dir !== 'in') return false;
    this.clearTimers(call);
    call.state = 'answering';
    call.fax = link;
    this.host.event('answering as fax');
    // The handshake time: CED and the first DIS take a moment on a real line.
    this.after(call, call.spec.answerDelayMs ?? 500, () => {
      if (this.call !== call) return;
      call.state = 'connected';
      this.host.event('fax call connected');
      link.linked();
    });
    return true;
  }

  faxDial(dialString: string, link: FaxLinkHandler): boolean {
    if (this.call !== undefined) return false;
    const number = dialString.toUpperCase().replace(/[^0-9*#]/g, '');
    const dialer = this.dialer();
    const call = this.newCall('out', 'dialing', NOBODY, { fax: true }, 'fax');
    call.fax = link;
    this.host.event(`fax dialling ${number}`);
    const fail = (reason: EndReason): void => {
      this.after(call, 1000, () => {
        if (this.call !== call) return;
        this.endCall(reason, false);
        link.ended(reason);
      });
    };
    if (dialer === undefined || number === '') {
      fail('no-carrier');
      return true;
    }
    const party: RemoteParty = {
      // A data modem answered a fax caller: its carrier is not a fax's, the call fails.
      connected: () => {
        if (this.call !== call) return;
        this.endCall('no-carrier', true);
        link.ended('no-carrier');
      },
      data: () => undefined,
      ended: () => {
        if (this.call === call) this.remoteHangup();
      },
      signal: (sig) => {
        if (this.call !== call) return;
        if (call.state === 'dialing') {
          // The first message from the far end (its DIS) is the answer.
          call.state = 'connected';
          this.clearTimers(call);
          link.linked();
        }
        link.signal(sig);
      },
    };
    const r = dialer(number, party, { fax: true });
    if (r.kind !== 'ringing') {
      fail(r.kind === 'busy' ? 'busy' : 'no-carrier');
      return true;
    }
    const leg = r.leg;
    call.far = { connected: () => undefined, data: () => undefined, ended: () => leg.hangup(), signal: (sig) => leg.signal(sig) };
    this.after(call, (this.host.profile().s[7] ?? 50) * 1000, () => {
      if (this.call !== call || call.state !== 'dialing') return;
      this.endCall('no-answer', true);
      link.ended('no-answer');
    });
    return true;
  }

  faxSend(s: FaxSignal): void {
    const call = this.call;
    if (call?.fax !== undefined && call.state === 'connected') call.far.signal?.(s);
  }

  faxHangup(): void {
    if (this.call !== undefined) this.endCall('hangup', true);
    this.mode = 'command';
  }

  // ---------------------------------------------------------------- both directions

  hangup(offHook: boolean): void {
    this.answerTimer?.cancel();
    const c = this.call;
    // An on-hook modem does not end a call that is only ringing: the network rings on
    // (ATZ, ATH0 or a DTR drop from a getty that is just initialising its line must not
    // send the caller NO CARRIER). Going off-hook does end it.
    const keepRinging = c !== undefined && c.dir === 'in' && c.state === 'ringing' && !offHook;
    if (c !== undefined && !keepRinging) this.endCall('hangup', true);
    this.offHook = offHook;
    this.mode = 'command';
  }

  private fromRemote(bytes: Uint8Array): void {
    if (this.call?.state === 'connected' && this.mode === 'data') this.host.data(bytes);
    // In online-command mode (after +++) data from the far end is dropped.
  }

  /** The far end hung up. */
  private remoteHangup(): void {
    const call = this.call;
    if (call === undefined) return;
    const state = call.state;
    this.endCall('remote-hangup', false);
    if (state === 'ringing') return; // the ringing just stops
    if (call.fax !== undefined) {
      call.fax.ended('remote-hangup');
      return;
    }
    this.carrierGone(state === 'connected');
  }

  /** Carrier is gone while answering/dialling/connected: NO CARRIER, and a line hangup if connected. */
  private carrierGone(wasConnected: boolean): void {
    if (this.host.faults.faults.stuckInData === true && wasConnected) {
      // The modem never notices: it stays in data mode and swallows everything.
      this.stuck = true;
      this.mode = 'data';
      this.host.event('carrier gone, modem stuck in data mode');
      return;
    }
    this.mode = 'command';
    this.host.result('NO CARRIER');
    if (wasConnected) this.host.carrierLost();
  }

  /** Drop the carrier now (a fault on demand): ends any call from the modem's side. */
  dropCarrier(): void {
    const call = this.call;
    if (call === undefined) return;
    const state = call.state;
    this.host.event(`carrier dropped in state ${state}`);
    this.endCall('carrier-lost', true);
    if (state === 'ringing') return;
    this.carrierGone(state === 'connected');
  }

  private maybeDropCarrier(state: 'ringing' | 'answering' | 'connected'): void {
    const f = this.host.faults.faults;
    const call = this.call;
    if (f.dropCarrierAt !== state || call === undefined) return;
    this.after(call, f.dropCarrierAfterMs ?? 0, () => {
      if (this.call === call && call.state === state) this.dropCarrier();
    });
  }

  endCall(reason: EndReason, tellFar: boolean): void {
    const call = this.call;
    if (call === undefined) return;
    this.clearTimers(call);
    this.call = undefined;
    this.host.profile().s[1] = 0;
    if (this.mode !== 'command' && !this.stuck) this.mode = 'command';
    this.host.escape.cancel();
    this.host.event(`call ended: ${reason}`);
    if (tellFar) call.far.ended(reason);
  }

  private clearTimers(call: ActiveCall): void {
    for (const t of call.timers) t.cancel();
    call.timers = [];
  }

  /** Cancel every timer (shutdown). */
  dispose(): void {
    if (this.call !== undefined) this.endCall('hangup', true);
    this.answerTimer?.cancel();
  }
}
