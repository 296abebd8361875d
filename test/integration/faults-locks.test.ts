// Fault injection, lock files: a stale lock (dead owner), a live lock held by another
// process, a lock directory that cannot be written. The daemon runs in this process on
// simulated lines; after each case the line must answer a normal call again and nothing
// may be left behind (fds, children, locks, utmp records). See docs/fault-injection.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { formatLockPid, isProcessAlive as isAliveProcess } from '../../src/line/lock.js';
import { createBank } from '../../src/sim/index.js';
import { daemonRig, liveUtmp, lockFiles, lockTemplates, waitFor } from '../helpers/leaks.js';

const skip = process.getuid?.() === 0 ? undefined : 'needs root (login.config must be owned by root)';

/** A pid that belonged to a process of ours that has exited (and was reaped). */
async function deadPid(): Promise<number> {
  const c = spawn('/bin/true', [], { stdio: 'ignore' });
  const pid = c.pid;
  await new Promise((r) => c.on('exit', r));
  if (pid === undefined) throw new Error('could not start /bin/true');
  return pid;
}

test('a stale lock file (dead owner) is removed at start-up and the line answers', { skip }, async (t) => {
  const pid = await deadPid();
  const r = await daemonRig(t, { setup: (p) => writeFileSync(join(p.lock, 'LCK..ttySIM0'), formatLockPid(pid)) });
  await r.waitLog(0, new RegExp(`removing stale lock file .*LCK\\.\\.ttySIM0 of dead process ${pid}`), 10_000);
  await r.inService(0);
  await r.finish();
});

test('a live lock held by another process: the line steps aside (dialout) and comes back when the owner is gone', { skip }, async (t) => {
  const r = await daemonRig(t);
  await r.waitState(0, 'idle', 20_000);
  // A stand-in for cu: ours, so the test may end it by pid.
  const owner = spawn('/bin/sleep', ['60'], { stdio: 'ignore' });
  const gone = new Promise((res) => owner.on('exit', res));
  t.after(async () => {
    if (owner.exitCode === null && owner.signalCode === null) owner.kill('SIGKILL');
    await gone;
  });
  assert.ok(owner.pid !== undefined);
  writeFileSync(join(r.paths.lock, 'LCK..ttySIM0'), formatLockPid(owner.pid));
  await r.waitState(0, 'dialout', 5_000);
  await r.waitLog(0, new RegExp(`dialout in progress: '/bin/sleep 60' \\(pid ${owner.pid}\\)`), 5_000);
  // While the lock is held a call is not answered.
  const mark = r.bank.line(0).fromDte.all.length;
  const call = r.bank.line(0).call({ cidFormat: 'none', maxRings: 2, ringCadenceMs: 1_000 });
  assert.equal(await call.ended, 'not-answered');
  assert.doesNotMatch(r.bank.line(0).fromDte.all.slice(mark), /ATA/);
  // Killed like a dial-out program that never cleans up: its lock stays, stale.
  owner.kill('SIGKILL');
  await gone;
  await r.waitLog(0, /dial-out finished, re-initialising the line/, 15_000);
  await r.inService(0);
  await r.finish();
});

test('the lock directory cannot be written: a configuration error in status (not a dial-out), no call is answered, and the line recovers when it is fixed', { skip }, async (t) => {
  // A regular file where the lock directory should be: every lock attempt fails (ENOTDIR),
  // as on a read-only or missing /var/lock. (Root ignores permission bits, so a mode
  // change would not do.)
  const r = await daemonRig(t, {
    setup: (p) => {
      rmSync(p.lock, { recursive: true });
      writeFileSync(p.lock, 'not a directory\n');
    },
  });
  await r.waitLog(0, /lock directory .* is not a directory; .*next try in/, 10_000);
  await r.waitState(0, 'error', 5_000);
  const st = r.daemon.status().lines[0];
  assert.match(st?.detail ?? '', /lock directory .* is not a directory/);
  assert.match(st?.lastError?.message ?? '', /lock directory .* is not a directory/);
  assert.doesNotMatch(r.logText(0), /dialout in progress/);
  // Without a lock the line is not answered (a dial-out program could be on it).
  const call = r.bank.line(0).call({ cidFormat: 'none', maxRings: 2, ringCadenceMs: 1_000 });
  assert.equal(await call.ended, 'not-answered');
  assert.doesNotMatch(r.bank.line(0).fromDte.all, /ATA/);
  rmSync(r.paths.lock);
  mkdirSync(r.paths.lock);
  await r.inService(0);
  assert.deepEqual(lockFiles(r.paths.lock), []);
  await r.finish();
});

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');
const unshareMissing = process.getuid?.() !== 0 ? 'needs root (unshare -m, mount)' : existsSync('/usr/bin/unshare') ? undefined : 'unshare not installed';

test('single-line: a read-only lock directory (EROFS) at start-up: clear error, no answer, and a call is answered once it is writable', { skip: unshareMissing }, async (t) => {
  // The read-only bind mount exists only in a private mount namespace; the shell there
  // starts tgetty, and lifts the mount when the test creates the FIX file.
  const root = mkdtempSync(join(tmpdir(), 'tgetty-faults-ro-'));
  const p = { etc: join(root, 'etc'), lock: join(root, 'lock'), log: join(root, 'log'), run: join(root, 'run'), utmp: join(root, 'utmp'), wtmp: join(root, 'wtmp'), sim: join(root, 'sim') };
  for (const d of [p.etc, p.lock, p.log, p.run, p.sim]) mkdirSync(d);
  writeFileSync(p.utmp, '');
  writeFileSync(p.wtmp, '');
  writeFileSync(join(p.etc, 'mgetty.config'), 'toggle-dtr no\nlogin-prompt login:\nissue-file Line \\P\n');
  writeFileSync(join(p.etc, 'rec.sh'), '#!/bin/sh\necho "REC $* on $DEVICE"\n');
  chmodSync(join(p.etc, 'rec.sh'), 0o755);
  writeFileSync(join(p.etc, 'login.config'), `* - - ${p.etc}/rec.sh login @\n`, { mode: 0o600 });
  chmodSync(join(p.etc, 'login.config'), 0o600);
  const fix = join(root, 'FIX');
  const bank = await createBank({ lines: 1, dir: p.sim });
  const script = [
    'set -e',
    `mount --bind -o ro '${p.lock}' '${p.lock}'`,
    `'${process.execPath}' '${BIN}' --config-dir '${p.etc}' --lock-dir '${p.lock}' --log-dir '${p.log}' --run-dir '${p.run}' --utmp '${p.utmp}' --wtmp '${p.wtmp}' '${join(p.sim, 'ttySIM0')}' &`,
    'echo "PID $!"',
    `while [ ! -e '${fix}' ]; do sleep 0.1; done`,
    `umount '${p.lock}'`,
    'wait $! && echo "EXIT 0" || echo "EXIT $?"',
  ].join('\n');
  const sh = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  sh.stdout.on('data', (b: Buffer) => (out += b.toString()));
  sh.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const shDone = new Promise((res) => sh.on('exit', res));
  const pidOf = { tgetty: undefined as number | undefined };
  t.after(async () => {
    writeFileSync(fix, '');
    if (pidOf.tgetty !== undefined) {
      try {
        process.kill(pidOf.tgetty, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    const k = setTimeout(() => sh.kill('SIGKILL'), 5_000);
    await shDone;
    clearTimeout(k);
    await bank.close();
    rmSync(root, { recursive: true, force: true });
  });
  const logText = (): string => (existsSync(join(p.log, 'ttySIM0.log')) ? readFileSync(join(p.log, 'ttySIM0.log'), 'utf8') : '');
  await waitFor(() => /PID \d+/.test(out), 5_000, 'tgetty to start');
  const tgettyPid = Number(/PID (\d+)/.exec(out)?.[1]);
  pidOf.tgetty = tgettyPid;
  await waitFor(() => /lock directory .* is not writable \(EROFS\)/.test(logText()), 10_000, 'the EROFS error in the log');
  // Not answered while the line cannot be locked.
  const refused = bank.line(0).call({ cidFormat: 'none', maxRings: 2, ringCadenceMs: 1_000 });
  assert.equal(await refused.ended, 'not-answered');
  assert.ok(isAliveProcess(tgettyPid), 'tgetty keeps running');
  writeFileSync(fix, '');
  await waitFor(() => /waiting\.\.\./.test(logText()), 15_000, 'the line to come back');
  const call = bank.line(0).call({ cidFormat: 'none' });
  await call.waitFor(/login:/, 10_000);
  call.write('ro\r');
  await call.waitFor(/REC login ro on ttySIM0/, 10_000);
  await shDone;
  assert.match(out, /EXIT 0/, out);
  assert.deepEqual(lockFiles(p.lock), []);
  assert.deepEqual(lockTemplates(p.lock), [], 'the lock template goes with the getty');
  assert.deepEqual(liveUtmp(p.utmp), []);
});
