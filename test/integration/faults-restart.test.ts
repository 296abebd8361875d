// Fault injection for the slow cases, on fake time: a modem that is silent at start and
// one that dies while idle. Real modem time-outs (20 s per init chat, 900 s between idle
// checks) would make these minutes long, so the daemon's line supervisor (the real one:
// restart policy, runner, login phase) runs on a FakeClock over memory lines with a
// scripted modem. After the fault the line must initialise, answer a call and hold no
// lock; stopping it must leave no lock either. See docs/fault-injection.md.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../src/core/clock.js';
import { createMemoryLinePair, type FarEnd } from '../../src/line/memory-line.js';
import { createLogger } from '../../src/log/logger.js';
import { resolvePort } from '../../src/config/effective.js';
import { parseMgettyConfig } from '../../src/config/mgetty-config.js';
import { loadConfigFiles } from '../../src/config/load.js';
import { lineSettings } from '../../src/session/settings.js';
import { LineSupervisor } from '../../src/daemon/line-supervisor.js';
import type { DaemonEvent } from '../../src/daemon/events.js';
import { until } from '../helpers/drive.js';
import { SimModem } from '../helpers/sim-modem.js';
import { FAST_POLICY } from '../helpers/leaks.js';

interface Rig {
  sup: LineSupervisor;
  clock: FakeClock;
  modem: SimModem;
  far: () => FarEnd;
  events: DaemonEvent[];
  lockFile: string;
  logText: () => string;
  /** The modem answers nothing while true. */
  setDead: (dead: boolean) => void;
  /** What the modem says to ATA (default CONNECT 33600). */
  setAta: (reply: string) => void;
}

function rig(t: TestContext, config: string, dead: boolean): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-faults-fake-'));
  const lockDir = join(dir, 'lock');
  const logDir = join(dir, 'log');
  const etc = join(dir, 'etc');
  mkdirSync(lockDir);
  mkdirSync(etc);
  writeFileSync(join(etc, 'login.config'), '* - - /bin/true\n');
  chmodSync(join(etc, 'login.config'), 0o600);
  writeFileSync(join(dir, 'utmp'), '');
  const clock = new FakeClock();
  let isDead = dead;
  let ata = 'CONNECT 33600';
  const first = createMemoryLinePair({ clock, path: '/dev/ttyT0' });
  const modem = new SimModem(first.far, clock, { reply: (c) => (isDead ? null : c === 'ATA' ? ata : 'OK') });
  let pending: typeof first | undefined = first;
  let far = first.far;
  const settings = lineSettings(resolvePort(parseMgettyConfig(config, 'mgetty.config'), 'ttyT0'), '/dev/ttyT0');
  const log = createLogger({ device: 'ttyT0', level: 5, logDir, audit: 'none', clock, stderr: () => undefined });
  const events: DaemonEvent[] = [];
  let seq = 0;
  const sup = new LineSupervisor({
    settings,
    clock,
    log,
    events: { emit: (e) => events.push(e) },
    lockDir,
    utmp: join(dir, 'utmp'),
    wtmp: join(dir, 'wtmp'),
    configDir: etc,
    files: () => loadConfigFiles(etc),
    runnerDeps: () => ({
      openLine: () => {
        // Every open is a fresh line, as reopening a device; the modem follows it.
        const p = pending ?? createMemoryLinePair({ clock, path: '/dev/ttyT0' });
        if (pending === undefined) modem.attach(p.far);
        pending = undefined;
        far = p.far;
        return p.line;
      },
      nologinPresent: () => false,
    }),
    policy: FAST_POLICY,
    nextCallId: () => `c${++seq}`,
  });
  t.after(async () => {
    const stopped = sup.stop();
    await until(clock, () => true).catch(() => undefined);
    await stopped;
    rmSync(dir, { recursive: true, force: true });
  });
  sup.start();
  return {
    sup,
    clock,
    modem,
    far: () => far,
    events,
    lockFile: join(lockDir, 'LCK..ttyT0'),
    logText: () => (existsSync(join(logDir, 'ttyT0.log')) ? readFileSync(join(logDir, 'ttyT0.log'), 'utf8') : ''),
    setDead: (d) => {
      isDead = d;
    },
    setAta: (reply) => {
      ata = reply;
    },
  };
}

const states = (r: Rig): string[] => r.events.filter((e) => e.type === 'line-state').map((e) => (e.type === 'line-state' ? e.state : ''));
const lastState = (r: Rig): string | undefined => states(r).at(-1);

/** A call: RING, the line answers (ATA -> CONNECT), shows the prompt, the caller hangs up; the line re-initialises. */
async function answersACall(r: Rig): Promise<void> {
  await until(r.clock, () => lastState(r) === 'idle', { stepMs: 50 });
  assert.equal(existsSync(r.lockFile), false, 'an idle line holds no lock');
  const ends = r.events.filter((e) => e.type === 'call-end').length;
  const farBefore = r.far();
  let seen = '';
  farBefore.onData((b) => (seen += b.toString('latin1')));
  farBefore.send('RING\r\n');
  await until(r.clock, () => seen.includes('login:'), { stepMs: 50, maxMs: 30_000 });
  assert.ok(r.modem.commands.includes('ATA'));
  farBefore.hangup();
  await until(r.clock, () => r.events.filter((e) => e.type === 'call-end').length > ends, { stepMs: 50 });
  await until(r.clock, () => lastState(r) === 'idle', { stepMs: 50 });
  assert.equal(existsSync(r.lockFile), false, 'no lock after the call');
}

test('modem silent at start: init fails (clear line), the restart policy retries with back-off, the line comes up when the modem answers', async (t) => {
  const r = rig(t, '', true);
  // Two failed initialisations: 20 s chat time-out each (plus force-init), then back-off.
  await until(r.clock, () => r.events.filter((e) => e.type === 'modem-init' && !e.ok).length >= 2, { stepMs: 100 });
  assert.match(r.logText(), /##### failed in modem initialisation dev=ttyT0/);
  assert.match(r.logText(), /line ended \(modem initialisation failed\); next try in 200 ms/);
  assert.match(r.logText(), /line ended \(modem initialisation failed\); next try in 400 ms/);
  assert.notEqual(lastState(r), 'idle');
  r.setDead(false);
  await answersACall(r);
  assert.ok(r.events.some((e) => e.type === 'modem-init' && e.ok));
});

test('modem dies while idle: the check finds it, re-initialising fails (exit 30), the supervisor keeps retrying, the line comes back with the modem', async (t) => {
  const r = rig(t, 'modem-check-time 900\n', false);
  await until(r.clock, () => lastState(r) === 'idle', { stepMs: 50 });
  r.setDead(true);
  r.clock.advance(900_000);
  await until(r.clock, () => /line ended \(modem does not react\)/.test(r.logText()), { stepMs: 100 });
  assert.match(r.logText(), /modem doesn't react to AT: trying to re-initialise it/);
  assert.match(r.logText(), /##### failed: modem does not react dev=ttyT0/);
  assert.ok(r.events.some((e) => e.type === 'line-error' && /mgetty exit code 30/.test(e.message)));
  // Still dead for one more try: the next start fails in init.
  await until(r.clock, () => /line ended \(modem initialisation failed\)/.test(r.logText()), { stepMs: 100 });
  r.setDead(false);
  await answersACall(r);
});

test('a line stopped while its modem is dead (after exit 30, which keeps the lock) leaves no lock file', async (t) => {
  const r = rig(t, 'modem-check-time 900\n', false);
  await until(r.clock, () => lastState(r) === 'idle', { stepMs: 50 });
  r.setDead(true);
  r.clock.advance(900_000);
  await until(r.clock, () => /line ended \(modem does not react\)/.test(r.logText()), { stepMs: 100 });
  const stopped = r.sup.stop();
  await until(r.clock, () => lastState(r) === 'stopped', { stepMs: 50 });
  await stopped;
  assert.equal(existsSync(r.lockFile), false, 'the daemon must not leave its lock behind when it stops serving the line');
});

test('calls that fail after ATA (NO CARRIER, BUSY) are not line failures: 12 in a row within 2 minutes, and the line never rests', async (t) => {
  const r = rig(t, '', false);
  r.setAta('NO CARRIER');
  for (let i = 0; i < 12; i++) {
    await until(r.clock, () => lastState(r) === 'idle', { stepMs: 50 });
    const ends = r.events.filter((e) => e.type === 'call-end').length;
    r.far().send('RING\r\n');
    await until(r.clock, () => r.events.filter((e) => e.type === 'call-end').length > ends, { stepMs: 50 });
  }
  const end = r.events.filter((e) => e.type === 'call-end').at(-1);
  assert.equal(end?.type === 'call-end' && end.outcome, 'no-carrier');
  assert.ok(r.clock.now() - (r.events[0]?.at ?? 0) < 120_000, 'all within the 2-minute window');
  assert.ok(!states(r).includes('resting'), `states: ${states(r).join(' ')}`);
  assert.doesNotMatch(r.logText(), /resting for/);
  r.setAta('CONNECT 33600');
  await answersACall(r);
});
