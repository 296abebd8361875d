/**
 * A virtual fax machine on the simulator's exchange: a number that answers fax calls and
 * stores every page it is sent as a G3 file, and that calls a line with pages. It speaks
 * the T.30 steps of ./signals.ts to a virtual modem's fax handler set, as a real fax
 * machine would to a real modem (no tones). A data caller hears fax tones and gives up.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock, TimerHandle } from '../../core/clock.js';
import { TgettyError } from '../../core/errors.js';
import type { CallLeg, RemoteParty, RingSpec } from '../at/calls.js';
import type { Answerer, Exchange } from '../exchange.js';
import { defaultParams, negotiate } from './params.js';
import { BIT_RATES, type FaxParams, type FaxSignal } from './signals.js';
import type { SimFaxPage } from './pages.js';

export interface FaxMachineOptions {
  clock: Clock;
  exchange: Exchange;
  number: string;
  /** Where received pages go; undefined: the machine only sends (or is polled). */
  dir?: string;
  /** A document for polling callers (DIS says so; a caller's DTC gets these pages). */
  pollPages?: readonly SimFaxPage[];
  /** How the machine misbehaves while polled (tests): break off after n pages. */
  pollHow?: FaxSendOptions;
  /** Its station id (CSI/TSI). */
  id?: string;
  /** What it can do (DIS). Default: fine, 14400, A4, unlimited, 1-D. */
  caps?: FaxParams;
  /** Rings before it answers: the time from the call to its answer (default 1000 ms). */
  answerAfterMs?: number;
  /** The time each T.30 step takes (default 20 ms). */
  stepMs?: number;
  /** Page data bytes per step while sending (default 1024: ~400 kbit/s, far above 14400 bps). */
  chunkBytes?: number;
  /**
   * Send page data at the line rate: `true` at the negotiated bit rate (DCS), a number at
   * that many bits per second; the bytes due by the time of each step go (default: chunkBytes a step).
   */
  paceBps?: number | true;
  onEvent?: (text: string) => void;
}

export interface ReceivedFax {
  /** The sender's id (TSI), as sent. */
  sender: string;
  params: FaxParams;
  /** The G3 files written, in page order (line order: netpbm's g3topbm reads them as they are). */
  files: string[];
  /** true: the sender said goodbye (DCN) after its last page, or polled after it (EOM); false: the call broke off. */
  complete: boolean;
}

export interface SentFax {
  /** Page status the receiver gave each page (1 = good). */
  statuses: number[];
  /** What the far end said first: 'fax', 'data' (a data modem answered), or why the call failed. */
  outcome: 'sent' | 'data-answer' | 'busy' | 'no-such-number' | 'hung-up';
  remoteId: string;
  /** Per confirmed page: ms from its first byte to the receiver's answer (MCF), on the machine's clock. */
  pageMs: number[];
}

/** How a sending machine misbehaves (tests): break off after some pages, or never send one. */
export interface FaxSendOptions {
  /** Hang up (no DCN) once this many pages were confirmed; with `midPage`, partway into the next page. */
  breakOffAfter?: number;
  midPage?: boolean;
  /** After the answerer's CFR send nothing at all, and stay on the line until it hangs up. */
  silent?: boolean;
}

/** A polling caller the machine served. */
/** One answered call's state (incoming()). */
interface Incoming {
  party: RemoteParty;
  pollPages: readonly SimFaxPage[];
  dir: string | undefined;
  poll: PolledFax | undefined;
  pollParams: FaxParams | undefined;
  timers: TimerHandle[];
  active: boolean;
  fax: ReceivedFax;
  seq: number;
  stamp: string;
  page: Uint8Array[] | undefined;
}

export interface PolledFax {
  /** The poller's id (CIG), as sent. */
  poller: string;
  /** Page status the poller gave each page (1 = good). */
  statuses: number[];
  /** true: all pages confirmed and goodbye said; false: the call broke off. */
  complete: boolean;
}

export class FaxMachine implements Answerer {
  readonly number: string;
  readonly received: ReceivedFax[] = [];
  readonly polled: PolledFax[] = [];
  private readonly pollWaiters: ((p: PolledFax) => void)[] = [];
  private readonly waiters: ((r: ReceivedFax) => void)[] = [];
  private busy = false;
  private seq = 0;

  constructor(private readonly o: FaxMachineOptions) {
    this.number = o.number;
    if (o.dir !== undefined) mkdirSync(o.dir, { recursive: true });
    if (o.dir !== undefined || (o.pollPages?.length ?? 0) > 0) o.exchange.registerAnswerer(o.number, this);
  }

  private get step(): number {
    return this.o.stepMs ?? 20;
  }

  private event(t: string): void {
    this.o.onEvent?.(`fax machine ${this.number}: ${t}`);
  }

  /** The next polling call served, once it is over. */
  nextPoll(): Promise<PolledFax> {
    return new Promise((res) => this.pollWaiters.push(res));
  }

  /** The next fax received (or the one already received that nobody waited for). */
  nextFax(): Promise<ReceivedFax> {
    return new Promise((res) => this.waiters.push(res));
  }

  // -------------------------------------------------------------- answering

  incoming(spec: RingSpec, party: RemoteParty): CallLeg | undefined {
    const pollPages = this.o.pollPages ?? [];
    if (this.busy || (this.o.dir === undefined && pollPages.length === 0)) return undefined;
    this.busy = true;
    const c: Incoming = {
      party,
      pollPages,
      dir: this.o.dir,
      poll: undefined,
      pollParams: undefined,
      timers: [],
      active: true,
      fax: { sender: '', params: defaultParams(), files: [], complete: false },
      seq: ++this.seq,
      stamp: new Date(this.o.clock.now()).toISOString().replace(/[-:]/g, '').replace(/\..*/, ''),
      page: undefined,
    };
    this.event(`incoming ${spec.fax === true ? 'fax' : 'data'} call from ${spec.callerId ?? 'unknown'}`);
    this.later(c, this.o.answerAfterMs ?? 1000, () => {
      if (spec.fax !== true || party.signal === undefined) {
        // A data modem hears CED and DIS, never a carrier it knows: it gives up.
        this.event('data caller: no fax, hanging up');
        this.finishIncoming(c);
        party.ended('no-carrier');
        return;
      }
      this.event('answered');
      party.signal({ t: 'dis', caps: this.o.caps ?? defaultParams(), id: this.o.id ?? '', ...(pollPages.length > 0 ? { poll: true } : {}) });
    });
    return {
      send: () => undefined,
      signal: (sig) => this.onIncomingSignal(c, sig),
      hangup: () => this.finishIncoming(c),
      get active() {
        return c.active;
      },
    };
  }

  /** `fn` after `ms`, unless the call has ended by then. */
  private later(c: Incoming, ms: number, fn: () => void): void {
    c.timers.push(this.o.clock.setTimeout(() => c.active && fn(), ms));
  }

  /** The machine's own hang-up: the call ends on both sides. */
  private hangUpIncoming(c: Incoming): void {
    this.finishIncoming(c);
    c.party.ended('remote-hangup');
  }

  /** The leg the polled pages go out on (the caller confirms each page). */
  private toCaller(c: Incoming): CallLeg {
    return {
      send: () => undefined,
      signal: (x) => c.party.signal?.(x),
      hangup: () => this.hangUpIncoming(c),
      get active() {
        return c.active;
      },
    };
  }

  /** Say goodbye (DCN) and hang up a step later. */
  private goodbye(c: Incoming): void {
    c.party.signal?.({ t: 'dcn' });
    this.later(c, this.step, () => this.hangUpIncoming(c));
  }

  private finishIncoming(c: Incoming): void {
    if (!c.active) return;
    c.active = false;
    this.busy = false;
    for (const t of c.timers) t.cancel();
    const poll = c.poll;
    if (poll !== undefined) {
      this.event(`polling call ended, ${poll.statuses.length} page(s) confirmed by "${poll.poller}"${poll.complete ? '' : ' (broken off)'}`);
      this.polled.push(poll);
      for (const w of this.pollWaiters.splice(0)) w(poll);
      // A caller that sent pages first, then polled (EOM, DTC): those pages were received too.
      if (c.fax.files.length === 0) return;
    }
    const fax = c.fax;
    this.event(`call ended, ${fax.files.length} page(s) from "${fax.sender}"${fax.complete ? '' : ' (broken off)'}`);
    this.received.push(fax);
    for (const w of this.waiters.splice(0)) w(fax);
  }

  private sendPolled(c: Incoming, i: number): void {
    this.event(`sending polled page ${i + 1}`);
    this.sendPage(this.toCaller(c), { pages: c.pollPages, i, how: this.o.pollHow ?? {}, br: c.pollParams?.br, active: () => c.active, breakOff: () => this.hangUpIncoming(c) });
  }

  /** While polled: the caller's CFR starts the pages, each MPS/EOP is confirmed by PMR, DCN ends it. */
  private onPolledSignal(c: Incoming, poll: PolledFax, s: FaxSignal): void {
    if (s.t === 'cfr') this.later(c, this.step, () => this.sendPolled(c, 0));
    else if (s.t === 'pmr') {
      poll.statuses.push(s.status);
      const n = poll.statuses.length;
      this.event(`polled page ${n} confirmed (status ${s.status})`);
      if (n < c.pollPages.length) this.later(c, this.step, () => this.sendPolled(c, n));
      else {
        poll.complete = true;
        this.goodbye(c);
      }
    } else if (s.t === 'dcn') this.hangUpIncoming(c);
  }

  /** A poller's DTC: our document's parameters, negotiated with what it can take. */
  private onDtc(c: Incoming, s: Extract<FaxSignal, { t: 'dtc' }>): void {
    if (c.pollPages.length === 0) {
      this.goodbye(c); // nothing to poll here
      return;
    }
    c.poll = { poller: s.id, statuses: [], complete: false };
    this.event(`polled by "${s.id}": sending ${c.pollPages.length} page(s)`);
    const first = c.pollPages[0];
    const want: FaxParams = { ...defaultParams(), vr: first?.fine === false ? 0 : 1, df: first?.mr === true ? 1 : 0 };
    const chosen = negotiate(want, s.caps);
    c.pollParams = chosen;
    this.later(c, this.step, () => c.party.signal?.({ t: 'dcs', params: chosen, id: this.o.id ?? '' }));
  }

  /** A page's end (MPS/EOP): store it as a G3 file and confirm it. */
  private storePage(c: Incoming, dir: string): void {
    const n = c.fax.files.length + 1;
    const file = join(dir, `fax-${c.stamp}-${c.seq}.${String(n).padStart(2, '0')}.g3`);
    writeFileSync(file, Buffer.concat(c.page ?? []));
    c.fax.files.push(file);
    this.event(`page ${n} stored as ${file}`);
    c.page = undefined;
    this.later(c, this.step, () => c.party.signal?.({ t: 'pmr', status: 1 }));
  }

  private onIncomingSignal(c: Incoming, s: FaxSignal): void {
    if (!c.active) return;
    if (c.poll !== undefined) {
      this.onPolledSignal(c, c.poll, s);
      return;
    }
    switch (s.t) {
      case 'dtc':
        // After pages (EOM): the sender's document ended properly, and now it polls.
        if (c.fax.files.length > 0) c.fax.complete = true;
        this.onDtc(c, s);
        return;
      case 'dcs':
        if (c.dir === undefined) {
          this.goodbye(c); // a machine that only offers a document takes none
          return;
        }
        c.fax.sender = s.id;
        c.fax.params = s.params;
        this.later(c, this.step, () => c.party.signal?.({ t: 'cfr' }));
        return;
      case 'page':
        c.page = [];
        return;
      case 'data':
        c.page?.push(s.bytes);
        return;
      case 'pmc':
        if (c.dir !== undefined) this.storePage(c, c.dir);
        return;
      case 'dcn':
        c.fax.complete = true;
        return;
      default:
        return;
    }
  }

  // -------------------------------------------------------------- calling

  /**
   * One page: phase C data in chunks, one chunk a step (or paced at the line rate), then
   * its end (MPS, or EOP if last). `cut`: the call breaks off after that many bytes.
   */
  private pumpPage(l: CallLeg, p: SimFaxPage, o: { last: boolean; bps: number | undefined; cut?: number; active: () => boolean; breakOff: () => void }): void {
    l.signal({ t: 'page' });
    const chunk = this.o.chunkBytes ?? 1024;
    const end = Math.min(p.data.length, o.cut ?? p.data.length);
    const t0 = this.o.clock.monotonic();
    let off = 0;
    const pump = (): void => {
      if (!o.active()) return;
      if (off < end) {
        // Paced: the bytes the line has carried by now (10 bits a byte would be async; fax is synchronous: 8).
        const due = o.bps !== undefined ? Math.floor(((this.o.clock.monotonic() - t0) * o.bps) / 8000) : off + chunk;
        const to = Math.min(end, Math.max(due, off + 1));
        l.signal({ t: 'data', bytes: p.data.subarray(off, to) });
        off = to;
        this.o.clock.setTimeout(pump, this.step);
        return;
      }
      if (o.cut !== undefined) o.breakOff();
      else l.signal({ t: 'pmc', next: o.last ? 2 : 0 });
    };
    this.o.clock.setTimeout(pump, this.step);
  }

  /** Page `i` of a call (or, as `how` says, the break-off instead). */
  private sendPage(l: CallLeg, o: { pages: readonly SimFaxPage[]; i: number; how: FaxSendOptions; br: number | undefined; active: () => boolean; breakOff: () => void }): void {
    const p = o.pages[o.i];
    if (p === undefined) return;
    if (o.how.breakOffAfter === o.i && o.how.midPage !== true) {
      o.breakOff();
      return;
    }
    const pace = this.o.paceBps;
    const bps = pace === true ? (BIT_RATES[o.br ?? 3] ?? 9600) : pace;
    const cut = o.how.breakOffAfter === o.i ? Math.floor(p.data.length / 2) : undefined;
    this.pumpPage(l, p, { last: o.i === o.pages.length - 1, bps, ...(cut !== undefined ? { cut } : {}), active: o.active, breakOff: o.breakOff });
  }

  /** Call `number` and send `pages` (a fax caller: the far modem's adaptive answer sees CNG). */
  send(number: string, pages: readonly SimFaxPage[], how: FaxSendOptions = {}): Promise<SentFax> {
    if (pages.length === 0) return Promise.reject(new TgettyError('SIM_FAILED', 'a fax call needs at least one page', { input: number }));
    return new Promise((resolve) => {
      const result: SentFax = { statuses: [], outcome: 'hung-up', remoteId: '', pageMs: [] };
      let pageT0 = 0;
      let active = true;
      // Set once the exchange rang the number; the callbacks below may run before.
      const ref: { leg?: CallLeg } = {};
      let next = 0;
      const done = (outcome: SentFax['outcome']): void => {
        if (!active) return;
        active = false;
        result.outcome = outcome;
        this.event(`fax call to ${number}: ${outcome}, ${result.statuses.length} page(s) confirmed`);
        resolve(result);
      };
      const later = (ms: number, fn: () => void): void => {
        this.o.clock.setTimeout(() => active && fn(), ms);
      };
      let params: FaxParams | undefined;
      const breakOff = (): void => {
        this.event(`breaking off the call after ${next} page(s)`);
        ref.leg?.hangup();
        done('hung-up');
      };
      const sendPage = (): void => {
        pageT0 = this.o.clock.monotonic();
        this.event(`sending page ${next + 1} to ${number}`);
        if (ref.leg !== undefined) this.sendPage(ref.leg, { pages, i: next, how, br: params?.br, active: () => active, breakOff });
      };
      const party: RemoteParty = {
        connected: () => {
          // A data modem answered: no fax here.
          ref.leg?.hangup();
          done('data-answer');
        },
        data: () => undefined,
        ended: () => done(result.statuses.length === pages.length ? 'sent' : 'hung-up'),
        signal: (s) => {
          if (!active || ref.leg === undefined) return;
          const l = ref.leg;
          if (s.t === 'dis') {
            result.remoteId = s.id;
            const first = pages[0];
            const want: FaxParams = { ...defaultParams(), vr: first?.fine === false ? 0 : 1, df: first?.mr === true ? 1 : 0 };
            const chosen = negotiate(want, s.caps);
            params = chosen;
            later(this.step, () => l.signal({ t: 'dcs', params: chosen, id: this.o.id ?? '' }));
          } else if (s.t === 'cfr') {
            if (how.silent === true) this.event('silent after CFR: no page');
            else later(this.step, sendPage);
          } else if (s.t === 'pmr') {
            result.statuses.push(s.status);
            result.pageMs.push(this.o.clock.monotonic() - pageT0);
            next++;
            this.event(`page ${next} to ${number} confirmed (status ${s.status})`);
            if (next < pages.length) later(this.step, sendPage);
            else {
              l.signal({ t: 'dcn' });
              later(this.step, () => {
                l.hangup();
                done('sent');
              });
            }
          } else if (s.t === 'dcn') {
            l.hangup();
            done('hung-up');
          }
        },
      };
      this.event(`calling ${number} with ${pages.length} page(s)`);
      const r = this.o.exchange.dial({ number: this.number }, number, party, { fax: true });
      if (r.kind !== 'ringing') {
        done(r.kind);
        return;
      }
      ref.leg = r.leg;
    });
  }
}
