// The runner on a memory line with a scripted modem and a FakeClock: caller screening
// by cnd-program, ring counts from cid-program, the nologin file, the virtual ring
// (SIGUSR1), the idle modem check with its recovery, and SIGHUP.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FakeClock } from '../core/clock.js';
import type { HookRunner, RunResult } from './runner.js';
import { hookRunner } from './hooks.js';
import { drive, until } from '../../test/helpers/drive.js';
import { rig, type Rig } from '../../test/helpers/runner-rig.js';

const answering = (c: string): string => (c === 'ATA' ? 'CONNECT 33600' : 'OK');
const ringsOf = (r: Rig): number => (r.runner.state as { rings?: number }).rings ?? -1;
const idle = (r: Rig): Promise<void> => until(r.clock, () => r.runner.state.name === 'idle');

async function connected(r: Rig): Promise<Extract<RunResult, { kind: 'connected' }>> {
  const res = await drive(r.clock, r.done);
  if (res.kind !== 'connected') assert.fail(`not connected: ${JSON.stringify(res)}`);
  return res;
}

/** A fake hook runner that records its calls and answers with fixed statuses. */
function fakeHooks(statuses: Record<string, number | undefined>): { run: HookRunner; calls: { program: string; args: string[]; env: Record<string, string>; user: string | undefined }[] } {
  const calls: { program: string; args: string[]; env: Record<string, string>; user: string | undefined }[] = [];
  return {
    calls,
    run: (program, args, env, user) => {
      calls.push({ program, args, env, user });
      return Promise.resolve(statuses[program]);
    },
  };
}

test('cnd-program exit 1: the caller is denied, no ATA, audit line, back to idle', async (t) => {
  const hooks = fakeHooks({ '/hooks/cnd': 1 });
  // rings 2: the first RING, then the caller-ID block counts as the second (Q9, transcript C).
  const r = rig(t, 'rings 2\ncnd-program /hooks/cnd\ncnd-program-user nobody\n', { reply: answering }, { runHook: hooks.run });
  await idle(r);
  r.modem.send('RING\r\nNMBR = 5551234\r\nNAME = JOE\r\n');
  await until(r.clock, () => r.runner.state.name === 'reset');
  await idle(r);
  assert.ok(!r.modem.commands.includes('ATA'));
  assert.equal(hooks.calls.length, 1);
  assert.deepEqual(hooks.calls[0]?.args, ['ttyT0', '5551234', 'JOE', '0', '']);
  assert.equal(hooks.calls[0]?.env.CALLER_ID, '5551234');
  assert.equal(hooks.calls[0]?.env.CALLER_NAME, 'JOE');
  assert.equal(hooks.calls[0]?.env.DEVICE, 'ttyT0');
  assert.equal(hooks.calls[0]?.user, 'nobody', 'cnd-program-user is passed on');
  assert.match(r.logText(), /##### denied caller \(cnd-program \/hooks\/cnd said no\) dev=ttyT0, .*caller='5551234'/);
  assert.equal(existsSync(r.lockFile), false, 'idle again: the lock is gone');
});

test('cnd-program: any status but 1 (also failure to run) answers the call', async (t) => {
  for (const status of [0, 2, 10, undefined]) {
    const hooks = fakeHooks({ '/hooks/cnd': status });
    const r = rig(t, 'cnd-program /hooks/cnd\n', { reply: answering }, { runHook: hooks.run });
    await idle(r);
    r.modem.send('RING\r\n');
    const res = await connected(r);
    assert.equal(hooks.calls.length, 1, `status ${status}`);
    assert.equal(res.connect, '33600');
    res.line.close();
  }
});

/**
 * For a real hook process: real time passes (the child runs) and the fake clock moves
 * too (the runner's own waits). A transient state like 'screening' may never be seen,
 * so tests wait for end results only.
 */
async function untilMixed(clock: FakeClock, cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((res) => setTimeout(res, 2));
    clock.advance(50);
  }
  throw new Error(`not reached: ${what}`);
}

function cndScript(dir: string): void {
  // Denies 555*, accepts the rest; records what it saw.
  writeFileSync(join(dir, 'cnd.sh'), `#!/bin/sh\necho "$1|$2|$CALLER_ID" >> "${join(dir, 'seen')}"\ncase "$CALLER_ID" in 555*) exit 1;; esac\nexit 0\n`);
  chmodSync(join(dir, 'cnd.sh'), 0o755);
}

test('cnd-program with the real hook runner: a script sees the caller ID and decides', async (t) => {
  const r = rig(t, 'cnd-program {DIR}/cnd.sh\n', { reply: answering }, (log) => ({ runHook: hookRunner(log) }), cndScript);
  const seen = (): string => (existsSync(join(r.dir, 'seen')) ? readFileSync(join(r.dir, 'seen'), 'utf8') : '');
  await idle(r);
  // The caller ID before the RING that is answered (rings 1): screening sees it.
  r.modem.send('NMBR = 5551234\r\nRING\r\n');
  await untilMixed(r.clock, () => seen() !== '' && r.runner.state.name === 'idle', 'the script ran and the call was denied');
  assert.equal(seen(), 'ttyT0|5551234|5551234\n');
  assert.ok(!r.modem.commands.includes('ATA'), 'denied: not answered');
  assert.match(r.logText(), /##### denied caller \(cnd-program .*cnd\.sh said no\)/);
  // The next caller is accepted by the same script.
  r.modem.send('NMBR = 7771234\r\nRING\r\n');
  await untilMixed(r.clock, () => r.runner.state.name === 'connected', 'the second call was answered');
  const res = await connected(r);
  assert.equal(res.call.callerId, '7771234');
  assert.equal(seen(), 'ttyT0|5551234|5551234\nttyT0|7771234|7771234\n');
  res.line.close();
});

test('cid-program exit 12 with rings 4: answered after the second RING (Q29)', async (t) => {
  const hooks = fakeHooks({ '/hooks/cid': 12 });
  const r = rig(t, 'rings 4\ncid-program /hooks/cid\n', { reply: answering }, { runHook: hooks.run });
  await idle(r);
  r.modem.send('RING\r\n');
  await until(r.clock, () => ringsOf(r) === 1 && r.runner.state.name === 'ringing');
  // No caller ID and only one RING: not due yet (mgetty runs it at the third RING at the latest).
  assert.equal(hooks.calls.length, 0);
  r.modem.send('RING\r\n');
  const res = await connected(r);
  assert.equal(hooks.calls.length, 1, 'run once per call');
  assert.deepEqual(hooks.calls[0]?.args, ['ttyT0', 'none', '', '0', '']);
  assert.equal(r.modem.commands.filter((c) => c === 'ATA').length, 1);
  assert.match(r.logText(), /cid-program: wait for 2 RINGs/);
  res.line.close();
});

test('cid-program with caller ID before the first RING counts: runs at once, other statuses are ignored', async (t) => {
  const hooks = fakeHooks({ '/hooks/cid': 3 });
  const r = rig(t, 'rings 2\ncid-program /hooks/cid\n', { reply: answering }, { runHook: hooks.run });
  await idle(r);
  r.modem.send('RING 5551234\r\n');
  await until(r.clock, () => hooks.calls.length === 1);
  assert.equal(hooks.calls[0]?.env.CALLER_ID, '5551234');
  assert.ok(!r.modem.commands.includes('ATA'), 'exit 3 changes nothing: still waiting for RING 2');
  r.modem.send('RING 5551234\r\n');
  const res = await connected(r);
  assert.equal(hooks.calls.length, 1);
  res.line.close();
});

test('nologin file present: RINGs are refused, "rejected" after the silence, back to idle', async (t) => {
  const r = rig(t, 'rings 1\n', { reply: answering }, { nologinPresent: () => true });
  await idle(r);
  // The RING that woke the line is counted too.
  r.modem.send('RING\r\n');
  await until(r.clock, () => r.runner.state.name === 'nologin' && ringsOf(r) === 1);
  r.modem.send('RING\r\n');
  await until(r.clock, () => ringsOf(r) === 2);
  // The phone stops ringing: 10 s later the call is given up.
  await until(r.clock, () => r.runner.state.name === 'reset', { maxMs: 11_000 });
  await idle(r);
  assert.ok(!r.modem.commands.includes('ATA'));
  assert.match(r.logText(), /nologin file exists: not accepting calls/);
  assert.match(r.logText(), /##### rejected, rings=2 dev=ttyT0/);
  assert.equal(existsSync(r.lockFile), false);
  // Still refusing the next call while the file is there.
  r.modem.send('RING\r\n');
  await until(r.clock, () => r.runner.state.name === 'nologin');
});

test('nologin file removed while the phone rings: the next RING is answered', async (t) => {
  let nologin = true;
  const r = rig(t, 'rings 1\n', { reply: answering }, { nologinPresent: () => nologin });
  await idle(r);
  r.modem.send('RING\r\n');
  await until(r.clock, () => r.runner.state.name === 'nologin' && ringsOf(r) === 1);
  r.modem.send('RING\r\n');
  await until(r.clock, () => ringsOf(r) === 2);
  assert.ok(!r.modem.commands.includes('ATA'));
  nologin = false;
  r.modem.send('RING\r\n');
  const res = await connected(r);
  assert.ok(r.modem.commands.includes('ATA'));
  res.line.close();
});

test('SIGUSR1 (virtual ring) while idle: ATA without any RING', async (t) => {
  const r = rig(t, 'rings 3\n', { reply: answering });
  await idle(r);
  const before = r.modem.commands.length;
  r.runner.deliver({ type: 'virtual-ring' });
  const res = await connected(r);
  assert.deepEqual(r.modem.commands.slice(before), ['ATA']);
  assert.ok(existsSync(r.lockFile), 'the call holds the lock');
  res.line.close();
});

test('SIGUSR1 while a nologin file exists still answers (as mgetty: the virtual ring overrides it)', async (t) => {
  const r = rig(t, '', { reply: answering }, { nologinPresent: () => true });
  await idle(r);
  r.runner.deliver({ type: 'virtual-ring' });
  const res = await connected(r);
  assert.ok(r.modem.commands.includes('ATA'));
  res.line.close();
});

test('modem-check-time 900: after 900 s idle the modem is probed with AT, OK -> idle again', async (t) => {
  const r = rig(t, 'modem-check-time 900\n', { reply: answering });
  await idle(r);
  const before = r.modem.commands.length;
  r.clock.advance(899_000);
  await until(r.clock, () => true);
  assert.equal(r.modem.commands.length, before, 'nothing sent before the check is due');
  await until(r.clock, () => r.runner.state.name === 'check-modem', { maxMs: 2_000 });
  assert.equal(existsSync(r.lockFile), true, 'the probe holds the lock');
  await idle(r);
  assert.deepEqual(r.modem.commands.slice(before), ['AT']);
  assert.equal(existsSync(r.lockFile), false);
  // And the next check comes 900 s later again.
  r.clock.advance(900_000);
  await until(r.clock, () => r.modem.commands.length === before + 2, { maxMs: 2_000 });
});

test('modem check: a dead modem gets force-init and init; when it comes back the line is idle again', async (t) => {
  let dead = false;
  const r = rig(t, 'modem-check-time 900\n', {
    reply: (c) => {
      // The escape of the force-init chat (DLE ETX, +++) brings it back.
      if (c.includes('+++')) dead = false;
      return dead ? null : answering(c);
    },
  });
  await idle(r);
  const before = r.modem.commands.length;
  dead = true;
  r.clock.advance(900_000);
  await until(r.clock, () => r.runner.state.name === 'force-init', { stepMs: 50 });
  assert.deepEqual(r.modem.commands.slice(before), ['AT', 'AT'], 'two probes before the recovery');
  await idle(r);
  const after = r.modem.commands.slice(before + 2);
  const escape = after.findIndex((c) => c.includes('\x10\x03') && c.includes('+++'));
  assert.ok(escape >= 0, `force-init sent: ${JSON.stringify(after)}`);
  // force-init's own ATQ0V1H0, then the init chat's ATQ0V1H0 and AT, then the fax set-up's question.
  assert.deepEqual(after.slice(escape + 1), ['ATQ0V1H0', 'ATQ0V1H0', 'AT', 'AT+FCLASS=?']);
  assert.match(r.logText(), /modem doesn't react to AT: trying to re-initialise it/);
  assert.equal(existsSync(r.lockFile), false);
  r.modem.send('RING\r\n');
  const res = await connected(r);
  res.line.close();
});

test('modem check: a modem that stays dead ends the line with exit 30 and leaves the lock', async (t) => {
  let dead = false;
  const r = rig(t, 'modem-check-time 900\n', { reply: (c) => (dead ? null : answering(c)) });
  await idle(r);
  const before = r.modem.commands.length;
  dead = true;
  r.clock.advance(900_000);
  const res = await drive(r.clock, r.done, { stepMs: 50 });
  assert.deepEqual(res, { kind: 'ended', exitCode: 30, reason: 'modem does not react', keepLock: true, endKind: 'modem-dead' });
  const sent = r.modem.commands.slice(before);
  assert.deepEqual(sent.slice(0, 2), ['AT', 'AT']);
  assert.ok(sent.some((c) => c.includes('+++')), `force-init tried: ${JSON.stringify(sent)}`);
  assert.ok(sent.slice(2).includes('ATQ0V1H0'), `init tried: ${JSON.stringify(sent)}`);
  assert.equal(existsSync(r.lockFile), true, 'mgetty leaves the lock of a dead modem');
  assert.match(r.logText(), /##### failed: modem does not react dev=ttyT0/);
});

test('SIGHUP while idle is ignored; SIGHUP while the phone rings exits 10 and removes the lock', async (t) => {
  const r = rig(t, 'rings 3\n', { reply: answering });
  await idle(r);
  r.runner.deliver({ type: 'signal', signal: 'SIGHUP' });
  await until(r.clock, () => true);
  assert.equal(r.runner.state.name, 'idle');
  // Still working after the ignored SIGHUP: a call is taken.
  r.modem.send('RING\r\n');
  await until(r.clock, () => ringsOf(r) === 1);
  assert.equal(existsSync(r.lockFile), true);
  r.runner.deliver({ type: 'signal', signal: 'SIGHUP' });
  const res = await drive(r.clock, r.done);
  assert.deepEqual(res, { kind: 'ended', exitCode: 10, reason: 'signal SIGHUP', keepLock: false, endKind: 'signal' });
  assert.equal(existsSync(r.lockFile), false);
  assert.match(r.logText(), /##### failed: got signal SIGHUP, exiting dev=ttyT0/);
});

test('Q33: a second call without caller ID gets none of the first call\'s name, date or time', async (t) => {
  const hooks = fakeHooks({ '/hooks/cnd': 0 });
  const r = rig(
    t,
    'rings 2\ncnd-program /hooks/cnd\n',
    { reply: answering },
    { runHook: hooks.run, screen: (id) => ({ allowed: id !== '5551234', why: `test rule for ${id}` }) },
  );
  await idle(r);
  // Call 1: RING and a full Rockwell block (the second ring), denied, so the same runner waits for the next call.
  r.modem.send('RING\r\nDATE = 1121\r\nTIME = 1930\r\nNMBR = 5551234\r\nNAME = JOE\r\n');
  await until(r.clock, () => r.runner.state.name === 'reset');
  await idle(r);
  assert.match(r.logText(), /##### denied caller/);
  // Call 2: two plain RINGs, no caller data at all.
  r.modem.send('RING\r\nRING\r\n');
  const res = await connected(r);
  assert.equal(hooks.calls.length, 1, 'cnd-program ran for the second call only');
  const env = hooks.calls[0]?.env ?? {};
  assert.equal(env.CALLER_ID, 'none');
  for (const k of ['CALLER_NAME', 'CALL_DATE', 'CALL_TIME', 'CALLED_ID']) assert.equal(env[k], undefined, `${k} leaked: ${env[k]}`);
  assert.deepEqual(hooks.calls[0]?.args, ['ttyT0', 'none', '', '0', '']);
  assert.equal(res.call.callerName, '');
  assert.equal(res.call.callDate, '');
  assert.equal(res.call.callTime, '');
  assert.equal(res.call.distRing, 0);
  res.line.close();
});

test('Q9: RING and a whole caller-ID block in one read count as two rings (rings 2 answers)', async (t) => {
  const r = rig(t, 'rings 2\n', { reply: answering });
  await idle(r);
  r.modem.send('RING\r\nDATE = 1121\r\nTIME = 1930\r\nNMBR = 5551234\r\nNAME = JOE\r\n');
  const res = await connected(r);
  assert.equal(res.call.callerId, '5551234');
  assert.equal(res.call.callerName, 'JOE');
  res.line.close();
});

test('Q9: RING and a lone NMBR line are one ring (rings 2 does not answer yet)', async (t) => {
  const r = rig(t, 'rings 2\n', { reply: answering });
  await idle(r);
  r.modem.send('RING\r\nNMBR = 5551234\r\n');
  await until(r.clock, () => ringsOf(r) === 1);
  // Two seconds of fake time with the NMBR line read: still one ring.
  await assert.rejects(until(r.clock, () => ringsOf(r) !== 1, { maxMs: 2_000 }));
  assert.equal(ringsOf(r), 1);
  assert.ok(!r.modem.commands.includes('ATA'));
  r.modem.send('NAME = JOE\r\n');
  const res = await connected(r);
  assert.equal(res.call.callerName, 'JOE');
  res.line.close();
});

test('prepareIdle: called each time the line goes idle (a RING then finds the files cached); one that throws changes nothing', async (t) => {
  let prepared = 0;
  const r = rig(t, 'rings 1\n', { reply: answering }, {
    prepareIdle: () => {
      prepared++;
      throw new Error('cannot look');
    },
  });
  await idle(r);
  assert.ok(prepared >= 1, 'called on the way to idle');
  const before = prepared;
  r.modem.send('RING\r\n');
  await until(r.clock, () => r.modem.commands.includes('ATA'));
  assert.equal(prepared, before, 'not on the way from RING to ATA');
});
