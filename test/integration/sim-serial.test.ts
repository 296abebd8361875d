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
import { CARRIER_OUT, DTR_IN, type ModemLines } from '../../src/sim/modem-lines.js';

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

/** A port's modem lines the test drives: the computer's DTR (our DSR/DCD) and what we set. */
function fakeLines(): ModemLines & { bits: number; raise(b: number, on: boolean): void; sets: [number, boolean][]; watched: number } {
  let fn: ((b: number) => void) | undefined;
  const f = {
    bits: DTR_IN,
    sets: [] as [number, boolean][],
    watched: 0,
    get: () => f.bits,
    set: (b: number, on: boolean) => void f.sets.push([b, on]),
    watch: (mask: number, cb: (b: number) => void) => {
      f.watched = mask;
      fn = cb;
    },
    close: () => (fn = undefined),
    raise: (b: number, on: boolean) => {
      f.bits = on ? f.bits | b : f.bits & ~b;
      fn?.(f.bits);
    },
  };
  return f;
}

test('--serial: the computer dropping DTR (our DSR/DCD) ends a call as &D2 says, &D0 ignores it; our DTR/RTS follow the call', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-serial-dtr-'));
  const host = net.createServer((s) => s.on('error', () => undefined).resume());
  const closed: number[] = [];
  host.on('connection', (s) => s.on('close', () => closed.push(1)));
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
  const lines = fakeLines();
  const bank = await createBank({ lines: 0, dir: join(dir, 'sim'), serial: [{ device: pty.slave, speed: 9600, modemLines: () => lines }], lockDir: dir });
  try {
    const line = bank.line(0);
    assert.equal(lines.watched, DTR_IN, 'waits for DSR/DCD changes');
    computer.write(`ATDT127.0.0.1:${port}\r`);
    await want(/CONNECT 33600\r\n$/);
    assert.deepEqual(lines.sets.at(-1), [CARRIER_OUT, true], 'carrier on: our DTR and RTS raised');
    lines.raise(DTR_IN, false);
    for (let t = 0; t < 100 && line.modem.state !== 'idle'; t++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(line.modem.state, 'idle', '&D2: DTR drop hangs up');
    assert.deepEqual(lines.sets.at(-1), [CARRIER_OUT, false], 'carrier off at the end of the call');
    for (let t = 0; t < 100 && closed.length === 0; t++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(closed.length, 1, 'the host connection was dropped');
    assert.match(line.transcript.toString(), /the computer dropped DTR/);
    lines.raise(DTR_IN, true);
    seen = '';
    computer.write(`AT&D0\r`);
    await want(/OK\r\n$/);
    computer.write(`ATDT127.0.0.1:${port}\r`);
    await want(/CONNECT 33600\r\n$/);
    lines.raise(DTR_IN, false);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(line.modem.state, 'connected', '&D0: DTR is ignored');
  } finally {
    await bank.close();
    computer.destroy();
    await new Promise((r) => host.close(r));
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--serial on a pty: the real modem lines (TIOCMGET, TIOCMIWAIT in a worker) are missing, noted once, the modem works on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-serial-pty-'));
  const pty = openPty();
  const computer = new tty.ReadStream(pty.master);
  let seen = '';
  computer.on('data', (d: Buffer) => (seen += d.toString('latin1')));
  computer.on('error', () => undefined);
  const bank = await createBank({ lines: 0, dir: join(dir, 'sim'), serial: [{ device: pty.slave, speed: 9600 }], lockDir: dir });
  try {
    computer.write('AT\r');
    for (let t = 0; t < 250 && !/OK\r\n$/.test(seen); t++) await new Promise((r) => setTimeout(r, 20));
    assert.match(seen, /OK\r\n$/);
    const notes = bank.line(0).transcript.toString().match(/has no modem control lines/g) ?? [];
    assert.equal(notes.length, 1, bank.line(0).transcript.toString());
  } finally {
    await bank.close();
    computer.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
