/**
 * Receiving a fax through a class 2 / 2.0 modem, DTE side, as a pure machine: bytes and
 * time-outs in, commands out (send text, arm a timer, a page is complete, the end).
 * It starts after the modem reported the fax connection (+FCON, +FCO or FAX).
 *
 *   negotiate: +FTSI/+FTI, +FDCS/+FCS ... OK        -> AT+FDR
 *   fdr:       [+FCFR] [+FDCS] CONNECT               -> DC2, page data follows
 *   data:      DLE-stuffed page ... DLE ETX
 *   post-page: +FPTS/+FPS, +FET:n ... OK             -> AT+FDR (next page, or the end)
 *   ... +FHNG/+FHS:code [OK]                         -> done
 *
 * After +FET:1 (EOM: another document) the AT+FDR gives the MCF and the call is in phase B
 * again: the caller's next document (+FTSI, +FDCS, CONNECT), its goodbye (+FHNG:0), or,
 * when it polls (sendfax -p NUMBER FILE), +FCIG/+FDTC (+FPI/+FTC) and OK: end 'polled'
 * with the pages kept, and the getty sends its document from AT+FDT on.
 */
import { LineSplitter } from '../../modem/lines.js';
import { DC2, DleDecoder } from './dle.js';
import { parseFaxResponse, type SessionParams } from './responses.js';

export interface ReceivedPage {
  /** Page data as the modem delivered it (unstuffed; bit order as set with +FBOR/+FBO). */
  data: Uint8Array;
  params: SessionParams | undefined;
  /** +FPTS/+FPS status (1 = good); undefined if the modem gave none. */
  status: number | undefined;
  /** Lines the modem counted, if it said. */
  lines: number | undefined;
}

export type ReceiveEnd =
  /** The sender said EOP and the modem hung up normally. */
  | 'complete'
  /** The modem reported a hang-up code other than 0. */
  | 'modem-hangup'
  | 'timeout'
  | 'carrier-lost'
  | 'modem-error'
  /** The page would pass the size limit (a hostile or broken sender). */
  | 'too-large'
  /**
   * The caller polls us (+FDTC / +FTC before the answer's OK, or after its pages ended with
   * EOM): we send (fax-server-file); the pages it sent first are in `pages`.
   */
  | 'polled';

export interface ReceiveResult {
  end: ReceiveEnd;
  remoteId: string;
  /** +FHNG / +FHS code (0 = normal); undefined when the modem said none. */
  hangupCode: number | undefined;
  pages: ReceivedPage[];
  /** Negotiated parameters last reported. */
  params: SessionParams | undefined;
  /** A page had started but not ended when the call broke off (its data is dropped). */
  partialPage: boolean;
  /** end 'polled': what the poller can receive (its DTC). */
  pollerCaps?: SessionParams;
  /** end 'polled': the poller's id (+FCIG/+FPI); `remoteId` stays the sender's when pages came first. */
  pollerId?: string;
}

export type ReceiveCommand =
  | { type: 'send'; bytes: Uint8Array }
  | { type: 'timer'; ms: number }
  | { type: 'page'; page: ReceivedPage; index: number }
  | { type: 'done'; result: ReceiveResult };

export interface ReceiveLimits {
  /** Waiting for the modem's next report. */
  responseMs: number;
  /** Silence inside page data. */
  dataMs: number;
  /** Largest page accepted, in bytes. */
  maxPageBytes: number;
}

export const DEFAULT_RECEIVE_LIMITS: ReceiveLimits = { responseMs: 60_000, dataMs: 30_000, maxPageBytes: 8 << 20 };

type State = 'negotiate' | 'fdr' | 'data' | 'post-page' | 'done';

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

export class FaxReceiver {
  private state: State = 'negotiate';
  private readonly lines = new LineSplitter();
  private dle = new DleDecoder();
  private page: Uint8Array[] = [];
  private pageBytes = 0;
  private pageParams: SessionParams | undefined;
  private status: number | undefined;
  private lineCount: number | undefined;
  private lastMessage: number | undefined;
  private skipLf = false;
  private readonly result: ReceiveResult = { end: 'complete', remoteId: '', hangupCode: undefined, pages: [], params: undefined, partialPage: false };

  /**
   * `fdrFirst`: polling (sendfax -p): the dial's OK came already, so the first thing is
   * AT+FDR, which gets the sender's TSI and DCS, then CONNECT.
   */
  constructor(
    private readonly limits: ReceiveLimits = DEFAULT_RECEIVE_LIMITS,
    private readonly opts: { fdrFirst?: boolean } = {},
  ) {}

  /** The sender's station id so far (file names use it before the end). */
  get remoteId(): string {
    return this.result.remoteId;
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /** The commands to start with (the response timer). */
  start(): ReceiveCommand[] {
    if (this.opts.fdrFirst === true) {
      this.state = 'fdr';
      return [{ type: 'send', bytes: ascii('AT+FDR\r') }, { type: 'timer', ms: this.limits.responseMs }];
    }
    return [{ type: 'timer', ms: this.limits.responseMs }];
  }

  feed(chunk: Uint8Array): ReceiveCommand[] {
    const out: ReceiveCommand[] = [];
    let rest = chunk;
    while (rest.length > 0 && this.state !== 'done') {
      if (this.state === 'data') {
        // CONNECT's line ended at its CR: its LF is not page data.
        if (this.skipLf) {
          this.skipLf = false;
          if (rest[0] === 0x0a) rest = rest.subarray(1);
          if (rest.length === 0) break;
        }
        const r = this.dle.feed(rest);
        this.pageBytes += r.data.length;
        if (this.pageBytes > this.limits.maxPageBytes) return [...out, this.finish('too-large')];
        if (r.data.length > 0) this.page.push(r.data);
        rest = r.rest;
        if (!r.ended) {
          out.push({ type: 'timer', ms: this.limits.dataMs });
          break;
        }
        this.state = 'post-page';
        out.push({ type: 'timer', ms: this.limits.responseMs });
        continue;
      }
      // Line mode: one byte at a time, because CONNECT switches to data mid-chunk.
      let i = 0;
      for (; i < rest.length && this.lineMode(); i++) {
        const line = this.lines.push(rest[i] ?? 0);
        if (line !== undefined) out.push(...this.onLine(line.text));
      }
      rest = rest.subarray(i);
    }
    return out;
  }

  private lineMode(): boolean {
    return this.state !== 'data' && this.state !== 'done';
  }

  timeout(): ReceiveCommand[] {
    return this.state === 'done' ? [] : [this.finish('timeout')];
  }

  carrierLost(): ReceiveCommand[] {
    return this.state === 'done' ? [] : [this.finish('carrier-lost')];
  }

  private onLine(text: string): ReceiveCommand[] {
    const r = parseFaxResponse(text);
    switch (r.kind) {
      case 'remote-id':
        if (r.role === 'poller') this.result.pollerId = r.id;
        // The pages' file names and records keep the sender's TSI.
        if (r.role === 'transmitter' || (r.role === 'poller' && this.result.pages.length === 0)) this.result.remoteId = r.id;
        return [];
      case 'poll-request':
        if (this.state === 'negotiate' || this.afterEom()) this.result.pollerCaps = r.params;
        return [];
      case 'params':
        if (r.negotiated) this.pageParams = this.result.params = r.params;
        return [];
      case 'page-status':
        this.status = r.status;
        this.lineCount = r.lines;
        return [];
      case 'post-page':
        this.lastMessage = r.message;
        return [];
      case 'hangup':
        this.result.hangupCode = r.code;
        // A goodbye after EOM is a normal end too: every page came and had its MCF.
        return [this.finish(r.code === 0 && (this.lastMessage === 2 || this.afterEom()) ? 'complete' : 'modem-hangup')];
      case 'connect':
        if (this.state !== 'fdr') return [];
        this.state = 'data';
        this.dle = new DleDecoder();
        this.page = [];
        this.pageBytes = 0;
        this.skipLf = true;
        // DC2: the DTE is ready for the page data.
        return [{ type: 'send', bytes: Uint8Array.of(DC2) }, { type: 'timer', ms: this.limits.dataMs }];
      case 'ok':
        return this.onOk();
      case 'error':
      case 'no-carrier':
        return [this.finish(this.lastMessage === 2 && r.kind === 'no-carrier' ? 'complete' : 'modem-error')];
      default:
        return [];
    }
  }

  private onOk(): ReceiveCommand[] {
    const out: ReceiveCommand[] = [];
    if (this.state === 'post-page') {
      const page: ReceivedPage = { data: concat(this.page), params: this.pageParams, status: this.status, lines: this.lineCount };
      this.result.pages.push(page);
      out.push({ type: 'page', page, index: this.result.pages.length });
      this.page = [];
      this.status = undefined;
      this.lineCount = undefined;
    }
    // The answer's OK after a poll request: the caller wants our document, not to send.
    if ((this.state === 'negotiate' || this.afterEom()) && this.result.pollerCaps !== undefined) return [this.finish('polled')];
    if (this.state === 'negotiate' || this.state === 'post-page') {
      // After the last page this AT+FDR asks for the end of the call (+FHNG/+FHS).
      this.state = 'fdr';
      out.push({ type: 'send', bytes: ascii('AT+FDR\r') }, { type: 'timer', ms: this.limits.responseMs });
      return out;
    }
    if (this.state === 'fdr' && this.lastMessage === 2) return [this.finish('complete')];
    return out;
  }

  /** The AT+FDR after a page that ended with EOM: phase B again, no page begun. */
  private afterEom(): boolean {
    return this.state === 'fdr' && this.lastMessage === 1 && this.result.pages.length > 0;
  }

  private finish(end: ReceiveEnd): ReceiveCommand {
    this.result.partialPage = this.state === 'data' || (this.state === 'post-page' && this.pageBytes > 0);
    this.state = 'done';
    this.result.end = end;
    return { type: 'done', result: this.result };
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const n = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
