import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTgettyError } from '../core/errors.js';
import {
  DEFAULT_QUEUE_LIMITS, INTERRUPTED, JOB_FILE, STOP_FILE, afterInterrupt, afterTry, checkQueueDir, copyName, listJobs, queueJob, queueStopped, readJob, removeJob, sendfaxVerdict, stageFiles, validPhone,
  type FaxJob,
} from './queue.js';

const T0 = Date.UTC(2026, 10, 21, 18, 0, 0);
const me = { uid: process.getuid?.() ?? 0, name: 'me' };

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxq-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function job(over: Partial<FaxJob> = {}): FaxJob {
  return {
    version: 1, id: 'x', phone: '5551234', files: ['01-a.g3', '02-b.g3'], sent: [], owner: me, mail: null, normal: false,
    createdAt: T0, notBefore: T0, status: 'queued', tries: 0, costlyFailures: 0, nextTry: T0, history: [], ...over,
  };
}

test("sendfax's exit codes as faxrunq reads them: 0 done, 1 give up, 2-9 retry for free, 10 and up retry and count as costly", () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 10, 11, 12, null].map((c) => { const v = sendfaxVerdict(c); return [c, v.verdict, v.costly]; }), [
    [0, 'done', false], [1, 'give-up', false], [2, 'retry', false], [3, 'retry', false], [4, 'retry', false], [5, 'retry', false],
    [10, 'retry', true], [11, 'retry', true], [12, 'retry', true], [null, 'retry', false],
  ]);
  assert.match(sendfaxVerdict(4).meaning, /BUSY/);
});

test('afterTry: a retry waits the delay; five costly failures, ten tries or exit 1 give up; pages sent stay sent', () => {
  const limits = { ...DEFAULT_QUEUE_LIMITS, retryDelayMs: 60_000 };
  let j = afterTry(job(), { at: T0, code: 12, line: 'ttyS0', sentNow: ['01-a.g3'] }, limits);
  assert.deepEqual([j.status, j.tries, j.costlyFailures, j.nextTry, j.sent], ['queued', 1, 1, T0 + 60_000, ['01-a.g3']]);
  assert.deepEqual(j.history, [{ at: T0, code: 12, line: 'ttyS0', meaning: 'sending pages failed (connection dropped)' }]);
  for (let i = 0; i < 3; i++) j = afterTry(j, { at: T0, code: 10, line: null, sentNow: [] }, limits);
  assert.equal(j.status, 'queued');
  j = afterTry(j, { at: T0, code: 10, line: null, sentNow: [] }, limits);
  assert.deepEqual([j.status, j.costlyFailures, j.tries], ['failed', 5, 5]);
  // Free failures (BUSY) do not count as costly but count as tries.
  let b = job();
  for (let i = 0; i < 9; i++) b = afterTry(b, { at: T0, code: 4, line: null, sentNow: [] }, limits);
  assert.equal(b.status, 'queued');
  b = afterTry(b, { at: T0, code: 4, line: null, sentNow: [] }, limits);
  assert.deepEqual([b.status, b.costlyFailures], ['failed', 0]);
  assert.equal(afterTry(job(), { at: T0, code: 1, line: null, sentNow: [] }, limits).status, 'failed');
  const done = afterTry(job(), { at: T0, code: 0, line: null, sentNow: [] }, limits);
  assert.deepEqual([done.status, done.sent], ['done', ['01-a.g3', '02-b.g3']]);
});

test('afterInterrupt: a try the runner broke off leaves the job queued and due, counts no try, keeps what was sent', () => {
  const j = afterInterrupt(job({ tries: 2, costlyFailures: 1, nextTry: T0 - 5 }), { at: T0, line: 'ttyS0', sentNow: ['01-a.g3'] });
  assert.deepEqual([j.status, j.tries, j.costlyFailures, j.nextTry, j.sent], ['queued', 2, 1, T0 - 5, ['01-a.g3']]);
  assert.deepEqual(j.history, [{ at: T0, code: null, line: 'ttyS0', meaning: INTERRUPTED }]);
});

test('phone numbers and copy names cannot become options, paths or shell words', () => {
  for (const p of ['5551234', '+49 89 123-456', '0,,5551234', 'T1', '*31#5551234']) assert.ok(validPhone(p), p);
  for (const p of ['', '-x', '555;rm', '555`id`', '$(id)', 'abc', '555\n']) assert.ok(!validPhone(p), JSON.stringify(p));
  assert.equal(copyName(0, '/home/u/My Letter (final).pdf'), '01-My_Letter__final_.pdf');
  assert.equal(copyName(11, '/x/..'), '12-file');
  assert.equal(copyName(1, '.hidden'), '02-hidden');
});

test('queue, list, remove: a job dir 0700 with copies and the job file; only the owner or root removes', (t) => {
  const dir = tempDir(t);
  const q = join(dir, 'outgoing');
  const src = join(dir, 'letter.g3');
  writeFileSync(src, 'G3DATA');
  const j = queueJob(q, { phone: '5551234', files: [src, src], mail: 'alice', normal: true, owner: me, now: T0 });
  assert.match(j.id, /^[0-9a-z]+-[0-9a-f]{8}$/);
  assert.equal(lstatSync(q).mode & 0o777, 0o755, 'the queue dir is made 0755');
  assert.equal(lstatSync(join(q, j.id)).mode & 0o777, 0o700);
  assert.deepEqual(j.files, ['01-letter.g3', '02-letter.g3']);
  // Made aside and renamed in complete (a watching runner never sees a job dir without its job): nothing else is left.
  assert.deepEqual(readdirSync(q), [j.id]);
  assert.equal(queueStopped(q), false);
  writeFileSync(join(q, STOP_FILE), '');
  assert.equal(queueStopped(q), true);
  unlinkSync(join(q, STOP_FILE));
  assert.equal(readFileSync(join(q, j.id, '01-letter.g3'), 'utf8'), 'G3DATA');
  writeFileSync(src, 'CHANGED');
  assert.equal(readFileSync(join(q, j.id, '02-letter.g3'), 'utf8'), 'G3DATA', 'a copy, not the file');
  const listed = listJobs(q);
  assert.equal(listed.length, 1);
  assert.ok(listed[0].ok && listed[0].job.mail === 'alice' && listed[0].job.normal);
  // A broken job is listed with its problem, never crashes the list.
  mkdirSync(join(q, 'mzzzzzz-00000000'));
  writeFileSync(join(q, 'mzzzzzz-00000000', JOB_FILE), '{"not": "a job"}');
  const again = listJobs(q);
  assert.deepEqual(again.map((l) => [l.id, l.ok]), [[j.id, true], ['mzzzzzz-00000000', false]]);
  assert.throws(() => removeJob(q, '../etc', 0), (e) => isTgettyError(e, 'CLI_USAGE'));
  if (me.uid === 0) assert.throws(() => removeJob(q, j.id, 4242), /not yours/);
  removeJob(q, j.id, me.uid);
  assert.equal(existsSync(join(q, j.id)), false);
  assert.throws(() => queueJob(q, { phone: '-oProxyCommand', files: [src], mail: null, normal: false, owner: me, now: T0 }), (e) => isTgettyError(e, 'CLI_USAGE'));
  assert.throws(() => queueJob(q, { phone: '555', files: [join(dir, 'missing')], mail: null, normal: false, owner: me, now: T0 }), /cannot queue/);
});

test('an unsafe queue dir is refused: a symlink, or world-writable without the sticky bit', (t) => {
  const dir = tempDir(t);
  const real = join(dir, 'real');
  mkdirSync(real);
  symlinkSync(real, join(dir, 'link'));
  assert.throws(() => checkQueueDir(join(dir, 'link')), /symbolic link/);
  chmodSync(real, 0o777);
  assert.throws(() => checkQueueDir(real), /without the sticky bit/);
  chmodSync(real, 0o1777);
  checkQueueDir(real);
});

test('staging: the files go to a private copy; a file swapped for a symlink is refused, not followed', (t) => {
  const dir = tempDir(t);
  const q = join(dir, 'outgoing');
  const src = join(dir, 'a.g3');
  writeFileSync(src, 'PAGE');
  const j = queueJob(q, { phone: '5551234', files: [src, src], mail: null, normal: false, owner: me, now: T0 });
  const r = readJob(q, j.id);
  assert.ok(r.ok);
  const staged = stageFiles(q, { ...r.job, sent: ['01-a.g3'] }, r.dirUid);
  t.after(() => rmSync(staged.staging, { recursive: true, force: true }));
  assert.deepEqual(staged.files.map((f) => f.name), ['02-a.g3'], 'a page already sent is not sent again');
  assert.equal(readFileSync(staged.files[0].path, 'utf8'), 'PAGE');
  assert.equal(lstatSync(staged.staging).mode & 0o777, 0o700);
  unlinkSync(join(q, j.id, '02-a.g3'));
  symlinkSync('/etc/passwd', join(q, j.id, '02-a.g3'));
  assert.throws(() => stageFiles(q, r.job, r.dirUid), /symbolic link/);
});
