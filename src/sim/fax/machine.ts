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
  /** true: the sender said goodbye (DCN) after its last page; false: the call broke off. */
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
    const dir = this.o.dir;
    let poll: PolledFax | undefined;
    const timers: TimerHandle[] = [];
    const later = (ms: number, fn: () => void): void => {
      timers.push(this.o.clock.setTimeout(() => active && fn(), ms));
    };
    let active = true;
    const fax: ReceivedFax = { sender: '', params: defaultParams(), files: [], complete: false };
    const seq = ++this.seq;
    const stamp = new Date(this.o.clock.now()).toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
    let page: Uint8Array[] | undefined;
    const finish = (): void => {
      if (!active) return;
      active = false;
      this.busy = false;
      for (const t of timers) t.cancel();
      if (poll !== undefined) {
        this.event(`polling call ended, ${poll.statuses.length} page(s) confirmed by "${poll.poller}"${poll.complete ? '' : ' (broken off)'}`);
        this.polled.push(poll);
        for (const w of this.pollWaiters.splice(0)) w(poll);
        return;
      }
      this.event(`call ended, ${fax.files.length} page(s) from "${fax.sender}"${fax.complete ? '' : ' (broken off)'}`);
      this.received.push(fax);
      for (const w of this.waiters.splice(0)) w(fax);
    };
    // Polled: the machine sends its document, the caller confirms each page.
    const toCaller: CallLeg = {
      send: () => undefined,
      signal: (x) => party.signal?.(x),
      hangup: () => {
        finish();
        party.ended('remote-hangup');
      },
      get active() {
        return active;
      },
    };
    let pollParams: FaxParams | undefined;
    const sendPolled = (i: number): void => {
      this.event(`sending polled page ${i + 1}`);
      this.sendPage(toCaller, { pages: pollPages, i, how: this.o.pollHow ?? {}, br: pollParams?.br, active: () => active, breakOff: () => toCaller.hangup() });
    };
    const onSignal = (s: FaxSignal): void => {
      if (!active) return;
      if (poll !== undefined) {
        if (s.t === 'cfr') later(this.step, () => sendPolled(0));
        else if (s.t === 'pmr') {
          poll.statuses.push(s.status);
          const n = poll.statuses.length;
          this.event(`polled page ${n} confirmed (status ${s.status})`);
          if (n < pollPages.length) later(this.step, () => sendPolled(n));
          else {
            poll.complete = true;
            party.signal?.({ t: 'dcn' });
            later(this.step, () => toCaller.hangup());
          }
        } else if (s.t === 'dcn') toCaller.hangup();
        return;
      }
      switch (s.t) {
        case 'dtc': {
          if (pollPages.length === 0) {
            // Nothing to poll here: goodbye.
            party.signal?.({ t: 'dcn' });
            later(this.step, () => toCaller.hangup());
            return;
          }
          poll = { poller: s.id, statuses: [], complete: false };
          this.event(`polled by "${s.id}": sending ${pollPages.length} page(s)`);
          const first = pollPages[0];
          const want: FaxParams = { ...defaultParams(), vr: first?.fine === false ? 0 : 1, df: first?.mr === true ? 1 : 0 };
          const chosen = negotiate(want, s.caps);
          pollParams = chosen;
          later(this.step, () => party.signal?.({ t: 'dcs', params: chosen, id: this.o.id ?? '' }));
          return;
        }
        case 'dcs':
          if (dir === undefined) {
            // A machine that only offers a document takes none.
            party.signal?.({ t: 'dcn' });
            later(this.step, () => toCaller.hangup());
            return;
          }
          fax.sender = s.id;
          fax.params = s.params;
          later(this.step, () => party.signal?.({ t: 'cfr' }));
          return;
        case 'page':
          page = [];
          return;
        case 'data':
          page?.push(s.bytes);
          return;
        case 'pmc': {
          if (dir === undefined) return;
          const n = fax.files.length + 1;
          const file = join(dir, `fax-${stamp}-${seq}.${String(n).padStart(2, '0')}.g3`);
          writeFileSync(file, Buffer.concat(page ?? []));
          fax.files.push(file);
          this.event(`page ${n} stored as ${file}`);
          page = undefined;
          later(this.step, () => party.signal?.({ t: 'pmr', status: 1 }));
          return;
        }
        case 'dcn':
          fax.complete = true;
          return;
        default:
          return;
      }
    };
    this.event(`incoming ${spec.fax === true ? 'fax' : 'data'} call from ${spec.callerId ?? 'unknown'}`);
    later(this.o.answerAfterMs ?? 1000, () => {
      if (spec.fax !== true || party.signal === undefined) {
        // A data modem hears CED and DIS, never a carrier it knows: it gives up.
        this.event('data caller: no fax, hanging up');
        finish();
        party.ended('no-carrier');
        return;
      }
      this.event('answered');
      party.signal({ t: 'dis', caps: this.o.caps ?? defaultParams(), id: this.o.id ?? '', ...(pollPages.length > 0 ? { poll: true } : {}) });
    });
    return {
      send: () => undefined,
      signal: onSignal,
      hangup: finish,
      get active() {
        return active;
      },
    };
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
