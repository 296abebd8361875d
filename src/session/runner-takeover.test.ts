// The runner takes the line back (src/line/takeover.ts) once the lock is ours and before
// it opens the line, on every start, so an earlier session's orphans never see the init chat.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { until } from '../../test/helpers/drive.js';
import { rig } from '../../test/helpers/runner-rig.js';

test('takeOver runs after the lock is taken and before the line is prepared and opened; the init chat waits for it', async (t) => {
  const steps: string[] = [];
  let lockDir = '';
  let release: (() => void) | undefined;
  const r = rig(t, '', { reply: () => 'OK' }, {
    takeOver: () => {
      const lock = join(lockDir, 'LCK..ttyT0');
      steps.push(existsSync(lock) && readFileSync(lock, 'utf8').trim() === String(process.pid) ? 'takeover (locked)' : 'takeover (NOT locked)');
      return new Promise<void>((res) => (release = res));
    },
    prepareDevice: () => void steps.push('prepare'),
  }, (dir) => (lockDir = join(dir, 'lock')));
  await until(r.clock, () => release !== undefined);
  // While the takeover runs (its SIGHUP -> SIGKILL grace), nothing is written to the line.
  const at = r.clock.now();
  await until(r.clock, () => r.clock.now() >= at + 5_000);
  assert.deepEqual(steps, ['takeover (locked)']);
  assert.deepEqual(r.modem.commands, [], 'no init chat before the takeover is done');
  release?.();
  await until(r.clock, () => r.runner.state.name === 'idle');
  assert.deepEqual(steps, ['takeover (locked)', 'prepare']);
});
