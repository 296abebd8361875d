/**
 * Running the outgoing fax queue (src/fax/queue.ts), as mgetty's faxrunq does: for each
 * job that is due, the sender program (`tgetty sendfax`, or mgetty's `sendfax`) runs as
 * a child, without a shell, with the allow-listed environment and no inherited fds:
 *   <sender> -r [-n] [-l <line>] <phone> <file>...
 * Its exit code says what happened (sendfaxVerdict): done, retry later (with a maximum),
 * or give up; the job file is updated and, once the job is done or given up, its owner
 * gets a mail. `-r` makes sendfax rename each file it sent to `<file>.done`, so a retry
 * after a dropped connection sends only the pages that did not go.
 *
 * A job is taken with a lock file in its dir (O_EXCL, with our pid), so `tgetty fax run`
 * from cron and the daemon's runner never send one job twice at once.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { toTgettyError } from '../core/errors.js';
import { createExclusive, readSmallFile } from '../os/safe-open.js';
import { childEnv } from '../session/child-env.js';
import { sendMail, DEFAULT_MAIL_PROGRAM } from '../fax/mail.js';
import { afterInterrupt, afterTry, checkQueueDir, queueStopped, jobSummary, listJobs, readJob, stageFiles, writeJob, type FaxJob, type ListedJob, type QueueLimits } from '../fax/queue.js';

export interface SenderProgram {
  program: string;
  /** Words before tgetty's own (`sendfax` when the program is tgetty itself). */
  args: readonly string[];
}

export interface QueueLog {
  mesg(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
}

export interface RunJobOptions {
  dir: string;
  sender: SenderProgram;
  limits: QueueLimits;
  /** The line for sendfax -l; undefined = the sender picks (its fax-devices). */
  line?: string;
  now: () => number;
  log: QueueLog;
  /** The sendmail-compatible program for the notices; undefined = no mail. */
  mailProgram?: string;
  /** Longest a try may take before the sender is killed (default 30 min). */
  timeoutMs?: number;
  /** Extra sender arguments before the phone number (e.g. the path flags). */
  senderArgs?: readonly string[];
  /**
   * Aborted: the runner is stopping. The sender (our child, in a process group of its own)
   * gets SIGTERM (sendfax hangs up and frees the line), SIGKILL after `killAfterMs`; the
   * try is recorded as interrupted (afterInterrupt), not as a failure.
   */
  signal?: AbortSignal;
  /** Default 5 s. */
  killAfterMs?: number;
}

export interface TryResult {
  id: string;
  code: number | null;
  job: FaxJob;
}

const LOCK = 'job.lock';

function takeJob(jobDir: string): boolean {
  const lock = join(jobDir, LOCK);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const { fd } = createExclusive(lock, 0o644);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return true;
    } catch {
      // Held: by a live process, or left by one that died (then take it over once).
      const held = readSmallFile(lock, 64);
      if (!held.ok) return false;
      const pid = Number(held.data.toString('utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid)) return false;
      try {
        unlinkSync(lock);
      } catch {
        return false;
      }
    }
  }
  return false;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Signal the sender's process group (it is detached: its own group, its children in it). */
function signalGroup(pid: number | undefined, sig: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, sig);
  } catch {
    // gone
  }
}

interface SenderRun {
  program: string;
  args: string[];
  timeoutMs: number;
  log: QueueLog;
  signal?: AbortSignal;
  killAfterMs: number;
}

/** Run the sender once; resolves with its exit code (null: killed, or it did not start). */
function runSender(r: SenderRun): Promise<number | null> {
  const { program, log } = r;
  return new Promise((resolve) => {
    const child = spawn(program, r.args, { env: childEnv({ inherit: process.env }), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let settled = false;
    let killTimer: NodeJS.Timeout | undefined;
    const done = (code: number | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(killTimer);
      r.signal?.removeEventListener('abort', onAbort);
      resolve(code);
    };
    const timer = setTimeout(() => {
      log.warn(`fax sender ${program} still running after ${Math.round(r.timeoutMs / 1000)} s: killing it`);
      signalGroup(child.pid, 'SIGKILL');
    }, r.timeoutMs);
    const onAbort = (): void => {
      if (settled) return;
      log.warn(`fax sender ${program} (pid ${child.pid ?? '-'}): the queue runner is stopping: SIGTERM`);
      signalGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => {
        log.warn(`fax sender ${program} (pid ${child.pid ?? '-'}) still running ${Math.round(r.killAfterMs / 1000)} s after SIGTERM: SIGKILL`);
        signalGroup(child.pid, 'SIGKILL');
      }, r.killAfterMs);
    };
    if (r.signal?.aborted === true) queueMicrotask(onAbort);
    else r.signal?.addEventListener('abort', onAbort, { once: true });
    const relay = (b: Buffer): void => {
      for (const l of b.toString('utf8').split('\n')) if (l.trim() !== '') log.mesg(`sender: ${l.replace(/[\x00-\x1f\x7f]/g, '?').slice(0, 300)}`);
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.on('error', (err) => {
      log.error(`cannot run the fax sender ${program}: ${err.message}`);
      done(null);
    });
    child.on('close', (code) => done(code));
  });
}

async function notify(job: FaxJob, o: RunJobOptions): Promise<void> {
  if (job.mail === null || o.mailProgram === undefined || job.status === 'queued') return;
  const ok = job.status === 'done';
  const r = await sendMail(
    {
      to: job.mail,
      subject: ok ? `fax to ${job.phone} sent` : `fax to ${job.phone} NOT sent: given up`,
      body:
        `Fax job ${job.id} to ${job.phone}: ${jobSummary(job)}.\n\nFiles: ${job.files.join(', ')}\n\nTries:\n` +
        job.history.map((t) => `  ${new Date(t.at).toISOString()}  ${t.line ?? '-'}  exit ${t.code ?? '-'}: ${t.meaning}`).join('\n'),
      headers: { 'X-Fax-Job': job.id, 'X-Fax-Status': job.status },
    },
    { program: o.mailProgram, env: childEnv({ inherit: process.env }) },
  );
  if (r.sent) o.log.mesg(`fax job ${job.id}: mail sent to ${job.mail}`);
  else if (r.reason === 'no-mailer') o.log.warn(`fax job ${job.id}: no mail to ${job.mail}: ${r.detail}`);
  else o.log.error(`fax job ${job.id}: mail to ${job.mail} failed: ${r.detail}`);
}

/** One try of one job (if it is queued, due and not taken). Undefined when it was not tried. */
export async function runJob(id: string, o: RunJobOptions): Promise<TryResult | undefined> {
  const r = readJob(o.dir, id);
  if (!r.ok) {
    o.log.warn(`fax job ${id}: ${r.problem}: skipped`);
    return undefined;
  }
  if (r.job.status !== 'queued' || r.job.nextTry > o.now() || o.signal?.aborted === true) return undefined;
  const jobDir = join(o.dir, id);
  if (!takeJob(jobDir)) return undefined;
  let staging: string | undefined;
  try {
    const job = readJob(o.dir, id); // again, now that it is ours
    if (!job.ok || job.job.status !== 'queued') return undefined;
    let staged;
    try {
      staged = stageFiles(o.dir, job.job, job.dirUid);
    } catch (err) {
      // The job's files are not usable: trying again will not help.
      o.log.error(`fax job ${id}: ${toTgettyError(err).message}: given up`);
      const failed = afterTry(job.job, { at: o.now(), code: 1, line: null, sentNow: [] }, o.limits);
      writeJob(jobDir, { ...failed, status: 'failed' });
      await notify({ ...failed, status: 'failed' }, o);
      return { id, code: 1, job: failed };
    }
    staging = staged.staging;
    const args = [...o.sender.args, ...(o.senderArgs ?? []), '-r', ...(job.job.normal ? ['-n'] : []), ...(o.line !== undefined ? ['-l', o.line] : []), job.job.phone, ...staged.files.map((f) => f.path)];
    o.log.mesg(`fax job ${id}: sending ${staged.files.length} file(s) to ${job.job.phone}${o.line !== undefined ? ` on ${o.line}` : ''} (try ${job.job.tries + 1})`);
    const code = await runSender({
      program: o.sender.program,
      args,
      timeoutMs: o.timeoutMs ?? 30 * 60_000,
      log: o.log,
      killAfterMs: o.killAfterMs ?? 5_000,
      ...(o.signal !== undefined ? { signal: o.signal } : {}),
    });
    const sentNow = staged.files.filter((f) => existsSync(`${f.path}.done`)).map((f) => f.name);
    // Stopped by us and not through: the job waits for the next run as it was (what came
    // through stays sent). A sender that finished anyway (exit 0) counts as sent.
    // (read through a function: TypeScript keeps the narrowing from before the await)
    const aborted = (s?: AbortSignal): boolean => s?.aborted === true;
    const interrupted = aborted(o.signal) && code !== 0;
    const next = interrupted
      ? afterInterrupt(job.job, { at: o.now(), line: o.line ?? null, sentNow })
      : afterTry(job.job, { at: o.now(), code, line: o.line ?? null, sentNow }, o.limits);
    writeJob(jobDir, next);
    o.log.mesg(`fax job ${id}: ${jobSummary(next)}`);
    await notify(next, o);
    return { id, code, job: next };
  } finally {
    if (staging !== undefined) rmSync(staging, { recursive: true, force: true });
    try {
      unlinkSync(join(jobDir, LOCK));
    } catch {
      // removed with the job
    }
  }
}

/** A queue dir that is there must be safe to run from (checkQueueDir); a missing one is an empty queue. */
function checkedDir(dir: string): boolean {
  if (!existsSync(dir)) return false;
  checkQueueDir(dir);
  return true;
}

/** Every due job once, oldest first (faxrunq). Throws FAX_QUEUE_FAILED for an unsafe queue dir. */
export async function runQueue(o: RunJobOptions): Promise<TryResult[]> {
  const out: TryResult[] = [];
  if (!checkedDir(o.dir)) return out;
  if (queueStopped(o.dir)) {
    o.log.mesg(`fax queue ${o.dir}: the stop file is there: nothing sent`);
    return out;
  }
  for (const j of listJobs(o.dir)) {
    if (!j.ok) continue;
    const r = await runJob(j.id, o);
    if (r !== undefined) out.push(r);
  }
  return out;
}

/** The jobs due now: queued and past their next try. */
export function dueJobs(dir: string, now: number): string[] {
  if (!checkedDir(dir)) return [];
  return planQueue(listJobs(dir), now, new Set()).due;
}

export interface QueuePlan {
  /** Due now and not being sent, oldest first. */
  due: string[];
  /** The earliest next try of a queued job not due yet (undefined: none). */
  nextDue: number | undefined;
  /** Queued jobs not due yet. */
  waiting: number;
}

/** What one look at the queue finds (pure): the jobs to start and when to look next. */
export function planQueue(jobs: readonly ListedJob[], now: number, inFlight: ReadonlySet<string>): QueuePlan {
  const due: string[] = [];
  let nextDue: number | undefined;
  let waiting = 0;
  for (const j of jobs) {
    if (!j.ok || j.job.status !== 'queued' || inFlight.has(j.id)) continue;
    if (j.job.nextTry <= now) due.push(j.id);
    else {
      waiting++;
      if (nextDue === undefined || j.job.nextTry < nextDue) nextDue = j.job.nextTry;
    }
  }
  return { due, nextDue, waiting };
}

export { DEFAULT_MAIL_PROGRAM };
