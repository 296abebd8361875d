/**
 * A byte stream you can wait on: tests say `await x.waitFor(/ATA\r/, 2000)` instead of
 * sleeping. Each successful wait moves a cursor past the match, like expect(1), so the
 * same text is not matched twice.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { showBytes } from '../core/bytes.js';
import { TgettyError } from '../core/errors.js';

interface Waiter {
  re: RegExp;
  resolve: (m: RegExpExecArray) => void;
  reject: (e: Error) => void;
  timer: TimerHandle | undefined;
}

export class ExpectBuffer {
  /** Everything seen so far, one char per byte (latin1), up to the chunks not yet converted. */
  private text = '';
  /**
   * Bytes after `text`, not yet converted: while nobody waits, a data call's megabytes are
   * only kept (the newest `limit` of them), not turned into strings chunk by chunk (that was
   * a tenth of the bank's CPU per MB). Converted when a wait or a read of the text needs them.
   */
  private chunks: Uint8Array[] = [];
  private chunkBytes = 0;
  private cursor = 0;
  private waiters: Waiter[] = [];
  private closedReason: string | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly what: string,
    /** Keep at least the last this many chars, at most twice as many (older text is dropped; the cursor follows). */
    private readonly limit = 1 << 20,
  ) {}

  get all(): string {
    this.convert();
    return this.text;
  }

  /** Text after the cursor (not yet consumed by a wait). */
  get pending(): string {
    this.convert();
    return this.text.slice(this.cursor);
  }

  push(bytes: Uint8Array | string): void {
    if (typeof bytes === 'string') {
      this.convert();
      this.text += bytes;
      this.trim();
    } else {
      this.chunks.push(bytes);
      this.chunkBytes += bytes.length;
      if (this.waiters.length === 0) {
        if (this.chunkBytes > 2 * this.limit) this.dropOld();
        return;
      }
      this.convert();
    }
    this.check();
  }

  /** The chunks into the text. */
  private convert(): void {
    if (this.chunks.length === 0) return;
    const b = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
    this.text += Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
    this.chunks = [];
    this.chunkBytes = 0;
    this.trim();
  }

  /**
   * Trimmed only past twice the limit, down to the limit: a data call of many MB must not
   * copy the whole megabyte on every chunk (it did, and was the bank's bottleneck).
   */
  private trim(): void {
    if (this.text.length > 2 * this.limit) {
      const cut = this.text.length - this.limit;
      this.text = this.text.slice(cut);
      this.cursor = Math.max(0, this.cursor - cut);
    }
  }

  /** Nobody waits and the chunks alone pass twice the limit: keep the newest `limit` bytes or more; older text goes. */
  private dropOld(): void {
    let k = 0;
    let left = this.chunkBytes;
    while (k < this.chunks.length - 1 && left - (this.chunks[k]?.length ?? 0) >= this.limit) left -= this.chunks[k++]?.length ?? 0;
    this.chunks = this.chunks.slice(k);
    this.chunkBytes = left;
    this.text = '';
    this.cursor = 0;
  }

  /** No more data will come: pending and later waits fail at once. */
  close(reason: string): void {
    this.closedReason = reason;
    for (const w of this.waiters.splice(0)) {
      w.timer?.cancel();
      w.reject(this.error(w.re, reason));
    }
  }

  /** Wait until `re` matches the text after the cursor; resolves with the match. */
  waitFor(re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
    this.convert();
    return new Promise((resolve, reject) => {
      const w: Waiter = { re: new RegExp(re.source, re.flags.replace('g', '')), resolve, reject, timer: undefined };
      if (this.tryMatch(w)) return;
      if (this.closedReason !== undefined) {
        reject(this.error(re, this.closedReason));
        return;
      }
      w.timer = this.clock.setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(this.error(re, `timeout after ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  private error(re: RegExp, why: string): TgettyError {
    const tail = this.pending.slice(-300);
    return new TgettyError('SIM_FAILED', `${this.what}: ${re.source} not seen (${why}); pending: ${showBytes(tail)}`, {
      input: tail,
    });
  }

  private tryMatch(w: Waiter): boolean {
    const m = w.re.exec(this.text.slice(this.cursor));
    if (m === null) return false;
    this.cursor += m.index + m[0].length;
    w.timer?.cancel();
    w.resolve(m);
    return true;
  }

  private check(): void {
    // Resolve in order; each match moves the cursor for the next waiter.
    for (const w of [...this.waiters]) {
      if (this.tryMatch(w)) this.waiters = this.waiters.filter((x) => x !== w);
    }
  }
}
