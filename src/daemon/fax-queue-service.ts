/**
 * The daemon's fax queue runner (`tgetty serve --fax-queue DIR`): faxrunqd inside the
 * getty. Every `pollMs` (and at once after a job's try) it looks for due jobs and gives
 * each one an idle fax line: the sender runs with `-l <line>` and takes the line's UUCP
 * lock like any dial-out program (cu, sendfax). The line's supervisor sees the foreign
 * lock, leaves the line alone (state `dialout`) and re-initialises the modem once the
 * lock is gone, exactly as for cu: the runner never touches the line itself. A line it
 * gave a job to is not given another until that try is over.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { toTgettyError } from '../core/errors.js';
import { DEFAULT_QUEUE_LIMITS, type QueueLimits } from '../fax/queue.js';
import { dueJobs, runJob, type QueueLog, type SenderProgram, type TryResult } from './fax-queue-runner.js';

/** How soon to look again when jobs are due but no fax line is idle. */
export const LINE_RETRY_MS = 5_000;

export interface FaxQueueServiceOptions {
  dir: string;
  sender: SenderProgram;
  senderArgs?: readonly string[];
  limits?: Partial<QueueLimits>;
  /** The sendmail-compatible program for the notices; a function: the line's mail-program, read per try (a reload changes it). */
  mailProgram?: string | ((line: string) => string | undefined);
  clock: Clock;
  log: QueueLog;
  /** The fax lines that are idle now (waiting for a call, lock free). */
  idleLines: () => string[];
  /** Default 60 s. */
  pollMs?: number;
  /** Each finished try (tests, metrics). */
  onTry?: (r: TryResult) => void;
}

export class FaxQueueService {
  private timer: TimerHandle | undefined;
  private stopped = false;
  /** job id -> the line it is being sent on. */
  private readonly inFlight = new Map<string, string>();
  private readonly running = new Set<Promise<void>>();
  private waitingForLine = false;

  constructor(private readonly o: FaxQueueServiceOptions) {}

  start(): void {
    this.o.log.mesg(`fax queue ${this.o.dir}: runner started (every ${Math.round((this.o.pollMs ?? 60_000) / 1000)} s)`);
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer?.cancel();
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.tick();
      // Due jobs but no idle line (all in calls, or still initialising): look again soon.
      this.schedule(this.waitingForLine ? Math.min(LINE_RETRY_MS, this.o.pollMs ?? 60_000) : (this.o.pollMs ?? 60_000));
    }, ms);
  }

  /** Give due jobs to idle lines now. Returns the jobs started. */
  tick(): string[] {
    if (this.stopped) return [];
    let due: string[];
    try {
      due = dueJobs(this.o.dir, this.o.clock.now()).filter((id) => !this.inFlight.has(id));
    } catch (err) {
      this.o.log.error(`fax queue ${this.o.dir}: ${toTgettyError(err).message}`);
      return [];
    }
    this.waitingForLine = false;
    if (due.length === 0) return [];
    const busy = new Set(this.inFlight.values());
    const lines = this.o.idleLines().filter((l) => !busy.has(l));
    this.waitingForLine = lines.length < due.length;
    const started: string[] = [];
    for (const id of due) {
      const line = lines.shift();
      if (line === undefined) break;
      started.push(id);
      this.inFlight.set(id, line);
      const p = this.tryJob(id, line).finally(() => {
        this.inFlight.delete(id);
        this.running.delete(p);
        // A line is free again (after its re-init): look for the next job soon.
        if (!this.stopped) this.schedule(1000);
      });
      this.running.add(p);
    }
    return started;
  }

  private mailFor(line: string): { mailProgram?: string } {
    const m = typeof this.o.mailProgram === 'function' ? this.o.mailProgram(line) : this.o.mailProgram;
    return m !== undefined ? { mailProgram: m } : {};
  }

  private async tryJob(id: string, line: string): Promise<void> {
    try {
      const r = await runJob(id, {
        dir: this.o.dir,
        sender: this.o.sender,
        ...(this.o.senderArgs !== undefined ? { senderArgs: this.o.senderArgs } : {}),
        limits: { ...DEFAULT_QUEUE_LIMITS, ...this.o.limits },
        line,
        now: () => this.o.clock.now(),
        log: this.o.log,
        ...this.mailFor(line),
      });
      if (r !== undefined) this.o.onTry?.(r);
    } catch (err) {
      this.o.log.error(`fax job ${id}: ${toTgettyError(err).message}`);
    }
  }

  /** Tries in progress now. */
  get active(): number {
    return this.running.size;
  }

  /**
   * Stop looking for jobs. A sender already running is left to finish on its own (it
   * holds the line's lock; killing it mid-page would cost a call): the daemon does not
   * wait for it, and its job is tried again by the next runner if its result was not
   * written (the job's lock names a process that is gone by then).
   */
  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }
}
