import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../core/clock.js';
import { queueJob } from '../fax/queue.js';
import { FaxQueueService } from './fax-queue-service.js';
import type { TryResult } from './fax-queue-runner.js';

test('the runner gives each due job its own idle line, never a line it is using, and none while no line is idle', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxsvc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const q = join(dir, 'out');
  const page = join(dir, 'p.g3');
  writeFileSync(page, 'G3');
  const log = join(dir, 'log');
  const gate = join(dir, 'gate');
  const sender = join(dir, 'sender');
  // Records its line, then waits for the gate file (so tries overlap), exits 0.
  writeFileSync(sender, `#!/bin/sh\necho "$3" >> ${log}\nwhile [ ! -e ${gate} ]; do sleep 0.05; done\nexit 0\n`);
  chmodSync(sender, 0o755);
  const clock = new FakeClock();
  const owner = { uid: process.getuid?.() ?? 0, name: 'me' };
  const ids = [0, 1, 2].map((i) => queueJob(q, { phone: `555000${i}`, files: [page], mail: null, normal: false, owner, now: clock.now() - 10 + i }).id);
  let idle = ['ttyS0', 'ttyS1'];
  const tries: TryResult[] = [];
  const svc = new FaxQueueService({
    dir: q, sender: { program: sender, args: [] }, clock, log: { mesg: () => undefined, warn: () => undefined, error: () => undefined },
    idleLines: () => idle, pollMs: 10_000, onTry: (r) => tries.push(r),
  });
  t.after(() => svc.stop());
  assert.deepEqual(svc.tick(), ids.slice(0, 2), 'two idle lines: the two oldest jobs');
  // The lines the runner uses are dialout for the supervisors; even if a stale view says idle, they are not reused.
  assert.deepEqual(svc.tick(), []);
  idle = [];
  writeFileSync(gate, '');
  const waitTries = async (n: number): Promise<void> => {
    for (let i = 0; i < 200 && tries.length < n; i++) await new Promise((r) => setTimeout(r, 25));
  };
  await waitTries(2);
  assert.equal(tries.length, 2);
  assert.deepEqual(svc.tick(), [], 'no idle line: the third job waits');
  idle = ['ttyS1'];
  assert.deepEqual(svc.tick(), [ids[2]]);
  await waitTries(3);
  assert.deepEqual(tries.map((x) => [x.id, x.code, x.job.status]).sort(), ids.map((id) => [id, 0, 'done']));
  assert.deepEqual(readFileSync(log, 'utf8').trim().split('\n').sort(), ['ttyS0', 'ttyS1', 'ttyS1']);
  assert.deepEqual(svc.tick(), [], 'nothing due');
});
