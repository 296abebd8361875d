/**
 * Callers as a phone line treats them. A TCP (telnet) caller is put through to a free
 * line and hears ringing (a line of text per ring, as RING goes to the line) until the
 * getty answers or the ring limit passes: only then NO ANSWER. When every line is busy
 * the caller gets BUSY, or waits in a short queue (`--queue N`), hearing the ringing
 * as well, until a line frees or the same ring limit passes.
 *
 * Transport-free: the caller is a CallerSink (the bank wraps its socket and the telnet
 * codec in one), time comes from the clock, so unit tests run it on a FakeClock.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Call } from './call.js';
import type { CallOptions, SimLine } from './bank.js';
import type { EndReason } from './modem.js';

/** The caller's end of the connection, as the switchboard uses it. */
export interface CallerSink {
  /** Bytes (or latin1 text) for the caller: application bytes, the sink encodes them. */
  send(bytes: Uint8Array | string): void;
  /** Close the connection once what was sent is out. */
  close(): void;
}

/** Texts the caller hears; each a whole text (CR LF line ends), from a banner file or the defaults. */
export interface Banners {
  /** At each ring while the line rings or the caller waits in the queue. */
  ringing: string;
  /** Once the line answered, before the first byte from the getty. Default: none. */
  connect: string;
  /** Every line busy and no place in the queue. */
  busy: string;
  /** Nobody answered within the ring limit. */
  noAnswer: string;
  /** The caller joins the queue at position `n` (1 = next). */
  queued: (n: number) => string;
}

export const DEFAULT_BANNERS: Banners = {
  ringing: 'RINGING\r\n',
  connect: '',
  busy: 'BUSY\r\n',
  noAnswer: 'NO ANSWER\r\n',
  queued: (n) => `all lines are busy: you are number ${n} in the queue, please hold\r\n`,
};

/** Unix text files end lines with LF; a terminal wants CR LF. CR LF stays as it is. */
export function bannerText(fileText: string): string {
  return fileText.replace(/\r?\n/g, '\r\n');
}

export interface SwitchboardOptions {
  clock: Clock;
  /** A line free for an incoming call, or undefined. */
  freeLine: () => SimLine | undefined;
  /** Places in the queue when every line is busy (default 0: BUSY at once). */
  queue?: number;
  /** Ring options for these callers (cadence, ring limit, caller ID...). */
  ring?: CallOptions;
  banners?: Partial<Banners>;
  /** All lines busy and no queue: close without a word instead of BUSY. */
  refuseWhenBusy?: boolean;
  log?: (text: string) => void;
}

export type CallerState = 'queued' | 'ringing' | 'connected' | 'ended';

/** How a caller's attempt ended, for logs and tests. */
export type CallerOutcome = EndReason | 'busy' | 'refused' | 'gone';

const DEFAULT_CADENCE_MS = 6000;
const DEFAULT_MAX_RINGS = 10;

export class Caller {
  state: CallerState = 'queued';
  line: SimLine | undefined;
  call: Call | undefined;
  outcome: CallerOutcome | undefined;
  /** Rings heard so far (queue and line together): the ring limit counts them all. */
  rings = 0;
  /** When the caller came (clock.now()). */
  readonly since: number;
  ringTimer: TimerHandle | undefined;

  constructor(
    readonly sink: CallerSink,
    /** The caller's address (for caller ID and logs). */
    readonly address: string,
    private readonly board: Switchboard,
    now: number,
  ) {
    this.since = now;
  }

  /** Bytes from the caller: only a connected call carries them (before CONNECT they go nowhere, as on a phone line). */
  input(bytes: Uint8Array): void {
    if (this.state === 'connected' && this.call?.state === 'connected') this.call.write(bytes);
  }

  /** The caller hung up (the connection closed). */
  gone(): void {
    this.board.gone(this);
  }
}

export class Switchboard {
  private readonly waiting: Caller[] = [];
  private readonly banners: Banners;
  private readonly cadenceMs: number;
  private readonly maxRings: number;

  constructor(private readonly opts: SwitchboardOptions) {
    this.banners = { ...DEFAULT_BANNERS, ...opts.banners };
    this.cadenceMs = opts.ring?.ringCadenceMs ?? DEFAULT_CADENCE_MS;
    this.maxRings = opts.ring?.maxRings ?? DEFAULT_MAX_RINGS;
  }

  /** Callers waiting in the queue now. */
  get queued(): number {
    return this.waiting.length;
  }

  /** A caller came: put through to a free line, queued, or told BUSY. */
  arrive(sink: CallerSink, address: string): Caller {
    const c = new Caller(sink, address, this, this.opts.clock.now());
    const line = this.waiting.length === 0 ? this.opts.freeLine() : undefined;
    if (line !== undefined) {
      this.putThrough(c, line);
      return c;
    }
    if (this.waiting.length < (this.opts.queue ?? 0)) {
      this.waiting.push(c);
      this.opts.log?.(`all lines busy: caller ${address} queued at ${this.waiting.length}`);
      sink.send(this.banners.queued(this.waiting.length));
      this.ringInQueue(c);
      return c;
    }
    this.opts.log?.(`all lines busy: refused caller ${address}`);
    c.state = 'ended';
    c.outcome = this.opts.refuseWhenBusy === true ? 'refused' : 'busy';
    if (this.opts.refuseWhenBusy !== true) sink.send(this.banners.busy);
    sink.close();
    return c;
  }

  /** A line may have come free: put the callers at the head of the queue through. */
  dispatch(): void {
    for (;;) {
      const head = this.waiting[0];
      if (head === undefined) return;
      const line = this.opts.freeLine();
      if (line === undefined) return;
      this.waiting.shift();
      head.ringTimer?.cancel();
      head.ringTimer = undefined;
      this.putThrough(head, line);
    }
  }

  /** The ringing tone for a queued caller: the same cadence and limit as a ringing line. */
  private ringInQueue(c: Caller): void {
    if (c.state !== 'queued') return;
    if (c.rings >= this.maxRings) {
      this.leaveQueue(c);
      this.finish(c, 'no-answer');
      return;
    }
    c.rings++;
    c.sink.send(this.banners.ringing);
    c.ringTimer = this.opts.clock.setTimeout(() => {
      c.ringTimer = undefined;
      // A line may have come free without a call of ours ending (a getty back in service).
      this.dispatch();
      this.ringInQueue(c);
    }, this.cadenceMs);
  }

  private leaveQueue(c: Caller): void {
    const k = this.waiting.indexOf(c);
    if (k >= 0) this.waiting.splice(k, 1);
    c.ringTimer?.cancel();
    c.ringTimer = undefined;
  }

  private putThrough(c: Caller, line: SimLine): void {
    c.state = 'ringing';
    c.line = line;
    const ring: CallOptions = { ...this.opts.ring, maxRings: Math.max(1, this.maxRings - c.rings) };
    // The caller's address is its caller ID unless the bank was told one (the demo's).
    if (ring.callerId === undefined) ring.callerId = c.address;
    const call = line.call(ring);
    c.call = call;
    line.transcript.note(`tcp caller ${c.address}`);
    const heard = (): void => {
      c.rings++;
      c.sink.send(this.banners.ringing);
    };
    for (let k = 0; k < call.rings; k++) heard(); // the first RING came as the call was placed
    call.on('ring', heard);
    call.on('connected', () => {
      c.state = 'connected';
      if (this.banners.connect !== '') c.sink.send(this.banners.connect);
    });
    call.on('data', (b) => c.sink.send(b));
    call.on('ended', (reason) => {
      if (c.state === 'ended') {
        this.dispatch();
        return;
      }
      this.finish(c, reason);
      this.dispatch();
    });
  }

  private finish(c: Caller, reason: CallerOutcome): void {
    if (c.state === 'ended') return;
    c.state = 'ended';
    c.outcome = reason;
    if (reason === 'not-answered' || reason === 'no-answer') c.sink.send(this.banners.noAnswer);
    else if (reason === 'busy') c.sink.send(this.banners.busy);
    else if (reason !== 'remote-hangup' && reason !== 'gone') c.sink.send('\r\nNO CARRIER\r\n');
    c.sink.close();
  }

  /** The caller's connection closed. */
  gone(c: Caller): void {
    if (c.state === 'ended') return;
    if (c.state === 'queued') {
      this.leaveQueue(c);
      c.state = 'ended';
      c.outcome = 'gone';
      return;
    }
    c.state = 'ended';
    c.outcome = 'remote-hangup';
    c.call?.hangup();
    this.dispatch();
  }

  /** Shutdown: stop the queue's timers. */
  close(): void {
    for (const c of this.waiting.splice(0)) {
      c.ringTimer?.cancel();
      c.state = 'ended';
    }
  }
}
