/**
 * A pure chat-script interpreter (spec §6.2). Elements alternate expect, send, expect,
 * send, … starting with an expect; the config layer has already split them (§6.1).
 *
 * The runner drives it:
 *   start()        -> first step
 *   send step      -> perform the ops (sleep/write), then sent()
 *   expect step    -> arm a timer of `timeoutMs`, feed(bytes) until the step changes,
 *                     or timeout() when the timer fires
 *   done / failed  -> stop; leftover() are the bytes read after the last match.
 * Each new step is a new object (with its element `index`), so "the step changed"
 * means "re-arm the timer".
 */
import type { ModemLine } from '../modem/lines.js';
import { LineSplitter } from '../modem/lines.js';
import type { AbortRule, ExpectState } from './expect.js';
import { ExpectMatcher } from './expect.js';
import type { SendDiagnostic, SendOp } from './send.js';
import { expandSend } from './send.js';

export type ChatStep<A> =
  | { kind: 'send'; index: number; element: string; ops: SendOp[]; diagnostics: SendDiagnostic[] }
  | { kind: 'expect'; index: number; text: string; timeoutMs: number }
  | { kind: 'done' }
  | { kind: 'failed'; reason: 'timeout' | 'abort'; action?: A; abortText?: string; expect: string; index: number };

export interface ChatUpdate<A> {
  step: ChatStep<A>;
  /** Complete lines seen meanwhile: the runner gives them to the caller-ID parser. */
  lines: ModemLine[];
  /**
   * Expects satisfied during this call, in order (for the log). Input kept from
   * earlier may satisfy an expect at once, so not every expect is ever the step.
   */
  found: string[];
}

export interface ChatOptions<A> {
  aborts?: readonly AbortRule<A>[];
  /** The same timeout applies to every expect of the chat. */
  timeoutMs: number;
}

/** Input fed while a send is in progress is kept for the next expect, up to this many bytes. */
const MAX_STASH = 65_536;

export class ChatScript<A = ChatAction> {
  private readonly aborts: readonly AbortRule<A>[];
  private readonly splitter = new LineSplitter();
  private idx = 0;
  private cur: ChatStep<A> | undefined;
  private matcher: ExpectMatcher<A> | undefined;
  private stash: Uint8Array = new Uint8Array(0);
  private stashDropped = 0;

  constructor(
    readonly elements: readonly string[],
    private readonly opts: ChatOptions<A>,
  ) {
    this.aborts = opts.aborts ?? [];
  }

  /** The current step (start() must have been called). */
  get step(): ChatStep<A> {
    if (this.cur === undefined) throw new Error('ChatScript: start() was not called');
    return this.cur;
  }

  start(): ChatUpdate<A> {
    if (this.cur !== undefined) return { step: this.cur, lines: [], found: [] };
    return this.advance();
  }

  /** The runner finished performing the current send step. */
  sent(): ChatUpdate<A> {
    if (this.cur?.kind !== 'send') return { step: this.step, lines: [], found: [] };
    this.idx++;
    return this.advance();
  }

  feed(chunk: Uint8Array): ChatUpdate<A> {
    const step = this.step;
    if (step.kind !== 'expect' || this.matcher === undefined) {
      // Not reading now: keep the bytes for the next expect (the tty would hold them).
      if (step.kind === 'send') this.keep(chunk);
      return { step, lines: [], found: [] };
    }
    const r = this.matcher.feed(chunk);
    this.keep(r.rest);
    return this.afterMatch(r.state, { step, lines: r.lines, found: [] });
  }

  timeout(): ChatUpdate<A> {
    if (this.cur?.kind !== 'expect' || this.matcher === undefined) return { step: this.step, lines: [], found: [] };
    return this.afterMatch(this.matcher.timeout(), { step: this.cur, lines: [], found: [] });
  }

  /** SIGUSR1: an expect starting with `RING` counts as found. */
  virtualRing(): ChatUpdate<A> {
    if (this.cur?.kind !== 'expect' || this.matcher === undefined) return { step: this.step, lines: [], found: [] };
    return this.afterMatch(this.matcher.virtualRing(), { step: this.cur, lines: [], found: [] });
  }

  /** Bytes received but not consumed by the chat (after its last match). */
  leftover(): Uint8Array {
    return this.stash;
  }

  /** Bytes dropped because the runner fed too much during sends. */
  get droppedBytes(): number {
    return this.stashDropped;
  }

  /** The partial line seen so far (for timeout logs). */
  get partialLine(): string {
    return this.splitter.partial;
  }

  private keep(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const all = new Uint8Array(this.stash.length + bytes.length);
    all.set(this.stash);
    all.set(bytes, this.stash.length);
    const over = all.length - MAX_STASH;
    if (over > 0) this.stashDropped += over;
    this.stash = over > 0 ? all.subarray(over) : all;
  }

  /** Act on the state of the current expect; `acc` collects lines and found expects. */
  private afterMatch(st: ExpectState<A>, acc: ChatUpdate<A>): ChatUpdate<A> {
    const step = this.step;
    const expect = step.kind === 'expect' ? step.text : '';
    switch (st.status) {
      case 'pending':
        return { ...acc, step };
      case 'found':
        acc.found.push(expect);
        this.idx++;
        return this.advance(acc);
      case 'abort':
        return this.finish({ kind: 'failed', reason: 'abort', action: st.action, abortText: st.text, expect, index: this.idx }, acc);
      case 'timeout':
        return this.finish({ kind: 'failed', reason: 'timeout', expect, index: this.idx }, acc);
    }
  }

  private finish(step: ChatStep<A>, acc: ChatUpdate<A>): ChatUpdate<A> {
    this.cur = step;
    this.matcher = undefined;
    return { ...acc, step };
  }

  /** Move to element `idx`, running through empty expects and stashed input. */
  private advance(acc: ChatUpdate<A> = { step: { kind: 'done' }, lines: [], found: [] }): ChatUpdate<A> {
    if (this.idx >= this.elements.length) return this.finish({ kind: 'done' }, acc);
    const element = this.elements[this.idx] ?? '';
    if (this.idx % 2 === 1) {
      const plan = expandSend(element);
      this.matcher = undefined;
      this.cur = { kind: 'send', index: this.idx, element, ops: plan.ops, diagnostics: plan.diagnostics };
      return { ...acc, step: this.cur };
    }
    if (element === '') {
      // an empty expect does not wait
      this.idx++;
      return this.advance(acc);
    }
    this.matcher = new ExpectMatcher<A>(element, this.aborts, this.splitter);
    this.cur = { kind: 'expect', index: this.idx, text: element, timeoutMs: this.opts.timeoutMs };
    if (this.stash.length === 0) return { ...acc, step: this.cur };
    const input = this.stash;
    this.stash = new Uint8Array(0);
    const r = this.matcher.feed(input);
    this.keep(r.rest);
    acc.lines.push(...r.lines);
    return this.afterMatch(r.state, acc);
  }
}

// ---- presets (spec §6.5) ----

/** What an abort string means: the call failed, or it is a fax. */
export type ChatAction = 'fail' | 'fax';

/** Debian's init-chat. Upstream sends `ATS0=0Q0&D3&C1` instead of the second `AT`. */
export const DEFAULT_INIT_CHAT: readonly string[] = ['', '\\dATQ0V1H0', 'OK', 'AT', 'OK'];
export const UPSTREAM_INIT_CHAT: readonly string[] = ['', '\\dATQ0V1H0', 'OK', 'ATS0=0Q0&D3&C1', 'OK'];

/**
 * force-init-chat: get a modem out of data mode. DLE ETX (ends voice/fax data),
 * a guard time, `+++`, guard time, CR, then the reset command. The 50 ms pre-send delay
 * plus `\d` put DLE ETX at +0.55 s; each `\d\d\d` is 1.5 s (observed timing).
 */
export const DEFAULT_FORCE_INIT_CHAT: readonly string[] = ['', '\\d\x10\x03\\d\\d\\d+++\\d\\d\\d\r\\dATQ0V1H0', 'OK'];

/**
 * answer-chat: the last expect is LF (not `\r` as the manual says) so the whole
 * `CONNECT …` line is read and its speed/protocol captured; `\c` sends nothing.
 */
export const DEFAULT_ANSWER_CHAT: readonly string[] = ['', 'ATA', 'CONNECT', '\\c', '\n'];

export const INIT_ABORTS: readonly AbortRule<ChatAction>[] = [
  { text: 'ERROR', action: 'fail' },
  { text: 'BUSY', action: 'fail' },
  { text: 'NO CARRIER', action: 'fail' },
];

export const ANSWER_ABORTS: readonly AbortRule<ChatAction>[] = [
  { text: 'NO CARRIER', action: 'fail' },
  { text: 'BUSY', action: 'fail' },
  { text: 'ERROR', action: 'fail' },
  { text: '+FHS:', action: 'fail' },
  { text: '+FHNG:', action: 'fail' },
  { text: '+FCON', action: 'fax' },
  { text: '+FCO\r', action: 'fax' },
  { text: 'FAX', action: 'fax' },
];

/** Per-expect timeouts (ms): init/force-init 20 s; answer-chat-timeout default 80 s; post-init and get-cnd 10 s. */
export const INIT_CHAT_TIMEOUT_MS = 20_000;
export const DEFAULT_ANSWER_CHAT_TIMEOUT_MS = 80_000;
export const POST_INIT_CHAT_TIMEOUT_MS = 10_000;
