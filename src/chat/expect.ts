/**
 * The incremental EXPECT matcher of a chat script (spec §6.2). Pure: the runner arms
 * the timeout and calls `timeout()`.
 *
 * After every byte: if the bytes received since this expect began END WITH the expect
 * string, it is found; otherwise if they end with an abort string, the chat fails with
 * that abort's action. Plain byte comparison, no line anchoring: the modem's echo is
 * just part of the stream, and an abort string anywhere aborts (Q23: `FAX` inside any
 * line during answer-chat means fax).
 *
 * Complete lines are also collected (CR/LF) so the runner can hand them to the
 * caller-ID parser, as mgetty does during chats. The line splitter may be shared by the
 * expects of one chat, so a line that spans two expects (`CONNECT` | ` 33600/ARQ` LF)
 * is still seen whole.
 */
import type { ModemLine } from '../modem/lines.js';
import { LineSplitter } from '../modem/lines.js';

export interface AbortRule<A> {
  text: string;
  action: A;
}

export type ExpectState<A> =
  | { status: 'pending' }
  | { status: 'found' }
  | { status: 'abort'; action: A; text: string }
  | { status: 'timeout' };

export interface ExpectFeed<A> {
  state: ExpectState<A>;
  /** Lines completed by the bytes this call consumed. */
  lines: ModemLine[];
  /** Bytes of the chunk after the match (not consumed; they belong to the next reader). */
  rest: Uint8Array;
}

/** mgetty's receive buffer; when full the older half is dropped. */
export const EXPECT_BUFFER_BYTES = 500;

export class ExpectMatcher<A> {
  private buf = '';
  private st: ExpectState<A>;

  constructor(
    readonly expect: string,
    private readonly aborts: readonly AbortRule<A>[] = [],
    readonly lines: LineSplitter = new LineSplitter(),
  ) {
    // An empty expect means "do not wait".
    this.st = expect === '' ? { status: 'found' } : { status: 'pending' };
  }

  get state(): ExpectState<A> {
    return this.st;
  }

  feed(chunk: Uint8Array): ExpectFeed<A> {
    const lines: ModemLine[] = [];
    if (this.st.status !== 'pending') return { state: this.st, lines, rest: chunk };
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] ?? 0;
      const line = this.lines.push(b);
      if (line !== undefined) lines.push(line);
      this.buf += String.fromCharCode(b);
      if (this.buf.length >= EXPECT_BUFFER_BYTES) this.buf = this.buf.slice(EXPECT_BUFFER_BYTES / 2);
      const st = this.match();
      if (st !== undefined) {
        this.st = st;
        return { state: st, lines, rest: chunk.subarray(i + 1) };
      }
    }
    return { state: this.st, lines, rest: chunk.subarray(chunk.length) };
  }

  /** The runner's timer for this expect ran out. No effect once finished. */
  timeout(): ExpectState<A> {
    if (this.st.status === 'pending') this.st = { status: 'timeout' };
    return this.st;
  }

  /** SIGUSR1 is a virtual RING: an expect for `RING…` counts as found. */
  virtualRing(): ExpectState<A> {
    if (this.st.status === 'pending' && this.expect.startsWith('RING')) this.st = { status: 'found' };
    return this.st;
  }

  /** Bytes currently kept for matching (bounded by EXPECT_BUFFER_BYTES). */
  get buffered(): number {
    return this.buf.length;
  }

  private match(): ExpectState<A> | undefined {
    if (this.buf.endsWith(this.expect)) return { status: 'found' };
    for (const a of this.aborts) {
      if (a.text !== '' && this.buf.endsWith(a.text)) return { status: 'abort', action: a.action, text: a.text };
    }
    return undefined;
  }
}
