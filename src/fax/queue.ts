/**
 * The outgoing fax queue, as mgetty's faxspool/faxrunq keep it: one directory per job in
 * the queue dir (default /var/spool/fax/outgoing, faxspool's FAX_SPOOL_OUT), holding a
 * job file (`job.json`) and copies of the files to send. mgetty's faxrunq looks for a
 * `JOB` file and so passes over these directories.
 *
 * Users queue, root (or uucp) runs the queue: the queue dir may be writable by a group
 * (or by everyone with the sticky bit, like /tmp), so
 * - the queue dir must be a real directory (not a symlink), owned by root or the user,
 *   and never writable by others without the sticky bit;
 * - a job dir is made with mkdir (mode 0700: it fails on anything already there) and its
 *   files with O_CREAT|O_EXCL|O_NOFOLLOW under a temporary name, then renamed;
 * - the runner never hands the job dir's files to the sender: it copies them, opened
 *   with O_NOFOLLOW and checked to be regular files of the job's owner, into a private
 *   dir of its own first (stageFiles), so a job owner who swaps a file for a symlink to
 *   /etc/shadow faxes nothing but their own data.
 *
 * What one try's sendfax exit code means (sendfaxVerdict, afterTry) is pure.
 */
import { closeSync, fsyncSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { TgettyError, errnoCode } from '../core/errors.js';
import { createExclusive, readSmallFile } from '../os/safe-open.js';

export const DEFAULT_SPOOL_OUT = '/var/spool/fax/outgoing';
export const JOB_FILE = 'job.json';
/** faxrunq's stop file: while it is in the queue dir, no runner sends anything. */
export const STOP_FILE = 'stop';
/** Largest file one job may carry (a PDF of many pages is a few MB). */
export const MAX_JOB_FILE_BYTES = 64 << 20;

export type JobStatus = 'queued' | 'done' | 'failed';

export interface JobTry {
  at: number;
  /** The sender's exit code; null when it was killed or could not start. */
  code: number | null;
  line: string | null;
  meaning: string;
}

export interface FaxJob {
  version: 1;
  id: string;
  phone: string;
  /** The files to send, names in the job dir, in order. */
  files: string[];
  /** Of those, the ones a try has sent (sendfax -r renamed them): a retry sends the rest. */
  sent: string[];
  owner: { uid: number; name: string };
  /** Where the notice goes when the job is done or given up; null = no mail. */
  mail: string | null;
  /** sendfax -n: normal resolution. */
  normal: boolean;
  createdAt: number;
  /** Not before this time (faxspool -t). */
  notBefore: number;
  status: JobStatus;
  tries: number;
  /** Tries that failed after the far end picked up (exit codes 10 and up): they cost money. */
  costlyFailures: number;
  nextTry: number;
  history: JobTry[];
}

export interface QueueLimits {
  /** faxrunq's maxfail-costly: give up after this many failures that cost money. */
  maxCostly: number;
  /** faxrunq's maxfail-total: give up after this many tries. */
  maxTotal: number;
  /** Wait this long after a failed try. */
  retryDelayMs: number;
}

export const DEFAULT_QUEUE_LIMITS: QueueLimits = { maxCostly: 5, maxTotal: 10, retryDelayMs: 300_000 };

export type Verdict = 'done' | 'retry' | 'give-up';

/**
 * mgetty's sendfax exit codes (man sendfax): 0 sent; 1 bad command line (a retry cannot
 * help); 2-9 failed before the far end answered (line locked, modem dead, BUSY, NO
 * DIALTONE: free, retry); 10 and up failed after it answered (costly: counted against
 * maxfail-costly). A sender that was killed or could not start: retry.
 */
export function sendfaxVerdict(code: number | null): { verdict: Verdict; costly: boolean; meaning: string } {
  const MEANING: Record<number, string> = {
    0: 'all pages sent',
    1: 'error on the sendfax command line',
    2: 'cannot open the fax device (locked?)',
    3: 'cannot initialise the modem',
    4: 'BUSY',
    5: 'NO DIALTONE',
    10: 'dial failed (ERROR or NO CARRIER)',
    11: 'waiting for XON failed',
    12: 'sending pages failed (connection dropped)',
  };
  if (code === null) return { verdict: 'retry', costly: false, meaning: 'the sender was killed or did not start' };
  const meaning = MEANING[code] ?? (code >= 10 ? `failed after the far end answered (exit ${code})` : `failed before dialling (exit ${code})`);
  if (code === 0) return { verdict: 'done', costly: false, meaning };
  if (code === 1) return { verdict: 'give-up', costly: false, meaning };
  return { verdict: 'retry', costly: code >= 10, meaning };
}

/** The job after one try (pure). `sentNow` are files the try sent. */
export function afterTry(job: FaxJob, t: { at: number; code: number | null; line: string | null; sentNow: readonly string[] }, limits: QueueLimits): FaxJob {
  const v = sendfaxVerdict(t.code);
  const sent = [...job.sent, ...t.sentNow.filter((f) => !job.sent.includes(f))];
  const tries = job.tries + 1;
  const costlyFailures = job.costlyFailures + (v.costly ? 1 : 0);
  let status: JobStatus = 'queued';
  if (v.verdict === 'done') status = 'done';
  else if (v.verdict === 'give-up' || costlyFailures >= limits.maxCostly || tries >= limits.maxTotal) status = 'failed';
  return {
    ...job,
    sent: v.verdict === 'done' ? [...job.files] : sent,
    tries,
    costlyFailures,
    status,
    nextTry: status === 'queued' ? t.at + limits.retryDelayMs : job.nextTry,
    history: [...job.history, { at: t.at, code: t.code, line: t.line, meaning: v.meaning }],
  };
}

/** What an interrupted try says in the job's history. */
export const INTERRUPTED = 'interrupted: the queue runner stopped (not counted as a try)';

/**
 * The job after a try the runner itself broke off (daemon stopping) (pure): still queued,
 * due at once, the files sent so far kept as sent (sendfax -r), and neither a try nor a
 * costly failure counted: the far end did nothing wrong. The next run picks it up.
 */
export function afterInterrupt(job: FaxJob, t: { at: number; line: string | null; sentNow: readonly string[] }): FaxJob {
  return {
    ...job,
    sent: [...job.sent, ...t.sentNow.filter((f) => !job.sent.includes(f))],
    status: 'queued',
    nextTry: Math.min(job.nextTry, t.at),
    history: [...job.history, { at: t.at, code: null, line: t.line, meaning: INTERRUPTED }],
  };
}

/** Why a job's status is what it is, in words (list, mail). */
export function jobSummary(job: FaxJob): string {
  const last = job.history.at(-1);
  const lastText = last !== undefined ? `; last try: ${last.meaning}${last.line !== null ? ` on ${last.line}` : ''}` : '';
  return `${job.status}, ${job.tries} tr${job.tries === 1 ? 'y' : 'ies'} (${job.costlyFailures} costly)${lastText}`;
}

/** A phone number as the modem dials it: digits and dial characters only (never a shell word, never an option). */
export function validPhone(phone: string): boolean {
  return /^[0-9*#+,;!@WwPpTt ()./-]{1,64}$/.test(phone) && /[0-9]/.test(phone) && !phone.startsWith('-');
}

const ID = /^[0-9a-z]{6,16}-[0-9a-f]{8}$/;

export function validJobId(id: string): boolean {
  return ID.test(id);
}

function fail(message: string, file: string, cause?: unknown): TgettyError {
  return new TgettyError('FAX_QUEUE_FAILED', message, { file }, cause !== undefined ? { cause } : undefined);
}

/** Why the queue dir is not safe to use, or undefined. */
export function queueDirProblem(st: Stats, uid: number): string | undefined {
  if (st.isSymbolicLink()) return 'is a symbolic link';
  if (!st.isDirectory()) return 'is not a directory';
  if (st.uid !== 0 && st.uid !== uid) return `belongs to uid ${st.uid}, not to root or you`;
  if ((st.mode & 0o002) !== 0 && (st.mode & 0o1000) === 0) return 'is writable by everyone without the sticky bit (mode 1777 or 0770 with a group, please)';
  return undefined;
}

/** Check the queue dir (creating it with mode 0755 when `create` and missing). Throws FAX_QUEUE_FAILED. */
export function checkQueueDir(dir: string, opts: { create?: boolean; uid?: number } = {}): void {
  const uid = opts.uid ?? process.getuid?.() ?? 0;
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT' || opts.create !== true) throw fail(`fax queue ${dir}: ${errnoCode(err) === 'ENOENT' ? 'no such directory' : String(err)}`, dir, err);
    try {
      mkdirSync(dir, { mode: 0o755, recursive: true });
      st = lstatSync(dir);
    } catch (e) {
      throw fail(`fax queue ${dir}: cannot create it: ${errnoCode(e) ?? String(e)}`, dir, e);
    }
  }
  const problem = queueDirProblem(st, uid);
  if (problem !== undefined) throw fail(`fax queue ${dir} ${problem}: not used`, dir);
}

/** Write `data` as `name` in `dir`: O_EXCL|O_NOFOLLOW under a temporary name, then renamed over the name. */
function writeAtomic(dir: string, name: string, data: Uint8Array, mode: number): void {
  const tmp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const { fd } = createExclusive(tmp, mode);
  try {
    let at = 0;
    while (at < data.length) at += writeSync(fd, data, at, data.length - at);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    try {
      unlinkSync(tmp);
    } catch {
      // gone
    }
    throw err;
  }
  closeSync(fd);
  // rename(2) replaces the name itself (a planted symlink is replaced, never followed).
  renameSync(tmp, join(dir, name));
}

export interface NewJob {
  phone: string;
  /** Paths the user gave; read with the user's own rights. */
  files: readonly string[];
  mail: string | null;
  normal: boolean;
  notBefore?: number;
  owner: { uid: number; name: string };
  now: number;
}

/** The name a copied file gets in the job dir: its position and a harmless form of its base name. */
export function copyName(i: number, path: string): string {
  const base = basename(path).replace(/[^A-Za-z0-9._+-]/g, '_').replace(/^\.+/, '').slice(0, 60);
  return `${String(i + 1).padStart(2, '0')}-${base !== '' ? base : 'file'}`;
}

/** Put a job in the queue: a new job dir with copies of the files and the job file. Returns the job. */
export function queueJob(dir: string, j: NewJob): FaxJob {
  if (!validPhone(j.phone)) throw new TgettyError('CLI_USAGE', `bad phone number '${j.phone.replace(/[^\x20-\x7e]/g, '?')}': digits and dial characters (+ * # , W P T - space) only`, { input: j.phone });
  if (j.files.length === 0) throw new TgettyError('CLI_USAGE', 'no files to send');
  const datas = j.files.map((f) => {
    const r = readSmallFile(f, MAX_JOB_FILE_BYTES);
    if (!r.ok) throw new TgettyError('CLI_USAGE', `cannot queue ${f}: ${'refused' in r ? r.refused : 'no such file'}`, { file: f });
    return r.data;
  });
  checkQueueDir(dir, { create: true, uid: j.owner.uid });
  const id = `${j.now.toString(36)}-${randomBytes(4).toString('hex')}`;
  const jobDir = join(dir, id);
  // Made under a name no runner takes for a job, and renamed into place when complete: a
  // runner watching the queue dir (inotify) sees one event for a whole job, never a job
  // dir without its job file. The temporary name shares nothing with the id.
  const newDir = join(dir, `.new-${randomBytes(6).toString('hex')}`);
  try {
    mkdirSync(newDir, { mode: 0o700 });
  } catch (err) {
    throw fail(`cannot make the job dir ${newDir}: ${errnoCode(err) ?? String(err)}`, newDir, err);
  }
  try {
    const names = j.files.map((f, i) => copyName(i, f));
    names.forEach((n, i) => writeAtomic(newDir, n, datas[i], 0o600));
    const job: FaxJob = {
      version: 1,
      id,
      phone: j.phone,
      files: names,
      sent: [],
      owner: j.owner,
      mail: j.mail,
      normal: j.normal,
      createdAt: j.now,
      notBefore: j.notBefore ?? j.now,
      status: 'queued',
      tries: 0,
      costlyFailures: 0,
      nextTry: j.notBefore ?? j.now,
      history: [],
    };
    writeJob(newDir, job);
    // A directory cannot be renamed over a file or symlink (ENOTDIR) nor a non-empty dir.
    renameSync(newDir, jobDir);
    return job;
  } catch (err) {
    rmSync(newDir, { recursive: true, force: true });
    if (err instanceof TgettyError) throw err;
    throw fail(`cannot write the job in ${jobDir}: ${errnoCode(err) ?? String(err)}`, jobDir, err);
  }
}

/** The stop file is there (faxrunq): runners leave the queue alone. */
export function queueStopped(dir: string): boolean {
  try {
    lstatSync(join(dir, STOP_FILE));
    return true;
  } catch {
    return false;
  }
}

export function writeJob(jobDir: string, job: FaxJob): void {
  writeAtomic(jobDir, JOB_FILE, Buffer.from(`${JSON.stringify(job, null, 2)}\n`), 0o644);
}

function isJob(v: unknown): v is FaxJob {
  const j = v as Partial<FaxJob> | null;
  return (
    typeof j === 'object' && j !== null && j.version === 1 && typeof j.id === 'string' && typeof j.phone === 'string' && Array.isArray(j.files) &&
    j.files.every((f) => typeof f === 'string' && /^[0-9]{2}-[A-Za-z0-9._+-]+$/.test(f)) && Array.isArray(j.sent) && Array.isArray(j.history) &&
    typeof j.tries === 'number' && typeof j.costlyFailures === 'number' && typeof j.nextTry === 'number' &&
    (j.status === 'queued' || j.status === 'done' || j.status === 'failed') && typeof j.owner === 'object' && j.owner !== null
  );
}

/** A job dir's job, or why it cannot be used. The job file's id and the dir's name must agree. */
export function readJob(dir: string, id: string): { ok: true; job: FaxJob; dirUid: number } | { ok: false; problem: string } {
  if (!validJobId(id)) return { ok: false, problem: 'not a job id' };
  const jobDir = join(dir, id);
  let st: Stats;
  try {
    st = lstatSync(jobDir);
  } catch {
    return { ok: false, problem: 'no such job' };
  }
  if (!st.isDirectory()) return { ok: false, problem: 'not a directory' };
  const r = readSmallFile(join(jobDir, JOB_FILE), 1 << 20);
  if (!r.ok) return { ok: false, problem: `${JOB_FILE} ${'refused' in r ? r.refused : 'missing'}` };
  if (r.st.uid !== 0 && r.st.uid !== st.uid) return { ok: false, problem: `${JOB_FILE} belongs to neither root nor the job's owner` };
  let v: unknown;
  try {
    v = JSON.parse(r.data.toString('utf8'));
  } catch {
    return { ok: false, problem: `${JOB_FILE} is not JSON` };
  }
  if (!isJob(v) || v.id !== id || !validPhone(v.phone)) return { ok: false, problem: `${JOB_FILE} is not a tgetty fax job` };
  // The dir's owner is who queued it, whatever the file says.
  return { ok: true, job: { ...v, owner: { ...v.owner, uid: st.uid } }, dirUid: st.uid };
}

export type ListedJob = { id: string; ok: true; job: FaxJob } | { id: string; ok: false; problem: string };

/** Every job in the queue (also broken ones, with the problem), oldest first. */
export function listJobs(dir: string): ListedJob[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return [];
    throw fail(`cannot read the fax queue ${dir}: ${errnoCode(err) ?? String(err)}`, dir, err);
  }
  const out: ListedJob[] = [];
  for (const id of names.filter(validJobId).sort()) {
    const r = readJob(dir, id);
    out.push(r.ok ? { id, ok: true, job: r.job } : { id, ok: false, problem: r.problem });
  }
  return out;
}

/** Remove a job: only its owner or root may. Throws FAX_QUEUE_FAILED / CLI_USAGE. */
export function removeJob(dir: string, id: string, uid: number): void {
  if (!validJobId(id)) throw new TgettyError('CLI_USAGE', `'${id.replace(/[^\x20-\x7e]/g, '?')}' is not a fax job id (see tgetty fax list)`, { input: id });
  const jobDir = join(dir, id);
  let st: Stats;
  try {
    st = lstatSync(jobDir);
  } catch {
    throw fail(`no fax job ${id} in ${dir}`, jobDir);
  }
  if (!st.isDirectory()) throw fail(`${jobDir} is not a job directory`, jobDir);
  if (uid !== 0 && st.uid !== uid) throw fail(`fax job ${id} is not yours (uid ${st.uid})`, jobDir);
  rmSync(jobDir, { recursive: true, force: true });
}

/**
 * Copy the files still to send into a new private dir (mode 0700, the runner's own), each
 * opened with O_NOFOLLOW and accepted only as a regular file of the job dir's owner (or
 * root). Returns the dir and the copies in order, each with its job file name.
 */
export function stageFiles(dir: string, job: FaxJob, dirUid: number): { staging: string; files: { name: string; path: string }[] } {
  const jobDir = join(dir, job.id);
  const staging = mkdtempSync(join(tmpdir(), 'tgetty-faxq-'));
  try {
    const files = job.files
      .filter((n) => !job.sent.includes(n))
      .map((name) => {
        const r = readSmallFile(join(jobDir, name), MAX_JOB_FILE_BYTES);
        if (!r.ok) throw fail(`fax job ${job.id}: ${name} ${'refused' in r ? r.refused : 'is missing'}`, join(jobDir, name));
        if (r.st.uid !== dirUid && r.st.uid !== 0) throw fail(`fax job ${job.id}: ${name} belongs to uid ${r.st.uid}, not to the job's owner`, join(jobDir, name));
        const path = join(staging, name);
        writeAtomic(staging, name, r.data, 0o600);
        return { name, path };
      });
    return { staging, files };
  } catch (err) {
    rmSync(staging, { recursive: true, force: true });
    throw err;
  }
}
