// `tgetty sendfax` on a line the daemon serves: it takes the line's UUCP lock as any
// dial-out program (cu) does, the daemon steps aside (state dialout, no answer) while the
// lock is held, and when sendfax is done the daemon sets the modem up again and the line
// answers a normal call. Nothing is left behind (locks, fds, children).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeG3 } from '../../src/fax/codec/t4.js';
import { randomPage } from '../helpers/fax-pages.js';
import { daemonRig } from '../helpers/leaks.js';
import { runSendfax } from '../helpers/sendfax-run.js';

const skip = process.getuid?.() === 0 ? undefined : 'needs root (login.config must be owned by root)';

test('the daemon backs off while tgetty sendfax holds the line\'s lock, and re-inits the line after it', { skip }, async (t) => {
  const r = await daemonRig(t, { fax: true });
  await r.waitState(0, 'idle', 20_000);
  const machineDir = join(r.paths.root, 'machine');
  mkdirSync(machineDir);
  // The fax machine answers after 1.5 s: long enough for the daemon to see the lock.
  const machine = r.bank.addFaxMachine({ number: '4711', dir: machineDir, id: 'FAX MACHINE', answerAfterMs: 1_500 });
  const page = join(r.paths.root, 'p.g3');
  writeFileSync(page, encodeG3(randomPage(7, 1728, 150)));
  const states = new Set<string>();
  let watching = true;
  const watch = (async () => {
    while (watching) {
      const s = r.state(0);
      if (s !== undefined) states.add(s);
      await new Promise((res) => setTimeout(res, 20));
    }
  })();
  let pid = 0;
  const run = await runSendfax({ args: ['-x', '9', '-l', join(r.paths.sim, 'ttySIM0'), '4711', page], lockDir: r.paths.lock, started: (p) => (pid = p) });
  watching = false;
  await watch;
  assert.equal(run.code, 0, `sendfax exit 0:\n${run.output}\n${run.log.split('\n').slice(-25).join('\n')}`);
  assert.equal(machine.received.length, 1, 'the fax machine got the fax');
  assert.ok(states.has('dialout'), `the line was in dialout while sendfax ran (states seen: ${[...states].join(', ')})`);
  await r.waitLog(0, new RegExp(`dialout in progress: '[^']*tgetty[^']*sendfax[^']*' \\(pid ${pid}\\)`), 5_000);
  await r.waitLog(0, /dial-out finished, re-initialising the line/, 15_000);
  await r.inService(0);
  await r.finish();
});
