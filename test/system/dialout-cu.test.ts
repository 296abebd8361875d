/**
 * System test: Debian's real `cu` dials out on a line our binary is watching.
 *
 * tgetty (bin/tgetty.mjs, single-line mode) runs on a simulator line with the real lock
 * dir /var/lock; cu takes the line, talks to the simulated modem, and is killed (so its
 * lock is left behind, stale). tgetty must stay off the line while cu holds it, then
 * re-initialise the modem and answer the next call.
 *
 * Everything runs inside `unshare -m` with a tmpfs over the lock dir, so the machine's
 * /var/lock is never touched. This same file is the program run inside the namespace
 * (TGETTY_DIALOUT_CU_INNER=1): it prints one JSON result line for the outer test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CU_LOCK_DIR, cuSkipReason, runInPrivateLockDir } from '../helpers/lock-namespace.js';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBank, type SimBank } from '../../src/sim/index.js';
import { lockPath, readLock, type LockContent } from '../../src/line/lock.js';
import { deviceId } from '../../src/log/logger.js';
import { startTgetty, type TgettyRun } from '../helpers/tgetty-run.js';

const LOCK_DIR = CU_LOCK_DIR;
const INNER_ENV = 'TGETTY_DIALOUT_CU_INNER';
const CONFIG = 'toggle-dtr no\nfido-send-emsi no\nport-mode 0666\nissue-file Welcome to \\P\nlogin-prompt sim login:\n';

interface InnerResult {
  slave: string;
  cuPid: number;
  /** The lock while cu ran. */
  lockWhileCu: LockContent;
  /** cu's stdout (the modem's answer to AT). */
  cuOutput: string;
  /** Everything the modem received from the DTE side while cu held the lock. */
  dteWhileCu: string;
  /** The lock right after cu was killed: left behind. */
  lockAfterKill: LockContent;
  /** The modem's input after cu died: tgetty's init chat again, then ATA. */
  dteAfterCu: string;
  /** What the caller of the next call saw. */
  callerSaw: string;
  log: string;
  error?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function poll(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    if (cond()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function inner(): Promise<InnerResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-dialout-'));
  let bank: SimBank | undefined;
  let tg: TgettyRun | undefined;
  let cu: ChildProcess | undefined;
  const cleanup = async (): Promise<void> => {
    if (cu !== undefined && cu.exitCode === null && cu.signalCode === null) process.kill(-(cu.pid as number), 'SIGKILL');
    await tg?.stop();
    await bank?.close();
    rmSync(dir, { recursive: true, force: true });
  };
  // A safety net, not an assertion: never leave anything running if something hangs.
  const guard = setTimeout(() => {
    void cleanup().finally(() => process.exit(3));
  }, 60_000);
  const partial: Partial<InnerResult> = {};
  try {
    bank = await createBank({ lines: 1, dir });
    const line = bank.line(0);
    // tgetty gets the pty slave itself: cu locks by the device's last path component.
    const slave = line.slave;
    chmodSync(slave, 0o666);
    const logName = deviceId(slave);
    tg = startTgetty({ tty: slave, args: ['-x', '6', '--lock-dir', LOCK_DIR], config: CONFIG });
    const run = tg;
    const log = (): string => run.logText(logName);
    const waiting = (): number => log().split('waiting...').length - 1;
    partial.slave = slave;

    await line.waitForDte(/ATQ0V1H0\r[^]*AT\r/, 10_000);
    await poll("tgetty's first 'waiting...'", () => waiting() >= 1, 5_000);

    // cu in its own process group: it forks a helper, and the kill below must reach both.
    const child = spawn('cu', ['-l', slave, '-s', '38400'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    cu = child;
    let cuOut = '';
    let cuErr = '';
    child.stdout?.on('data', (d: Buffer) => (cuOut += d.toString('latin1')));
    child.stderr?.on('data', (d: Buffer) => (cuErr += d.toString('latin1')));
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    const lockFile = lockPath(LOCK_DIR, slave);
    await poll(`cu's lock ${lockFile} (cu stderr: ${cuErr})`, () => readLock(lockFile).state === 'pid', 5_000);
    const fromDteMark = line.fromDte.all.length;
    partial.cuPid = child.pid;
    partial.lockWhileCu = readLock(lockFile);
    await poll('tgetty to log the dial-out', () => /dialout in progress/.test(log()), 5_000);

    // cu talks to the modem directly.
    child.stdin?.write('AT\r');
    await poll(`OK through cu (cu stdout: ${JSON.stringify(cuOut)})`, () => /OK/.test(cuOut), 5_000);
    // Give a getty that wrongly stayed on the line a chance to show it.
    await sleep(1_000);
    partial.cuOutput = cuOut;
    partial.dteWhileCu = line.fromDte.all.slice(fromDteMark);

    // SIGKILL: cu cannot clean up, so its lock stays behind (stale).
    process.kill(-(child.pid as number), 'SIGKILL');
    await exited;
    partial.lockAfterKill = readLock(lockFile);
    const afterMark = line.fromDte.all.length;

    // tgetty notices, re-initialises, and is idle again.
    await line.waitForDte(/ATQ0V1H0\r[^]*AT\r/, 30_000);
    await poll("tgetty's second 'waiting...'", () => waiting() >= 2, 5_000);

    const call = line.call({ cidFormat: 'none', connect: '33600' });
    await line.waitForDte(/ATA\r/, 10_000);
    await call.connected;
    await call.waitFor(/sim login:/, 10_000);
    partial.dteAfterCu = line.fromDte.all.slice(afterMark);
    partial.callerSaw = call.received.all;
    partial.log = log();
    return partial as InnerResult;
  } catch (err) {
    return { ...(partial as InnerResult), log: tg?.logText(deviceId(partial.slave ?? 'x')) ?? '', error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(guard);
    await cleanup();
  }
}


if (process.env[INNER_ENV] === '1') {
  const res = await inner();
  process.stdout.write(`${JSON.stringify(res)}\n`);
  if (res.error !== undefined) process.exitCode = 1;
} else {
  test('real cu dials out on a line tgetty watches: tgetty stays off the line, then re-initialises and answers', (t) => {
    const why = cuSkipReason();
    if (why !== undefined) return t.skip(why);
    const { res, status, stderr } = runInPrivateLockDir<InnerResult>(import.meta.url, INNER_ENV, 90_000);
    if (res.error !== undefined) t.diagnostic(`tgetty log:\n${res.log}`);
    assert.equal(res.error, undefined, res.error);
    assert.equal(status, 0, stderr);

    // cu held the line with its own lock, and tgetty said so.
    assert.deepEqual(res.lockWhileCu, { state: 'pid', pid: res.cuPid, format: 'ascii' });
    const slave = res.slave.replace(/\//g, '\\/');
    assert.match(res.log, new RegExp(`dialout in progress: 'cu -l ${slave} -s 38400' \\(pid ${res.cuPid}\\), staying off the line`));
    // cu reached the modem, and tgetty wrote nothing to the line in that time.
    assert.match(res.cuOutput, /OK/);
    assert.equal(res.dteWhileCu, 'AT\r', 'only cu talked to the modem while it held the lock');

    // cu's lock was left behind; tgetty recognised it as stale and came back.
    assert.deepEqual(res.lockAfterKill, { state: 'pid', pid: res.cuPid, format: 'ascii' });
    assert.match(res.log, new RegExp(`stale lock file .* of dead process ${res.cuPid}`));
    assert.match(res.log, /dial-out finished, re-initialising the line/);
    assert.match(res.dteAfterCu, /^[^]*ATQ0V1H0\r[^]*AT\r[^]*ATA\r/, 'init chat again, then the answer');
    assert.match(res.callerSaw, /Welcome to /);
    assert.match(res.callerSaw, /sim login:/);
  });
}
