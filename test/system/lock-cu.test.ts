/**
 * System test: our UUCP lock handling against Debian's real `cu` (Taylor UUCP), which
 * locks in its compiled-in /var/lock with a 10-char ASCII pid and leaves the lock
 * behind when killed.
 *
 * The checks run inside `unshare -m` with a tmpfs over the real lock dir, so the
 * machine's /var/lock is never touched. This same file is the program run inside the
 * namespace (TGETTY_LOCK_CU_INNER=1): it prints one JSON result line for the outer test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CU_LOCK_DIR, cuSkipReason, runInPrivateLockDir } from '../helpers/lock-namespace.js';
import { spawn } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { closeFd, openPty } from '../../src/line/libc.js';
import { foreignLockOwner, formatLockPid, isProcessAlive, lockPath, makeLock, readLock, removeLock, watchLock } from '../../src/line/lock.js';
import type { LockContent, LockOwner } from '../../src/line/lock.js';

const LOCK_DIR = CU_LOCK_DIR;
const INNER_ENV = 'TGETTY_LOCK_CU_INNER';

interface InnerResult {
  cuPid: number;
  lockFile: string;
  whileRunning: { content: LockContent; foreign: LockOwner | undefined; make: { ok: boolean; ownerPid?: number; ownerCmd?: string } };
  afterKill: { content: LockContent; alive: boolean; foreign: LockOwner | undefined; make: boolean; logged: string[]; mine: LockContent; removed: boolean };
  error?: string;
}

async function inner(): Promise<InnerResult> {
  const pty = openPty();
  const cleanup: (() => void)[] = [() => closeFd(pty.master)];
  // A safety net, not an assertion: never leave cu running if something hangs.
  const guard = setTimeout(() => {
    for (const f of cleanup.reverse()) f();
    process.exit(3);
  }, 15_000);
  try {
    chmodSync(pty.slave, 0o666); // cu drops to user uucp before opening the line
    const lockFile = lockPath(LOCK_DIR, pty.slave);
    let appeared!: () => void;
    const seen = new Promise<void>((res) => (appeared = res));
    const w = watchLock(LOCK_DIR, pty.slave, (present) => {
      if (present) appeared();
    });
    cleanup.push(() => w.close());

    // Own process group: cu forks a helper, and the kill below must reach both.
    const child = spawn('cu', ['-l', pty.slave, '-s', '9600'], { stdio: ['pipe', 'ignore', 'pipe'], detached: true });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    cleanup.push(() => {
      if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid as number), 'SIGKILL');
    });
    const early = exited.then(() => {
      throw new Error(`cu exited early: ${stderr.trim()}`);
    });
    if (!w.present) await Promise.race([seen, early]);
    early.catch(() => undefined);

    const r1 = makeLock(LOCK_DIR, pty.slave);
    const whileRunning = {
      content: readLock(lockFile),
      foreign: foreignLockOwner(LOCK_DIR, pty.slave),
      make: r1.ok ? { ok: true } : { ok: false, ownerPid: r1.ownerPid, ownerCmd: r1.ownerCmd },
    };

    // SIGKILL: cu gets no chance to clean up, so its lock stays behind.
    process.kill(-(child.pid as number), 'SIGKILL');
    await exited;
    const content = readLock(lockFile);
    const alive = content.state === 'pid' ? isProcessAlive(content.pid) : true;
    const logged: string[] = [];
    const foreign = foreignLockOwner(LOCK_DIR, pty.slave, { log: { warn: (m) => logged.push(m), mesg: (m) => logged.push(m) } });
    // foreignLockOwner already removed the stale lock; put cu's leftover back to test makeLock too.
    writeFileSync(lockFile, formatLockPid(child.pid as number));
    const make = makeLock(LOCK_DIR, pty.slave, { log: { warn: (m) => logged.push(m), mesg: (m) => logged.push(m) } }).ok;
    const mine = readLock(lockFile);
    const removed = removeLock(LOCK_DIR, pty.slave);
    return { cuPid: child.pid as number, lockFile, whileRunning, afterKill: { content, alive, foreign, make, logged, mine, removed } };
  } finally {
    clearTimeout(guard);
    for (const f of cleanup.reverse()) f();
  }
}


if (process.env[INNER_ENV] === '1') {
  try {
    process.stdout.write(`${JSON.stringify(await inner())}\n`);
  } catch (err) {
    process.stdout.write(`${JSON.stringify({ error: err instanceof Error ? err.message : String(err) })}\n`);
    process.exitCode = 1;
  }
} else {
  test('real cu: its lock is a live foreign lock, and its leftover lock is stale', (t) => {
    const why = cuSkipReason();
    if (why !== undefined) return t.skip(why);
    const { res, status, stderr } = runInPrivateLockDir<InnerResult>(import.meta.url, INNER_ENV, 30_000);
    assert.equal(res.error, undefined, res.error);
    assert.equal(status, 0, stderr);

    // cu's lock: HDB ASCII with cu's pid, seen as held by a live process.
    assert.deepEqual(res.whileRunning.content, { state: 'pid', pid: res.cuPid, format: 'ascii' });
    assert.equal(res.whileRunning.foreign?.pid, res.cuPid);
    assert.equal(res.whileRunning.foreign?.reason, 'live');
    assert.match(res.whileRunning.foreign?.cmd ?? '', /^cu -l \/dev\/pts\/\d+ -s 9600$/);
    assert.equal(res.whileRunning.make.ok, false);
    assert.equal(res.whileRunning.make.ownerPid, res.cuPid);

    // After SIGKILL cu's lock is left behind, recognised as stale and removed.
    assert.deepEqual(res.afterKill.content, { state: 'pid', pid: res.cuPid, format: 'ascii' });
    assert.equal(res.afterKill.alive, false);
    assert.equal(res.afterKill.foreign, undefined);
    assert.equal(res.afterKill.make, true);
    assert.equal(res.afterKill.logged.length, 2);
    for (const m of res.afterKill.logged) assert.match(m, new RegExp(`removing stale lock file .* of dead process ${res.cuPid}`));
    assert.equal(res.afterKill.mine.state, 'pid');
    assert.equal(res.afterKill.removed, true);
  });
}
