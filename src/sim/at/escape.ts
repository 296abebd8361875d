/**
 * The `+++` escape detector: guard time (S12, 1/50 s), three escape characters (S2) no
 * more than a guard time apart, then a guard time of silence. Anything after the third
 * character inside that last guard time cancels the escape.
 */
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Profile } from './profile.js';

export class EscapeDetector {
  private lastByteAt = Number.NEGATIVE_INFINITY;
  private plusCount = 0;
  private lastPlusAt = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly profile: () => Profile,
    /** The guard time after the third character passed: the escape is complete. */
    private readonly onEscape: () => void,
  ) {}

  /** Every DTE byte passes here (in any mode): returns the time since the byte before. */
  tick(now: number): number {
    const gap = now - this.lastByteAt;
    this.lastByteAt = now;
    return gap;
  }

  /** A data-mode byte, `gap` ms after the one before. */
  scan(b: number, now: number, gap: number): void {
    const p = this.profile();
    const esc = p.s[2] ?? 43;
    const guard = (p.s[12] ?? 50) * 20;
    if (esc > 127) return;
    if (this.timer !== undefined) this.cancel();
    if (b !== esc) {
      this.plusCount = 0;
      return;
    }
    if (this.plusCount === 0) {
      if (gap < guard) return;
      this.plusCount = 1;
    } else if (now - this.lastPlusAt <= guard) {
      this.plusCount++;
    } else {
      this.plusCount = 0;
      return;
    }
    this.lastPlusAt = now;
    if (this.plusCount === 3) {
      this.timer = this.clock.setTimeout(() => {
        this.timer = undefined;
        this.plusCount = 0;
        this.onEscape();
      }, guard);
    }
  }

  /**
   * Data-mode bytes that came together at `now` (one read): the first after its gap, the
   * rest at no gap. Past the first byte nothing can start an escape (no guard time before
   * it), so the scan stops as soon as no escape is under way: O(1) for a chunk of data.
   */
  scanRun(bytes: Uint8Array, now: number): void {
    for (const b of bytes) {
      this.scan(b, now, this.tick(now));
      if (this.plusCount === 0 && this.timer === undefined) break;
    }
    this.lastByteAt = now;
  }

  /** Data mode begins now: the guard time counts from here. */
  reset(now: number): void {
    this.plusCount = 0;
    this.lastByteAt = now;
  }

  cancel(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.plusCount = 0;
  }
}
