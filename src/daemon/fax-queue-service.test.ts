import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock, systemClock } from '../core/clock.js';
import { INTERRUPTED, STOP_FILE, queueJob, readJob, type ListedJob, type FaxJob } from '../fax/queue.js';
import { FaxQueueService, type FaxQueueServiceOptions } from './fax-queue-service.js';
import { planQueue, type TryResult } from './fax-queue-runner.js';

const quiet = { mesg: () => undefined, warn: () => undefined, error: () => undefined };
const owner = { uid: process.getuid?.() ?? 0, name: 'me' };

function rig(t: TestContext, senderScript: string): { dir: string; q: string; page: string; sender: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxsvc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const page = join(dir, 'p.g3');
  writeFileSync(page, 'G3');
  const sender = join(dir, 'sender');
  writeFileSync(sender, `#!/bin/sh\n${senderScript.replaceAll('$D', dir)}\n`);
  chmodSync(sender, 0o755);
  return { dir, q: join(dir, 'out'), page, sender };
}

/** The service, stopped (and its senders gone) after the test; tries collected; `nextTry()` resolves with the next one. */
function service(t: TestContext, o: Partial<FaxQueueServiceOptions> & Pick<FaxQueueServiceOptions, 'dir' | 'sender' | 'clock' | 'idleLines'>): { svc: FaxQueueService; tries: TryResult[]; nextTry: () => Promise<TryResult> } {
  const tries: TryResult[] = [];
  let waiter: ((r: TryResult) => void) | undefined;
  const svc = new FaxQueueService({
    log: quiet, watch: null, rescanMs: 0, linePollMs: 0, ...o,
    onTry: (r) => {
      tries.push(r);
      o.onTry?.(r);
      // After the service's own bookkeeping for the try (the line is free again).
      setImmediate(() => {
        const w = waiter;
        waiter = undefined;
        w?.(r);
      });
    },
  });
  t.after(() => svc.stop());
  let seen = 0;
  const nextTry = async (): Promise<TryResult> => {
    if (tries.length > seen) {
      await new Promise((res) => setImmediate(res));
      return tries[seen++];
    }
    return new Promise((resolve) => {
      waiter = (r) => {
        seen++;
        resolve(r);
      };
    });
  };
  return { svc, tries, nextTry };
}

function job(id: string, nextTry: number, status: FaxJob['status'] = 'queued'): ListedJob {
  return { id, ok: true, job: { id, nextTry, status } as FaxJob };
}

test('planQueue: due jobs oldest first, the earliest future try, in-flight and finished jobs left out', () => {
  const jobs = [job('a', 100), job('b', 50), job('c', 300), job('d', 200), job('e', 10, 'done'), { id: 'f', ok: false as const, problem: 'x' }];
  assert.deepEqual(planQueue(jobs, 100, new Set()), { due: ['a', 'b'], nextDue: 200, waiting: 2 });
  assert.deepEqual(planQueue(jobs, 100, new Set(['a', 'd'])), { due: ['b'], nextDue: 300, waiting: 1 });
  assert.deepEqual(planQueue([], 100, new Set()), { due: [], nextDue: undefined, waiting: 0 });
});

test('the runner gives each due job its own idle line, never a line it is using, and none while no line is idle', async (t) => {
  const r = rig(t, 'echo "$3" >> $D/log\nwhile [ ! -e $D/gate ]; do sleep 0.05; done\nexit 0');
  const clock = new FakeClock();
  const ids = [0, 1, 2].map((i) => queueJob(r.q, { phone: `555000${i}`, files: [r.page], mail: null, normal: false, owner, now: clock.now() - 10 + i }).id);
  let idle = ['ttyS0', 'ttyS1'];
  const { svc, tries, nextTry } = service(t, { dir: r.q, sender: { program: r.sender, args: [] }, clock, idleLines: () => idle });
  assert.deepEqual(svc.tick(), ids.slice(0, 2), 'two idle lines: the two oldest jobs');
  // The lines the runner uses are dialout for the supervisors; even if a stale view says idle, they are not reused.
  assert.deepEqual(svc.tick(), []);
  idle = [];
  writeFileSync(join(r.dir, 'gate'), '');
  await nextTry();
  await nextTry();
  assert.deepEqual(svc.tick(), [], 'no idle line: the third job waits');
  idle = ['ttyS1'];
  assert.deepEqual(svc.tick(), [ids[2]]);
  await nextTry();
  assert.deepEqual(tries.map((x) => [x.id, x.code, x.job.status]).sort(), ids.map((id) => [id, 0, 'done']));
  assert.deepEqual(readFileSync(join(r.dir, 'log'), 'utf8').trim().split('\n').sort(), ['ttyS0', 'ttyS1', 'ttyS1']);
  assert.deepEqual(svc.tick(), [], 'nothing due');
});

test('event driven: nothing due = no timer at all; a job queued while the runner runs is sent at once (inotify on the queue dir)', async (t) => {
  const r = rig(t, 'exit 0');
  // The watch does not keep a process alive (the daemon's lines do): this test's stand-in.
  const keepAlive = setInterval(() => undefined, 60_000);
  t.after(() => clearInterval(keepAlive));
  queueJob(r.q, { phone: '5550000', files: [r.page], mail: null, normal: false, owner, now: Date.now() - 1000 });
  let scans = 0;
  let scansAtTry = 0;
  let scanned: (() => void) | undefined;
  const { svc, nextTry } = service(t, {
    dir: r.q, sender: { program: r.sender, args: [] }, clock: systemClock, idleLines: () => ['ttyS0'], watch: undefined,
    onTry: () => {
      scansAtTry = scans;
    },
    onScan: () => {
      scans++;
      scanned?.();
    },
  });
  /** The look the end of the last try makes. */
  const lookAfterTry = async (): Promise<void> => {
    while (scans <= scansAtTry) {
      await new Promise<void>((resolve) => {
        scanned = resolve;
      });
    }
    scanned = undefined;
  };
  svc.start();
  assert.equal((await nextTry()).job.status, 'done', 'the job queued before the start');
  // The try's end makes one more look; then nothing is planned.
  await lookAfterTry();
  assert.equal(svc.nextLook, undefined, 'an idle queue plans no look (no polling)');
  const queued = Date.now();
  const j = queueJob(r.q, { phone: '5550001', files: [r.page], mail: null, normal: false, owner, now: queued });
  const tr = await nextTry();
  assert.equal(tr.id, j.id);
  assert.equal(tr.job.status, 'done');
  t.diagnostic(`queued -> sent in ${Date.now() - queued} ms`);
  await lookAfterTry();
  assert.equal(svc.nextLook, undefined);
});

test('a queue dir missing at the start: its parent is watched, and a job queued into the new dir is sent at once', async (t) => {
  const r = rig(t, 'exit 0');
  const keepAlive = setInterval(() => undefined, 60_000);
  t.after(() => clearInterval(keepAlive));
  const { svc, nextTry } = service(t, { dir: r.q, sender: { program: r.sender, args: [] }, clock: systemClock, idleLines: () => ['ttyS0'], watch: undefined });
  svc.start();
  await new Promise((res) => setTimeout(res, 0)); // the first look (the start's)
  assert.equal(existsSync(r.q), false);
  assert.equal(svc.nextLook, undefined, 'nothing planned: the parent watch wakes it');
  const j = queueJob(r.q, { phone: '5550001', files: [r.page], mail: null, normal: false, owner, now: Date.now() });
  const tr = await nextTry();
  assert.deepEqual([tr.id, tr.job.status], [j.id, 'done']);
});

test('a job with a future due time is sent at that time, a failed try again after the retry delay; in between no timer but the due one', async (t) => {
  const r = rig(t, 'echo x >> $D/tries\n[ "$(wc -l < $D/tries)" -ge 2 ] && exit 0\nexit 4');
  const clock = new FakeClock();
  const at = clock.now() + 3600_000;
  const j = queueJob(r.q, { phone: '5551234', files: [r.page], mail: null, normal: false, owner, now: clock.now(), notBefore: at });
  const { svc, nextTry, tries } = service(t, { dir: r.q, sender: { program: r.sender, args: [] }, clock, idleLines: () => ['ttyS0'], limits: { retryDelayMs: 600_000 } });
  svc.start();
  clock.advance(0);
  assert.equal(svc.nextLook, at, 'one timer, for the due time');
  assert.equal(clock.pending, 1);
  clock.advance(3600_000 - 1);
  assert.equal(existsSync(join(r.dir, 'tries')), false, 'not before its time');
  assert.equal(svc.active, 0);
  clock.advance(1);
  assert.equal(svc.active, 1, 'sent at its time');
  const first = await nextTry();
  assert.equal(first.code, 4, 'BUSY');
  assert.equal(first.job.status, 'queued');
  assert.equal(first.job.nextTry, at + 600_000);
  clock.advance(0); // the look after the try
  assert.equal(svc.nextLook, at + 600_000, 'the retry time is the next look');
  assert.equal(clock.pending, 1);
  clock.advance(600_000);
  const second = await nextTry();
  assert.equal(second.id, j.id);
  assert.equal(second.job.status, 'done');
  clock.advance(0);
  assert.equal(svc.nextLook, undefined);
  assert.equal(clock.pending, 0, 'nothing queued: no timer');
  assert.equal(tries.length, 2);
});

test('due jobs without an idle line wait for lineIdle(), without polling; the stop file holds the queue (faxrunq)', async (t) => {
  const r = rig(t, 'exit 0');
  const clock = new FakeClock();
  queueJob(r.q, { phone: '5551234', files: [r.page], mail: null, normal: false, owner, now: clock.now() - 1 });
  let idle: string[] = [];
  const counts: unknown[] = [];
  const { svc, nextTry } = service(t, { dir: r.q, sender: { program: r.sender, args: [] }, clock, idleLines: () => idle, onScan: (c) => counts.push(c) });
  writeFileSync(join(r.q, STOP_FILE), '');
  idle = ['ttyS0'];
  assert.deepEqual(svc.tick(), [], 'stop file: nothing sent');
  assert.equal(clock.pending, 0);
  svc.lineIdle();
  assert.equal(clock.pending, 0, 'a line idle changes nothing while the queue is stopped');
  unlinkSync(join(r.q, STOP_FILE));
  idle = [];
  assert.deepEqual(svc.tick(), []);
  assert.deepEqual(counts.at(-1), { waiting: 0, due: 1, sending: 0 });
  assert.equal(clock.pending, 0, 'waiting for a line: no timer (lineIdle() wakes it)');
  idle = ['ttyS0'];
  svc.lineIdle();
  assert.equal(clock.pending, 1);
  clock.advance(0);
  assert.equal(svc.active, 1);
  assert.equal((await nextTry()).job.status, 'done');
});

/** The sender: writes its pid, sends ("renames") the first file, then "sends" the second until killed. */
const HANGING = 'echo $$ > $D/pid\nmv "$5" "$5.done"\ntouch $D/started\nwhile :; do sleep 0.05; done';

async function untilFile(path: string): Promise<void> {
  for (let i = 0; i < 400 && !existsSync(path); i++) await new Promise((res) => setTimeout(res, 25));
  assert.ok(existsSync(path), `${path} never came`);
}

function dead(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
}

for (const v of [
  { name: 'SIGTERM ends it (sendfax hangs up)', trap: "trap 'echo term > $D/term; exit 15' TERM", term: true },
  { name: 'it ignores SIGTERM: SIGKILL after the bound', trap: "trap '' TERM", term: false },
]) {
  test(`stop with a sender running: it may finish for the grace time, then ${v.name}; the job is left queued and due, what went through stays sent`, async (t) => {
    const r = rig(t, `${v.trap}\n${HANGING}`);
    const clock = new FakeClock();
    const second = join(r.dir, 'q.g3');
    writeFileSync(second, 'G3');
    const j = queueJob(r.q, { phone: '5551234', files: [r.page, second], mail: null, normal: false, owner, now: clock.now() - 1 });
    const { svc, tries } = service(t, { dir: r.q, sender: { program: r.sender, args: [] }, clock, idleLines: () => ['ttyS0'], stopGraceMs: 20_000, killAfterMs: 300 });
    assert.deepEqual(svc.tick(), [j.id]);
    await untilFile(join(r.dir, 'started'));
    const pid = Number(readFileSync(join(r.dir, 'pid'), 'utf8'));
    let stopped = false;
    const stopping = svc.stop().then(() => {
      stopped = true;
    });
    clock.advance(19_999);
    await new Promise((res) => setImmediate(res));
    assert.equal(stopped, false, 'waits for the sender during the grace time');
    assert.equal(dead(pid), false);
    clock.advance(1);
    await stopping;
    assert.ok(dead(pid), 'no sender left behind');
    assert.equal(existsSync(join(r.dir, 'term')), v.term);
    const after = readJob(r.q, j.id);
    assert.ok(after.ok);
    assert.equal(after.job.status, 'queued');
    assert.equal(after.job.tries, 0, 'not counted as a try');
    assert.equal(after.job.costlyFailures, 0);
    assert.ok(after.job.nextTry <= clock.now(), 'due for the next run');
    assert.deepEqual(after.job.sent, [j.files[0]], 'the file that went through is not sent again');
    assert.equal(after.job.history.at(-1)?.meaning, INTERRUPTED);
    assert.equal(existsSync(join(r.q, j.id, 'job.lock')), false, 'the job is not held');
    assert.equal(tries.length, 1);
    assert.deepEqual(svc.tick(), [], 'a stopped runner starts nothing');
  });
}

test('stop: a sender that finishes within the grace time is not signalled; its job is done', async (t) => {
  const r = rig(t, "trap 'echo term > $D/term; exit 15' TERM\ntouch $D/started\nwhile [ ! -e $D/gate ]; do sleep 0.05; done\nexit 0");
  const clock = new FakeClock();
  const j = queueJob(r.q, { phone: '5551234', files: [r.page], mail: null, normal: false, owner, now: clock.now() - 1 });
  const { svc } = service(t, { dir: r.q, sender: { program: r.sender, args: [] }, clock, idleLines: () => ['ttyS0'] });
  svc.tick();
  await untilFile(join(r.dir, 'started'));
  const stopping = svc.stop();
  writeFileSync(join(r.dir, 'gate'), '');
  await stopping;
  assert.equal(existsSync(join(r.dir, 'term')), false);
  const after = readJob(r.q, j.id);
  assert.ok(after.ok && after.job.status === 'done');
});
