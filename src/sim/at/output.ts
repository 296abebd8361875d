/**
 * The output pump: everything for the DTE (echo, results, data) leaves through one queue,
 * so output a fault delays keeps its order. Output made while one chunk of DTE bytes is
 * handled leaves as one write (a batch), as a real modem's would in one read.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { FaultInjector, QueuedPiece } from './faults.js';

export type OutputKind = 'echo' | 'result' | 'data';

export class OutputPump {
  private readonly queue: QueuedPiece[] = [];
  private pumping: TimerHandle | undefined;
  private batch: Uint8Array[] | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly out: (bytes: Uint8Array) => void,
    private readonly faults: FaultInjector,
  ) {}

  /** Run `fn`; what it emits leaves as one write (nested calls join the outer batch). */
  batched(fn: () => void): void {
    const outer = this.batch === undefined;
    if (outer) this.batch = [];
    try {
      fn();
    } finally {
      if (outer) this.flushBatch();
    }
  }

  emit(bytes: Uint8Array, kind: OutputKind): void {
    if (kind !== 'data' && this.faults.silent) return;
    if (kind === 'result') this.queue.push(...this.faults.pieces(bytes));
    else this.queue.push({ bytes, delay: 0 });
    this.pump();
  }

  /** Drop what is queued (shutdown). */
  clear(): void {
    this.pumping?.cancel();
    this.pumping = undefined;
    this.queue.length = 0;
  }

  private flushBatch(): void {
    const b = this.batch;
    this.batch = undefined;
    if (b === undefined || b.length === 0) return;
    this.out(b.length === 1 ? (b[0] ?? new Uint8Array()) : Buffer.concat(b));
  }

  private pump(): void {
    while (this.pumping === undefined) {
      const item = this.queue[0];
      if (item === undefined) return;
      if (item.delay > 0) {
        const d = item.delay;
        item.delay = 0;
        this.pumping = this.clock.setTimeout(() => {
          this.pumping = undefined;
          this.pump();
        }, d);
        return;
      }
      this.queue.shift();
      if (this.batch !== undefined && item.separate !== true) this.batch.push(item.bytes);
      else {
        // A split piece must be its own write: flush what was batched before it.
        if (this.batch !== undefined) {
          const before = this.batch;
          this.batch = [];
          if (before.length > 0) this.out(Buffer.concat(before));
        }
        this.out(item.bytes);
      }
    }
  }
}
