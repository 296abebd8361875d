/**
 * When a line fails (its modem does not answer, the device cannot be opened, ...), the
 * daemon tries again with a growing delay; like init's respawn limit, a line that fails
 * `maxFailures` times within `windowMs` rests for `restMs` with a clear log line instead
 * of filling the logs. Pure: time is an argument.
 */

export interface RestartPolicyConfig {
  /** First retry delay; doubles per consecutive failure. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  maxFailures: number;
  windowMs: number;
  restMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyConfig = {
  backoffBaseMs: 1_000,
  backoffMaxMs: 60_000,
  maxFailures: 10,
  windowMs: 120_000,
  restMs: 300_000,
};

export interface RestartDecision {
  delayMs: number;
  /** True when the failure limit was hit: the line rests for restMs. */
  resting: boolean;
  /** Failures in the current window, this one included. */
  failuresInWindow: number;
}

export class RestartPolicy {
  private failures: number[] = [];
  private consecutive = 0;

  constructor(private readonly cfg: RestartPolicyConfig = DEFAULT_RESTART_POLICY) {}

  /** A failure at time `now` (ms): how long to wait before the next try. */
  onFailure(now: number): RestartDecision {
    this.failures = this.failures.filter((t) => now - t < this.cfg.windowMs);
    this.failures.push(now);
    this.consecutive++;
    const n = this.failures.length;
    if (n >= this.cfg.maxFailures) {
      this.failures = [];
      this.consecutive = 0;
      return { delayMs: this.cfg.restMs, resting: true, failuresInWindow: n };
    }
    const delay = Math.min(this.cfg.backoffMaxMs, this.cfg.backoffBaseMs * 2 ** (this.consecutive - 1));
    return { delayMs: delay, resting: false, failuresInWindow: n };
  }

  /** The line worked (a call went through, or the modem initialised and idled): back off from zero. */
  onSuccess(): void {
    this.consecutive = 0;
  }
}
