// Fault injection: a hang-up in each state of a call (init, ringing, answering, at the
// login prompt, during the session). The daemon runs in this process on simulated lines;
// after each hang-up the line must answer a normal call again and nothing may be left
// behind (fds, children, locks, utmp records). See docs/fault-injection.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonRig, waitFor } from '../helpers/leaks.js';
import { alive } from '../helpers/proc-stats.js';

const skip = process.getuid?.() === 0 ? undefined : 'needs root (login.config must be owned by root)';

test('hang-up during the init chat: the line ends (exit 10), is re-opened and initialised, and answers', { skip }, async (t) => {
  // Slow answers keep the init chat going long enough to hang up in the middle of it.
  const r = await daemonRig(t, { faults: { responseDelayMs: 3_000 } });
  const line = r.bank.line(0);
  await line.waitForDte(/AT/, 10_000);
  line.hangupLine();
  line.setFaults({});
  await r.waitLog(0, /exit 10: hangup in state init/, 10_000);
  await r.inService(0);
  await r.finish();
});

test('caller hangs up while the phone rings: "phone stopped ringing", back to idle, answers the next call', { skip }, async (t) => {
  const r = await daemonRig(t, { extraConfig: 'rings 3\n' });
  await r.waitState(0, 'idle', 20_000);
  const call = r.bank.line(0).call({ cidFormat: 'none', ringCadenceMs: 1_000 });
  await r.waitLog(0, /got RING/, 5_000);
  call.hangup();
  await r.waitLog(0, /phone stopped ringing \(rings=1\)/, 15_000);
  assert.doesNotMatch(r.bank.line(0).fromDte.all, /ATA/);
  const end = r.events.find((e) => e.type === 'call-end');
  assert.equal(end?.type === 'call-end' && end.outcome, 'missed');
  await r.inService(0, { ringCadenceMs: 1_000 });
  await r.finish();
});

test('caller hangs up while the modem answers: NO CARRIER, the call fails, the line answers the next call', { skip }, async (t) => {
  const r = await daemonRig(t);
  await r.waitState(0, 'idle', 20_000);
  const call = r.bank.line(0).call({ cidFormat: 'none', answerDelayMs: 5_000 });
  await r.bank.line(0).waitForDte(/ATA\r/, 5_000);
  call.hangup();
  await r.waitLog(0, /exit 1: answer failed \(abort: NO CARRIER\)/, 10_000);
  await r.inService(0);
  await r.finish();
});

test('caller hangs up at the login prompt: "got hangup", no utmp record, the line answers the next call', { skip }, async (t) => {
  const r = await daemonRig(t);
  await r.waitState(0, 'idle', 20_000);
  const call = r.bank.line(0).call({ cidFormat: 'none' });
  await call.waitFor(/login:/, 10_000);
  call.hangup();
  // The modem says NO CARRIER just before the line closes: either one ends the call.
  await r.waitLog(0, /failed: got (hangup|modem error 'NO CARRIER')/, 10_000);
  const end = await waitFor(() => r.events.some((e) => e.type === 'call-end'), 10_000, 'call-end').then(() => r.events.find((e) => e.type === 'call-end'));
  assert.equal(end?.type === 'call-end' && end.outcome, 'hangup');
  await r.inService(0);
  await r.finish();
});

test('caller hangs up during the session: the session is ended by SIGHUP, DEAD_PROCESS, the line answers again', { skip }, async (t) => {
  const r = await daemonRig(t);
  await r.waitState(0, 'idle', 20_000);
  const call = r.bank.line(0).call({ cidFormat: 'none' });
  await call.waitFor(/login:/, 10_000);
  call.write('sleeper\r');
  const m = await call.waitFor(/SLEEPING (\d+)/, 10_000);
  const pid = Number(m[1]);
  assert.ok(alive(pid));
  call.hangup();
  // The pty closing hangs the tty up: the kernel's SIGHUP (or the carrier watch) ends it.
  await r.waitLog(0, /session of 'sleeper' ended: signal SIGHUP/, 10_000);
  await waitFor(() => r.events.some((e) => e.type === 'call-end'), 10_000, 'the session to end');
  const end = r.events.find((e) => e.type === 'call-end');
  assert.equal(end?.type === 'call-end' && end.signal, 'SIGHUP');
  assert.equal(alive(pid), false, 'the session program is gone');
  await r.inService(0);
  await r.finish();
});

test('after a call the line shows `hanging-up` while it hangs the modem up, not `in-session` with empty columns', { skip }, async (t) => {
  const r = await daemonRig(t);
  await r.inService(0);
  const states = r.events.flatMap((e) => (e.type === 'line-state' && e.line === 'ttySIM0' ? [e.state] : []));
  const i = states.lastIndexOf('in-session');
  assert.ok(i >= 0, states.join(' '));
  assert.deepEqual(states.slice(i, i + 3), ['in-session', 'hanging-up', 'starting'], states.join(' '));
  // The call is over when the hang-up starts: its record ended before.
  const seq = r.events.filter((e) => e.line === 'ttySIM0' && (e.type === 'call-end' || (e.type === 'line-state' && e.state === 'hanging-up')));
  assert.deepEqual(seq.map((e) => e.type).slice(-2), ['call-end', 'line-state']);
  await r.finish();
});
