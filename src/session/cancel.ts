/**
 * A small cancellation token for the runner. The runner makes one per machine transition
 * (several per call, 64 calls at once in a daemon); an AbortController costs tens of
 * microseconds to create and its listeners go through EventTarget, which showed in the
 * RING -> ATA profile. This one is a flag and a short list.
 */
export class Cancel {
  private fns: (() => void)[] = [];
  private done = false;

  get aborted(): boolean {
    return this.done;
  }

  /** Call `fn` once when cancelled (at once if already cancelled). Returns a function that forgets it. */
  onCancel(fn: () => void): () => void {
    if (this.done) {
      fn();
      return noop;
    }
    this.fns.push(fn);
    return () => {
      const i = this.fns.indexOf(fn);
      if (i >= 0) this.fns.splice(i, 1);
    };
  }

  cancel(): void {
    if (this.done) return;
    this.done = true;
    const fns = this.fns;
    this.fns = [];
    for (const fn of fns) fn();
  }
}

function noop(): void {
  // nothing to forget
}
