// Fault injection, modem side: garbage, result codes split at every byte with stray
// CR/LF, NO CARRIER and BUSY after ATA. The daemon runs in this process on simulated
// lines; after each fault the line must answer a normal call again and nothing may be
// left behind (fds, children, locks, utmp records). See docs/fault-injection.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonRig } from '../helpers/leaks.js';

const skip = process.getuid?.() === 0 ? undefined : 'needs root (login.config must be owned by root)';

test('garbage: junk before every result code, and a burst while idle ("junk on the line"); the line answers again', { skip }, async (t) => {
  const r = await daemonRig(t, { faults: { garbageBeforeResults: 12 } });
  await r.waitState(0, 'idle', 20_000);
  // A burst with no RING in it wakes the idle line, which then gives up after the RING time-out.
  r.bank.line(0).modem.injectGarbage(300);
  await r.waitLog(0, /activity on the line but no RING: junk on the line/, 20_000);
  await r.waitLog(0, /exit 0: junk on the line/, 5_000);
  // Junk before RING, OK and CONNECT does not stop the next call.
  await r.inService(0);
  await r.finish();
});

test('result codes split at every byte, with stray CR/LF around them: init and a call work', { skip }, async (t) => {
  const r = await daemonRig(t, { faults: { splitResults: true, splitDelayMs: 5, strayCrLf: true } });
  await r.waitState(0, 'idle', 30_000);
  await r.inService(0);
  const log = r.logText(0);
  assert.match(log, /waiting for 'OK' \*\* found \*\*/);
  assert.match(log, /got RING/);
  assert.doesNotMatch(log, /timeout waiting for/);
  await r.finish();
});

test('NO CARRIER after ATA: the call fails with a clear line, the line answers the next call', { skip }, async (t) => {
  const r = await daemonRig(t);
  await r.waitState(0, 'idle', 20_000);
  const call = r.bank.line(0).call({ cidFormat: 'none', outcome: 'no-carrier', answerDelayMs: 200 });
  await call.ended;
  await r.waitLog(0, /answer chat: got 'NO CARRIER'/, 5_000);
  await r.waitLog(0, /exit 1: answer failed \(abort: NO CARRIER\)/, 5_000);
  const end = r.events.find((e) => e.type === 'call-end');
  assert.equal(end?.type === 'call-end' && end.outcome, 'no-carrier');
  await r.inService(0);
  await r.finish();
});

test('BUSY after ATA: the call fails with a clear line, the line answers the next call', { skip }, async (t) => {
  const r = await daemonRig(t);
  await r.waitState(0, 'idle', 20_000);
  const call = r.bank.line(0).call({ cidFormat: 'none', outcome: 'busy', answerDelayMs: 200 });
  await call.ended;
  await r.waitLog(0, /exit 1: answer failed \(abort: BUSY\)/, 5_000);
  await r.inService(0);
  await r.finish();
});
