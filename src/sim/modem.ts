/**
 * The Hayes modem core of the simulator: transport-agnostic and clock-driven. Bytes from
 * the DTE (the getty) come in through `onDteBytes`; bytes for the DTE leave through the
 * `output` callback. The far end of a call (a scripted caller, a telnet user, another
 * simulated modem) is a `RemoteParty`.
 *
 * This file assembles the rooms in ./at: the command registry (registry.ts) with the
 * lexer (lexer.ts) and the handler sets (hayes.ts, fax.ts), the settings (profile.ts),
 * the `+++` detector (escape.ts), the call state (calls.ts), faults (faults.ts) and the
 * output pump (output.ts). What stays here is the DTE byte intake, command-line assembly
 * and the executor loop. New command families register with `registerCommands`.
 *
 * The AT parser is written independently of the getty's (src/modem, src/chat) so that
 * one misunderstanding of the protocol cannot hide on both sides.
 */
import type { Clock } from '../core/clock.js';
import { CallState, type CallLeg, type ModemMode, type ModemState, type RemoteParty, type RingSpec } from './at/calls.js';
import { EscapeDetector } from './at/escape.js';
import { FaultInjector, type ModemFaults } from './at/faults.js';
import { FAX_COMMANDS } from './at/fax.js';
import { createFaxCommands } from './fax/commands.js';
import { HAYES_SETS } from './at/hayes.js';
import { lexAt } from './at/lexer.js';
import { OutputPump, type OutputKind } from './at/output.js';
import { cloneProfile, crOf, factoryProfile, lfOf, type Profile } from './at/profile.js';
import { CommandRegistry, type AtContext, type Disposable, type DteSink, type HandlerSet, type LineBehaviour } from './at/registry.js';
import { GENERIC_V92, type Personality } from './personality.js';

export type { CallLeg, CallOutcome, DialResult, EndReason, ModemMode, ModemState, RemoteParty, RingSpec, CallControl, PendingDial } from './at/calls.js';
export type { ModemFaults } from './at/faults.js';
export type { AtCommand, AtContext, AtHandler, AtOp, Disposable, HandlerSet, LineBehaviour, Outcome } from './at/registry.js';
export type { Profile } from './at/profile.js';
export type { ModemOptions, Network } from './modem-options.js';
import type { ModemOptions, Network } from './modem-options.js';

const RESULT_NUMERIC: Readonly<Record<string, number>> = {
  OK: 0, CONNECT: 1, RING: 2, 'NO CARRIER': 3, ERROR: 4, 'NO DIALTONE': 6, BUSY: 7, 'NO ANSWER': 8,
};

export class HayesModem {
  readonly personality: Personality;
  readonly fax: boolean;
  number: string | undefined;
  network: Network | undefined;

  private readonly clock: Clock;
  private readonly onEvent: (text: string) => void;
  private readonly registry = new CommandRegistry();
  private readonly injector: FaultInjector;
  private readonly output: OutputPump;
  private readonly escape: EscapeDetector;
  private readonly calls: CallState;
  private readonly ctx: AtContext;

  private p: Profile = factoryProfile();
  private saved: Profile = factoryProfile();
  /** Information text of the line being executed, written before its result. */
  private pendingInfo: string[] = [];
  /** A handler set took the DTE's bytes (fax page data). */
  private capture: DteSink | undefined;

  // command line assembly
  private lineState: 'idle' | 'gotA' | 'line' = 'idle';
  private lineBuf = '';
  private lastLine = '';

  constructor(opts: ModemOptions) {
    this.clock = opts.clock;
    this.personality = opts.personality ?? GENERIC_V92;
    this.fax = opts.fax ?? false;
    this.number = opts.number;
    this.network = opts.network;
    this.onEvent = opts.onEvent ?? (() => undefined);
    this.injector = new FaultInjector(opts.faults, opts.seed);
    this.output = new OutputPump(opts.clock, opts.output, this.injector);
    this.escape = new EscapeDetector(opts.clock, () => this.p, () => this.calls.escaped());
    const onCarrierLost = opts.onCarrierLost ?? (() => undefined);
    this.calls = new CallState({
      clock: opts.clock,
      personality: this.personality,
      profile: () => this.p,
      escape: this.escape,
      faults: this.injector,
      result: (code, connect) => {
        this.flushInfo();
        this.result(code, connect);
      },
      infoLine: (l) => this.infoLine(l),
      data: (b) => this.emit(b, 'data'),
      event: (t) => this.onEvent(t),
      carrierLost: onCarrierLost,
      autoAnswer: () => {
        const r = this.registry.dispatch({ name: 'A', op: 'exec', num: undefined, value: 0, arg: '' }, this.ctx);
        if (r === 'error') this.result('ERROR');
      },
    }, () => {
      const net = this.network;
      return net === undefined ? undefined : (n, party, spec) => net.dial(this, n, party, spec);
    });
    this.ctx = this.makeContext();
    // A fax modem gets the class 2 / 2.0 handler set (src/sim/fax); a data modem only knows class 0.
    const fax = this.fax ? createFaxCommands({ ...(opts.faxPaceBps !== undefined ? { paceBps: opts.faxPaceBps } : {}), ...(opts.faxT2Ms !== undefined ? { t2Ms: opts.faxT2Ms } : {}) }) : FAX_COMMANDS;
    for (const set of [...HAYES_SETS, fax, ...(opts.commands ?? [])]) this.registry.register(set);
  }

  private makeContext(): AtContext {
    const profile = (): Profile => this.p;
    const saved = (): Profile => this.saved;
    return {
      clock: this.clock,
      personality: this.personality,
      fax: this.fax,
      get profile() {
        return profile();
      },
      get savedProfile() {
        return saved();
      },
      loadProfile: (p) => {
        this.p = cloneProfile(p);
      },
      saveProfile: () => {
        this.saved = cloneProfile(this.p);
      },
      info: (l) => this.pendingInfo.push(l),
      result: (code, connect) => {
        this.flushInfo();
        this.result(code, connect);
      },
      calls: this.calls,
      event: (t) => this.onEvent(t),
      data: (b) => this.emit(b, 'data'),
      captureDte: (sink) => {
        this.capture = sink;
      },
    };
  }

  // ---------------------------------------------------------------- extension

  /** Add a command family (fax, dial-out, a test's override); it takes precedence over earlier sets. */
  registerCommands(set: HandlerSet): Disposable {
    return this.registry.register(set);
  }

  /** A behaviour sees every command line first and may handle it (test doubles, observers). */
  addBehaviour(b: LineBehaviour): Disposable {
    return this.registry.addBehaviour(b);
  }

  // ---------------------------------------------------------------- inspection

  get state(): ModemState {
    return this.calls.state;
  }

  get currentMode(): ModemMode {
    return this.calls.mode;
  }

  /** Free for a new incoming call: on-hook, no call. */
  get available(): boolean {
    return this.calls.available;
  }

  sRegister(n: number): number {
    return this.p.s[n] ?? 0;
  }

  get settings(): { echo: boolean; quiet: boolean; verbose: boolean; x: number; cid: number; fclass: string } {
    const p = this.p;
    return { echo: p.echo, quiet: p.quiet, verbose: p.verbose, x: p.x, cid: p.cid, fclass: p.fclass };
  }

  get faults(): ModemFaults {
    return this.injector.faults;
  }

  set faults(f: ModemFaults) {
    this.injector.faults = f;
  }

  setFaults(f: ModemFaults): void {
    this.injector.faults = { ...f };
    if (f.stuckInData !== true && this.calls.stuck) {
      this.calls.stuck = false;
      this.calls.mode = 'command';
    }
  }

  /** Power cycle: factory settings, call dropped, queue cleared. */
  powerCycle(): void {
    if (this.calls.inCall) this.calls.endCall('hangup', false);
    this.p = factoryProfile();
    this.saved = factoryProfile();
    this.calls.offHook = false;
    this.calls.stuck = false;
    this.calls.mode = 'command';
    this.capture = undefined;
    this.lineState = 'idle';
    this.lineBuf = '';
  }

  /**
   * The DTE dropped DTR (on a virtual line: its last close of the pty slave). As `&D`
   * says: &D0 ignores it; &D1 goes to online command mode (OK) and keeps the call;
   * &D2 (the factory setting) ends any call and goes on-hook in command mode; &D3 does
   * that and resets to the saved profile (ATZ). A call that is only ringing rings on.
   */
  dtrDrop(): void {
    const d = this.p.amp.D ?? 2;
    if (d === 0) return;
    this.capture = undefined;
    this.lineState = 'idle';
    this.lineBuf = '';
    if (d === 1) {
      if (this.calls.mode === 'data') this.calls.escaped();
      return;
    }
    if (this.calls.inCall && this.calls.state !== 'ringing') this.onEvent('DTR dropped: hanging up');
    this.calls.hangup(false);
    if (d === 3) this.p = cloneProfile(this.saved);
  }

  // ---------------------------------------------------------------- DTE side

  /** Bytes written by the DTE (the getty) to the modem. */
  onDteBytes(data: Uint8Array): void {
    // Output made while handling one chunk (echo, results) leaves as one write.
    this.output.batched(() => this.dteChunk(data));
  }

  private dteChunk(data: Uint8Array): void {
    let k = 0;
    while (k < data.length) {
      const sink = this.capture;
      if (sink !== undefined) {
        // A handler set takes the bytes (fax page data) until it lets go.
        const n = sink(data.subarray(k));
        if (this.capture === sink && n >= data.length - k) return;
        if (this.capture === sink) this.capture = undefined;
        k += n;
        continue;
      }
      const now = this.clock.monotonic();
      if (this.calls.mode === 'data') {
        // The rest of the chunk is data, in one piece for the far end: nothing in it can
        // change the mode (an escape completes on a timer). One clock read per chunk, and
        // the escape scan looks at each byte only when the chunk holds an S2 character.
        const rest = data.subarray(k);
        if (this.injector.faults.stuckInData !== true && !this.calls.stuck) this.escape.scanRun(rest, now);
        else this.escape.tick(now);
        this.calls.toRemote(rest.slice());
        return;
      }
      this.escape.tick(now);
      if (!this.calls.abortByDte()) this.commandByte(data[k] ?? 0);
      k++;
    }
  }

  private commandByte(b: number): void {
    if (this.calls.stuck) return;
    if (this.p.echo) this.emit(Uint8Array.of(b), 'echo');
    const c = String.fromCharCode(b);
    if (this.lineState === 'idle') {
      if (c === 'A' || c === 'a') this.lineState = 'gotA';
    } else if (this.lineState === 'gotA') {
      if (c === 'T' || c === 't') {
        this.lineState = 'line';
        this.lineBuf = '';
      } else if (c === '/') {
        this.lineState = 'idle';
        this.execute(this.lastLine);
      } else if (c !== 'A' && c !== 'a') {
        this.lineState = 'idle';
      }
    } else {
      this.lineByte(b, c);
    }
  }

  private lineByte(b: number, c: string): void {
    if (b === (this.p.s[3] ?? 13)) {
      this.lineState = 'idle';
      const line = this.lineBuf;
      this.lineBuf = '';
      this.lastLine = line;
      this.execute(line);
    } else if (b === (this.p.s[5] ?? 8) || b === 0x7f) {
      this.lineBuf = this.lineBuf.slice(0, -1);
    } else if (b >= 0x20 && b < 0x7f && this.lineBuf.length <= 255) {
      // Bounded like a real modem's buffer: one character past the limit makes execute() say ERROR.
      this.lineBuf += c;
    }
    // Other control bytes (LF after CR, NUL) are ignored inside a command line.
  }

  // ---------------------------------------------------------------- command interpreter

  /** Execute the text after `AT` (exposed for tests and A/). */
  execute(line: string): void {
    this.onEvent(`command AT${line}`);
    this.pendingInfo = [];
    if (this.registry.behave(line, this.ctx)) return;
    if (line.length > 255) {
      this.result('ERROR');
      return;
    }
    for (const t of lexAt(line)) {
      const r = 'op' in t ? this.registry.dispatch(t, this.ctx) : 'error';
      if (r === 'done') {
        // Its results went out already (after the information text) or come later.
        this.flushInfo();
        return;
      }
      if (r === 'error') {
        this.flushInfo();
        this.result('ERROR');
        return;
      }
    }
    this.flushInfo();
    this.result('OK');
  }

  // ---------------------------------------------------------------- calls

  /**
   * An incoming call. Returns the leg the far end uses, or undefined when the line is
   * busy (off-hook, in a call, stuck).
   */
  incoming(spec: RingSpec, party: RemoteParty): CallLeg | undefined {
    return this.calls.incoming(spec, party);
  }

  /** Drop the carrier now (a fault on demand): ends any call from the modem's side. */
  dropCarrier(): void {
    this.calls.dropCarrier();
  }

  /** Cancel every timer (for shutdown). */
  dispose(): void {
    this.calls.dispose();
    this.escape.cancel();
    this.output.clear();
  }

  // ---------------------------------------------------------------- output

  /** A result code (suppressed by Q1). */
  private result(code: string, connect?: string): void {
    const p = this.p;
    if (p.quiet) return;
    const cr = crOf(p);
    const lf = lfOf(p);
    let text: string;
    if (p.verbose) {
      const full = code === 'CONNECT' && connect !== undefined && connect !== '' && p.x > 0 ? `CONNECT ${connect}` : code;
      text = cr + lf + full + cr + lf;
    } else {
      text = String(RESULT_NUMERIC[code] ?? (code.startsWith('RING') ? 2 : 4)) + cr;
    }
    this.emitResult(text);
  }

  /** Information text: a line of ATI, S?, caller ID. */
  private infoLine(line: string): void {
    const cr = crOf(this.p);
    const lf = lfOf(this.p);
    this.emitResult(this.p.verbose ? cr + lf + line + cr + lf : line + cr + lf);
  }

  private flushInfo(): void {
    const info = this.pendingInfo;
    this.pendingInfo = [];
    for (const l of info) this.infoLine(l);
  }

  private emitResult(text: string): void {
    this.emit(Buffer.from(this.injector.shapeResult(text, crOf(this.p), lfOf(this.p)), 'latin1'), 'result');
  }

  /** Junk bytes on the line now (a fault on demand). Avoids CR/LF so it cannot look like a line end. */
  injectGarbage(count: number): void {
    this.emit(Buffer.from(this.injector.garbage(count), 'latin1'), 'data');
  }

  private emit(bytes: Uint8Array, kind: OutputKind): void {
    this.output.emit(bytes, kind);
  }
}
