/**
 * The class 2 (SP-2388 / TIA-578 draft, as Rockwell-style modems answer it) and class 2.0
 * (EIA-592 / T.32) fax command set, as a handler set of its own on the modem's registry.
 * One FaxSession per modem holds the fax settings and the call's T.30 state; the far end is
 * another virtual modem or a virtual fax machine, reached through the exchange with the
 * messages of ./signals.ts. What the DTE sees is what a real class 2 / 2.0 modem shows:
 * see docs/fax-spec.md.
 */
import { reverseBits } from '../../fax/codec/bits.js';
import { decodeG3 } from '../../fax/codec/t4.js';
import type { TimerHandle } from '../../core/clock.js';
import type { EndReason, FaxLinkHandler } from '../at/calls.js';
import { crOf, lfOf } from '../at/profile.js';
import type { AtCommand, AtContext, AtHandler, HandlerSet, Outcome } from '../at/registry.js';
import { COMMA, DC1, DC2, DLE, DOT, DleUnstuffer, ETX, SEMICOLON, dleStuff } from './dle.js';
import { PARAM_RANGES, defaultParams, formatParams, negotiate, parseParams } from './params.js';
import { BIT_RATES, type FaxParams, type FaxSignal } from './signals.js';

export type FaxClass = '2' | '2.0';

/** The response names of each class (class 2 first, then class 2.0). */
const WORDS = {
  '2': { con: '+FCON', csi: '+FCSI', tsi: '+FTSI', dis: '+FDIS', dcs: '+FDCS', pts: '+FPTS', hng: '+FHNG', cfr: '+FCFR', poll: '+FPOLL', spl: '+FSPL', lpl: '+FLPL', cig: '+FCIG', dtc: '+FDTC' },
  '2.0': { con: '+FCO', csi: '+FCI', tsi: '+FTI', dis: '+FIS', dcs: '+FCS', pts: '+FPS', hng: '+FHS', cfr: undefined, poll: '+FPO', spl: '+FSP', lpl: '+FLP', cig: '+FPI', dtc: '+FTC' },
} as const;

/** Hang-up codes (class 2 decimal; class 2.0 writes the same digits as hex, 100 -> A0). */
export const HANGUP = {
  normal: 0,
  aborted: 2,
  noAnswer: 11,
  txPhaseB: 20,
  txPhaseC: 40,
  txPhaseD: 50,
  rxPhaseB: 70,
  /** T.30 T2 timed out: the page the receiver waited for never came. */
  rxT2: 73,
  rxPhaseC: 90,
  rxPhaseD: 100,
} as const;

export function hangupText(cls: FaxClass, code: number): string {
  if (cls === '2') return String(code);
  return Math.floor(code / 10).toString(16).toUpperCase() + String(code % 10);
}

/** Commands only one class has; the rest (+FAA, +FCR, +FDR, +FDT, +FET, +FCQ...) are in both. */
const CLASS2_ONLY = new Set(['+FLID', '+FDCC', '+FDIS', '+FDCS', '+FBOR', '+FPTS', '+FK', '+FMFR', '+FMDL', '+FREV', '+FPHCTO', '+FLPL', '+FSPL', '+FCIG', '+FMINSP', '+FECM', '+FTBC', '+FRBC', '+FWDFC', '+FBADMUL', '+FBADLIN', '+FCTCRTY', '+FREL', '+FBUG', '+FAXERR', '+FBUF', '+FRBOR', '+FDFFC', '+FVRFC', '+FLNFC', '+FRQ']);
const CLASS20_ONLY = new Set(['+FLI', '+FCC', '+FIS', '+FCS', '+FBO', '+FPS', '+FKS', '+FMI', '+FMM', '+FMR', '+FLO', '+FMS', '+FAP', '+FNR', '+FIE', '+FCT', '+FPI', '+FNS', '+FBU', '+FRQ', '+FEA', '+FLP', '+FSP', '+FPP', '+FIT', '+FHS', '+FPA', '+FSA', '+FRY']);

/** Settings without behaviour here, with the range +X=? reports and the value after reset. */
const PLAIN: Readonly<Record<string, { range: string; init: string }>> = {
  '+FPHCTO': { range: '(0-FF)', init: '30' },
  '+FLPL': { range: '(0,1)', init: '0' },
  '+FSPL': { range: '(0,1)', init: '0' },
  '+FCIG': { range: '(20)(32-127)', init: '""' },
  '+FMINSP': { range: '(0-5)', init: '0' },
  '+FECM': { range: '(0)', init: '0' },
  '+FTBC': { range: '(0)', init: '0' },
  '+FRBC': { range: '(0)', init: '0' },
  '+FWDFC': { range: '(0)', init: '0' },
  '+FBADMUL': { range: '(0-FF)', init: '0' },
  '+FBADLIN': { range: '(0-FF)', init: '0' },
  '+FCTCRTY': { range: '(0-FF)', init: '0' },
  '+FREL': { range: '(0,1)', init: '0' },
  '+FBUG': { range: '(0,1)', init: '0' },
  '+FAXERR': { range: '(0-FF)', init: '0' },
  '+FRBOR': { range: '(0,1)', init: '0' },
  '+FDFFC': { range: '(0-3)', init: '0' },
  '+FVRFC': { range: '(0-2)', init: '0' },
  '+FLNFC': { range: '(0-2)', init: '0' },
  '+FWDFC0': { range: '(0)', init: '0' },
  '+FCQ': { range: '(0-2),(0)', init: '0,0' },
  '+FLO': { range: '(0-2)', init: '1' },
  '+FMS': { range: '(0-5)', init: '0' },
  '+FAP': { range: '(0,1),(0,1),(0,1)', init: '0,0,0' },
  '+FNR': { range: '(0,1),(0,1),(0,1),(0,1)', init: '0,0,0,0' },
  '+FIE': { range: '(0,1)', init: '0' },
  '+FCT': { range: '(0-FF)', init: '1E' },
  '+FPI': { range: '(20)(32-127)', init: '""' },
  '+FNS': { range: '(0-FF)', init: '""' },
  '+FBU': { range: '(0,1)', init: '0' },
  '+FRQ': { range: '(0-64),(0-FF)', init: '0,0' },
  '+FEA': { range: '(0,1)', init: '0' },
  '+FLP': { range: '(0,1)', init: '0' },
  '+FSP': { range: '(0,1)', init: '0' },
  '+FPP': { range: '(0)', init: '0' },
  '+FIT': { range: '(0-255),(0,1)', init: '0,0' },
  '+FPA': { range: '(20)(32-127)', init: '""' },
  '+FSA': { range: '(20)(32-127)', init: '""' },
  '+FRY': { range: '(0-FF)', init: '0' },
  '+FBUF': { range: '', init: '1024,0,0,0' },
};

type Role = 'tx' | 'rx';

interface FaxCall {
  cls: FaxClass;
  role: Role;
  /** DIS from the far end (tx) / DCS from the far end (rx). */
  remoteCaps: FaxParams | undefined;
  params: FaxParams | undefined;
  remoteId: string;
  /** A DTE command waits for its final result (and what answers it). */
  waiting: 'dial' | 'answer' | 'fdt' | 'fet' | 'fdr' | undefined;
  pages: number;
  /** rx: the last post-page message (+FET) and whether its answer (MCF) is still owed. */
  lastPmc: 0 | 1 | 2 | undefined;
  owePmr: boolean;
  /** rx: the page's end came from the far end, the DTE has not had all of it yet. */
  pmcPending: boolean;
  /** rx: page data waiting for the DTE's DC2, and whether DC2 came. */
  rxQueue: Uint8Array[];
  rxFlowing: boolean;
  rxInPage: boolean;
  /** tx: the FET value sent, waiting for the answer. */
  fet: 0 | 1 | 2 | undefined;
  dcnSeen: boolean;
  /** A page may begin before the DTE asks (+FDR): the far end's 'page' came early. */
  pageStarted: boolean;
  phase: 'B' | 'C' | 'D';
  /** rx: the page as it came from the line, to count its lines for +FPTS/+FPS. */
  rxPage: Uint8Array[];
  /** tx: when the page began and its bytes so far (the line rate paces the OK). */
  txStart: number;
  txBytes: number;
  /** rx: T.30's T2, running while the receiver waits for the next page. */
  t2: TimerHandle | undefined;
  /** tx: page bytes (line order) waiting to leave at the line rate, bytes sent, the pacing timer, the page's end seen. */
  txQueue: Uint8Array[];
  txSent: number;
  txTimer: TimerHandle | undefined;
  txEnd: { next: 0 | 1 | 2 | undefined } | undefined;
  /** tx: the far end has a document to poll and the DTE asked to poll (+FSPL=1 / +FSP=1): +FDR receives it. */
  pollable: boolean;
}

/** How often the sending modem's buffer is drained onto the line. */
const TX_STEP_MS = 20;

export interface FaxModemOptions {
  /**
   * Pace sent pages at this many bits per second instead of the negotiated fax rate (real
   * peers' tests: a padded A4 page takes 80 s at 14400 bps).
   */
  paceBps?: number;
  /** T.30 T2 (6 s): how long the receiver waits for a page after CFR or MCF before it gives up (+FHNG:73). */
  t2Ms?: number;
}

/** T.30's T2: 6 s +-1. */
const T2_MS = 6000;

export class FaxSession {
  constructor(
    private readonly paceBps?: number,
    private readonly t2Ms = T2_MS,
  ) {}

  localId = '';
  /** +FDCC / +FCC: what the DTE lets the modem do. */
  caps: FaxParams = defaultParams();
  /** +FDIS / +FIS: the current session's parameters (offered in DIS, used for DCS). */
  dis: FaxParams = defaultParams();
  fcr = 0;
  faa = 0;
  /** The class +FAA was set in: an adaptive answer in class 0 answers fax in it. */
  faaClass: FaxClass = '2';
  /** +FBOR / +FBO; bit 0: phase C data in the other bit order. */
  bitOrder = 0;
  /** +FPTS= / +FPS=: the page status the receiver sends for the page just received. */
  pageStatus = 1;
  /** Last hang-up code (+FHS?). */
  lastHangup = 0;
  plain = new Map<string, string>();
  call: FaxCall | undefined;
  private ctx: AtContext | undefined;
  private unstuff = new DleUnstuffer();

  // ------------------------------------------------------------------ output

  /** An information line now (not held for a final result: fax responses come as things happen). */
  private say(text: string): void {
    const ctx = this.ctx;
    if (ctx === undefined) return;
    const p = ctx.profile;
    const s = p.verbose ? crOf(p) + lfOf(p) + text + crOf(p) + lfOf(p) : text + crOf(p) + lfOf(p);
    ctx.data(Buffer.from(s, 'latin1'));
  }

  private final(code: string): void {
    const c = this.call;
    if (c !== undefined) c.waiting = undefined;
    this.ctx?.result(code);
  }

  private words(): (typeof WORDS)[FaxClass] {
    return WORDS[this.call?.cls ?? '2'];
  }

  private quoteId(id: string): string {
    return `"${id}"`;
  }

  // ------------------------------------------------------------------ bit order

  /**
   * DTE bytes -> line order when sending. Direct order (+FBOR/+FBO bit 0 clear) puts bit 0
   * of each byte on the line first, in both classes: real sendfax mirrors its MSB-first G3
   * files before it writes them after +FBOR=0.
   */
  private toLine(b: Uint8Array): Uint8Array {
    return (this.bitOrder & 1) === 0 ? reverseBits(b) : b;
  }

  /**
   * Line order -> DTE bytes when receiving. Class 2.0 direct order is bit 0 first, as when
   * sending. Class 2 modems (Rockwell, and all that copied it) hand received data over the
   * other way round, first bit in the most significant place: mgetty stores it as it comes
   * and its g32pbm reads that; efax mirrors class 2 data unless -or (docs/fax-spec.md).
   */
  private fromLine(b: Uint8Array): Uint8Array {
    const reversed = (this.bitOrder & 1) === 1;
    const lineOrder = (this.call?.cls ?? '2') === '2' ? !reversed : reversed;
    return lineOrder ? b : reverseBits(b);
  }

  // ------------------------------------------------------------------ call set-up

  private newCall(cls: FaxClass, role: Role, waiting: FaxCall['waiting']): FaxCall {
    this.unstuff = new DleUnstuffer();
    this.pageStatus = 1;
    return {
      cls, role, remoteCaps: undefined, params: undefined, remoteId: '', waiting, pages: 0,
      lastPmc: undefined, owePmr: false, pmcPending: false, rxQueue: [], rxFlowing: false, rxInPage: false, fet: undefined,
      dcnSeen: false, pageStarted: false, phase: 'B', txStart: 0, txBytes: 0, rxPage: [], t2: undefined,
      txQueue: [], txSent: 0, txTimer: undefined, txEnd: undefined, pollable: false,
    };
  }

  private link(): FaxLinkHandler {
    return {
      linked: () => this.linked(),
      signal: (s) => this.onSignal(s),
      ended: (r) => this.onEnded(r),
    };
  }

  dial(cmd: AtCommand, ctx: AtContext, cls: FaxClass): Outcome {
    this.ctx = ctx;
    if (cmd.arg.endsWith(';')) return 'next';
    const call = this.newCall(cls, 'tx', 'dial');
    this.call = call;
    if (!ctx.calls.faxDial(cmd.arg, this.link())) {
      this.call = undefined;
      return 'error';
    }
    return 'done';
  }

  /** ATA. 'next': not a fax answer, the modem answers as a data modem. */
  answer(ctx: AtContext): Outcome {
    this.ctx = ctx;
    const spec = ctx.calls.ringing;
    if (spec === undefined) return 'next';
    const fclass = ctx.profile.fclass;
    const callerIsFax = spec.fax === true;
    let cls: FaxClass;
    if (fclass === '2' || fclass === '2.0') {
      if (!callerIsFax && this.faa === 1) {
        // Adaptive answer heard a data modem: class 0, CONNECT as usual.
        ctx.profile.fclass = '0';
        ctx.event('adaptive answer: data caller');
        return 'next';
      }
      cls = fclass;
    } else if (callerIsFax && this.faa === 1) {
      cls = this.faaClass;
    } else return 'next';
    const call = this.newCall(cls, 'rx', 'answer');
    this.call = call;
    if (!ctx.calls.faxAnswer(this.link())) {
      this.call = undefined;
      return 'next';
    }
    if (callerIsFax && this.faa === 1) ctx.event('adaptive answer: fax caller');
    return 'done';
  }

  private linked(): void {
    const c = this.call;
    if (c === undefined) return;
    if (c.role === 'rx') {
      const w = this.words();
      this.say(w.con);
      // +FLPL=1 / +FLP=1: the DTE has a document for a caller that polls (DIS says so).
      const poll = this.plain.get(w.lpl) === '1';
      this.ctx?.calls.faxSend({ t: 'dis', caps: { ...this.dis }, id: this.localId, ...(poll ? { poll: true } : {}) });
    }
  }

  // ------------------------------------------------------------------ the far end

  private onSignal(s: FaxSignal): void {
    const c = this.call;
    if (c === undefined) return;
    const w = this.words();
    switch (s.t) {
      case 'dis':
        if (c.role !== 'tx') return;
        c.remoteCaps = s.caps;
        c.remoteId = s.id;
        this.say(w.con);
        if (s.id !== '') this.say(`${w.csi}:${this.quoteId(s.id)}`);
        this.say(`${w.dis}:${formatParams(s.caps)}`);
        // Polling asked for and a document there: said with the far end's capabilities.
        if (s.poll === true && this.plain.get(w.spl) === '1') {
          c.pollable = true;
          this.say(w.poll);
        }
        if (c.waiting === 'dial') this.final('OK');
        return;
      case 'dtc':
        this.onDtc(c, s);
        return;
      case 'dcs':
        if (c.role !== 'rx') return;
        c.params = s.params;
        c.remoteId = s.id;
        if (s.id !== '') this.say(`${w.tsi}:${this.quoteId(s.id)}`);
        this.say(`${w.dcs}:${formatParams(s.params)}`);
        if (c.waiting === 'answer') this.final('OK');
        // T2 runs from CFR (armed first: the far end's page may come in answer, synchronously).
        this.armT2(c);
        this.ctx?.calls.faxSend({ t: 'cfr' });
        return;
      case 'cfr':
        if (c.role === 'tx' && c.waiting === 'fdt') this.startSending();
        return;
      case 'page':
        if (c.role !== 'rx') return;
        this.stopT2(c);
        c.pageStarted = true;
        c.phase = 'C';
        if (c.waiting === 'fdr') this.rxConnect();
        return;
      case 'data':
        if (c.role !== 'rx') return;
        c.rxPage.push(s.bytes);
        this.rxData(this.fromLine(s.bytes));
        return;
      case 'pmc':
        if (c.role === 'rx') this.rxEndOfPage(s.next);
        return;
      case 'pmr':
        if (c.role === 'tx' && c.waiting === 'fet') this.txPageAnswered(s.status);
        return;
      case 'dcn':
        this.stopT2(c);
        c.dcnSeen = true;
        if (c.role === 'rx' && c.lastPmc !== 2) {
          // Goodbye before the last page: the sender gave up (+FK, an error). Said at once.
          if (c.rxInPage) this.ctx?.data(Uint8Array.of(DLE, ETX));
          this.ctx?.captureDte(undefined);
          const code = c.phase === 'B' ? HANGUP.rxPhaseB : c.phase === 'C' ? HANGUP.rxPhaseC : HANGUP.rxPhaseD;
          this.endCall(code, c.waiting !== undefined ? 'ERROR' : undefined, true);
          return;
        }
        if (c.role === 'rx' && c.waiting === 'fdr') this.endOfCall(HANGUP.normal, 'OK');
        return;
      default:
        return;
    }
  }


  /**
   * The caller polls: the answerer sends from here on. Its DTE sees the poller's id and
   * capabilities (+FCIG/+FDTC, +FPI/+FTC), the ATA's OK, then sends with +FDT. The same
   * after pages of the caller's own that ended with EOM (MCF given): the answering DTE's
   * +FDR that gave the MCF ends with the poll request and OK.
   */
  private onDtc(c: FaxCall, s: Extract<FaxSignal, { t: 'dtc' }>): void {
    const w = this.words();
    if (c.role !== 'rx' || (!(c.params === undefined && c.pages === 0) && !this.eomAnswered(c))) return;
    if (c.pages > 0) this.turnAround(c);
    c.role = 'tx';
    c.remoteCaps = s.caps;
    c.remoteId = s.id;
    this.stopT2(c);
    if (s.id !== '') this.say(`${w.cig}:${this.quoteId(s.id)}`);
    this.say(`${w.dtc}:${formatParams(s.caps)}`);
    if (c.waiting === 'answer' || c.waiting === 'fdr') this.final('OK');
  }

  private onEnded(reason: EndReason): void {
    const c = this.call;
    if (c === undefined) return;
    this.stopT2(c);
    if (c.waiting === 'dial' && reason !== 'remote-hangup') {
      this.call = undefined;
      this.final(reason === 'busy' ? 'BUSY' : reason === 'no-answer' ? 'NO ANSWER' : 'NO CARRIER');
      return;
    }
    if (c.dcnSeen) {
      // The far end said goodbye first (DCN); the line drop is the normal end.
      if (c.waiting !== undefined) this.endCall(HANGUP.normal, 'OK', false);
      else this.call = undefined;
      return;
    }
    const code = c.role === 'tx'
      ? c.phase === 'B' ? HANGUP.txPhaseB : c.phase === 'C' ? HANGUP.txPhaseC : HANGUP.txPhaseD
      : c.phase === 'B' ? HANGUP.rxPhaseB : c.phase === 'C' ? HANGUP.rxPhaseC : HANGUP.rxPhaseD;
    if (c.rxInPage) this.ctx?.data(Uint8Array.of(DLE, ETX));
    this.ctx?.captureDte(undefined);
    this.endCall(code, c.waiting !== undefined ? 'ERROR' : undefined, false);
  }

  /** rx: wait T2 for the next page; then say goodbye, +FHNG:73 (ERROR to a waiting +FDR). */
  private armT2(c: FaxCall): void {
    const ctx = this.ctx;
    if (ctx === undefined) return;
    this.stopT2(c);
    c.t2 = ctx.clock.setTimeout(() => {
      c.t2 = undefined;
      if (this.call !== c) return;
      ctx.event(`fax: T2 timed out after ${this.t2Ms} ms, no page`);
      // The session ends first: the far end's hang-up in answer to the DCN is no news then.
      this.endCall(HANGUP.rxT2, c.waiting !== undefined ? 'ERROR' : undefined, false);
      ctx.calls.faxSend({ t: 'dcn' });
      ctx.calls.faxHangup();
    }, this.t2Ms);
  }

  private stopT2(c: FaxCall): void {
    c.t2?.cancel();
    c.t2 = undefined;
    c.txTimer?.cancel();
    c.txTimer = undefined;
  }

  /** The session is over: +FHNG/+FHS, the final result if a command waits. */
  private endCall(code: number, result: string | undefined, hangup: boolean): void {
    const c = this.call;
    if (c !== undefined) this.stopT2(c);
    this.lastHangup = code;
    if (c !== undefined) this.say(`${WORDS[c.cls].hng}:${hangupText(c.cls, code)}`);
    this.call = undefined;
    if (hangup) this.ctx?.calls.faxHangup();
    if (result !== undefined) this.ctx?.result(result);
  }

  private endOfCall(code: number, result: string): void {
    this.endCall(code, result, true);
  }

  // ------------------------------------------------------------------ sending (+FDT, +FET)

  fdt(ctx: AtContext): Outcome {
    this.ctx = ctx;
    const c = this.call;
    if (c?.role !== 'tx' || c.waiting !== undefined || c.remoteCaps === undefined) return 'error';
    c.waiting = 'fdt';
    if (c.params === undefined) {
      c.params = negotiate(this.dis, c.remoteCaps);
      ctx.calls.faxSend({ t: 'dcs', params: c.params, id: this.localId });
      // CONNECT comes when the answerer confirms (CFR).
      return 'done';
    }
    this.startSending();
    return 'done';
  }

  private startSending(): void {
    const c = this.call;
    const ctx = this.ctx;
    if (c === undefined || ctx === undefined || c.params === undefined) return;
    if (c.pages === 0) this.say(`${this.words().dcs}:${formatParams(c.params)}`);
    c.phase = 'C';
    ctx.calls.faxSend({ t: 'page' });
    c.txStart = ctx.clock.monotonic();
    c.txBytes = 0;
    c.txSent = 0;
    c.txQueue = [];
    c.txEnd = undefined;
    this.unstuff = new DleUnstuffer();
    ctx.captureDte((b) => this.txData(b));
    ctx.result('CONNECT');
    // Class 2 modems say XON when they want the page, class 2.0 modems DC2.
    ctx.data(Uint8Array.of(c.cls === '2' ? DC1 : DC2));
  }

  private txData(b: Uint8Array): number {
    const c = this.call;
    if (c === undefined) return 0;
    const r = this.unstuff.push(b);
    if (r.data.length > 0) c.txQueue.push(this.toLine(r.data));
    c.txBytes += r.data.length;
    if (r.end) {
      this.ctx?.captureDte(undefined);
      c.pages++;
      c.phase = 'D';
      c.txEnd = { next: r.by === COMMA ? 0 : r.by === SEMICOLON ? 1 : r.by === DOT ? 2 : undefined };
    }
    this.txPump(c);
    return r.used;
  }

  /**
   * The modem's buffer drains onto the line at the line rate (paceBps, else the negotiated
   * bit rate): the far end gets the page's bytes as the line would carry them, and the page
   * is sent (OK, or the post-page message) only once all of them left. Real efax divides by
   * that time; a receiving DTE never gets a page faster than a real line gives it.
   */
  private txPump(c: FaxCall): void {
    const ctx = this.ctx;
    if (ctx === undefined || this.call !== c) return;
    const bps = this.paceBps ?? BIT_RATES[c.params?.br ?? 3] ?? 9600;
    let due = Math.floor(((ctx.clock.monotonic() - c.txStart) * bps) / 8000) - c.txSent;
    while (due > 0 && c.txQueue.length > 0) {
      const head = c.txQueue[0] ?? new Uint8Array();
      const part = head.length <= due ? head : head.subarray(0, due);
      if (part.length === head.length) c.txQueue.shift();
      else c.txQueue[0] = head.subarray(due);
      ctx.calls.faxSend({ t: 'data', bytes: part });
      c.txSent += part.length;
      due -= part.length;
    }
    if (c.txQueue.length > 0) {
      // Again in a step, or when the last queued byte is due if that is sooner.
      const queued = c.txQueue.reduce((n, q) => n + q.length, 0);
      const drainedAt = c.txStart + ((c.txSent + queued) * 8000) / bps;
      const ms = Math.min(TX_STEP_MS, Math.max(1, Math.ceil(drainedAt - ctx.clock.monotonic())));
      c.txTimer ??= ctx.clock.setTimeout(() => {
        c.txTimer = undefined;
        this.txPump(c);
      }, ms);
      return;
    }
    const end = c.txEnd;
    if (end === undefined) return;
    c.txEnd = undefined;
    if (end.next !== undefined) {
      // DLE ',' / ';' / '.': the page end carries the post-page message (real sendfax
      // in class 2.0 sends these instead of DLE ETX + AT+FET=n): as if +FET=n came.
      c.waiting = 'fet';
      c.fet = end.next;
      ctx.calls.faxSend({ t: 'pmc', next: end.next });
      return;
    }
    this.final('OK');
  }

  fet(cmd: AtCommand, ctx: AtContext): Outcome {
    this.ctx = ctx;
    const c = this.call;
    const v = Number(cmd.arg);
    if (cmd.op === 'test') {
      ctx.info('(0-2)');
      return 'ok';
    }
    if (c?.role !== 'tx' || c.waiting !== undefined || cmd.op !== 'set' || !/^[0-2]$/.test(cmd.arg) || c.phase !== 'D') return 'error';
    c.waiting = 'fet';
    c.fet = v as 0 | 1 | 2;
    ctx.calls.faxSend({ t: 'pmc', next: c.fet });
    return 'done';
  }

  private txPageAnswered(status: number): void {
    const c = this.call;
    if (c === undefined) return;
    this.say(`${this.words().pts}:${status}`);
    if (c.fet === 2) {
      c.dcnSeen = true; // our goodbye: the line drop that follows is the normal end
      this.ctx?.calls.faxSend({ t: 'dcn' });
      if (this.call !== c) return;
      this.endOfCall(HANGUP.normal, 'OK');
      return;
    }
    this.final('OK');
  }

  // ------------------------------------------------------------------ receiving (+FDR)

  fdr(ctx: AtContext): Outcome {
    this.ctx = ctx;
    const c = this.call;
    if (c?.role === 'tx' && c.pollable && c.waiting === undefined && (c.pages === 0 ? c.params === undefined : c.fet === 1)) {
      // The caller polls: DTC instead of DCS, and from here on it is the receiver. The far
      // end's TSI and DCS, then CFR and the first page, come as for a call answered. After
      // pages of its own ended with EOM (+FET=1, DLE ';') the call turns round the same way.
      if (c.pages > 0) this.turnAround(c);
      c.role = 'rx';
      c.waiting = 'fdr';
      this.armT2(c);
      // The poller's id is +FCIG / +FPI when set, else the station id.
      const cig = quoted(this.plain.get(c.cls === '2' ? '+FCIG' : '+FPI') ?? '') ?? '';
      ctx.calls.faxSend({ t: 'dtc', caps: { ...this.dis }, id: cig !== '' ? cig : this.localId });
      return 'done';
    }
    if (c?.role !== 'rx' || c.waiting !== undefined || c.params === undefined) return 'error';
    c.waiting = 'fdr';
    if (c.owePmr) {
      c.owePmr = false;
      if (c.lastPmc !== 2) this.armT2(c);
      ctx.calls.faxSend({ t: 'pmr', status: this.pageStatus });
      this.pageStatus = 1;
      // The far end may have said goodbye (and ended the session) in answer.
      if (this.call !== c) return 'done';
      if (c.lastPmc === 2) {
        // After the last page only the goodbye is left.
        if (c.dcnSeen) this.endOfCall(HANGUP.normal, 'OK');
        return 'done';
      }
    }
    if (c.pageStarted || c.pmcPending) this.rxConnect();
    return 'done';
  }

  /** rx: the caller's last page ended with EOM and the DTE's +FDR gave it MCF: phase B again. */
  private eomAnswered(c: FaxCall): boolean {
    return c.pages > 0 && c.lastPmc === 1 && !c.owePmr && !c.pmcPending && !c.pageStarted;
  }

  /** The sent document is over (EOM answered): the call's receive state starts afresh. */
  private turnAround(c: FaxCall): void {
    c.params = undefined;
    c.pages = 0;
    c.fet = undefined;
    c.lastPmc = undefined;
    c.owePmr = false;
    c.pmcPending = false;
    c.pageStarted = false;
    c.rxQueue = [];
    c.rxPage = [];
    c.phase = 'B';
  }

  private rxConnect(): void {
    const c = this.call;
    const ctx = this.ctx;
    if (c === undefined || ctx === undefined || c.params === undefined) return;
    const w = this.words();
    if (c.pages === 0 && w.cfr !== undefined) this.say(w.cfr);
    c.rxInPage = true;
    c.rxFlowing = false;
    ctx.result('CONNECT');
    // The page flows once the DTE says it is ready (DC2; a few old modems want XON).
    ctx.captureDte((b) => {
      const k = b.findIndex((x) => x === DC2 || x === DC1);
      if (k < 0) return b.length;
      ctx.captureDte(undefined);
      this.rxFlow();
      return k + 1;
    });
  }

  private rxFlow(): void {
    const c = this.call;
    if (c === undefined) return;
    c.rxFlowing = true;
    for (const b of c.rxQueue.splice(0)) this.ctx?.data(dleStuff(b));
    if (c.pmcPending && c.waiting === 'fdr') this.rxPageDone();
  }

  private rxData(b: Uint8Array): void {
    const c = this.call;
    if (c === undefined) return;
    if (c.rxFlowing) this.ctx?.data(dleStuff(b));
    else c.rxQueue.push(b);
  }

  private rxEndOfPage(next: 0 | 1 | 2): void {
    const c = this.call;
    if (c === undefined) return;
    c.lastPmc = next;
    c.pmcPending = true;
    c.pageStarted = false;
    c.phase = 'D';
    if (c.rxFlowing) this.rxPageDone();
  }

  /** The page is all out: DLE ETX, its status and the post-page message, OK. */
  private rxPageDone(): void {
    const c = this.call;
    const ctx = this.ctx;
    if (c === undefined || ctx === undefined) return;
    c.rxInPage = false;
    c.rxFlowing = false;
    // The page is the DTE's now: the answer (MCF) goes when it asks for the next (+FDR).
    c.pmcPending = false;
    c.owePmr = true;
    c.pages++;
    ctx.data(Uint8Array.of(DLE, ETX));
    // The page's status with its line count and bad lines, as the modem's T.4 check saw them
    // (efax asks for the page again without them). Class 2 writes decimal, class 2.0 hex.
    const { lines, bad } = this.countLines(c);
    const n = (v: number): string => (c.cls === '2' ? String(v) : v.toString(16).toUpperCase());
    this.say(`${this.words().pts}:1,${n(lines)},${n(bad)},0`);
    this.say(`+FET:${c.lastPmc ?? 2}`);
    this.final('OK');
  }

  private countLines(c: FaxCall): { lines: number; bad: number } {
    const data = Buffer.concat(c.rxPage.splice(0));
    const width = [1728, 2048, 2432, 1216, 864][c.params?.wd ?? 0] ?? 1728;
    try {
      const r = decodeG3(data, { width, twoD: (c.params?.df ?? 0) === 1 });
      return { lines: r.bitmap.height, bad: r.badLines };
    } catch {
      return { lines: 0, bad: 0 };
    }
  }

  /** +FK / +FKS: end the session now. */
  abort(ctx: AtContext): Outcome {
    this.ctx = ctx;
    const c = this.call;
    if (c === undefined) return 'ok';
    ctx.captureDte(undefined);
    c.dcnSeen = true; // our goodbye: the line drop that follows is no news
    ctx.calls.faxSend({ t: 'dcn' });
    // The far end may have hung up already in answer; the session ends here either way.
    this.call = c;
    this.endCall(HANGUP.aborted, undefined, true);
    return 'ok';
  }

  /** ATH, ATZ or a dropped DTR ended the call under us. */
  forget(): void {
    if (this.call !== undefined) this.stopT2(this.call);
    this.call = undefined;
  }
}

// -------------------------------------------------------------------- the handler set

function quoted(arg: string): string | undefined {
  const m = /^"([^"]*)"$/.exec(arg);
  if (m !== null) return m[1] ?? '';
  return arg.includes('"') ? undefined : arg;
}

// Class 2.0 commands need +FCLASS=2.0, as EIA-592 says. Class 2 modems (Rockwell and the
// rest) take their +F settings in class 0 as well: real mgetty sets +FAA, +FBOR, +FLID and
// +FDCC after AT+FCLASS=0, for an adaptive answer from class 0.
function inClass(ctx: AtContext, name: string): boolean {
  const f = ctx.profile.fclass;
  if (CLASS2_ONLY.has(name) && CLASS20_ONLY.has(name)) return true;
  if (CLASS20_ONLY.has(name)) return f === '2.0';
  if (CLASS2_ONLY.has(name)) return f !== '2.0';
  return true;
}

/** A handler for commands valid in their class only. */
const fax = (h: AtHandler): AtHandler => (c, ctx) => (inClass(ctx, c.name) ? h(c, ctx) : 'error');

function idHandler(fs: FaxSession): AtHandler {
  return (c, ctx) => {
    if (c.op === 'test') ctx.info('(20)(32-127)');
    else if (c.op === 'read') ctx.info(`"${fs.localId}"`);
    else if (c.op === 'set') {
      const v = quoted(c.arg);
      if (v === undefined || v.length > 20) return 'error';
      fs.localId = v;
    } else return 'error';
    return 'ok';
  };
}

function paramsHandler(fs: FaxSession, which: 'caps' | 'dis'): AtHandler {
  return (c, ctx) => {
    if (c.op === 'test') ctx.info(PARAM_RANGES);
    else if (c.op === 'read') ctx.info(formatParams(fs[which]));
    else if (c.op === 'set') {
      const p = parseParams(c.arg, fs[which]);
      if (p === undefined) return 'error';
      fs[which] = p;
      // Setting the capabilities sets the session parameters offered with them.
      if (which === 'caps') fs.dis = { ...p };
    } else return 'error';
    return 'ok';
  };
}

function numberHandler(fs: FaxSession, key: 'fcr' | 'faa' | 'bitOrder' | 'pageStatus', max: number, range: string): AtHandler {
  return (c, ctx) => {
    if (c.op === 'test') ctx.info(range);
    else if (c.op === 'read') ctx.info(String(fs[key]));
    else if (c.op === 'set') {
      if (!/^[0-9]$/.test(c.arg) || Number(c.arg) > max) return 'error';
      fs[key] = Number(c.arg);
      if (key === 'faa') fs.faaClass = ctx.profile.fclass === '2.0' ? '2.0' : '2';
    } else return 'error';
    return 'ok';
  };
}

function currentHandler(fs: FaxSession): AtHandler {
  return (c, ctx) => {
    if (c.op !== 'read') return 'error';
    const p = fs.call?.params;
    ctx.info(p === undefined ? '0,0,0,0,0,0,0,0' : formatParams(p));
    return 'ok';
  };
}

function identityHandler(pick: 'gmi' | 'gmm' | 'gmr'): AtHandler {
  return (c, ctx) => {
    if (c.op !== 'exec' && c.op !== 'read') return 'error';
    ctx.info(ctx.personality[pick]);
    return 'ok';
  };
}

/** Settings stored and read back, not modelled (PLAIN). */
function plainHandler(fs: FaxSession): AtHandler {
  return (c, ctx) => {
    const def = PLAIN[c.name];
    if (def === undefined) return 'next';
    if (c.op === 'test') ctx.info(def.range);
    else if (c.op === 'read') ctx.info(fs.plain.get(c.name) ?? def.init);
    else if (c.op === 'set') fs.plain.set(c.name, c.arg);
    else return 'error';
    return 'ok';
  };
}

const fclassHandler: AtHandler = (c, ctx) => {
  if (c.op === 'test') ctx.info('0,2,2.0');
  else if (c.op === 'read') ctx.info(ctx.profile.fclass);
  else if (c.op === 'set') {
    const v = c.arg === '2.0' || c.arg === '2.00' ? '2.0' : c.arg;
    if (!['0', '2', '2.0'].includes(v)) return 'error';
    ctx.profile.fclass = v;
  } else return 'error';
  return 'ok';
};

export function createFaxCommands(o: FaxModemOptions = {}): HandlerSet {
  const fs = new FaxSession(o.paceBps, o.t2Ms);
  const id = idHandler(fs);
  const number = (key: 'fcr' | 'faa' | 'bitOrder' | 'pageStatus', max: number, range: string): AtHandler => numberHandler(fs, key, max, range);
  const plain = plainHandler(fs);
  const set: Record<string, AtHandler> = {
    '+FCLASS': fclassHandler,
    A: (_c, ctx) => fs.answer(ctx),
    D: (c, ctx) => {
      const f = ctx.profile.fclass;
      if (f !== '2' && f !== '2.0') return 'next';
      return fs.dial(c, ctx, f);
    },
    // A hang-up from the DTE ends the fax session too; the Hayes handler does the rest.
    H: () => {
      fs.forget();
      return 'next';
    },
    Z: () => {
      fs.forget();
      return 'next';
    },
    '+FLID': fax(id),
    '+FLI': fax(id),
    '+FDCC': fax(paramsHandler(fs, 'caps')),
    '+FCC': fax(paramsHandler(fs, 'caps')),
    '+FDIS': fax(paramsHandler(fs, 'dis')),
    '+FIS': fax(paramsHandler(fs, 'dis')),
    '+FDCS': fax(currentHandler(fs)),
    '+FCS': fax(currentHandler(fs)),
    '+FCR': fax(number('fcr', 1, '(0,1)')),
    '+FAA': fax(number('faa', 1, '(0,1)')),
    '+FBOR': fax(number('bitOrder', 3, '(0-3)')),
    '+FBO': fax(number('bitOrder', 3, '(0-3)')),
    '+FPTS': fax(number('pageStatus', 5, '(1-5)')),
    '+FPS': fax(number('pageStatus', 5, '(1-5)')),
    '+FDT': fax((c, ctx) => (c.op === 'exec' ? fs.fdt(ctx) : 'error')),
    '+FDR': fax((c, ctx) => (c.op === 'exec' ? fs.fdr(ctx) : 'error')),
    '+FET': fax((c, ctx) => fs.fet(c, ctx)),
    '+FK': fax((c, ctx) => (c.op === 'exec' ? fs.abort(ctx) : 'error')),
    '+FKS': fax((c, ctx) => (c.op === 'exec' ? fs.abort(ctx) : 'error')),
    '+FMFR': fax(identityHandler('gmi')),
    '+FMDL': fax(identityHandler('gmm')),
    '+FREV': fax(identityHandler('gmr')),
    '+FMI': fax(identityHandler('gmi')),
    '+FMM': fax(identityHandler('gmm')),
    '+FMR': fax(identityHandler('gmr')),
    '+FHS': fax((c, ctx) => {
      if (c.op !== 'read') return 'error';
      ctx.info(hangupText('2.0', fs.lastHangup));
      return 'ok';
    }),
    '+F': (c, ctx) => {
      if (PLAIN[c.name] === undefined) return 'next';
      return fax(plain)(c, ctx);
    },
  };
  // The registry also matches by prefix (+FMI would get +FMINSP): each key takes its own name only.
  return Object.fromEntries(Object.entries(set).map(([key, h]): [string, AtHandler] => [key, key === '+F' ? h : (c, ctx) => (c.name === key ? h(c, ctx) : 'next')]));
}
