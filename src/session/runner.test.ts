import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../core/clock.js';
import { createMemoryLinePair } from '../line/memory-line.js';
import { createLogger } from '../log/logger.js';
import { resolvePort } from '../config/effective.js';
import { parseMgettyConfig } from '../config/mgetty-config.js';
import { LineRunner, type RunnerDeps, type RunResult } from './runner.js';
import { lineSettings } from './settings.js';
import { drive, until } from '../../test/helpers/drive.js';
import { FakeModem, type FakeModemOptions } from '../../test/helpers/fake-modem.js';

interface Rig {
  runner: LineRunner;
  clock: FakeClock;
  modem: FakeModem;
  farRef: { far: ReturnType<typeof createMemoryLinePair>['far'] };
  lockDir: string;
  logText: () => string;
  done: Promise<RunResult>;
  cleanup: () => void;
}

function rig(config: string, modemOpts: FakeModemOptions = {}, deps: Partial<RunnerDeps> = {}): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-runner-'));
  const lockDir = join(dir, 'lock');
  const logDir = join(dir, 'log');
  mkdirSync(lockDir);
  const clock = new FakeClock();
  const first = createMemoryLinePair({ clock, path: '/dev/ttyT0' });
  const modem = new FakeModem(first.far, modemOpts);
  let pair: typeof first | undefined = first;
  const farRef = { far: first.far };
  const eff = resolvePort(parseMgettyConfig(config, 'mgetty.config'), 'ttyT0');
  const settings = lineSettings(eff, '/dev/ttyT0');
  const log = createLogger({ device: 'ttyT0', level: 6, logDir, audit: 'none', clock, stderr: () => undefined });
  const runner = new LineRunner({
    settings,
    clock,
    log,
    lockDir,
    // Each open gets a fresh line, as reopening a device would.
    openLine: () => {
      const p = pair ?? createMemoryLinePair({ clock, path: '/dev/ttyT0' });
      if (pair === undefined) modem.attach(p.far);
      pair = undefined;
      farRef.far = p.far;
      return p.line;
    },
    nologinPresent: () => false,
    pid: process.pid,
    ...deps,
  });
  const done = runner.run();
  return {
    runner,
    clock,
    modem,
    farRef,
    lockDir,
    done,
    logText: () => (existsSync(join(logDir, 'ttyT0.log')) ? readFileSync(join(logDir, 'ttyT0.log'), 'utf8') : ''),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

const lockFile = (r: Rig): string => join(r.lockDir, 'LCK..ttyT0');

test('runner: default init chat, idle without the lock, RING -> ATA -> CONNECT with the speed string', async () => {
  const r = rig('', { reply: (c) => (c === 'ATA' ? 'CONNECT 33600/ARQ' : 'OK') });
  try {
    await until(r.clock, () => r.runner.state.name === 'idle');
    assert.deepEqual(r.modem.commands, ['ATQ0V1H0', 'AT']);
    assert.equal(existsSync(lockFile(r)), false, 'the lock is removed while idle');
    r.modem.send('\r\nRING\r\n');
    const res = await drive(r.clock, r.done);
    assert.equal(res.kind, 'connected');
    if (res.kind !== 'connected') return;
    assert.equal(res.connect, '33600/ARQ');
    assert.deepEqual(r.modem.commands, ['ATQ0V1H0', 'AT', 'ATA']);
    assert.equal(existsSync(lockFile(r)), true, 'the lock is held during the call');
    assert.match(r.logText(), /waiting\.\.\./);
    res.line.close();
  } finally {
    r.cleanup();
  }
});

test('runner: rings 3 answers on the third RING; caller ID from an NMBR block is kept', async () => {
  const r = rig('rings 3\n', { reply: (c) => (c === 'ATA' ? 'CONNECT 2400' : 'OK') });
  try {
    await until(r.clock, () => r.runner.state.name === 'idle');
    r.modem.send('\r\nRING\r\n');
    await until(r.clock, () => r.runner.state.name === 'ringing' && (r.runner.state as { rings: number }).rings === 1);
    r.modem.send('\r\nDATE = 1121\r\nTIME = 1930\r\nNAME = JOE\r\n');
    r.modem.send('\r\nRING\r\n');
    await until(r.clock, () => (r.runner.state as { rings?: number }).rings === 2);
    assert.ok(!r.modem.commands.includes('ATA'));
    r.modem.send('\r\nRING\r\n');
    const res = await drive(r.clock, r.done);
    assert.equal(res.kind, 'connected');
    if (res.kind !== 'connected') return;
    assert.equal(res.call.callerName, 'JOE');
    assert.equal(res.call.callDate, '1121');
    res.line.close();
  } finally {
    r.cleanup();
  }
});

test('runner: a silent modem gets force-init, then exits 1 and removes the lock', async () => {
  const r = rig('', { reply: () => null });
  try {
    const t0 = r.clock.monotonic();
    const res = await drive(r.clock, r.done, { stepMs: 50 });
    assert.deepEqual(res, { kind: 'ended', exitCode: 1, reason: 'modem initialisation failed', keepLock: false });
    // As mgetty (spec §13 G): init times out, force-init times out too, then give up (~45 s).
    assert.deepEqual(r.modem.commands.filter((c) => c.endsWith('ATQ0V1H0')).length, 2);
    const received = r.farRef.far.received;
    assert.ok(received.includes(Buffer.from('\x10\x03')), 'force-init sends DLE ETX');
    assert.ok(received.includes(Buffer.from('+++')), 'force-init sends +++');
    const took = r.clock.monotonic() - t0;
    assert.ok(took >= 44_000 && took <= 47_000, `gave up after ${took} ms of fake time`);
    assert.equal(existsSync(lockFile(r)), false);
  } finally {
    r.cleanup();
  }
});

test('runner: NO CARRIER after ATA exits 1 with an audit line', async () => {
  const r = rig('', { reply: (c) => (c === 'ATA' ? 'NO CARRIER' : 'OK') });
  try {
    await until(r.clock, () => r.runner.state.name === 'idle');
    r.modem.send('RING\r\n');
    const res = await drive(r.clock, r.done);
    assert.equal(res.kind === 'ended' && res.exitCode, 1);
    assert.match(r.logText(), /##### failed NO CARRIER dev=ttyT0/);
  } finally {
    r.cleanup();
  }
});

test('runner: dialin.config denial is not answered and returns to idle', async () => {
  const r = rig('', { reply: (c) => (c === 'ATA' ? 'CONNECT' : 'OK') }, { screen: (id) => ({ allowed: id !== '5551234', why: `test rule for ${id}` }) });
  try {
    await until(r.clock, () => r.runner.state.name === 'idle');
    r.modem.send('RING\r\nNMBR = 5551234\r\n');
    await until(r.clock, () => r.runner.state.name === 'reset');
    await until(r.clock, () => r.runner.state.name === 'idle', { maxMs: 20_000 });
    assert.ok(!r.modem.commands.includes('ATA'));
    assert.match(r.logText(), /##### denied caller \(test rule for 5551234\)/);
    r.runner.deliver({ type: 'signal', signal: 'SIGTERM' });
    const res = await drive(r.clock, r.done);
    assert.equal(res.kind === 'ended' && res.exitCode, 10);
  } finally {
    r.cleanup();
  }
});

test('runner: a dial-out lock appearing while idle makes the line step off, and come back when it is gone', async () => {
  const r = rig('', { reply: (c) => (c === 'ATA' ? 'CONNECT' : 'OK') });
  try {
    await until(r.clock, () => r.runner.state.name === 'idle');
    // A live foreign process: our parent's pid is alive and not ours.
    writeFileSync(lockFile(r), `${String(process.ppid).padStart(10)}\n`);
    await until(r.clock, () => r.runner.state.name === 'dialout', { maxMs: 5000, stepMs: 5 });
    rmSync(lockFile(r));
    await until(r.clock, () => r.runner.state.name === 'idle', { maxMs: 60_000 });
    // Re-initialised: the init chat ran twice.
    assert.equal(r.modem.commands.filter((c) => c === 'ATQ0V1H0').length, 2);
    r.runner.deliver({ type: 'signal', signal: 'SIGINT' });
    await drive(r.clock, r.done);
  } finally {
    r.cleanup();
  }
});
