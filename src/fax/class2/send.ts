/**
 * Sending a fax through a class 2 / 2.0 modem, DTE side, as a pure machine: bytes and
 * time-outs in, commands out (send text or page data, arm a timer, a page is through,
 * the end). It does what mgetty's sendfax does, in tgetty's own terms:
 *
 *   probe:   AT+FCLASS=?  (modem-type auto)              -> the class
 *   setup:   AT+FCLASS=<c>, +FLID/+FLI, +FDCC/+FCC, +FBOR/+FBO, extra commands: OK each
 *   dial:    ATD<number>  +FCON/+FCO [+FCSI/+FCI] [+FDIS/+FIS] OK
 *   fdt:     AT+FDT       [+FDCS/+FCS] CONNECT
 *   go:      XON (class 2) / DC2 (class 2.0) from the modem: "send now"
 *   data:    the page, bits mirrored, DLE doubled, DLE ETX  -> OK when it has left
 *   fet:     AT+FET=0|2   +FPTS/+FPS:<status> [+FHNG/+FHS:<code>] OK
 *            status 1/3 good -> next page; 2/4/5 bad -> the page again (max-tries)
 *   cleanup: ATH0 (after a failure), AT+FCLASS=0        -> done
 *
 * Polling (-p): the set-up asks to poll as well; +FPOLL / +FPO after the dial means the far
 * end has a document. Without pages the dial's OK ends the machine in the call
 * (`pollable`). With pages, the last one ends with EOM (AT+FET=1) instead of EOP when the
 * far end has a document, class 2.0 then sets +FBO=1 (received data first bit on top), and
 * the machine ends in the call (`pollable`) for the receiver to take over, as real sendfax
 * does (docs/fax-spec.md, 9a). No document: EOP as usual, end `no-document`, exit 0.
 *
 * The exit code is mgetty's sendfax's (see SEND_EXIT): below 10 the call cost nothing.
 */
import { LineSplitter } from '../../modem/lines.js';
import { reverseBits } from '../codec/bits.js';
import { DC2, XON, stuffPage } from './dle.js';
import { bitRateCode, chooseClass, quoteId, type FaxClass, type ModemType } from './init.js';
import { BIT_RATES, parseFaxResponse, type SessionParams } from './responses.js';

/** mgetty's sendfax exit codes (man sendfax, info mgetty "Sending"). */
export const SEND_EXIT = {
  ok: 0,
  usage: 1,
  /** Cannot open the fax device (locked, permissions). */
  open: 2,
  /** The modem did not take the set-up (switched off, not a class 2 fax modem, -m refused). */
  init: 3,
  busy: 4,
  noDialtone: 5,
  /** ERROR, NO CARRIER (or NO ANSWER) after the dial: the far end may have picked up. */
  dial: 10,
  /** The modem never said XON after CONNECT. */
  xon: 11,
  /** A page could not be sent (connection dropped, the receiver refused it max-tries times). */
  page: 12,
  /** Killed by a signal, or the modem stopped answering. */
  catastrophe: 15,
} as const;

export interface SendPage {
  /** T.4 data as a G3 file has it: first bit of the line in the most significant bit. */
  data: Uint8Array;
}

export interface SendSettings {
  modemType: Exclude<ModemType, 'data'>;
  /** The station id we send (fax-id). */
  faxId: string;
  /** fax-max-speed, bit/s (-M). */
  maxSpeed: number;
  /** Normal resolution (98 lpi; -n); else fine. */
  normal: boolean;
  /** The dial command before the number (dial-prefix; -D), e.g. ATD. */
  dialPrefix: string;
  phone: string;
  /** Sent before the class set-up, each wants OK (modem-init). */
  initCommands?: readonly string[];
  /** Sent after the class set-up, each wants OK (-m, modem-handshake). */
  extraCommands: readonly string[];
  /** Tries per page when the receiver reports it bad (max-tries; 0 = never resend). */
  maxTries: number;
  /** After max-tries bad tries: go on with the next page (max-tries-continue), else fail. */
  maxTriesContinue: boolean;
  /** Sent after a failed dial (reset-after-fail), e.g. ATZ to reset an ISDN modem's logic. */
  resetAfterFail?: string;
  /**
   * Poll (sendfax -p): ask the modem to poll (+FSPL=1 / +FSP=1, receive capability on).
   * The machine ends `pollable` in the call if the far end has a document (after the dial,
   * or after the pages, the last one sent with EOM): the caller receives it, then puts
   * the modem back with ModemCleanup. Else `no-document` (exit 0; the pages, if any, sent).
   */
  poll?: boolean;
}

export interface SendLimits {
  /** An AT command's answer. */
  commandMs: number;
  /** The dial: ringing, the answer, the T.30 phase B. */
  dialMs: number;
  /** CONNECT after AT+FDT (training, CFR). */
  fdtMs: number;
  /** XON / DC2 after CONNECT. */
  xonMs: number;
  /** The post-page exchange (+FPTS ... OK). */
  postPageMs: number;
  /** Slack on top of the page's own time at the line rate. */
  pageSlackMs: number;
}

export const DEFAULT_SEND_LIMITS: SendLimits = { commandMs: 10_000, dialMs: 120_000, fdtMs: 60_000, xonMs: 10_000, postPageMs: 60_000, pageSlackMs: 60_000 };

export type SendEnd = 'complete' | 'pollable' | 'no-document' | 'init-failed' | 'busy' | 'no-dialtone' | 'no-answer' | 'no-carrier' | 'dial-error' | 'no-xon' | 'page-failed' | 'timeout' | 'carrier-lost' | 'aborted';

export interface SentPage {
  index: number;
  /** +FPTS / +FPS status of the try that counted (1 good). */
  status: number;
  tries: number;
}

export interface SendResult {
  end: SendEnd;
  exitCode: number;
  cls: FaxClass | undefined;
  remoteId: string;
  /** The receiver's capabilities (+FDIS/+FIS) and the negotiated parameters (+FDCS/+FCS). */
  remoteCaps: SessionParams | undefined;
  params: SessionParams | undefined;
  /** +FHNG / +FHS code, if the modem said one. */
  hangupCode: number | undefined;
  /** Pages the receiver confirmed (or that were given up on with max-tries-continue), in order. */
  pages: SentPage[];
  /** Page data bytes written (after stuffing), all tries. */
  bytes: number;
  /** Why, in words (for the log and stderr). */
  reason: string;
}

export type SendCommand =
  | { type: 'send'; bytes: Uint8Array }
  | { type: 'timer'; ms: number }
  /** A page is through (or given up on): the caller may rename its file (-r). */
  | { type: 'page'; page: SentPage }
  | { type: 'log'; level: 'mesg' | 'warn' | 'noise'; text: string }
  | { type: 'done'; result: SendResult };

/** `turn`: the pages are through with EOM, the modem is being set to receive (+FBO=1). */
type State = 'probe' | 'setup' | 'dial' | 'fdt' | 'go' | 'data' | 'fet' | 'turn' | 'cleanup' | 'done';

const ascii = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0) & 0xff);

/**
 * The set-up commands of a class, in order (each answered with OK). `sending`: with -p,
 * pages go out before the poll, so the data stays in direct order (+FBO=0) until then.
 */
export function sendSetupCommands(cls: FaxClass, s: Pick<SendSettings, 'faxId' | 'maxSpeed' | 'normal' | 'extraCommands' | 'initCommands' | 'poll'>, sending = false): string[] {
  const caps = `${s.normal ? 0 : 1},${bitRateCode(s.maxSpeed)},0,2,0,0,0,0`;
  const at = (c: string): string => (/^AT/i.test(c) ? c : `AT${c}`);
  const init = (s.initCommands ?? []).map(at);
  if (s.poll === true) {
    // Polling: the poller's id (+FCIG / +FPI), receive capability, ask to poll. Received
    // data first bit on top, as the getty receives (+FBOR=0 / +FBO=1).
    const rx = [...init, ...sendSetupCommands(cls, { ...s, poll: false, initCommands: [] })];
    const poll = cls === '2.0' ? [`AT+FPI=${quoteId(s.faxId)}`, 'AT+FCR=1', 'AT+FSP=1'] : [`AT+FCIG=${quoteId(s.faxId)}`, 'AT+FCR=1', 'AT+FSPL=1'];
    return [...(cls === '2.0' && !sending ? rx.map((c) => (c === 'AT+FBO=0' ? 'AT+FBO=1' : c)) : rx), ...poll];
  }
  const extra = s.extraCommands.map(at);
  // +FBOR=0 / +FBO=0: direct order, bit 0 of each byte first on the line; the page data is
  // mirrored byte by byte on the way out, as real sendfax does (docs/fax-spec.md, bit order).
  if (cls === '2.0') return [...init, 'AT+FCLASS=2.0', `AT+FLI=${quoteId(s.faxId)}`, `AT+FCC=${caps}`, 'AT+FBO=0', ...extra];
  return [...init, 'AT+FCLASS=2', `AT+FLID=${quoteId(s.faxId)}`, `AT+FDCC=${caps}`, 'AT+FBOR=0', ...extra];
}

/** What went out on the line for a page: mirrored bits (unless `asIs`), DLE doubled, DLE ETX. */
export function pageBytes(page: SendPage, asIs = false): Uint8Array {
  return stuffPage(asIs ? page.data : reverseBits(page.data));
}

/**
 * The FaxSender in a call we answered and a caller polls (fax-server-file): the class is
 * known, the modem is in the call, the first command is AT+FDT. `asIs`: the modem's bit
 * order already puts a G3 file's first bit on top (class 2.0 after the getty's +FBO=1).
 */
export interface AnsweredPoll {
  cls: FaxClass;
  asIs: boolean;
}

export class FaxSender {
  private state: State;
  private readonly lines = new LineSplitter();
  private cls: FaxClass | undefined;
  private setup: string[] = [];
  private probeReply: string | undefined;
  private pageIndex = 0;
  private tries = 0;
  private status: number | undefined;
  private connected = false;
  /** The far end said it has a document for us (+FPOLL / +FPO). */
  private pollable = false;
  private readonly result: SendResult;

  constructor(
    private readonly settings: SendSettings,
    private readonly pages: readonly SendPage[],
    private readonly limits: SendLimits = DEFAULT_SEND_LIMITS,
    private readonly answered?: AnsweredPoll,
  ) {
    this.cls = answered !== undefined ? answered.cls : settings.modemType === 'auto' ? undefined : settings.modemType === 'c2.0' ? '2.0' : '2';
    this.state = this.cls === undefined ? 'probe' : 'setup';
    this.result = { end: 'complete', exitCode: 0, cls: this.cls, remoteId: '', remoteCaps: undefined, params: undefined, hangupCode: undefined, pages: [], bytes: 0, reason: '' };
  }

  get done(): boolean {
    return this.state === 'done';
  }

  /** The first command (the class probe or the first set-up command). */
  start(): SendCommand[] {
    if (this.answered !== undefined) {
      this.result.cls = this.cls;
      this.connected = true;
      if (this.pages.length === 0) return this.fail('page-failed', SEND_EXIT.page, 'no document to send to the poller');
      return this.fdt();
    }
    if (this.state === 'probe') return this.command('AT+FCLASS=?', this.limits.commandMs);
    return this.beginSetup();
  }

  feed(chunk: Uint8Array): SendCommand[] {
    const out: SendCommand[] = [];
    for (let i = 0; i < chunk.length && this.state !== 'done'; i++) {
      const b = chunk[i] ?? 0;
      if (this.state === 'go' && (b === XON || b === DC2)) {
        out.push(...this.sendPage());
        continue;
      }
      // Flow control and DC2 between results carry no text.
      if (b === XON || b === DC2 || b === 0x13) continue;
      const line = this.lines.push(b);
      if (line !== undefined) out.push(...this.onLine(line.text));
    }
    return out;
  }

  timeout(): SendCommand[] {
    switch (this.state) {
      case 'done':
        return [];
      case 'cleanup':
        return this.nextCleanup();
      case 'go':
        // Class 2.0 modems need not say DC2 (real sendfax never waits for it): send anyway.
        if (this.cls === '2.0') return [{ type: 'log', level: 'noise', text: 'no DC2 from the modem: sending the page anyway' }, ...this.sendPage()];
        return this.fail('no-xon', SEND_EXIT.xon, 'waiting for XON failed');
      case 'probe':
      case 'setup':
        return this.fail('init-failed', SEND_EXIT.init, `the modem did not answer ${this.lastCommand}`);
      case 'dial':
        return this.fail('timeout', SEND_EXIT.dial, 'no fax connection after the dial');
      default:
        return this.fail('timeout', this.connectedCode(), `time-out in ${this.state === 'data' ? 'the page data' : `the wait after ${this.lastCommand}`}`);
    }
  }

  carrierLost(): SendCommand[] {
    if (this.state === 'done') return [];
    // The line is gone: nothing more can be said to the modem.
    if (this.state === 'cleanup') return this.nextCleanup(true);
    return this.fail('carrier-lost', this.connectedCode(), 'the modem dropped carrier');
  }

  /** A termination signal (sendfax: exit 15). The modem is still hung up and put back. */
  abort(why: string): SendCommand[] {
    if (this.state === 'done' || this.state === 'cleanup') return [];
    return this.fail('aborted', SEND_EXIT.catastrophe, why);
  }

  private lastCommand = '';
  private cleanupQueue: string[] = [];

  private command(cmd: string, ms: number): SendCommand[] {
    this.lastCommand = cmd;
    return [{ type: 'send', bytes: ascii(`${cmd}\r`) }, { type: 'timer', ms }];
  }

  private connectedCode(): number {
    return this.connected ? SEND_EXIT.page : SEND_EXIT.dial;
  }

  private beginSetup(): SendCommand[] {
    if (this.cls === undefined) return this.fail('init-failed', SEND_EXIT.init, `no class 2/2.0 fax modem (AT+FCLASS=? said '${this.probeReply ?? ''}')`);
    this.result.cls = this.cls;
    this.state = 'setup';
    this.setup = sendSetupCommands(this.cls, this.settings, this.pages.length > 0);
    return this.nextSetup();
  }

  private nextSetup(): SendCommand[] {
    const next = this.setup.shift();
    if (next !== undefined) return this.command(next, this.limits.commandMs);
    this.state = 'dial';
    return this.command(`${this.settings.dialPrefix}${this.settings.phone}`, this.limits.dialMs);
  }

  private onLine(text: string): SendCommand[] {
    // The modem's echo of our command is no answer.
    if (this.lastCommand !== '' && text.toUpperCase() === this.lastCommand.toUpperCase()) return [];
    const r = parseFaxResponse(text);
    if (this.state === 'cleanup') return r.kind === 'ok' || r.kind === 'error' || r.kind === 'no-carrier' ? this.nextCleanup() : [];
    switch (r.kind) {
      case 'fax-connect':
        this.connected = true;
        return [{ type: 'log', level: 'mesg', text: 'fax connection' }];
      case 'remote-id':
        this.result.remoteId = r.id;
        return [{ type: 'log', level: 'mesg', text: `remote id '${r.id}'` }];
      case 'params':
        if (r.negotiated) this.result.params = r.params;
        else this.result.remoteCaps = r.params;
        return [];
      case 'page-status':
        this.status = r.status;
        return [];
      case 'poll':
        this.pollable = true;
        return [{ type: 'log', level: 'mesg', text: 'the far end has a document to poll' }];
      case 'hangup':
        this.result.hangupCode = r.code;
        return this.state === 'fet' ? [] : this.onHangup(r.code);
      case 'ok':
        return this.onOk();
      case 'connect':
        return this.onConnect();
      case 'error':
      case 'no-carrier':
        return this.onFailure(text.toUpperCase());
      case 'other':
        return this.onOther(text);
      default:
        return [];
    }
  }

  private onOther(text: string): SendCommand[] {
    const u = text.toUpperCase();
    if (this.state === 'probe' && /\d/.test(text)) {
      this.probeReply = text;
      return [];
    }
    if (u === 'BUSY') return this.fail('busy', SEND_EXIT.busy, 'dial failed: BUSY');
    if (u === 'NO DIALTONE' || u === 'NO DIAL TONE') return this.fail('no-dialtone', SEND_EXIT.noDialtone, 'dial failed: NO DIALTONE');
    if (u === 'NO ANSWER') return this.fail('no-answer', SEND_EXIT.dial, 'dial failed: NO ANSWER');
    return [];
  }

  private onHangup(code: number): SendCommand[] {
    // +FHNG before the fax connection (or in it, before OK): the call is over.
    const why = `the modem hung up (+FHNG:${code})`;
    // In the dial (phase B: the answerer cannot receive, training failed) it is a failed handshake.
    if (this.state === 'dial') return this.fail('dial-error', SEND_EXIT.dial, why);
    return this.fail('page-failed', this.connectedCode(), why);
  }

  private onFailure(what: string): SendCommand[] {
    switch (this.state) {
      case 'probe':
        this.probeReply = what;
        return this.fail('init-failed', SEND_EXIT.init, `no class 2/2.0 fax modem (AT+FCLASS=? said ${what})`);
      case 'setup':
        return this.fail('init-failed', SEND_EXIT.init, `the modem said ${what} to ${this.lastCommand}`);
      case 'dial':
        if (this.result.hangupCode !== undefined) return this.fail('dial-error', SEND_EXIT.dial, `the modem hung up (+FHNG:${this.result.hangupCode})`);
        return this.fail(what === 'ERROR' ? 'dial-error' : 'no-carrier', SEND_EXIT.dial, `dial failed: ${what}`);
      default:
        return this.fail('page-failed', this.connectedCode(), `${what} after ${this.lastCommand}`);
    }
  }

  private onOk(): SendCommand[] {
    switch (this.state) {
      case 'probe':
        this.cls = chooseClass(this.settings.modemType, this.probeReply);
        return this.beginSetup();
      case 'setup':
        return this.nextSetup();
      case 'dial':
        if (!this.connected) return this.fail('dial-error', SEND_EXIT.dial, 'dial: OK without a fax connection');
        if (this.pages.length === 0 && this.settings.poll === true) return this.pollNow();
        return this.fdt();
      case 'data':
        return this.fet();
      case 'fet':
        return this.afterPage();
      case 'turn':
        return this.inCallForPoll();
      default:
        return [];
    }
  }

  private fdt(): SendCommand[] {
    this.state = 'fdt';
    this.tries++;
    return this.command('AT+FDT', this.limits.fdtMs);
  }

  private onConnect(): SendCommand[] {
    if (this.state !== 'fdt') return [];
    this.state = 'go';
    return [{ type: 'timer', ms: this.limits.xonMs }];
  }

  private sendPage(): SendCommand[] {
    const page = this.pages[this.pageIndex];
    if (page === undefined) return this.fail('page-failed', SEND_EXIT.page, 'internal: no page to send');
    const bytes = pageBytes(page, this.answered?.asIs === true);
    this.state = 'data';
    this.lastCommand = '';
    this.result.bytes += bytes.length;
    const bps = BIT_RATES[this.result.params?.br ?? 0] ?? 2400;
    const ms = Math.ceil((bytes.length * 8 * 1000) / bps) + this.limits.pageSlackMs;
    return [
      { type: 'log', level: 'mesg', text: `sending page ${this.pageIndex + 1} of ${this.pages.length}${this.tries > 1 ? ` (try ${this.tries})` : ''}: ${bytes.length} bytes` },
      { type: 'send', bytes },
      { type: 'timer', ms },
    ];
  }

  private get lastPage(): boolean {
    return this.pageIndex === this.pages.length - 1;
  }

  /** Polling asked for and the far end has a document: the call turns round after the pages. */
  private get turnsRound(): boolean {
    return this.settings.poll === true && this.pollable;
  }

  private fet(): SendCommand[] {
    this.state = 'fet';
    this.status = undefined;
    // The last page: EOP ends the call, EOM (another document) keeps it up for the poll.
    return this.command(`AT+FET=${this.lastPage ? (this.turnsRound ? 1 : 2) : 0}`, this.limits.postPageMs);
  }

  private afterPage(): SendCommand[] {
    const status = this.status ?? 1;
    const good = status === 1 || status === 3;
    const hungUp = this.result.hangupCode !== undefined;
    const out: SendCommand[] = [];
    if (!good) {
      out.push({ type: 'log', level: 'warn', text: `page ${this.pageIndex + 1} reported bad (+FPTS:${status}), try ${this.tries} of ${this.settings.maxTries}` });
      if (this.tries < this.settings.maxTries && !hungUp) return [...out, ...this.fdt()];
      if (this.settings.maxTries > 0 && !this.settings.maxTriesContinue) {
        return [...out, ...this.fail('page-failed', SEND_EXIT.page, `page ${this.pageIndex + 1} still bad after ${this.tries} tries`)];
      }
    }
    const page: SentPage = { index: this.pageIndex + 1, status, tries: this.tries };
    this.result.pages.push(page);
    out.push({ type: 'page', page });
    if (this.lastPage && this.turnsRound) return [...out, ...this.afterLastPageEom()];
    if (hungUp && (this.result.hangupCode !== 0 || !this.lastPage)) {
      return [...out, ...this.fail('page-failed', SEND_EXIT.page, `the modem hung up (+FHNG:${this.result.hangupCode})`)];
    }
    if (this.lastPage && this.settings.poll === true) return [...out, ...this.finish('no-document', SEND_EXIT.ok, 'all pages sent; the far end has no document to poll')];
    if (this.lastPage) return [...out, ...this.finish('complete', SEND_EXIT.ok, 'all pages sent')];
    this.pageIndex++;
    this.tries = 0;
    return [...out, ...this.fdt()];
  }

  /** The pages are through, the last with EOM: on to the poll, class 2.0 after +FBO=1. */
  private afterLastPageEom(): SendCommand[] {
    // A hang-up code here: the far end ended the call after all (the pages count as sent).
    if (this.result.hangupCode !== undefined) return this.fail('page-failed', SEND_EXIT.page, `the modem hung up after the last page (+FHNG:${this.result.hangupCode}): nothing polled`);
    if (this.cls !== '2.0') return this.inCallForPoll();
    // Class 2.0 modems give received data bit 0 first after +FBO=0: the getty stores first bit on top.
    this.state = 'turn';
    return this.command('AT+FBO=1', this.limits.commandMs);
  }

  /** The dial is through and we poll: the caller receives, or there is nothing to get. */
  private pollNow(): SendCommand[] {
    if (!this.pollable) return this.finish('no-document', SEND_EXIT.ok, 'the far end has no document to poll');
    return this.inCallForPoll();
  }

  private inCallForPoll(): SendCommand[] {
    this.result.end = 'pollable';
    this.result.exitCode = SEND_EXIT.ok;
    this.result.reason = 'polling';
    this.state = 'done';
    // The modem stays in the call: the receiver takes over, ModemCleanup puts it back after.
    return [{ type: 'done', result: this.result }];
  }

  private fail(end: SendEnd, code: number, reason: string): SendCommand[] {
    return this.finish(end, code, reason);
  }

  /** The result is known; put the modem back (ATH0 after a failure, AT+FCLASS=0), then done. */
  private finish(end: SendEnd, code: number, reason: string): SendCommand[] {
    this.result.end = end;
    this.result.exitCode = code;
    this.result.reason = reason;
    const log: SendCommand = { type: 'log', level: code === 0 ? 'mesg' : 'warn', text: reason };
    const reset = this.settings.resetAfterFail;
    const dialFailed = code === SEND_EXIT.busy || code === SEND_EXIT.noDialtone || code === SEND_EXIT.dial;
    // After EOP (all pages sent) the modem has hung up itself; otherwise the call may be up.
    const ended = end === 'complete' || end === 'init-failed' || (end === 'no-document' && this.pages.length > 0);
    this.cleanupQueue = ended ? ['AT+FCLASS=0'] : ['ATH0', ...(dialFailed && reset !== undefined && reset !== '' ? [/^AT/i.test(reset) ? reset : `AT${reset}`] : []), 'AT+FCLASS=0'];
    this.state = 'cleanup';
    return [log, ...this.nextCleanup()];
  }

  private nextCleanup(lineGone = false): SendCommand[] {
    if (lineGone) this.cleanupQueue = [];
    const next = this.cleanupQueue.shift();
    if (next !== undefined) return this.command(next, this.limits.commandMs);
    this.state = 'done';
    return [{ type: 'done', result: this.result }];
  }
}

/**
 * Put the modem back after a poll (the receiver is done): each command waits for OK,
 * ERROR, NO CARRIER or its time-out, then the next; a line that is gone ends it.
 */
export class ModemCleanup {
  private readonly lines = new LineSplitter();
  private last = '';

  constructor(
    private readonly queue: string[],
    private readonly commandMs = DEFAULT_SEND_LIMITS.commandMs,
  ) {}

  start(): CleanupCommand[] {
    return this.next();
  }

  feed(chunk: Uint8Array): CleanupCommand[] {
    const out: CleanupCommand[] = [];
    for (const b of chunk) {
      const line = this.lines.push(b);
      if (line === undefined || line.text.toUpperCase() === this.last.toUpperCase()) continue;
      const k = parseFaxResponse(line.text).kind;
      if (k === 'ok' || k === 'error' || k === 'no-carrier') out.push(...this.next());
    }
    return out;
  }

  timeout(): CleanupCommand[] {
    return this.next();
  }

  carrierLost(): CleanupCommand[] {
    this.queue.length = 0;
    return this.next();
  }

  private next(): CleanupCommand[] {
    const c = this.queue.shift();
    if (c === undefined) return [{ type: 'done', result: undefined }];
    this.last = c;
    return [{ type: 'send', bytes: ascii(`${c}\r`) }, { type: 'timer', ms: this.commandMs }];
  }
}

export type CleanupCommand = { type: 'send'; bytes: Uint8Array } | { type: 'timer'; ms: number } | { type: 'done'; result: undefined };
