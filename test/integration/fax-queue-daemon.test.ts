// The daemon's fax queue runner on a simulated line: a due job is given to the idle line,
// the sender (a stand-in for sendfax: it takes the line's UUCP lock with its own pid, as
// sendfax and cu do, holds it while it "sends", then removes it and exits 0) runs with
// -l <line>; meanwhile the line supervisor steps aside (dialout) and answers nothing,
// and after the lock is gone it re-initialises the modem and answers calls again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock } from '../../src/core/clock.js';
import { queueJob, readJob } from '../../src/fax/queue.js';
import { FaxQueueService } from '../../src/daemon/fax-queue-service.js';
import type { TryResult } from '../../src/daemon/fax-queue-runner.js';
import { daemonRig, waitFor } from '../helpers/leaks.js';

const skip = process.getuid?.() === 0 ? undefined : 'needs root (login.config must be owned by root)';

test('serve --fax-queue: a due job goes to the idle line; the line is dialout while the sender holds the lock, then back in service', { skip }, async (t) => {
  const r = await daemonRig(t);
  const q = join(r.paths.root, 'outgoing');
  const page = join(r.paths.root, 'page.g3');
  writeFileSync(page, 'G3');
  const argvFile = join(r.paths.root, 'argv');
  const held = join(r.paths.root, 'held');
  const sender = join(r.paths.etc, 'fake-sendfax');
  const lock = join(r.paths.lock, 'LCK..ttySIM0');
  writeFileSync(
    sender,
    `#!/bin/sh
printf '%s\\n' "$@" > ${argvFile}
printf '%10d\\n' $$ > ${lock}
touch ${held}
# "sending" until the test has seen the line step aside
i=0; while [ ! -e ${held}.seen ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
rm -f ${lock}
exit 0
`,
  );
  chmodSync(sender, 0o755);
  await r.waitState(0, 'idle', 20_000);
  const job = queueJob(q, { phone: '5551234', files: [page], mail: null, normal: false, owner: { uid: 0, name: 'root' }, now: Date.now() });
  const tries: TryResult[] = [];
  const svc = new FaxQueueService({
    dir: q,
    sender: { program: sender, args: [] },
    clock: systemClock,
    log: { mesg: () => undefined, warn: (m) => t.diagnostic(m), error: (m) => t.diagnostic(m) },
    idleLines: () => r.daemon.idleFaxLines(),
    linePollMs: 300,
    onTry: (x) => tries.push(x),
  });
  t.after(() => svc.stop());
  svc.start();
  await waitFor(() => existsSync(held), 10_000, 'the sender to take the lock');
  await r.waitState(0, 'dialout', 10_000);
  assert.deepEqual(r.daemon.idleFaxLines(), [], 'a line in dialout is not idle');
  writeFileSync(`${held}.seen`, '');
  await waitFor(() => tries.length === 1, 15_000, 'the try to end');
  assert.equal(tries[0].code, 0);
  const argv = readFileSync(argvFile, 'utf8').trim().split('\n');
  // A line outside /dev is given by its path (sendfax -l takes a tty name or a device path).
  assert.deepEqual(argv.slice(0, 4), ['-r', '-l', join(r.paths.sim, 'ttySIM0'), '5551234']);
  const after = readJob(q, job.id);
  assert.ok(after.ok && after.job.status === 'done' && after.job.history[0].line === join(r.paths.sim, 'ttySIM0'));
  await r.waitLog(0, /dial-out finished, re-initialising the line/, 15_000);
  await r.inService(0);
  await r.finish();
});
