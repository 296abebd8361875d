/**
 * `tgetty fax queue|list|remove|run`: the outgoing fax queue, as mgetty's faxspool, faxq,
 * faxrm and faxrunq (src/fax/queue.ts, src/daemon/fax-queue-runner.ts).
 */
import { getpwuid } from '../os/passwd.js';
import { isTgettyError, toTgettyError } from '../core/errors.js';
import { DEFAULT_QUEUE_LIMITS, jobSummary, listJobs, queueJob, removeJob, type QueueLimits } from '../fax/queue.js';
import { runQueue, type SenderProgram } from '../daemon/fax-queue-runner.js';
import { formatTime, parseSince } from './calls.js';
import { formatTable } from './table.js';

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

export interface FaxQueueOptions extends Io {
  dir: string;
  phone: string;
  files: string[];
  mail: string | null | undefined;
  normal: boolean;
  /** --at: not before (a time in the forms `calls --since` takes, or an age = from now). */
  at?: string;
  now?: number;
  uid?: number;
}

function usage(o: Io, cmd: string, err: unknown): number {
  const e = toTgettyError(err);
  o.err(`tgetty fax ${cmd}: ${e.message}\n`);
  return isTgettyError(err, 'CLI_USAGE') ? 2 : 1;
}

function userName(uid: number): string {
  return getpwuid(uid)?.name ?? String(uid);
}

export function faxQueueCommand(o: FaxQueueOptions): number {
  const now = o.now ?? Date.now();
  let notBefore: number | undefined;
  if (o.at !== undefined) {
    // An age (`30m`) means from now here; a time is a time.
    const rel = /^\s*\d{1,9}\s*[smhdw]\s*$/i.test(o.at);
    const r = parseSince(o.at, now);
    if (!r.ok) {
      o.err(`tgetty fax queue: ${r.message.replace('--since', '--at')}\n`);
      return 2;
    }
    notBefore = rel ? now + (now - r.ms) : r.ms;
  }
  const uid = o.uid ?? process.getuid?.() ?? 0;
  const name = userName(uid);
  try {
    const job = queueJob(o.dir, {
      phone: o.phone,
      files: o.files,
      mail: o.mail === undefined ? name : o.mail,
      normal: o.normal,
      owner: { uid, name },
      now,
      ...(notBefore !== undefined ? { notBefore } : {}),
    });
    o.out(`${job.id}\n`);
    return 0;
  } catch (err) {
    return usage(o, 'queue', err);
  }
}

export interface FaxListOptions extends Io {
  dir: string;
  json: boolean;
}

export function faxListCommand(o: FaxListOptions): number {
  let jobs;
  try {
    jobs = listJobs(o.dir);
  } catch (err) {
    return usage(o, 'list', err);
  }
  if (o.json) {
    o.out(`${JSON.stringify(jobs.map((j) => (j.ok ? j.job : { id: j.id, problem: j.problem })), null, 2)}\n`);
    return 0;
  }
  if (jobs.length === 0) {
    o.out('no fax jobs\n');
    return 0;
  }
  const clean = (s: string): string => s.replace(/[\x00-\x1f\x7f]/g, '?');
  o.out(
    formatTable(
      ['JOB', 'QUEUED', 'USER', 'PHONE', 'FILES', 'STATUS', 'TRIES', 'NEXT TRY', 'LAST'],
      jobs.map((j) => {
        if (!j.ok) return [j.id, '-', '-', '-', '-', 'broken', '-', '-', j.problem];
        const job = j.job;
        const last = job.history.at(-1);
        return [
          job.id,
          formatTime(job.createdAt),
          job.owner.name,
          job.phone,
          `${job.files.length - job.sent.length}/${job.files.length}`,
          job.status,
          `${job.tries} (${job.costlyFailures} costly)`,
          job.status === 'queued' ? formatTime(job.nextTry) : '-',
          last !== undefined ? `exit ${last.code ?? '-'}: ${last.meaning}` : '-',
        ].map(clean);
      }),
    ),
  );
  return 0;
}

export interface FaxRemoveOptions extends Io {
  dir: string;
  id: string;
  uid?: number;
}

export function faxRemoveCommand(o: FaxRemoveOptions): number {
  try {
    removeJob(o.dir, o.id, o.uid ?? process.getuid?.() ?? 0);
    o.out(`removed ${o.id}\n`);
    return 0;
  } catch (err) {
    return usage(o, 'remove', err);
  }
}

export interface FaxRunOptions extends Io {
  dir: string;
  sender: SenderProgram;
  senderArgs?: string[];
  line?: string;
  limits?: Partial<QueueLimits>;
  mailProgram?: string;
  quiet?: boolean;
  now?: () => number;
}

/** faxrunq: each due job once. Exit 0 when the queue was run (whatever the faxes did), 1 when it could not be read. */
export async function faxRunCommand(o: FaxRunOptions): Promise<number> {
  const log = {
    mesg: (m: string) => {
      if (o.quiet !== true) o.out(`${m}\n`);
    },
    warn: (m: string) => o.err(`tgetty fax run: ${m}\n`),
    error: (m: string) => o.err(`tgetty fax run: ${m}\n`),
  };
  try {
    const tries = await runQueue({
      dir: o.dir,
      sender: o.sender,
      ...(o.senderArgs !== undefined ? { senderArgs: o.senderArgs } : {}),
      limits: { ...DEFAULT_QUEUE_LIMITS, ...o.limits },
      ...(o.line !== undefined ? { line: o.line } : {}),
      now: o.now ?? Date.now,
      log,
      ...(o.mailProgram !== undefined ? { mailProgram: o.mailProgram } : {}),
    });
    if (o.quiet !== true) o.out(tries.length === 0 ? 'no fax jobs due\n' : `${tries.length} job(s) tried: ${tries.map((t) => `${t.id} ${jobSummary(t.job)}`).join('; ')}\n`);
    return 0;
  } catch (err) {
    return usage(o, 'run', err);
  }
}
