import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync, existsSync } from 'node:fs';
import { drive, until } from '../../test/helpers/drive.js';
import { rig, type Rig } from '../../test/helpers/runner-rig.js';

const lockFile = (r: Rig): string => r.lockFile;

test('runner: default init chat, idle without the lock, RING -> ATA -> CONNECT with the speed string', async (t) => {
  const r = rig(t, '', { reply: (c) => (c === 'ATA' ? 'CONNECT 33600/ARQ' : 'OK') });
  await until(r.clock, () => r.runner.state.name === 'idle');
  // Then the fax set-up's question (no class in the reply: data calls only, docs/fax.md).
  assert.deepEqual(r.modem.commands, ['ATQ0V1H0', 'AT', 'AT+FCLASS=?']);
  assert.equal(existsSync(lockFile(r)), false, 'the lock is removed while idle');
  r.modem.send('\r\nRING\r\n');
  const res = await drive(r.clock, r.done);
  assert.equal(res.kind, 'connected');
  if (res.kind !== 'connected') return;
  assert.equal(res.connect, '33600/ARQ');
  assert.deepEqual(r.modem.commands, ['ATQ0V1H0', 'AT', 'AT+FCLASS=?', 'ATA']);
  assert.equal(existsSync(lockFile(r)), true, 'the lock is held during the call');
  assert.match(r.logText(), /waiting\.\.\./);
});

test('runner: rings 3 answers on the third RING; caller ID from an NMBR block is kept', async (t) => {
  const r = rig(t, 'rings 3\n', { reply: (c) => (c === 'ATA' ? 'CONNECT 2400' : 'OK') });
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
});

test('runner: a silent modem gets force-init, then exits 1 and removes the lock', async (t) => {
  const r = rig(t, '', { reply: () => null });
  const t0 = r.clock.monotonic();
  const res = await drive(r.clock, r.done, { stepMs: 50 });
  assert.deepEqual(res, { kind: 'ended', exitCode: 1, reason: 'modem initialisation failed', keepLock: false, endKind: 'init-failed' });
  // As mgetty (spec §13 G): init times out, force-init times out too, then give up (~45 s).
  assert.deepEqual(r.modem.commands.filter((c) => c.endsWith('ATQ0V1H0')).length, 2);
  const received = r.far().received;
  assert.ok(received.includes(Buffer.from('\x10\x03')), 'force-init sends DLE ETX');
  assert.ok(received.includes(Buffer.from('+++')), 'force-init sends +++');
  const took = r.clock.monotonic() - t0;
  assert.ok(took >= 44_000 && took <= 47_000, `gave up after ${took} ms of fake time`);
  assert.equal(existsSync(lockFile(r)), false);
});

test('runner: NO CARRIER after ATA exits 1 with an audit line', async (t) => {
  const r = rig(t, '', { reply: (c) => (c === 'ATA' ? 'NO CARRIER' : 'OK') });
  await until(r.clock, () => r.runner.state.name === 'idle');
  r.modem.send('RING\r\n');
  const res = await drive(r.clock, r.done);
  assert.equal(res.kind === 'ended' && res.exitCode, 1);
  assert.match(r.logText(), /##### failed NO CARRIER dev=ttyT0/);
});

test('runner: dialin.config denial is not answered and returns to idle', async (t) => {
  const r = rig(t, '', { reply: (c) => (c === 'ATA' ? 'CONNECT' : 'OK') }, { screen: (id) => ({ allowed: id !== '5551234', why: `test rule for ${id}` }) });
  await until(r.clock, () => r.runner.state.name === 'idle');
  r.modem.send('NMBR = 5551234\r\nRING\r\n');
  await until(r.clock, () => r.runner.state.name === 'reset');
  await until(r.clock, () => r.runner.state.name === 'idle', { maxMs: 20_000 });
  assert.ok(!r.modem.commands.includes('ATA'));
  assert.match(r.logText(), /##### denied caller \(test rule for 5551234\)/);
  r.runner.deliver({ type: 'signal', signal: 'SIGTERM' });
  const res = await drive(r.clock, r.done);
  assert.equal(res.kind === 'ended' && res.exitCode, 10);
});

test('runner: a dial-out lock appearing while idle makes the line step off, and come back when it is gone', async (t) => {
  const r = rig(t, '', { reply: (c) => (c === 'ATA' ? 'CONNECT' : 'OK') });
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
});
