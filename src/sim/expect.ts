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
  /** Everything seen so far, one char per byte (latin1). */
  private text = '';
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
    return this.text;
  }

  /** Text after the cursor (not yet consumed by a wait). */
  get pending(): string {
    return this.text.slice(this.cursor);
  }

  push(bytes: Uint8Array | string): void {
    this.text += typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    // Trimmed only past twice the limit, down to the limit: a data call of many MB must not
    // copy the whole megabyte on every chunk (it did, and was the bank's bottleneck).
    if (this.text.length > 2 * this.limit) {
      const cut = this.text.length - this.limit;
      this.text = this.text.slice(cut);
      this.cursor = Math.max(0, this.cursor - cut);
    }
    this.check();
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
