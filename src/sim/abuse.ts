/**
 * Abuse controls for telnet lines exposed to strangers: a cool-down per caller address
 * after its call ends, a cap on accepted calls per minute (all callers, and per
 * address; sliding 60 s windows), and busy-out (every caller gets BUSY). Pure: the clock
 * is injected, the bank does the I/O. Memory is bounded whatever callers do: timestamps
 * are kept only up to the cap, and at most `maxTracked` addresses are remembered.
 */
import type { Clock } from '../core/clock.js';

export interface AbuseOptions {
  /** Seconds an address must wait after its call ended before it may call again; 0 = off. */
  cooldownS?: number;
  /** Calls accepted per minute from all callers together; 0 or undefined = no cap. */
  maxCallsPerMinute?: number;
  /** Calls accepted per minute from one address; 0 or undefined = no cap. */
  maxCallsPerMinutePerAddress?: number;
  /** Start in busy-out. */
  busyOut?: boolean;
  /** Most addresses remembered for cool-down and per-address caps (default 4096). */
  maxTracked?: number;
}

export type RefusalReason = 'busy-out' | 'cooldown' | 'rate' | 'rate-address';

export interface Refusal {
  reason: RefusalReason;
  /** Seconds until a new call from this address could be accepted (0 for busy-out). */
  waitS: number;
  /** What the caller is told before the connection is closed. */
  message: string;
  /** One line for the log. */
  log: string;
}

const WINDOW_MS = 60_000;
export const DEFAULT_MAX_TRACKED = 4096;

interface Tracked {
  /** Monotonic ms until which the address is cooling down (0 = not). */
  coolUntil: number;
  /** Monotonic ms of accepted calls within the last minute, oldest first (at most the per-address cap). */
  accepted: number[];
}

/** `::ffff:1.2.3.4` (IPv4 on a dual-stack socket) and `1.2.3.4` are the same caller. */
export function normaliseAddress(address: string | undefined): string {
  if (address === undefined || address === '') return '?';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function checkCount(name: string, v: number | undefined): number {
  if (v === undefined) return 0;
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`${name} must be a number >= 0, got ${v}`);
  return v;
}

export class AbusePolicy {
  private readonly cooldownMs: number;
  private readonly maxGlobal: number;
  private readonly maxPerAddress: number;
  private readonly maxTracked: number;
  private busy: boolean;
  /** Accepted calls of the last minute, all callers (at most maxGlobal entries). */
  private readonly global: number[] = [];
  /** Insertion order = least recently touched first (re-inserted on every touch). */
  private readonly byAddress = new Map<string, Tracked>();

  constructor(
    opts: AbuseOptions,
    private readonly clock: Pick<Clock, 'monotonic'>,
  ) {
    this.cooldownMs = checkCount('cooldownS', opts.cooldownS) * 1000;
    this.maxGlobal = Math.floor(checkCount('maxCallsPerMinute', opts.maxCallsPerMinute));
    this.maxPerAddress = Math.floor(checkCount('maxCallsPerMinutePerAddress', opts.maxCallsPerMinutePerAddress));
    this.maxTracked = Math.max(1, Math.floor(opts.maxTracked ?? DEFAULT_MAX_TRACKED));
    this.busy = opts.busyOut === true;
  }

  get busiedOut(): boolean {
    return this.busy;
  }

  busyOut(on: boolean): void {
    this.busy = on;
  }

  /** Number of addresses remembered (for tests of the memory bound). */
  get tracked(): number {
    return this.byAddress.size;
  }

  /** Should a new connection from `address` be refused? Pure query: nothing is recorded. */
  check(address: string | undefined): Refusal | undefined {
    const addr = normaliseAddress(address);
    if (this.busy) return { reason: 'busy-out', waitS: 0, message: 'BUSY\r\n', log: `busy-out: refused caller ${addr}` };
    const now = this.clock.monotonic();
    const t = this.byAddress.get(addr);
    if (t !== undefined && t.coolUntil > now) {
      const waitS = Math.ceil((t.coolUntil - now) / 1000);
      return { reason: 'cooldown', waitS, message: `please wait ${waitS} s\r\n`, log: `cool-down: refused caller ${addr} (${waitS} s left)` };
    }
    if (this.maxPerAddress > 0 && t !== undefined) {
      prune(t.accepted, now);
      if (t.accepted.length >= this.maxPerAddress) {
        const waitS = Math.max(1, Math.ceil(((t.accepted[0] ?? now) + WINDOW_MS - now) / 1000));
        return {
          reason: 'rate-address', waitS, message: `please wait ${waitS} s\r\n`,
          log: `rate limit: refused caller ${addr} (${this.maxPerAddress} calls per minute from one address)`,
        };
      }
    }
    if (this.maxGlobal > 0) {
      prune(this.global, now);
      if (this.global.length >= this.maxGlobal) {
        const waitS = Math.max(1, Math.ceil(((this.global[0] ?? now) + WINDOW_MS - now) / 1000));
        return {
          reason: 'rate', waitS, message: `please wait ${waitS} s\r\n`,
          log: `rate limit: refused caller ${addr} (${this.maxGlobal} calls per minute in all)`,
        };
      }
    }
    return undefined;
  }

  /** A call from `address` was accepted (it got a line): count it. */
  accepted(address: string | undefined): void {
    const now = this.clock.monotonic();
    if (this.maxGlobal > 0) {
      prune(this.global, now);
      this.global.push(now);
      // Only the newest maxGlobal entries can ever decide a refusal.
      if (this.global.length > this.maxGlobal) this.global.splice(0, this.global.length - this.maxGlobal);
    }
    if (this.maxPerAddress > 0) {
      const t = this.touch(normaliseAddress(address), now);
      prune(t.accepted, now);
      t.accepted.push(now);
      if (t.accepted.length > this.maxPerAddress) t.accepted.splice(0, t.accepted.length - this.maxPerAddress);
    }
  }

  /** The call from `address` ended (either side hung up): its cool-down starts now. */
  ended(address: string | undefined): void {
    if (this.cooldownMs <= 0) return;
    const now = this.clock.monotonic();
    this.touch(normaliseAddress(address), now).coolUntil = now + this.cooldownMs;
  }

  /** The entry of an address, moved to the young end; the oldest are dropped past maxTracked. */
  private touch(addr: string, now: number): Tracked {
    const t = this.byAddress.get(addr) ?? { coolUntil: 0, accepted: [] };
    this.byAddress.delete(addr);
    this.byAddress.set(addr, t);
    if (this.byAddress.size > this.maxTracked) {
      // Drop idle entries first; if every entry is live, the least recently touched go.
      for (const [k, v] of this.byAddress) {
        if (this.byAddress.size <= this.maxTracked) break;
        prune(v.accepted, now);
        if (k !== addr && v.coolUntil <= now && v.accepted.length === 0) this.byAddress.delete(k);
      }
      for (const k of this.byAddress.keys()) {
        if (this.byAddress.size <= this.maxTracked) break;
        if (k !== addr) this.byAddress.delete(k);
      }
    }
    return t;
  }
}

/** Drop timestamps that left the one-minute window (the list is sorted, oldest first). */
function prune(list: number[], now: number): void {
  let n = 0;
  while (n < list.length && (list[n] ?? 0) <= now - WINDOW_MS) n++;
  if (n > 0) list.splice(0, n);
}
