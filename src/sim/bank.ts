/**
 * The modem bank: N simulated modems, each on its own line, joined by a phone exchange,
 * with optional telnet/TCP ingress. The test API and the `tgetty sim` command both sit
 * on this.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { basename, join } from 'node:path';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { TgettyError } from '../core/errors.js';
import { AbusePolicy, normaliseAddress, type AbuseOptions } from './abuse.js';
import { Call } from './call.js';
import { dialoutCommands, drainedOrClosed, type DialCallInfo, type DialoutOptions } from './dialout/dialout.js';
import { Exchange } from './exchange.js';
import { FaxMachine, type FaxMachineOptions, type FaxSendOptions, type SentFax } from './fax/machine.js';
import { loadPages, type SimFaxPage } from './fax/pages.js';
import { ExpectBuffer } from './expect.js';
import { HayesModem, type ModemFaults, type RingSpec } from './modem.js';
import { findPersonality, GENERIC_V92, type Personality } from './personality.js';
import { MemoryTransport } from './memory-transport.js';
import { PtyLine, type LineTransport } from './pty-line.js';
import { TelnetCodec } from './telnet.js';
import { Switchboard, type Banners, type Caller, type CallerSink } from './switchboard.js';
import { Transcript } from './transcript.js';
import { SerialLine, type SerialLineOptions, type SerialSpec } from './serial-line.js';
import { DEFAULT_LOCK_DIR } from '../line/lock.js';
import { Ip232Line, type Ip232Spec } from './ip232-line.js';

export interface BankOptions {
  lines: number;
  /** Where the ttySIMn symlinks (and transcript logs) go. Created if missing. */
  dir: string;
  clock?: Clock;
  /** Personality name (`generic`, `usr`, `zyxel`) or object. */
  personality?: string | Personality;
  fax?: boolean;
  /** Fax pages leave the modems at this rate instead of the negotiated one (default: negotiated). */
  faxPaceBps?: number;
  /** How long a receiving fax modem waits for a page (T.30 T2, default 6 s). */
  faxT2Ms?: number;
  /** Write DIR/<name>.transcript.log per line. */
  transcripts?: boolean;
  /** Number of line 0; line i gets base + i, same width (default 5550000). */
  numbersBase?: string;
  /** Device name prefix (default ttySIM). */
  prefix?: string;
  /** Delay between NO CARRIER and closing the pty master, so the getty can read it (default 200 ms). */
  hangupDelayMs?: number;
  /** Defaults for modem-to-modem calls (cadence, answer time). */
  ringDefaults?: RingSpec;
  faults?: ModemFaults;
  /** `memory`: no ptys (unit tests); the default is `pty`. */
  transport?: 'pty' | 'memory';
  /** Called for each transcript note (e.g. to print to the console). */
  onNote?: (line: string, text: string) => void;
  /**
   * Latency benchmarks: stamp the getty's bytes in the transcript the moment they are
   * read, and let the modem act on them (echo, answer) after the current batch of reads
   * (setImmediate). Otherwise the modem work on one line delays the stamps of every line
   * read after it in the same batch, and 64 simultaneous answers measure the simulator.
   */
  stampFirst?: boolean;
  /**
   * Dial-out to TCP hosts (`ATD host:port`, phone book numbers): on unless `false`.
   * Plain numbers not in the phone book still ring the bank's own lines.
   */
  dialout?: false | Omit<DialoutOptions, 'clock' | 'event' | 'onCall'>;
  /** Real serial ports (or pty slaves standing in for them), after the virtual lines. */
  serial?: readonly (SerialSpec & Pick<SerialLineOptions, 'modemLines'>)[];
  /** Where the serial ports' UUCP locks go (default /var/lock). */
  lockDir?: string;
  /** ip232 ports (emulators connect over TCP), after the serial ports; port 0 picks a free one. */
  ip232?: readonly Ip232Spec[];
}

/** Bytes queued towards a far end (a socket) above which the DTE is no longer read. */
const FAR_HIGH_WATER = 256 * 1024;

/** How a test or a telnet caller rings a line: what the network presents to the modem. */
export type CallOptions = RingSpec;

/**
 * The DTE's bytes as the line reads them: into the transcript at once; with `stampFirst`,
 * acted on one turn later, in a batch, so the transcript has them before any reply.
 */
function dteReader(transcript: Transcript, stampFirst: boolean, act: (b: Buffer) => void): (b: Buffer) => void {
  let later: Buffer[] | undefined;
  return (b) => {
    transcript.add('<', b);
    if (!stampFirst) {
      act(b);
      return;
    }
    if (later !== undefined) {
      later.push(b);
      return;
    }
    later = [b];
    setImmediate(() => {
      const bufs = later ?? [];
      later = undefined;
      for (const x of bufs) act(x);
    });
  };
}

export class SimLine {
  readonly modem: HayesModem;
  readonly transcript: Transcript;
  /** Bytes the getty wrote to the modem. */
  readonly fromDte: ExpectBuffer;
  /** Bytes the modem wrote to the getty. */
  readonly toDte: ExpectBuffer;
  readonly transport: LineTransport;
  private hangupTimer: TimerHandle | undefined;
  /** The current (or last) dial-out call to a TCP host. */
  dialCall: DialCallInfo | undefined;
  /** For status: who the current (or last) call is with, bytes each way in it, when the state last changed. */
  peer = '';
  bytesFromDte = 0;
  bytesToDte = 0;
  since: number;
  private lastState = 'idle';
  private farPaused = false;

  constructor(
    readonly index: number,
    readonly name: string,
    readonly number: string,
    private readonly clock: Clock,
    opts: { dir: string; personality: Personality; fax: boolean; faxPaceBps?: number; faxT2Ms?: number; logFile?: string; hangupDelayMs: number; faults?: ModemFaults; transport: 'pty' | 'memory'; exchange: Exchange; onNote?: (line: string, text: string) => void; stampFirst?: boolean; dialout?: false | Omit<DialoutOptions, 'clock' | 'event' | 'onCall'>; serial?: SerialSpec & Pick<SerialLineOptions, 'modemLines'> & { lockDir: string }; ip232?: Ip232Spec },
  ) {
    this.since = clock.now();
    this.transcript = new Transcript(clock, opts.logFile);
    this.fromDte = new ExpectBuffer(clock, `${name} from DTE`);
    this.toDte = new ExpectBuffer(clock, `${name} to DTE`);
    const act = (b: Buffer): void => {
      if (this.modem.state !== 'idle') this.bytesFromDte += b.length;
      this.fromDte.push(b);
      this.modem.onDteBytes(b);
    };
    const onData = dteReader(this.transcript, opts.stampFirst === true, act);
    const note = (text: string): void => {
      this.transcript.note(text);
      this.track(text);
      opts.onNote?.(name, text);
    };
    this.modem = new HayesModem({
      clock,
      personality: opts.personality,
      fax: opts.fax,
      ...(opts.faxPaceBps !== undefined ? { faxPaceBps: opts.faxPaceBps } : {}),
      ...(opts.faxT2Ms !== undefined ? { faxT2Ms: opts.faxT2Ms } : {}),
      faults: opts.faults ?? {},
      seed: index + 1,
      output: (b) => {
        if (this.modem.state !== 'idle') this.bytesToDte += b.length;
        this.transcript.add('>', b);
        this.toDte.push(b);
        this.transport.write(b);
      },
      onCarrierLost: () => {
        this.hangupTimer?.cancel();
        this.hangupTimer = this.clock.setTimeout(() => {
          this.hangupTimer = undefined;
          this.hangupLine();
        }, opts.hangupDelayMs);
      },
      onEvent: note,
      ...(opts.dialout !== false
        ? { commands: [dialoutCommands({ ...opts.dialout, clock, event: note, onCall: (c) => (this.dialCall = c), flow: this.flow })] }
        : {}),
    });
    opts.exchange.register(number, this.modem);
    this.transport =
      opts.ip232 !== undefined
        ? new Ip232Line({ ...opts.ip232, onData, onNote: note, onDtrDrop: () => this.modem.dtrDrop() })
        : opts.serial !== undefined
        ? new SerialLine({ ...opts.serial, onData, onNote: note, onDtrDrop: () => this.modem.dtrDrop() })
        : opts.transport === 'memory'
        ? new MemoryTransport(join(opts.dir, name), clock, onData)
        : new PtyLine({
          dir: opts.dir,
          name,
          onData,
          onReopen: (slave) => note(`line hung up; new pty ${slave}`),
          onOverflow: note,
          // The DTE's last close of the slave is its DTR drop (HUPCL on a real port).
          onDteClosed: () => {
            note('DTE closed the line (DTR drop)');
            this.modem.dtrDrop();
          },
        });
  }

  /** Every state change comes with a note: keep the status fields up to date from them. */
  private track(text: string): void {
    const m = /^(?:incoming call from|dialling) (.*)$/.exec(text);
    if (m !== null) {
      this.peer = m[1] ?? '';
      this.bytesFromDte = 0;
      this.bytesToDte = 0;
    }
    // The modem may not exist yet (notes during construction).
    const st = (this.modem as HayesModem | undefined)?.state ?? 'idle';
    if (st !== this.lastState) {
      this.lastState = st;
      this.since = this.clock.now();
      // On a serial port the call state is the computer's DCD (our DTR, over a null modem);
      // on ip232 it is the DCD message.
      this.transport.carrier?.(st === 'connected');
    }
  }

  /** The stable device path the getty opens (a symlink to the current pty slave). */
  get path(): string {
    return this.transport.path;
  }

  get slave(): string {
    return this.transport.slave;
  }

  /**
   * Flow control for a far end that carries data (a telnet caller, a dial-out socket):
   * `toDte` after passing bytes in stops the source (`pause`) until the line has given the
   * DTE what waits (`resume`); `fromDte` after sending bytes out stops reading the DTE
   * while the far end's queue is above `highWater`.
   */
  readonly flow = {
    toDte: (pause: () => void, resume: () => void): void => {
      const t = this.transport;
      if (t.blocked !== true || t.onceDrained === undefined) return;
      pause();
      t.onceDrained(resume);
    },
    fromDte: (queued: number, waitDrain: (fn: () => void) => void): void => {
      const t = this.transport;
      if (this.farPaused || queued <= FAR_HIGH_WATER || t.pauseInput === undefined) return;
      this.farPaused = true;
      t.pauseInput();
      waitDrain(() => {
        this.farPaused = false;
        t.resumeInput?.();
      });
    },
  };

  /** Ring this line: an incoming call you can script. */
  call(opts: CallOptions = {}): Call {
    const c = new Call(this.clock, this.name);
    const leg = this.modem.incoming({ ...opts }, c.party);
    if (leg === undefined) {
      throw new TgettyError('SIM_NO_FREE_LINE', `${this.name} is busy`, { port: this.name, state: this.modem.state });
    }
    c.attach(leg);
    return c;
  }

  waitForDte(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return this.fromDte.waitFor(re, timeoutMs);
  }

  waitForModem(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    return this.toDte.waitFor(re, timeoutMs);
  }

  setFaults(f: ModemFaults): void {
    this.modem.setFaults(f);
  }

  /** Close the pty master now (the getty sees a hangup) and publish a fresh pty. */
  hangupLine(): void {
    this.transcript.note('hangup: closing pty master');
    this.transport.hangup();
  }

  async close(): Promise<void> {
    this.hangupTimer?.cancel();
    this.modem.dispose();
    this.transport.close();
    this.fromDte.close('line closed');
    this.toDte.close('line closed');
    await this.transcript.close();
  }
}

/** How long a refused caller may keep its half of the connection open. */
const REFUSED_LINGER_MS = 5000;
/** Bytes queued to a TCP caller above which we stop reading from it. */
const WRITE_HIGH_WATER = 64 * 1024;

export interface ListenOptions {
  port: number;
  host?: string;
  /** Plain TCP instead of telnet. */
  raw?: boolean;
  /** All lines busy: send BUSY and close (default), or refuse (close at once). */
  whenBusy?: 'busy' | 'refuse';
  /** Ring options for TCP callers. */
  ring?: CallOptions;
  /**
   * Abuse controls for exposed lines: per-address cool-down after a call, calls per
   * minute (all / per address), busy-out at start. Default: all off.
   */
  abuse?: AbuseOptions;
  /** Where refusals (busy-out, cool-down, rate limit, all lines busy) are logged. */
  log?: (text: string) => void;
  /** All lines busy: this many callers wait (hearing the ringing) for a line instead of BUSY (default 0). */
  queue?: number;
  /** What callers hear: ringing, connect, busy, no-answer texts (switchboard.ts has the defaults). */
  banners?: Partial<Banners>;
}

/** The bank's modem personality: a name from the table, an object as given, or the generic V.92 modem. */
function bankPersonality(p: BankOptions['personality']): Personality {
  if (typeof p === 'string') {
    const found = findPersonality(p);
    if (found === undefined) throw new TgettyError('CLI_USAGE', `unknown modem personality: ${p}`, { input: p });
    return found;
  }
  return p ?? GENERIC_V92;
}

export class SimBank {
  readonly lines: readonly SimLine[];
  readonly exchange: Exchange;
  readonly dir: string;
  private readonly clock: Clock;
  private servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly policies: AbusePolicy[] = [];
  private readonly boards = new Map<ListenOptions, Switchboard>();
  private busy = false;
  private closed = false;
  private readonly faxMachines: FaxMachine[] = [];
  private readonly onNote: ((line: string, text: string) => void) | undefined;
  private readonly closers: (() => Promise<void>)[] = [];

  constructor(opts: BankOptions) {
    const serial = opts.serial ?? [];
    const others = serial.length + (opts.ip232?.length ?? 0);
    const minLines = others > 0 ? 0 : 1;
    if (!Number.isInteger(opts.lines) || opts.lines < minLines || opts.lines + others > 4096) {
      throw new TgettyError('CLI_USAGE', `lines must be ${minLines}..4096, got ${opts.lines}`, { input: String(opts.lines) });
    }
    const base = opts.numbersBase ?? '5550000';
    if (!/^[0-9]+$/.test(base)) throw new TgettyError('CLI_USAGE', `numbers base must be digits: ${base}`, { input: base });
    const personality = bankPersonality(opts.personality);
    this.clock = opts.clock ?? systemClock;
    this.dir = opts.dir;
    this.onNote = opts.onNote;
    this.exchange = new Exchange(opts.ringDefaults ?? {});
    const transport = opts.transport ?? 'pty';
    if (transport === 'pty') mkdirSync(opts.dir, { recursive: true });
    const prefix = opts.prefix ?? 'ttySIM';
    const lines: SimLine[] = [];
    // What every line shares; each kind adds its own transport.
    const common = (name: string) => ({
      dir: opts.dir,
      personality,
      fax: opts.fax ?? false,
      ...(opts.transcripts === true ? { logFile: join(opts.dir, `${name}.transcript.log`) } : {}),
      hangupDelayMs: opts.hangupDelayMs ?? 200,
      ...(opts.faults !== undefined ? { faults: opts.faults } : {}),
      exchange: this.exchange,
      ...(opts.onNote !== undefined ? { onNote: opts.onNote } : {}),
      ...(opts.dialout !== undefined ? { dialout: opts.dialout } : {}),
    });
    const add = (name: string, extra: Partial<ConstructorParameters<typeof SimLine>[4]>): void => {
      const i = lines.length;
      const number = (BigInt(base) + BigInt(i)).toString().padStart(base.length, '0');
      lines.push(new SimLine(i, name, number, this.clock, { ...common(name), transport: 'pty', ...extra }));
    };
    try {
      for (let i = 0; i < opts.lines; i++) {
        add(`${prefix}${i}`, {
          ...(opts.faxPaceBps !== undefined ? { faxPaceBps: opts.faxPaceBps } : {}),
          ...(opts.faxT2Ms !== undefined ? { faxT2Ms: opts.faxT2Ms } : {}),
          transport,
          ...(opts.stampFirst === true ? { stampFirst: true } : {}),
        });
      }
      serial.forEach((spec, k) => {
        const base0 = basename(spec.device);
        add(base0.startsWith('tty') ? base0 : `serial${k}`, { serial: { ...spec, lockDir: opts.lockDir ?? DEFAULT_LOCK_DIR } });
      });
      (opts.ip232 ?? []).forEach((spec, k) => add(`ip232-${k}`, { ip232: spec }));
    } catch (err) {
      for (const l of lines) void l.close();
      throw err;
    }
    this.lines = lines;
  }

  line(i: number): SimLine {
    const l = this.lines[i];
    if (l === undefined) throw new TgettyError('SIM_FAILED', `no line ${i} (bank has ${this.lines.length})`, { input: String(i) });
    return l;
  }

  byNumber(number: string): SimLine | undefined {
    return this.lines.find((l) => l.number === number);
  }

  /** Telnet callers waiting in the queues (--queue) now. */
  get queued(): number {
    let n = 0;
    for (const b of this.boards.values()) n += b.queued;
    return n;
  }

  /** A line free for an incoming call, or undefined. */
  freeLine(): SimLine | undefined {
    return this.lines.find((l) => l.modem.available);
  }

  /**
   * A virtual fax machine at `number`: with `dir` it answers fax calls and stores each page
   * there as a G3 file; it can also call with pages (faxCall).
   */
  addFaxMachine(o: { number: string; dir?: string; id?: string } & Partial<Pick<FaxMachineOptions, 'answerAfterMs' | 'stepMs' | 'chunkBytes' | 'caps' | 'paceBps' | 'pollPages' | 'pollHow'>>): FaxMachine {
    if (!/^[0-9]+$/.test(o.number)) throw new TgettyError('CLI_USAGE', `fax machine number must be digits: ${o.number}`, { input: o.number });
    if (this.exchange.lookup(o.number) !== undefined) throw new TgettyError('CLI_USAGE', `number ${o.number} is taken`, { input: o.number });
    const m = new FaxMachine({
      clock: this.clock,
      exchange: this.exchange,
      ...o,
      onEvent: (t) => this.onNote?.('fax', t),
    });
    this.faxMachines.push(m);
    return m;
  }

  /**
   * A fax machine calls `number` (a line's number) with pages from files (G3, TIFF class F,
   * PBM) or ready pages. It calls from `from` (a machine added before) or a sending-only one.
   */
  faxCall(number: string, pages: readonly (string | SimFaxPage)[], o: { from?: FaxMachine; id?: string; paceBps?: number | true } & FaxSendOptions = {}): Promise<SentFax> {
    let loaded: SimFaxPage[];
    try {
      loaded = pages.flatMap((p) => (typeof p === 'string' ? loadPages(p) : [p]));
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const m = o.from ?? new FaxMachine({ clock: this.clock, exchange: this.exchange, number: '5550999', ...(o.id !== undefined ? { id: o.id } : {}), ...(o.paceBps !== undefined ? { paceBps: o.paceBps } : {}), onEvent: (t) => this.onNote?.('fax', t) });
    const { breakOffAfter, midPage, silent } = o;
    return m.send(number, loaded, { ...(breakOffAfter !== undefined ? { breakOffAfter } : {}), ...(midPage !== undefined ? { midPage } : {}), ...(silent !== undefined ? { silent } : {}) });
  }

  /** Banner lines: device, number (like tcpser prints at start). */
  banner(): string[] {
    return this.lines.map((l) => (l.transport instanceof Ip232Line ? `ip232 ${l.path}  number ${l.number}` : `${l.path}  number ${l.number}  (${l.slave})`));
  }

  /** Busy-out (on) or back in service (off): while on, every TCP caller gets BUSY. */
  busyOut(on: boolean): void {
    this.busy = on;
    for (const p of this.policies) p.busyOut(on);
  }

  get busiedOut(): boolean {
    return this.busy;
  }

  /** Accept telnet (or raw TCP) callers; each connection is an incoming call on a free line. */
  listen(opts: ListenOptions): Promise<AddressInfo> {
    if (opts.abuse?.busyOut === true) this.busy = true;
    const policy = new AbusePolicy({ ...opts.abuse, busyOut: this.busy }, this.clock);
    this.policies.push(policy);
    const server = createServer((sock) => this.accept(sock, opts, policy));
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(opts.port, opts.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve(server.address() as AddressInfo);
      });
    });
  }

  private accept(sock: Socket, opts: ListenOptions, policy: AbusePolicy): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.on('error', () => undefined); // 'close' follows and ends the call
    sock.setNoDelay(true);
    const remote = sock.remoteAddress; // read once: it is gone after the socket closes
    const refusal = policy.check(remote);
    if (refusal !== undefined) {
      opts.log?.(refusal.log);
      this.refuse(sock, refusal.message);
      return;
    }
    // Negotiation replies are gathered and written once per chunk (a flood of commands
    // must not become a flood of tiny writes).
    const replies: Buffer[] = [];
    const flushReplies = (): void => {
      if (replies.length > 0 && !sock.destroyed) sock.write(Buffer.concat(replies.splice(0)));
    };
    const codec = opts.raw === true ? undefined : new TelnetCodec((b) => replies.push(b));
    let closing = false;
    const ref: { caller?: Caller } = {};
    const sink: CallerSink = {
      send: (b) => {
        if (sock.destroyed || closing) return;
        const bytes = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
        sock.write(codec !== undefined ? codec.encode(bytes) : bytes);
        ref.caller?.line?.flow.fromDte(sock.writableLength, (fn) => drainedOrClosed(sock, fn));
      },
      close: () => {
        if (closing) return;
        closing = true;
        this.refuse(sock, '');
      },
    };
    const board = this.switchboardFor(opts);
    const caller = board.arrive(sink, normaliseAddress(remote));
    ref.caller = caller;
    if (caller.outcome === 'busy' || caller.outcome === 'refused') {
      if (caller.outcome === 'refused') sock.destroy();
      return;
    }
    codec?.start();
    flushReplies();
    policy.accepted(remote);
    // Whoever hangs up, the caller's cool-down starts when the connection is gone.
    sock.on('close', () => {
      policy.ended(remote);
      opts.log?.(`tcp caller ${normaliseAddress(remote)} disconnected`);
      caller.gone();
    });
    sock.on('data', (d: Buffer) => {
      const app = codec !== undefined ? codec.decode(d) : d;
      flushReplies();
      if (app.length > 0) {
        caller.input(app);
        caller.line?.flow.toDte(() => sock.pause(), () => sock.resume());
      }
      // A caller that sends but does not read must not make us buffer without end:
      // stop reading until what we owe it has drained.
      if (sock.writableLength > WRITE_HIGH_WATER && !sock.isPaused()) {
        sock.pause();
        sock.once('drain', () => sock.resume());
      }
    });
  }

  /** One switchboard (queue) per listener. */
  private switchboardFor(opts: ListenOptions): Switchboard {
    let b = this.boards.get(opts);
    if (b === undefined) {
      b = new Switchboard({
        clock: this.clock,
        freeLine: () => this.freeLine(),
        ...(opts.queue !== undefined ? { queue: opts.queue } : {}),
        ...(opts.ring !== undefined ? { ring: opts.ring } : {}),
        ...(opts.banners !== undefined ? { banners: opts.banners } : {}),
        refuseWhenBusy: opts.whenBusy === 'refuse',
        ...(opts.log !== undefined ? { log: opts.log } : {}),
      });
      this.boards.set(opts, b);
    }
    return b;
  }

  /** Say `text` (undefined: nothing) and close; a caller that never closes its side is cut off. */
  private refuse(sock: Socket, text: string | undefined): void {
    if (text === undefined) {
      sock.destroy();
      return;
    }
    if (text === '') sock.end();
    else sock.end(text);
    const t = this.clock.setTimeout(() => sock.destroy(), REFUSED_LINGER_MS);
    sock.once('close', () => t.cancel());
  }

  /** Run `fn` when the bank closes, before the lines go (the status socket, for one). */
  atClose(fn: () => Promise<void>): void {
    this.closers.push(fn);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const f of this.closers.splice(0)) await f();
    for (const b of this.boards.values()) b.close();
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((s) => new Promise<void>((res) => s.close(() => res()))));
    await Promise.all(this.lines.map((l) => l.close()));
  }
}
