/**
 * The daemon's fax queue runner (`tgetty serve --fax-queue DIR`): faxrunqd inside the
 * getty. It gives each due job an idle fax line: the sender runs with `-l <line>` and
 * takes the line's UUCP lock like any dial-out program (cu, sendfax). The line's
 * supervisor sees the foreign lock, leaves the line alone (state `dialout`) and
 * re-initialises the modem once the lock is gone, exactly as for cu: the runner never
 * touches the line itself. A line it gave a job to is not given another until that try
 * is over.
 *
 * Event driven, so an idle queue costs no CPU: it looks at the queue when the queue dir
 * changes (inotify: `tgetty fax queue` renames a complete job dir into place, `fax
 * remove`, the stop file), when a fax line becomes idle (lineIdle(), from the daemon's
 * line-state events), when a try ends, and at the next due time (one timer: a retry, a
 * `--at` job). The one periodic look is the safety rescan (default 15 min): inotify says
 * nothing about a queue dir on NFS written from another host, and libuv drops an
 * inotify queue overflow without telling (the events are lost, not reported).
 */
import { lstatSync, watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Clock, TimerHandle } from '../core/clock.js';
import { toTgettyError } from '../core/errors.js';
import { DEFAULT_QUEUE_LIMITS, STOP_FILE, checkQueueDir, listJobs, queueStopped, validJobId, type QueueLimits } from '../fax/queue.js';
import { planQueue, runJob, type QueueLog, type SenderProgram, type TryResult } from './fax-queue-runner.js';

/** Without line-idle events (lineIdle() never called): how soon to look again when due jobs wait for a line. */
export const LINE_RETRY_MS = 5_000;
/** The safety rescan (see the module comment). */
export const SAFETY_RESCAN_MS = 15 * 60_000;
/** Longest single timer: Node turns a delay above 2^31-1 ms into 1 ms (a spin). */
const MAX_TIMER_MS = 24 * 3600_000;

export interface DirWatch {
  close(): void;
}

/** Watch a directory: `onChange(name)` for each entry event (null: no name), `onError` when the watch is gone. */
export type WatchDir = (dir: string, onChange: (name: string | null) => void, onError: (err: Error) => void) => DirWatch;

/** fs.watch (inotify), not keeping the process alive. Throws when the dir cannot be watched. */
export const fsWatchDir: WatchDir = (dir, onChange, onError) => {
  const w = watch(dir, { persistent: false });
  w.on('change', (_type, name) => onChange(name === null ? null : name.toString()));
  w.on('error', (err) => {
    w.close();
    onError(err);
  });
  return { close: () => w.close() };
};

/** The queue as the last look found it (metrics). */
export interface QueueCounts {
  /** Queued, next try still ahead. */
  waiting: number;
  /** Due, waiting for an idle line (or for the stop file to go). */
  due: number;
  /** Being sent now. */
  sending: number;
}

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
  /**
   * Due jobs and no idle line: look again after this long. 0 = only when lineIdle() is
   * called (the daemon calls it on every line that becomes idle). Default LINE_RETRY_MS.
   */
  linePollMs?: number;
  /** The safety rescan; 0 = none. Default SAFETY_RESCAN_MS. */
  rescanMs?: number;
  /** How the queue dir is watched; null = not at all (tests drive it). Default fsWatchDir. */
  watch?: WatchDir | null;
  /** stop(): how long a running sender may go on before it is signalled. Default 20 s. */
  stopGraceMs?: number;
  /** stop(): SIGTERM -> SIGKILL. Default 5 s. */
  killAfterMs?: number;
  /** Each finished try (tests, metrics). */
  onTry?: (r: TryResult) => void;
  /** After each look at the queue (metrics). */
  onScan?: (c: QueueCounts) => void;
}

export class FaxQueueService {
  private timer: TimerHandle | undefined;
  /** When `timer` fires (to keep the earlier of two wishes). */
  private timerAt = Number.POSITIVE_INFINITY;
  private stopped = false;
  /** job id -> the line it is being sent on. */
  private readonly inFlight = new Map<string, string>();
  private readonly running = new Set<Promise<void>>();
  private readonly abort = new AbortController();
  private watcher: DirWatch | undefined;
  /** What is watched: the queue dir (with its inode, to notice a re-made dir), or its parent while the dir is missing. */
  private watching: { kind: 'dir'; ino: number } | { kind: 'parent' } | undefined;
  private said = new Set<string>();
  /** Due jobs found no idle line at the last look. */
  private waitingForLine = false;

  constructor(private readonly o: FaxQueueServiceOptions) {}

  start(): void {
    this.o.log.mesg(`fax queue ${this.o.dir}: runner started (watching the queue dir${this.rescanMs > 0 ? `, safety rescan every ${Math.round(this.rescanMs / 60_000)} min` : ''})`);
    this.kick();
  }

  private get rescanMs(): number {
    return this.o.rescanMs ?? SAFETY_RESCAN_MS;
  }

  /** A fax line became idle: jobs waiting for one may go. */
  lineIdle(): void {
    if (this.waitingForLine) this.kick();
  }

  /** Look at the queue soon (this turn's other events first: one look for a burst). */
  private kick(): void {
    this.wakeAt(this.o.clock.now());
  }

  private wakeAt(at: number): void {
    if (this.stopped || at >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.o.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.tick();
    }, Math.min(Math.max(0, at - this.o.clock.now()), MAX_TIMER_MS));
  }

  private once(key: string, say: () => void): void {
    if (this.said.has(key)) return;
    this.said.add(key);
    say();
  }

  private closeWatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.watching = undefined;
  }

  /** Watch the queue dir; while it is missing, its parent (for the dir to appear). */
  private ensureWatch(): void {
    const w = this.o.watch === undefined ? fsWatchDir : this.o.watch;
    if (w === null) return;
    let ino: number | undefined;
    try {
      ino = lstatSync(this.o.dir).ino;
    } catch {
      ino = undefined;
    }
    if (this.watching?.kind === 'dir' && this.watching.ino === ino) return;
    if (this.watching?.kind === 'parent' && ino === undefined) return;
    // The dir came, went, or was made anew (the old watch sees nothing any more).
    this.closeWatch();
    const lost = (err: Error): void => {
      this.o.log.warn(`fax queue ${this.o.dir}: the watch stopped (${err.message}): watching again`);
      this.closeWatch();
      this.kick();
    };
    if (ino !== undefined) {
      try {
        this.watcher = w(this.o.dir, (name) => this.dirEvent(name), lost);
        this.watching = { kind: 'dir', ino };
        this.said.delete('watch');
        return;
      } catch (err) {
        this.once('watch', () => this.o.log.warn(`fax queue ${this.o.dir}: cannot watch it (${toTgettyError(err).message}): looking every ${Math.round(this.rescanMs / 60_000)} min only`));
        return;
      }
    }
    const parent = dirname(this.o.dir);
    const self = basename(this.o.dir);
    try {
      this.watcher = w(parent, (name) => {
        if (name === null || name === self) this.kick();
      }, lost);
      this.watching = { kind: 'parent' };
    } catch {
      this.once('watch', () => this.o.log.warn(`fax queue ${this.o.dir}: neither it nor ${parent} is there: looking every ${Math.round(this.rescanMs / 60_000)} min only`));
    }
  }

  /** An entry of the queue dir changed: only job dirs (renamed in complete) and the stop file matter. */
  private dirEvent(name: string | null): void {
    if (name === null || name === STOP_FILE || validJobId(name) || name === basename(this.o.dir)) this.kick();
  }

  /** Look at the queue now: give due jobs to idle lines, and set the one timer. Returns the jobs started. */
  tick(): string[] {
    if (this.stopped) return [];
    this.ensureWatch();
    const started: string[] = [];
    let counts: QueueCounts = { waiting: 0, due: 0, sending: this.inFlight.size };
    let next: number | undefined;
    this.waitingForLine = false;
    try {
      let present = true;
      try {
        lstatSync(this.o.dir);
      } catch {
        present = false; // a missing queue dir is an empty queue (the parent is watched)
      }
      if (present) {
        checkQueueDir(this.o.dir);
        this.said.delete('unsafe');
        const now = this.o.clock.now();
        const plan = planQueue(listJobs(this.o.dir), now, new Set(this.inFlight.keys()));
        next = plan.nextDue;
        const stopped = queueStopped(this.o.dir);
        if (stopped) this.once('stop', () => this.o.log.mesg(`fax queue ${this.o.dir}: the stop file is there: nothing is sent until it is removed`));
        else if (this.said.delete('stop')) this.o.log.mesg(`fax queue ${this.o.dir}: the stop file is gone: running again`);
        const busy = new Set(this.inFlight.values());
        const lines = stopped || plan.due.length === 0 ? [] : this.o.idleLines().filter((l) => !busy.has(l));
        for (const id of plan.due) {
          const line = lines.shift();
          if (line === undefined) break;
          started.push(id);
          this.startTry(id, line);
        }
        const left = plan.due.length - started.length;
        this.waitingForLine = left > 0 && !stopped;
        counts = { waiting: plan.waiting, due: left, sending: this.inFlight.size };
      }
    } catch (err) {
      this.once('unsafe', () => this.o.log.error(`fax queue ${this.o.dir}: ${toTgettyError(err).message}`));
    }
    this.o.onScan?.(counts);
    const now = this.o.clock.now();
    const linePoll = this.o.linePollMs ?? LINE_RETRY_MS;
    const wishes = [next, this.waitingForLine && linePoll > 0 ? now + linePoll : undefined, this.rescanMs > 0 ? now + this.rescanMs : undefined];
    const at = Math.min(...wishes.filter((x): x is number => x !== undefined));
    if (Number.isFinite(at)) this.wakeAt(at);
    return started;
  }

  private startTry(id: string, line: string): void {
    this.inFlight.set(id, line);
    const p = this.tryJob(id, line).finally(() => {
      this.inFlight.delete(id);
      this.running.delete(p);
      // The job's next due time, and the next job for the line once it is idle again.
      this.kick();
    });
    this.running.add(p);
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
        signal: this.abort.signal,
        ...(this.o.killAfterMs !== undefined ? { killAfterMs: this.o.killAfterMs } : {}),
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

  /** The next look, in ms since the epoch (undefined: none planned). For tests and status. */
  get nextLook(): number | undefined {
    return Number.isFinite(this.timerAt) ? this.timerAt : undefined;
  }

  /**
   * Stop: no new tries. A sender already running may finish its call for `stopGraceMs`
   * (killing it mid-page costs a call); then it gets SIGTERM (tgetty's and mgetty's
   * sendfax hang up and free the line), SIGKILL `killAfterMs` later. Its job is written
   * back queued and due (afterInterrupt: what went through stays sent, no try counted),
   * so the next run, the daemon's or `tgetty fax run`, sends the rest. Resolves once no
   * sender of ours is left.
   */
  async stop(): Promise<void> {
    if (this.stopped) return Promise.all(this.running).then(() => undefined);
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.closeWatch();
    if (this.running.size === 0) return;
    const all = Promise.all(this.running).then(() => true);
    const grace = this.o.stopGraceMs ?? 20_000;
    this.o.log.mesg(`fax queue ${this.o.dir}: stopping: waiting up to ${Math.round(grace / 1000)} s for ${this.running.size} sender(s)`);
    let t: TimerHandle | undefined;
    const timeUp = new Promise<boolean>((resolve) => {
      t = this.o.clock.setTimeout(() => resolve(false), grace);
    });
    const finished = await Promise.race([all, timeUp]);
    t?.cancel();
    if (finished) return;
    this.abort.abort();
    // runJob signals its sender (TERM, then KILL): the tries end and write their jobs. A
    // bound even so (a process stuck in the kernel outlives SIGKILL): its job's lock then
    // names our pid, dead once we exit, and the next runner takes the job over.
    const bound = (this.o.killAfterMs ?? 5_000) + 5_000;
    const late = new Promise<boolean>((resolve) => {
      t = this.o.clock.setTimeout(() => resolve(false), bound);
    });
    if (!(await Promise.race([all, late]))) this.o.log.error(`fax queue ${this.o.dir}: ${this.running.size} sender(s) still running after SIGKILL: left behind`);
    t?.cancel();
  }
}
