/**
 * The Hayes modem core of the simulator: transport-agnostic and clock-driven. Bytes from
 * the DTE (the getty) come in through `onDteBytes`; bytes for the DTE leave through the
 * `output` callback. The far end of a call (a scripted caller, a telnet user, another
 * simulated modem) is a `RemoteParty`.
 *
 * The AT parser here is written independently of the getty's (src/modem, src/chat) so
 * that one misunderstanding of the protocol cannot hide on both sides.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { callerIdBlock, ringLines, type DistinctiveFormat } from './callerid.js';
import { GENERIC_V92, type CidFormat, type Personality } from './personality.js';

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
}

/** The handle the far end uses to drive its side of a call. Stale handles do nothing. */
export interface CallLeg {
  send(bytes: Uint8Array): void;
  hangup(): void;
  readonly active: boolean;
}

export type DialResult =
  | { kind: 'ringing'; leg: CallLeg }
  | { kind: 'busy' }
  | { kind: 'no-such-number' };

/** The phone network a modem dials into (the exchange). */
export interface Network {
  dial(from: HayesModem, number: string, party: RemoteParty): DialResult;
}

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

export interface ModemOptions {
  clock: Clock;
  /** Bytes for the DTE. */
  output: (bytes: Uint8Array) => void;
  personality?: Personality;
  /** Answer as a class 2.0 fax modem (+FCLASS=? says 0,2.0). */
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
}

export type ModemState = 'idle' | 'ringing' | 'answering' | 'dialing' | 'connected';
export type ModemMode = 'command' | 'data' | 'online-command';

const RESULT_NUMERIC: Readonly<Record<string, number>> = {
  OK: 0, CONNECT: 1, RING: 2, 'NO CARRIER': 3, ERROR: 4, 'NO DIALTONE': 6, BUSY: 7, 'NO ANSWER': 8,
};

/** Factory S-register values (Hayes conventions). */
function factorySRegisters(): number[] {
  const s = new Array<number>(256).fill(0);
  s[2] = 43; // escape character '+'
  s[3] = 13; // CR
  s[4] = 10; // LF
  s[5] = 8; // BS
  s[6] = 2; // wait for dial tone, s
  s[7] = 50; // wait for carrier, s
  s[8] = 2; // comma pause, s
  s[10] = 14; // carrier loss delay, 1/10 s
  s[12] = 50; // escape guard time, 1/50 s
  return s;
}

interface Profile {
  echo: boolean;
  quiet: boolean;
  verbose: boolean;
  x: number;
  s: number[];
  amp: Record<string, number>;
  cid: number;
  fclass: string;
}

function factoryProfile(): Profile {
  return { echo: true, quiet: false, verbose: true, x: 4, s: factorySRegisters(), amp: {}, cid: 0, fclass: '0' };
}

function cloneProfile(p: Profile): Profile {
  return { ...p, s: [...p.s], amp: { ...p.amp } };
}

interface ActiveCall {
  id: number;
  dir: 'in' | 'out';
  state: Exclude<ModemState, 'idle'>;
  /** Where the modem sends DTE data and its hangup. */
  far: RemoteParty;
  spec: RingSpec;
  rings: number;
  connect: string;
  timers: TimerHandle[];
}

/** Fax class 2.0 commands mgetty's fax set-up sends (spec §10). */
const FAX20_COMMANDS = new Set(['+FAA', '+FCR', '+FBO', '+FNR', '+FLI', '+FCC', '+FMS', '+FLP', '+FLO', '+FIS', '+FPS', '+FIE', '+FCT', '+FPI', '+FHS', '+FNS', '+FCQ', '+FBU', '+FAP', '+FRQ', '+FEA']);

export class HayesModem {
  readonly personality: Personality;
  readonly fax: boolean;
  number: string | undefined;
  network: Network | undefined;
  faults: ModemFaults;

  private readonly clock: Clock;
  private readonly out: (bytes: Uint8Array) => void;
  private readonly onCarrierLost: () => void;
  private readonly onEvent: (text: string) => void;

  private p: Profile = factoryProfile();
  private saved: Profile = factoryProfile();
  private offHook = false;
  private mode: ModemMode = 'command';
  private call: ActiveCall | undefined;
  private nextCallId = 1;
  private stuck = false;

  // command line assembly
  private lineState: 'idle' | 'gotA' | 'line' = 'idle';
  private lineBuf = '';
  private lastLine = '';

  // +++ escape detection
  private lastDteByteAt = Number.NEGATIVE_INFINITY;
  private plusCount = 0;
  private lastPlusAt = 0;
  private escapeTimer: TimerHandle | undefined;

  // output queue (keeps order when faults delay some output)
  private readonly queue: { bytes: Uint8Array; delay: number; separate?: boolean }[] = [];
  private pumping: TimerHandle | undefined;
  private rand: number;

  constructor(opts: ModemOptions) {
    this.clock = opts.clock;
    this.out = opts.output;
    this.personality = opts.personality ?? GENERIC_V92;
    this.fax = opts.fax ?? false;
    this.number = opts.number;
    this.network = opts.network;
    this.onCarrierLost = opts.onCarrierLost ?? (() => undefined);
    this.onEvent = opts.onEvent ?? (() => undefined);
    this.faults = { ...opts.faults };
    this.rand = (opts.seed ?? 0x2545f491) >>> 0 || 1;
  }

  // ---------------------------------------------------------------- inspection

  get state(): ModemState {
    return this.call?.state ?? 'idle';
  }

  get currentMode(): ModemMode {
    return this.mode;
  }

  /** Free for a new incoming call: on-hook, no call. */
  get available(): boolean {
    return this.call === undefined && !this.offHook && !this.stuck;
  }

  sRegister(n: number): number {
    return this.p.s[n] ?? 0;
  }

  get settings(): { echo: boolean; quiet: boolean; verbose: boolean; x: number; cid: number; fclass: string } {
    return { echo: this.p.echo, quiet: this.p.quiet, verbose: this.p.verbose, x: this.p.x, cid: this.p.cid, fclass: this.p.fclass };
  }

  setFaults(f: ModemFaults): void {
    this.faults = { ...f };
    if (f.stuckInData !== true && this.stuck) {
      this.stuck = false;
      this.mode = 'command';
    }
  }

  /** Power cycle: factory settings, call dropped, queue cleared. */
  powerCycle(): void {
    if (this.call !== undefined) this.endCall('hangup', false);
    this.p = factoryProfile();
    this.saved = factoryProfile();
    this.offHook = false;
    this.stuck = false;
    this.mode = 'command';
    this.lineState = 'idle';
    this.lineBuf = '';
  }

  // ---------------------------------------------------------------- DTE side

  /** Bytes written by the DTE (the getty) to the modem. */
  onDteBytes(data: Uint8Array): void {
    // Output made while handling one chunk (echo, results) leaves as one write.
    const outer = this.batch === undefined;
    if (outer) this.batch = [];
    try {
      this.dteChunk(data);
    } finally {
      if (outer) this.flushBatch();
    }
  }

  private batch: Uint8Array[] | undefined;

  private flushBatch(): void {
    const b = this.batch;
    this.batch = undefined;
    if (b === undefined || b.length === 0) return;
    this.out(b.length === 1 ? (b[0] ?? new Uint8Array()) : Buffer.concat(b));
  }

  private dteChunk(data: Uint8Array): void {
    // Data-mode bytes go to the far end in one piece per run; only the escape scan is per byte.
    let runStart = -1;
    const flush = (end: number): void => {
      if (runStart >= 0 && end > runStart) this.call?.far.data(data.slice(runStart, end));
      runStart = -1;
    };
    for (let k = 0; k < data.length; k++) {
      const b = data[k] ?? 0;
      const now = this.clock.monotonic();
      const gap = now - this.lastDteByteAt;
      this.lastDteByteAt = now;
      if (this.mode === 'data') {
        if (runStart < 0) runStart = k;
        this.escapeScan(b, now, gap);
        continue;
      }
      flush(k);
      this.commandModeByte(b);
    }
    flush(data.length);
  }

  private commandModeByte(b: number): void {
    const st = this.call?.state;
    if (st === 'answering' || st === 'dialing') {
      // A keypress aborts the handshake, as on real modems.
      this.onEvent(`${st} aborted by DTE byte`);
      this.endCall('aborted', true);
      this.result('NO CARRIER');
      return;
    }
    this.commandByte(b);
  }

  private escapeScan(b: number, now: number, gap: number): void {
    if (this.faults.stuckInData === true || this.stuck) return;
    const esc = this.p.s[2] ?? 43;
    const guard = (this.p.s[12] ?? 50) * 20;
    if (esc > 127) return;
    if (this.escapeTimer !== undefined) {
      // Anything after the third '+' inside the guard time cancels the escape.
      this.escapeTimer.cancel();
      this.escapeTimer = undefined;
      this.plusCount = 0;
    }
    if (b !== esc) {
      this.plusCount = 0;
      return;
    }
    if (this.plusCount === 0) {
      if (gap < guard) return;
      this.plusCount = 1;
    } else if (now - this.lastPlusAt <= guard) {
      this.plusCount++;
    } else {
      this.plusCount = 0;
      return;
    }
    this.lastPlusAt = now;
    if (this.plusCount === 3) {
      this.escapeTimer = this.clock.setTimeout(() => {
        this.escapeTimer = undefined;
        this.plusCount = 0;
        if (this.mode !== 'data' || this.call === undefined) return;
        this.mode = 'online-command';
        this.onEvent('escape: online command mode');
        this.result('OK');
      }, guard);
    }
  }

  private commandByte(b: number): void {
    if (this.stuck) return;
    if (this.p.echo) this.emit(Uint8Array.of(b), 'echo');
    const cr = this.p.s[3] ?? 13;
    const bs = this.p.s[5] ?? 8;
    const c = String.fromCharCode(b);
    switch (this.lineState) {
      case 'idle':
        if (c === 'A' || c === 'a') this.lineState = 'gotA';
        return;
      case 'gotA':
        if (c === 'T' || c === 't') {
          this.lineState = 'line';
          this.lineBuf = '';
        } else if (c === '/') {
          this.lineState = 'idle';
          this.execute(this.lastLine);
        } else if (c !== 'A' && c !== 'a') {
          this.lineState = 'idle';
        }
        return;
      case 'line':
        if (b === cr) {
          this.lineState = 'idle';
          const line = this.lineBuf;
          this.lineBuf = '';
          this.lastLine = line;
          this.execute(line);
        } else if (b === bs || b === 0x7f) {
          this.lineBuf = this.lineBuf.slice(0, -1);
        } else if (b >= 0x20 && b < 0x7f && this.lineBuf.length <= 255) {
          // Bounded like a real modem's buffer: one character past the limit makes execute() say ERROR.
          this.lineBuf += c;
        }
        // Other control bytes (LF after CR, NUL) are ignored inside a command line.
        return;
    }
  }

  // ---------------------------------------------------------------- command interpreter

  /** Execute the text after `AT` (exposed for tests and A/). */
  execute(line: string): void {
    this.onEvent(`command AT${line}`);
    if (line.length > 255) {
      this.result('ERROR');
      return;
    }
    const info: string[] = [];
    let i = 0;
    const n = line.length;
    const skip = (): void => {
      while (i < n && line[i] === ' ') i++;
    };
    const num = (): number | undefined => {
      skip();
      let s = '';
      while (i < n && /[0-9]/.test(line[i] ?? '')) s += line[i++] ?? '';
      return s === '' ? undefined : Number(s);
    };
    const fail = (): void => {
      this.flushInfo(info);
      this.result('ERROR');
    };
    for (;;) {
      skip();
      if (i >= n) break;
      const c = (line[i++] ?? '').toUpperCase();
      switch (c) {
        case 'A':
          this.flushInfo(info);
          this.answer();
          return;
        case 'D':
          this.flushInfo(info);
          this.dial(line.slice(i).replace(/ /g, ''));
          return;
        case 'O': {
          num();
          this.flushInfo(info);
          if (this.call?.state === 'connected' && this.mode === 'online-command') {
            this.mode = 'data';
            this.result('CONNECT', this.call.connect);
          } else {
            this.result('NO CARRIER');
          }
          return;
        }
        case 'E': case 'Q': case 'V': case 'X': case 'L': case 'M': case 'H': case 'Z': case 'I':
        case 'B': case 'N': case 'W': case 'Y': case 'T': case 'P': case 'C': case 'F': {
          const v = num() ?? 0;
          if (!this.simple(c, v, info)) return fail();
          break;
        }
        case 'S': {
          const reg = num();
          if (reg === undefined || reg > this.personality.maxSRegister) return fail();
          skip();
          if (line[i] === '?') {
            i++;
            info.push(String(this.p.s[reg] ?? 0).padStart(3, '0'));
          } else if (line[i] === '=') {
            i++;
            const v = num() ?? 0;
            if (v > 255) return fail();
            this.p.s[reg] = v;
          } else {
            return fail();
          }
          break;
        }
        case '&': {
          skip();
          const letter = (line[i++] ?? '').toUpperCase();
          const v = num() ?? 0;
          if (!this.ampersand(letter, v, info)) return fail();
          break;
        }
        case '+':
        case '#': {
          let name = c;
          while (i < n && /[A-Za-z0-9]/.test(line[i] ?? '')) name += (line[i++] ?? '').toUpperCase();
          let op: 'exec' | 'read' | 'test' | 'set' = 'exec';
          let arg = '';
          if (line[i] === '=' && line[i + 1] === '?') {
            op = 'test';
            i += 2;
          } else if (line[i] === '=') {
            op = 'set';
            i++;
            // The argument runs to ';' or the end; quoted strings may contain anything.
            let quoted = false;
            while (i < n && (quoted || line[i] !== ';')) {
              const ch = line[i++] ?? '';
              if (ch === '"') quoted = !quoted;
              arg += ch;
            }
          } else if (line[i] === '?') {
            op = 'read';
            i++;
          }
          if (line[i] === ';') i++;
          if (!this.extended(name, op, arg.trim(), info)) return fail();
          break;
        }
        case ';':
          break;
        default:
          return fail();
      }
    }
    this.flushInfo(info);
    this.result('OK');
  }

  private simple(c: string, v: number, info: string[]): boolean {
    switch (c) {
      case 'E':
        if (v > 1) return false;
        this.p.echo = v === 1;
        return true;
      case 'Q':
        if (v > 1) return false;
        this.p.quiet = v === 1;
        return true;
      case 'V':
        if (v > 1) return false;
        this.p.verbose = v === 1;
        return true;
      case 'X':
        if (v > 7) return false;
        this.p.x = v;
        return true;
      case 'L':
      case 'M':
      case 'B':
      case 'N':
      case 'W':
      case 'Y':
      case 'C':
      case 'F':
        return v <= 3;
      case 'T':
      case 'P':
        return v === 0;
      case 'H':
        if (v > 1) return false;
        this.answerTimer?.cancel();
        if (this.call !== undefined) this.endCall('hangup', true);
        this.offHook = v === 1;
        this.mode = 'command';
        return true;
      case 'Z':
        if (v > 1) return false;
        this.answerTimer?.cancel();
        if (this.call !== undefined) this.endCall('hangup', true);
        this.offHook = false;
        this.mode = 'command';
        this.p = cloneProfile(this.saved);
        return true;
      case 'I': {
        const text = this.personality.info[v];
        if (text === undefined) return false;
        info.push(...text);
        return true;
      }
      default:
        return false;
    }
  }

  private ampersand(letter: string, v: number, info: string[]): boolean {
    if (letter === 'F') {
      if (!this.personality.factoryProfiles.includes(v)) return false;
      this.p = factoryProfile();
      this.p.amp.F = v;
      return true;
    }
    if (letter === 'W') {
      if (v > 1) return false;
      this.saved = cloneProfile(this.p);
      return true;
    }
    if (letter === 'V' && this.personality.ampersand.V !== undefined) {
      const s = this.p.s;
      info.push(`E${this.p.echo ? 1 : 0} Q${this.p.quiet ? 1 : 0} V${this.p.verbose ? 1 : 0} X${this.p.x}`);
      info.push([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12].map((r) => `S${String(r).padStart(2, '0')}:${String(s[r] ?? 0).padStart(3, '0')}`).join(' '));
      return true;
    }
    const max = this.personality.ampersand[letter];
    if (max === undefined || v > max) return false;
    this.p.amp[letter] = v;
    return true;
  }

  private extended(name: string, op: 'exec' | 'read' | 'test' | 'set', arg: string, info: string[]): boolean {
    const pers = this.personality;
    if (name === '+FCLASS') {
      const classes = this.fax ? ['0', '2.0'] : ['0'];
      if (op === 'test') info.push(classes.join(','));
      else if (op === 'read') info.push(this.p.fclass);
      else if (op === 'set') {
        if (!classes.includes(arg)) return false;
        this.p.fclass = arg;
      } else return false;
      return true;
    }
    if (name === '+GMI' || name === '+GMM' || name === '+GMR') {
      if (op !== 'exec') return false;
      info.push(name === '+GMI' ? pers.gmi : name === '+GMM' ? pers.gmm : pers.gmr);
      return true;
    }
    const cidValues = pers.cidCommands[name];
    if (cidValues !== undefined) {
      if (op === 'test') info.push(`(${cidValues.join(',')})`);
      else if (op === 'read') info.push(String(this.p.cid));
      else if (op === 'set') {
        const v = Number(arg);
        if (arg === '' || !cidValues.includes(v)) return false;
        this.p.cid = v;
      } else return false;
      return true;
    }
    if (this.fax && FAX20_COMMANDS.has(name)) {
      // Class 2.0 commands only make sense after AT+FCLASS=2.0, as on real modems.
      return this.p.fclass === '2.0';
    }
    return pers.acceptedExtended.includes(name);
  }

  // ---------------------------------------------------------------- calls: answering

  /**
   * An incoming call. Returns the leg the far end uses, or undefined when the line is
   * busy (off-hook, in a call, stuck).
   */
  incoming(spec: RingSpec, party: RemoteParty): CallLeg | undefined {
    if (!this.available) return undefined;
    const call: ActiveCall = {
      id: this.nextCallId++,
      dir: 'in',
      state: 'ringing',
      far: party,
      spec,
      rings: 0,
      connect: spec.connect ?? this.personality.connect,
      timers: [],
    };
    this.call = call;
    this.p.s[1] = 0;
    this.onEvent(`incoming call from ${spec.callerId ?? 'unknown'}`);
    this.maybeDropCarrier('ringing');
    this.ringOnce(call);
    return this.legFor(call);
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
      get active() {
        return isCurrent();
      },
    };
  }

  private ringOnce(call: ActiveCall): void {
    if (this.call !== call || call.state !== 'ringing') return;
    const spec = call.spec;
    const maxRings = spec.maxRings ?? 10;
    if (call.rings >= maxRings) {
      this.onEvent('caller gave up');
      this.endCall('not-answered', true);
      return;
    }
    call.rings++;
    this.p.s[1] = call.rings;
    const format = spec.cidFormat ?? this.personality.defaultCidFormat;
    const cidOn = !this.personality.cidRequiresEnable || this.p.cid > 0;
    const effFormat: CidFormat = cidOn ? format : 'none';
    const caller = { number: spec.callerId, name: spec.callerName, when: new Date(this.clock.now()) };
    for (const l of ringLines(effFormat, caller, spec.distinctive ?? 0, spec.distinctiveFormat ?? 'digit')) {
      // RING is a result code (numeric 2 with V0, silent with Q1); cadence lines are information text.
      if (l.startsWith('RING')) this.result(l);
      else this.infoLine(l);
    }
    if (call.rings === 1 && effFormat !== 'none') {
      const block = callerIdBlock(effFormat, caller);
      if (block.length > 0) {
        call.timers.push(this.clock.setTimeout(() => {
          if (this.call !== call || call.state !== 'ringing') return;
          for (const l of block) this.infoLine(l);
        }, spec.cidDelayMs ?? 500));
      }
    }
    const s0 = this.p.s[0] ?? 0;
    if (s0 > 0 && call.rings >= s0) {
      this.onEvent('auto-answer');
      this.answer();
      return;
    }
    call.timers.push(this.clock.setTimeout(() => this.ringOnce(call), spec.ringCadenceMs ?? 6000));
  }

  private answer(): void {
    const call = this.call;
    if (call === undefined || call.state !== 'ringing' || call.dir !== 'in') {
      if (call !== undefined) {
        this.result('ERROR');
        return;
      }
      // Off-hook in answer mode with nobody calling: no carrier after S7 seconds.
      const t = this.clock.setTimeout(() => {
        this.answerTimer = undefined;
        this.result('NO CARRIER');
      }, (this.p.s[7] ?? 50) * 1000);
      this.answerTimer?.cancel();
      this.answerTimer = t;
      return;
    }
    this.clearTimers(call);
    call.state = 'answering';
    this.onEvent('answering');
    this.maybeDropCarrier('answering');
    call.timers.push(this.clock.setTimeout(() => this.answered(call), call.spec.answerDelayMs ?? 500));
  }

  private answerTimer: TimerHandle | undefined;

  private answered(call: ActiveCall): void {
    if (this.call !== call || call.state !== 'answering') return;
    const outcome = call.spec.outcome ?? 'connect';
    switch (outcome) {
      case 'connect':
        this.goConnected(call);
        call.far.connected(call.connect);
        return;
      case 'no-carrier':
        this.endCall('no-carrier', true);
        this.result('NO CARRIER');
        return;
      case 'busy':
        this.endCall('busy', true);
        this.result('BUSY');
        return;
      case 'no-answer':
        this.endCall('no-answer', true);
        this.result('NO ANSWER');
        return;
    }
  }

  private goConnected(call: ActiveCall): void {
    this.clearTimers(call);
    call.state = 'connected';
    this.mode = 'data';
    this.plusCount = 0;
    this.lastDteByteAt = this.clock.monotonic();
    this.onEvent(`connected ${call.connect}`);
    this.result('CONNECT', call.connect);
    this.maybeDropCarrier('connected');
  }

  // ---------------------------------------------------------------- calls: dialling

  private dial(dialString: string): void {
    if (this.call !== undefined) {
      this.result('ERROR');
      return;
    }
    let s = dialString.toUpperCase();
    let stay = false;
    if (s.endsWith(';')) {
      stay = true;
      s = s.slice(0, -1);
    }
    if (s.startsWith('L')) s = this.lastDialled;
    this.lastDialled = s;
    const number = s.replace(/[^0-9*#]/g, '');
    if (stay) {
      this.result('OK');
      return;
    }
    if (this.network === undefined || number === '') {
      this.result(this.network === undefined ? 'NO DIALTONE' : 'NO CARRIER');
      return;
    }
    const call: ActiveCall = {
      id: this.nextCallId++,
      dir: 'out',
      state: 'dialing',
      far: { connected: () => undefined, data: () => undefined, ended: () => undefined },
      spec: {},
      rings: 0,
      connect: this.personality.connect,
      timers: [],
    };
    this.call = call;
    this.onEvent(`dialling ${number}`);
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
    };
    const r = this.network.dial(this, number, party);
    if (r.kind !== 'ringing') {
      const text = r.kind === 'busy' ? (this.p.x >= 3 ? 'BUSY' : 'NO CARRIER') : 'NO CARRIER';
      // Dialling takes a moment even when it fails.
      call.timers.push(this.clock.setTimeout(() => {
        if (this.call !== call) return;
        this.endCall(r.kind === 'busy' ? 'busy' : 'no-carrier', false);
        this.result(text);
      }, 1000));
      return;
    }
    const leg = r.leg;
    call.far = { connected: () => undefined, data: (b) => leg.send(b), ended: () => leg.hangup() };
    call.timers.push(this.clock.setTimeout(() => {
      if (this.call !== call || call.state !== 'dialing') return;
      this.endCall('no-answer', true);
      this.result('NO ANSWER');
    }, (this.p.s[7] ?? 50) * 1000));
  }

  private lastDialled = '';

  // ---------------------------------------------------------------- calls: both directions

  private fromRemote(bytes: Uint8Array): void {
    if (this.call?.state === 'connected' && this.mode === 'data') this.emit(bytes, 'data');
    // In online-command mode (after +++) data from the far end is dropped.
  }

  /** The far end hung up. */
  private remoteHangup(): void {
    const call = this.call;
    if (call === undefined) return;
    const wasConnected = call.state === 'connected';
    const state = call.state;
    this.endCall('remote-hangup', false);
    if (state === 'ringing') return; // the ringing just stops
    this.carrierGone(wasConnected);
  }

  /** Carrier is gone while answering/dialling/connected: NO CARRIER, and a line hangup if connected. */
  private carrierGone(wasConnected: boolean): void {
    if (this.faults.stuckInData === true && wasConnected) {
      // The modem never notices: it stays in data mode and swallows everything.
      this.stuck = true;
      this.mode = 'data';
      this.onEvent('carrier gone, modem stuck in data mode');
      return;
    }
    this.mode = 'command';
    this.result('NO CARRIER');
    if (wasConnected) this.onCarrierLost();
  }

  /** Drop the carrier now (a fault on demand): ends any call from the modem's side. */
  dropCarrier(): void {
    const call = this.call;
    if (call === undefined) return;
    const state = call.state;
    this.onEvent(`carrier dropped in state ${state}`);
    this.endCall('carrier-lost', true);
    if (state === 'ringing') return;
    this.carrierGone(state === 'connected');
  }

  private maybeDropCarrier(state: 'ringing' | 'answering' | 'connected'): void {
    if (this.faults.dropCarrierAt !== state || this.call === undefined) return;
    const call = this.call;
    call.timers.push(this.clock.setTimeout(() => {
      if (this.call === call && call.state === state) this.dropCarrier();
    }, this.faults.dropCarrierAfterMs ?? 0));
  }

  private endCall(reason: EndReason, tellFar: boolean): void {
    const call = this.call;
    if (call === undefined) return;
    this.clearTimers(call);
    this.call = undefined;
    this.p.s[1] = 0;
    if (this.mode !== 'command' && !this.stuck) this.mode = 'command';
    this.escapeTimer?.cancel();
    this.escapeTimer = undefined;
    this.onEvent(`call ended: ${reason}`);
    if (tellFar) call.far.ended(reason);
  }

  private clearTimers(call: ActiveCall): void {
    for (const t of call.timers) t.cancel();
    call.timers = [];
  }

  /** Cancel every timer (for shutdown). */
  dispose(): void {
    if (this.call !== undefined) this.endCall('hangup', true);
    this.answerTimer?.cancel();
    this.escapeTimer?.cancel();
    this.pumping?.cancel();
    this.pumping = undefined;
    this.queue.length = 0;
  }

  // ---------------------------------------------------------------- output

  private get cr(): string {
    return String.fromCharCode(this.p.s[3] ?? 13);
  }

  private get lf(): string {
    return String.fromCharCode(this.p.s[4] ?? 10);
  }

  /** A result code (suppressed by Q1). */
  private result(code: string, connect?: string): void {
    if (this.p.quiet) return;
    let text: string;
    if (this.p.verbose) {
      const full = code === 'CONNECT' && connect !== undefined && connect !== '' && this.p.x > 0 ? `CONNECT ${connect}` : code;
      text = this.cr + this.lf + full + this.cr + this.lf;
    } else {
      text = String(RESULT_NUMERIC[code] ?? (code.startsWith('RING') ? 2 : 4)) + this.cr;
    }
    this.emitResult(text);
  }

  /** Information text: a line of ATI, S?, caller ID. */
  private infoLine(line: string): void {
    this.emitResult(this.p.verbose ? this.cr + this.lf + line + this.cr + this.lf : line + this.cr + this.lf);
  }

  private flushInfo(info: string[]): void {
    for (const l of info) this.infoLine(l);
    info.length = 0;
  }

  private emitResult(text: string): void {
    const f = this.faults;
    let s = text;
    if (f.strayCrLf === true) s = `${this.cr}${s}${this.lf}${this.cr}`;
    if ((f.garbageBeforeResults ?? 0) > 0) s = this.garbage(f.garbageBeforeResults ?? 0) + s;
    this.emit(Buffer.from(s, 'latin1'), 'result');
  }

  /** Junk bytes on the line now (a fault on demand). Avoids CR/LF so it cannot look like a line end. */
  injectGarbage(count: number): void {
    this.emit(Buffer.from(this.garbage(count), 'latin1'), 'data');
  }

  private garbage(count: number): string {
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

  private emit(bytes: Uint8Array, kind: 'echo' | 'result' | 'data'): void {
    const f = this.faults;
    if (kind !== 'data' && f.silent === true) return;
    if (kind === 'result') {
      const split = f.splitResults === true ? 1 : typeof f.splitResults === 'number' ? f.splitResults : 0;
      let delay = f.responseDelayMs ?? 0;
      if (split > 0) {
        for (let k = 0; k < bytes.length; k += split) {
          this.queue.push({ bytes: bytes.subarray(k, k + split), delay, separate: true });
          delay = f.splitDelayMs ?? 20;
        }
      } else {
        this.queue.push({ bytes, delay });
      }
    } else {
      this.queue.push({ bytes, delay: 0 });
    }
    this.pump();
  }

  private pump(): void {
    while (this.pumping === undefined) {
      const item = this.queue[0];
      if (item === undefined) return;
      if (item.delay > 0) {
        const d = item.delay;
        item.delay = 0;
        this.pumping = this.clock.setTimeout(() => {
          this.pumping = undefined;
          this.pump();
        }, d);
        return;
      }
      this.queue.shift();
      if (this.batch !== undefined && item.separate !== true) this.batch.push(item.bytes);
      else {
        // A split piece must be its own write: flush what was batched before it.
        if (this.batch !== undefined) {
          const before = this.batch;
          this.batch = [];
          if (before.length > 0) this.out(Buffer.concat(before));
        }
        this.out(item.bytes);
      }
    }
  }
}
