/**
 * `--serial`: the emulated modem on a serial port. No real port here, so a pty pair stands
 * in for the null-modem cable: the sim opens the slave as its "port", the test is the old
 * computer on the master. Checked: the UUCP lock, AT commands, a dial-out to a loopback
 * host and its end, the lock gone at close, a port another process has locked refused. (A pty has
 * no modem lines: DCD/DSR cannot be checked here, only that their absence is noted.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tty from 'node:tty';
import { isTgettyError } from '../../src/core/errors.js';
import { openPty } from '../../src/line/libc.js';
import { formatLockPid, lockPath, readLock } from '../../src/line/lock.js';
import { spawn } from 'node:child_process';
import { createBank } from '../../src/sim/index.js';
import { parseSerialSpec } from '../../src/sim/serial-line.js';

test('--serial on a pty pair: lock, AT, dial-out, NO CARRIER, the lock keeps a second sim off, gone at close', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-serial-'));
  const lockDir = join(dir, 'lock');
  mkdirSync(lockDir);
  // Answers the first 'hello' (after the telnet negotiation bytes), then hangs up.
  const host = net.createServer((s) => {
    let got = '';
    s.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('hello')) s.end('got hello');
    });
  });
  await new Promise<void>((r) => host.listen(0, '127.0.0.1', () => r()));
  const port = (host.address() as net.AddressInfo).port;
  const pty = openPty();
  const computer = new tty.ReadStream(pty.master);
  let seen = '';
  computer.on('data', (d: Buffer) => (seen += d.toString('latin1')));
  computer.on('error', () => undefined);
  const want = async (re: RegExp): Promise<void> => {
    for (let t = 0; t < 5000; t += 20) {
      if (re.test(seen)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`computer never saw ${re}: ${JSON.stringify(seen)}`);
  };
  const spec = parseSerialSpec(`${pty.slave},9600`);
  assert.deepEqual(spec, { device: pty.slave, speed: 9600 });
  const bank = await createBank({ lines: 1, dir: join(dir, 'sim'), serial: [spec], lockDir });
  try {
    const line = bank.line(1);
    assert.equal(line.path, pty.slave);
    assert.deepEqual(readLock(lockPath(lockDir, pty.slave)), { state: 'pid', pid: process.pid, format: 'ascii' });
    computer.write('AT\r');
    await want(/AT\r\r\nOK\r\n$/);
    computer.write(`ATDT127.0.0.1:${port}\r`);
    await want(/CONNECT 33600\r\n$/);
    assert.match(line.transcript.toString(), /has no modem control lines/);
    computer.write('hello');
    await want(/got hello\r\nNO CARRIER\r\n$/);
    assert.equal(line.modem.state, 'idle');
    // The port is still ours after the call (a serial port is not re-made like a pty).
    computer.write('AT\r');
    await want(/OK\r\n$/);
  } finally {
    await bank.close();
    computer.destroy();
    await new Promise((r) => host.close(r));
  }
  assert.deepEqual(readLock(lockPath(lockDir, pty.slave)), { state: 'absent' });
  // A port another live process has locked (as cu would) is refused, and its lock left alone.
  const other = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    writeFileSync(lockPath(lockDir, pty.slave), formatLockPid(other.pid ?? 0));
    await assert.rejects(createBank({ lines: 0, dir: join(dir, 'sim2'), serial: [spec], lockDir }), (e) => isTgettyError(e, 'LOCK_HELD'));
    assert.deepEqual(readLock(lockPath(lockDir, pty.slave)), { state: 'pid', pid: other.pid, format: 'ascii' });
  } finally {
    other.kill('SIGKILL');
  }
  assert.throws(() => parseSerialSpec('ttyUSB0'), /--serial needs \/dev\/PATH/);
  assert.throws(() => parseSerialSpec('/dev/ttyUSB0,fast'), /--serial needs/);
  rmSync(dir, { recursive: true, force: true });
});
