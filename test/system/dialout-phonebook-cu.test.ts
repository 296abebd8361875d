/**
 * System test: a real dialler on a virtual line dials out through the phone book to a
 * real telnet host. Debian's `cu` opens the sim line, types `ATDT555-1000`; the phone book
 * sends that to inetutils telnetd on loopback (test/helpers/telnetd.ts, a fake login
 * instead of login). The user logs in, talks, says bye: the host hangs up, cu gets
 * NO CARRIER and the line's hangup, and exits by itself.
 *
 * cu runs setuid uucp with its lock in /var/lock: the test re-runs itself inside
 * `unshare -m` with a tmpfs there (lock-namespace.ts), and the pty is mode 0666.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CU_LOCK_DIR, cuSkipReason, runInPrivateLockDir } from '../helpers/lock-namespace.js';
import { lockPath, readLock } from '../../src/line/lock.js';
import { startTelnetd, telnetdSkipReason, type Telnetd } from '../helpers/telnetd.js';
import { createBank, type SimBank } from '../../src/sim/index.js';
import { parsePhonebook } from '../../src/sim/phonebook.js';

const INNER_ENV = 'TGETTY_DIALOUT_PHONEBOOK_CU_INNER';

interface InnerResult {
  cuOutput: string;
  cuExitedByItself: boolean;
  counts: { fromServer: number; toServer: number };
  countsAfterSettle: { fromServer: number; toServer: number };
  modemState: string;
  transcript: string;
  error?: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function inner(): Promise<InnerResult> {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-pbcu-'));
  let bank: SimBank | undefined;
  let td: Telnetd | undefined;
  let cu: ChildProcess | undefined;
  const partial: Partial<InnerResult> = {};
  const guard = setTimeout(() => {
    if (cu?.pid !== undefined) process.kill(-cu.pid, 'SIGKILL');
    process.exit(3);
  }, 60_000);
  try {
    td = await startTelnetd();
    bank = await createBank({ lines: 1, dir, dialout: { phonebook: parsePhonebook(`5551000 = 127.0.0.1:${td.port} telnet\n`) } });
    const line = bank.line(0);
    chmodSync(line.slave, 0o666);
    const child = spawn('cu', ['-l', line.slave, '-s', '38400'], { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    cu = child;
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString('latin1')));
    child.stderr?.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    const until = async (re: RegExp, ms: number): Promise<void> => {
      for (let t = 0; t < ms; t += 50) {
        if (re.test(out)) return;
        await sleep(50);
      }
      throw new Error(`cu never showed ${re}; it showed ${JSON.stringify(out)}`);
    };
    // cu is on the line once it holds its lock.
    const lockFile = lockPath(CU_LOCK_DIR, line.slave);
    for (let t = 0; t < 10_000 && readLock(lockFile).state !== 'pid'; t += 50) await sleep(50);
    child.stdin?.write('AT\r');
    await until(/OK/, 5_000);
    child.stdin?.write('ATDT555-1000\r');
    await until(/CONNECT 33600/, 10_000);
    await until(/fake login: /, 10_000);
    child.stdin?.write('joe\r');
    await until(/welcome joe/, 10_000);
    partial.counts = { ...td.counts };
    await sleep(1000);
    partial.countsAfterSettle = { ...td.counts };
    child.stdin?.write('bye\r');
    await until(/NO CARRIER/, 10_000);
    partial.cuExitedByItself = await Promise.race([exited.then(() => true), sleep(8000).then(() => false)]);
    partial.cuOutput = out;
    partial.modemState = line.modem.state;
    partial.transcript = line.transcript.toString();
    return partial as InnerResult;
  } catch (err) {
    return { ...(partial as InnerResult), transcript: bank?.line(0).transcript.toString() ?? '', error: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(guard);
    if (cu?.pid !== undefined && cu.exitCode === null && cu.signalCode === null) process.kill(-cu.pid, 'SIGKILL');
    await bank?.close();
    await td?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.env[INNER_ENV] === '1') {
  const res = await inner();
  process.stdout.write(`${JSON.stringify(res)}\n`);
  if (res.error !== undefined) process.exitCode = 1;
} else {
  test('cu on a virtual line dials a phone book number: telnetd on loopback, fake login, NO CARRIER when the host hangs up', (t) => {
    const why = cuSkipReason() ?? telnetdSkipReason();
    if (why !== undefined) return t.skip(why);
    const { res, status, stderr } = runInPrivateLockDir<InnerResult>(import.meta.url, INNER_ENV, 90_000);
    if (res.error !== undefined) t.diagnostic(`transcript:\n${res.transcript}`);
    assert.equal(res.error, undefined, res.error);
    assert.equal(status, 0, stderr);
    assert.match(res.cuOutput, /CONNECT 33600[^]*fake login: [^]*welcome joe[^]*NO CARRIER/);
    assert.deepEqual(res.countsAfterSettle, res.counts, 'no option negotiation once the session runs');
    assert.ok(res.counts.fromServer + res.counts.toServer < 40, JSON.stringify(res.counts));
    assert.equal(res.cuExitedByItself, true, 'cu saw the line hang up and left');
    assert.equal(res.modemState, 'idle');
    assert.match(res.transcript, /dialling 127\.0\.0\.1:\d+ \(telnet\)/);
  });
}
