/**
 * Bytes read from a line but not consumed yet, plus one waiter. The runner and the login
 * phase read the line through it; parsers put back what they did not use.
 */
export class InputQueue {
  private chunks: Buffer[] = [];
  private waiter: (() => void) | undefined;

  push(b: Buffer): void {
    if (b.length === 0) return;
    this.chunks.push(b);
    this.wake();
  }

  /** Run the waiter (once) without new bytes: the line hung up, say. */
  wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  /** Put bytes back at the front (what a parser did not consume). */
  unshift(b: Uint8Array): void {
    if (b.length > 0) this.chunks.unshift(Buffer.from(b));
  }

  /** Everything pending, as one buffer, or undefined. */
  take(): Buffer | undefined {
    if (this.chunks.length === 0) return undefined;
    const all = this.chunks.length === 1 ? (this.chunks[0]) : Buffer.concat(this.chunks);
    this.chunks = [];
    return all;
  }

  clear(): number {
    const n = this.chunks.reduce((s, c) => s + c.length, 0);
    this.chunks = [];
    return n;
  }

  /** Call `fn` at the next push or wake (replaces a waiter already set). */
  onNext(fn: () => void): void {
    this.waiter = fn;
  }

  cancelWait(): void {
    this.waiter = undefined;
  }
}
