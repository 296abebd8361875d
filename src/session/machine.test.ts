import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initial, transition, type LineInput, type LineState, type MachineConfig, type Command, type LineSnapshot, type MachineEvent } from './machine.js';
import { BASE_MACHINE_CONFIG } from '../../test/helpers/machine-config.js';

const base: MachineConfig = BASE_MACHINE_CONFIG;
const NO_NOLOGIN: LineSnapshot = { nologin: false };
const NOLOGIN: LineSnapshot = { nologin: true };

interface Step {
  state: LineState;
  commands: Command[];
}

/** Feed inputs one by one from the initial state; return every step. */
function run(inputs: LineInput[], cfg: Partial<MachineConfig> = {}, now: LineSnapshot = NO_NOLOGIN): Step[] {
  const c = { ...base, ...cfg };
  let t = initial();
  const steps: Step[] = [t];
  for (const i of inputs) {
    t = transition(t.state, i, c, now);
    steps.push(t);
  }
  return steps;
}

const last = (steps: Step[]): Step => steps[steps.length - 1];
const cmds = (s: Step): string[] => s.commands.map((c) => c.cmd);

const toIdle: LineInput[] = [{ type: 'opened' }, { type: 'chat-ok' }, { type: 'quiet-done' }];

test('a normal call: init, idle, one RING, screening, answer, CONNECT', () => {
  const steps = run([
    ...toIdle,
    { type: 'activity' },
    { type: 'lock-free' },
    { type: 'ring', distRing: 0 },
    { type: 'screened', allowed: true, why: 'no rules' },
    { type: 'chat-ok', connect: '33600/ARQ' },
  ]);
  assert.deepEqual(
    steps.map((s) => s.state.name),
    ['starting', 'init', 'reset', 'idle', 'ringing', 'ringing', 'screening', 'answering', 'connected'],
  );
  assert.deepEqual(cmds(steps[3]), ['reset-call', 'unlock', 'log', 'wait-activity']);
  assert.deepEqual((steps[3]).commands[3], { cmd: 'wait-activity', checkAfterS: 3600 });
  assert.deepEqual(cmds(steps[4]), ['lock']);
  assert.deepEqual((steps[5]).commands, [{ cmd: 'wait-ring', timeoutMs: 10_000 }]);
  assert.deepEqual(last(steps).state, { name: 'connected', connect: '33600/ARQ', autoAnswered: false });
});

test('init time-out runs force-init-chat, then init once more; a second failure exits 1 and unlocks', () => {
  const steps = run([
    { type: 'opened' },
    { type: 'chat-failed', reason: 'timeout' },
    { type: 'chat-ok' },
    { type: 'chat-failed', reason: 'timeout' },
  ]);
  assert.equal((steps[2]).state.name, 'force-init');
  assert.deepEqual((steps[2]).commands.at(-1), { cmd: 'chat', chat: 'force-init' });
  assert.deepEqual((steps[3]).state, { name: 'init', attempt: 2, forced: true });
  assert.deepEqual(cmds(steps[3]), ['quiet', 'chat']);
  assert.deepEqual(last(steps).state, { name: 'ended', exitCode: 1, reason: 'modem initialisation failed', keepLock: false, kind: 'init-failed' });
  assert.deepEqual(cmds(last(steps)), ['audit', 'unlock']);
});

test('init answered with ERROR gives up at once (force-init is only for time-outs)', () => {
  const s = last(run([{ type: 'opened' }, { type: 'chat-failed', reason: 'abort', action: 'ERROR' }]));
  assert.equal(s.state.name, 'ended');
  assert.equal((s.state as { exitCode: number }).exitCode, 1);
});

test('force-init-chat off: an init time-out exits 1', () => {
  const s = last(run([{ type: 'opened' }, { type: 'chat-failed', reason: 'timeout' }], { forceInitChat: false }));
  assert.equal((s.state as { exitCode: number }).exitCode, 1);
});

test('need-dsr: with DSR and CTS down the line sleeps in 60 s steps before force-init', () => {
  const steps = run(
    [{ type: 'opened' }, { type: 'chat-failed', reason: 'timeout' }, { type: 'dsr-cts', up: false }, { type: 'dsr-cts', up: true }],
    { needDsr: true },
  );
  assert.deepEqual(cmds(steps[2]), ['check-dsr']);
  assert.deepEqual(cmds(steps[3]), ['log', 'sleep-dsr']);
  assert.equal(last(steps).state.name, 'force-init');
});

test('statistics and post-init chats run after init; post-init errors are ignored', () => {
  const steps = run([{ type: 'opened' }, { type: 'chat-ok' }, { type: 'chat-failed', reason: 'timeout' }, { type: 'chat-failed', reason: 'timeout' }], {
    statisticsChat: true,
    postInitChat: true,
    faxInit: true,
  });
  assert.deepEqual((steps[2]).commands, [{ cmd: 'chat', chat: 'statistics' }]);
  assert.deepEqual(cmds(steps[3]), ['fax-init', 'chat']);
  assert.equal(last(steps).state.name, 'reset');
});

test('rings 3: two RINGs then silence is "phone stopped ringing", back to idle via reset', () => {
  const steps = run(
    [...toIdle, { type: 'activity' }, { type: 'lock-free' }, { type: 'ring', distRing: 0 }, { type: 'cid-done' }, { type: 'ring', distRing: 0 }, { type: 'cid-done' }, { type: 'ring-timeout' }, { type: 'quiet-done' }],
    { rings: 3 },
  );
  const stopped = steps[steps.length - 2];
  assert.equal(stopped.state.name, 'reset');
  assert.deepEqual(stopped.commands[0], { cmd: 'audit', text: 'phone stopped ringing (rings=2)' });
  assert.equal(last(steps).state.name, 'idle');
});

test('cid-program can lower the ring count: answer at once when enough RINGs came', () => {
  const steps = run([...toIdle, { type: 'activity' }, { type: 'lock-free' }, { type: 'ring', distRing: 0, caller: true }, { type: 'cid-done', wanted: 1 }], { rings: 4, cidProgram: true });
  assert.deepEqual((steps[steps.length - 2]).commands, [{ cmd: 'cid-program', rings: 1 }]);
  assert.equal(last(steps).state.name, 'screening');
});

test('activity that is not a RING: junk on the line, exit 0, lock removed', () => {
  const s = last(run([...toIdle, { type: 'activity' }, { type: 'lock-free' }, { type: 'ring-timeout' }]));
  assert.deepEqual(s.state, { name: 'ended', exitCode: 0, reason: 'junk on the line', keepLock: false, kind: 'junk' });
  assert.ok(cmds(s).includes('unlock'));
});

test('an error line while counting RINGs exits 20 and keeps the lock (mgetty)', () => {
  const s = last(run([...toIdle, { type: 'activity' }, { type: 'lock-free' }, { type: 'modem-line', action: 'ERROR', line: 'ERROR' }]));
  assert.equal(s.state.name, 'ended');
  assert.equal((s.state as { exitCode: number; keepLock: boolean }).exitCode, 20);
  assert.equal((s.state as { keepLock: boolean }).keepLock, true);
});

test('answer failures exit 1 with an audit line; time-out is named as such', () => {
  const prefix: LineInput[] = [...toIdle, { type: 'activity' }, { type: 'lock-free' }, { type: 'ring', distRing: 0 }, { type: 'screened', allowed: true, why: '' }];
  const nc = last(run([...prefix, { type: 'chat-failed', reason: 'abort', action: 'NO CARRIER' }]));
  assert.deepEqual(nc.commands[0], { cmd: 'audit', text: 'failed NO CARRIER' });
  assert.equal((nc.state as { exitCode: number }).exitCode, 1);
  const to = last(run([...prefix, { type: 'chat-failed', reason: 'timeout' }]));
  assert.deepEqual(to.commands[0], { cmd: 'audit', text: 'failed timeout' });
});

test('a denied caller is not answered: audit, 8 s quiet-wait, then idle', () => {
  const steps = run([...toIdle, { type: 'activity' }, { type: 'lock-free' }, { type: 'ring', distRing: 0 }, { type: 'screened', allowed: false, why: "dialin.config:3 '!555'" }, { type: 'quiet-done' }]);
  const denied = steps[steps.length - 2];
  assert.deepEqual(denied.commands, [{ cmd: 'audit', text: "denied caller (dialin.config:3 '!555')" }, { cmd: 'quiet', ms: 8000 }]);
  assert.equal(last(steps).state.name, 'idle');
});

test('the modem auto-answering while we count keeps the CONNECT string (better than Q11)', () => {
  const s = last(run([...toIdle, { type: 'activity' }, { type: 'lock-free' }, { type: 'modem-line', action: 'CONNECT', line: 'CONNECT 2400/LAPM' }], { rings: 3 }));
  assert.deepEqual(s.state, { name: 'connected', connect: '2400/LAPM', autoAnswered: true });
});

test('a foreign lock at start or on wake-up: release the line, wait, then re-initialise', () => {
  const atStart = run([{ type: 'lock-held', ownerPid: 42, ownerCmd: 'cu -l ttyS3' }, { type: 'lock-free' }]);
  assert.equal((atStart[1]).state.name, 'dialout');
  assert.deepEqual(cmds(atStart[1]), ['log', 'release-line', 'watch-lock']);
  assert.deepEqual(last(atStart).state, { name: 'starting' });
  assert.deepEqual(cmds(last(atStart)), ['log', 'open']);
  const onWake = last(run([...toIdle, { type: 'activity' }, { type: 'lock-held', ownerPid: 7, ownerCmd: 'minicom' }]));
  assert.equal(onWake.state.name, 'dialout');
  const whileIdle = last(run([...toIdle, { type: 'lock-held', ownerPid: 7, ownerCmd: 'minicom' }]));
  assert.equal(whileIdle.state.name, 'dialout');
});

const twoFailedProbes: LineInput[] = [...toIdle, { type: 'check-due' }, { type: 'lock-free' }, { type: 'chat-failed', reason: 'timeout' }, { type: 'chat-failed', reason: 'timeout' }];
const exit30 = { name: 'ended', exitCode: 30, reason: 'modem does not react', keepLock: true, kind: 'modem-dead' };

test('modem check: AT -> OK goes back to idle through reset (lock taken for the probe, removed after)', () => {
  const steps = run([...toIdle, { type: 'check-due' }, { type: 'lock-free' }, { type: 'chat-ok' }, { type: 'quiet-done' }]);
  assert.deepEqual(steps.slice(4).map((s) => s.state.name), ['check-modem', 'check-modem', 'reset', 'idle']);
  assert.deepEqual(cmds(steps[4]), ['lock']);
  assert.deepEqual(cmds(steps[5]), ['probe-modem']);
  assert.ok(cmds(last(steps)).includes('unlock'));
  const held = last(run([...toIdle, { type: 'check-due' }, { type: 'lock-held', ownerPid: 9, ownerCmd: 'cu' }]));
  assert.equal(held.state.name, 'dialout');
});

test('modem check: two failed probes -> force-init recovery -> init -> OK -> idle', () => {
  const steps = run([...twoFailedProbes, { type: 'chat-ok' }, { type: 'chat-ok' }, { type: 'quiet-done' }]);
  assert.deepEqual(cmds(steps[6]), ['probe-modem'], 'the probe is retried once');
  assert.deepEqual(steps[7].state, { name: 'force-init', recovery: true });
  assert.deepEqual(steps[7].commands.at(-1), { cmd: 'chat', chat: 'force-init' });
  assert.deepEqual(steps[8].state, { name: 'init', attempt: 2, forced: true, recovery: true });
  assert.deepEqual(cmds(steps[8]), ['quiet', 'chat']);
  assert.equal(steps[9].state.name, 'reset');
  assert.equal(last(steps).state.name, 'idle');
});

test('modem check: force-init answered with ERROR still gets the init chat (as at start-up)', () => {
  const s = last(run([...twoFailedProbes, { type: 'chat-failed', reason: 'abort', action: 'ERROR' }]));
  assert.deepEqual(s.state, { name: 'init', attempt: 2, forced: true, recovery: true });
});

test('modem check: recovery fails (force-init times out, or init fails) -> exit 30 with the lock left', () => {
  for (const tail of [
    [{ type: 'chat-failed', reason: 'timeout' }],
    [{ type: 'chat-ok' }, { type: 'chat-failed', reason: 'timeout' }],
    [{ type: 'chat-ok' }, { type: 'chat-failed', reason: 'abort', action: 'ERROR' }],
  ] as LineInput[][]) {
    const s = last(run([...twoFailedProbes, ...tail]));
    assert.deepEqual(s.state, exit30, JSON.stringify(tail));
    assert.ok(!cmds(s).includes('unlock'), 'the lock is left (mgetty)');
    assert.ok(s.commands.some((c) => c.cmd === 'audit'));
  }
});

test('modem check without force-init-chat: the init chat alone is the recovery', () => {
  const steps = run([...twoFailedProbes, { type: 'chat-ok' }, { type: 'quiet-done' }], { forceInitChat: false });
  assert.deepEqual(steps[7].state, { name: 'init', attempt: 2, forced: false, recovery: true });
  assert.deepEqual(steps[7].commands.at(-1), { cmd: 'chat', chat: 'init' });
  assert.equal(last(steps).state.name, 'idle');
  const dead = last(run([...twoFailedProbes, { type: 'chat-failed', reason: 'timeout' }], { forceInitChat: false }));
  assert.deepEqual(dead.state, exit30);
});

test('start-up init failures still exit 1 (recovery is only for the idle check)', () => {
  const s = last(run([{ type: 'opened' }, { type: 'chat-failed', reason: 'timeout' }, { type: 'chat-failed', reason: 'timeout' }]));
  assert.deepEqual(s.state, { name: 'ended', exitCode: 1, reason: 'modem initialisation failed', keepLock: false, kind: 'init-failed' });
});

test('signals: TERM exits 10 and unlocks; HUP is ignored while idle; USR2 exits 0 when idle, is ignored off-hook', () => {
  const term = last(run([...toIdle, { type: 'activity' }, { type: 'lock-free' }, { type: 'signal', signal: 'SIGTERM' }]));
  assert.equal((term.state as { exitCode: number }).exitCode, 10);
  assert.ok(cmds(term).includes('unlock'));
  const hup = last(run([...toIdle, { type: 'signal', signal: 'SIGHUP' }]));
  assert.equal(hup.state.name, 'idle');
  const hupCall = last(run([...toIdle, { type: 'activity' }, { type: 'lock-free' }, { type: 'signal', signal: 'SIGHUP' }]));
  assert.equal((hupCall.state as { exitCode: number }).exitCode, 10);
  const usr2 = last(run([...toIdle, { type: 'signal', signal: 'SIGUSR2' }]));
  assert.equal((usr2.state as { exitCode: number }).exitCode, 0);
  const usr2Busy = last(
    run([...toIdle, { type: 'activity' }, { type: 'lock-free' }, { type: 'ring', distRing: 0 }, { type: 'screened', allowed: true, why: '' }, { type: 'signal', signal: 'SIGUSR2' }]),
  );
  assert.equal(usr2Busy.state.name, 'answering');
});

test('virtual ring (SIGUSR1) answers without a RING', () => {
  const s = last(run([...toIdle, { type: 'virtual-ring' }, { type: 'lock-free' }], { rings: 3 }));
  // After the lock, counting starts; a virtual ring is then an immediate answer.
  assert.equal(s.state.name, 'ringing');
  const answered = transition(s.state, { type: 'virtual-ring' }, { ...base, rings: 3 }, NO_NOLOGIN);
  assert.equal(answered.state.name, 'screening');
});

test('nologin file: RINGs are counted but refused; silence resets; an auto-answer is refused with exit 20', () => {
  const refused = run([...toIdle, { type: 'activity' }, { type: 'lock-free' }, { type: 'ring', distRing: 0 }, { type: 'ring-timeout' }], {}, NOLOGIN);
  assert.equal((refused[5]).state.name, 'nologin');
  assert.deepEqual(last(refused).commands[0], { cmd: 'audit', text: 'rejected, rings=1' });
  const auto = run([...toIdle, { type: 'activity' }, { type: 'lock-free' }, { type: 'modem-line', action: 'CONNECT', line: 'CONNECT 2400' }, { type: 'chat-ok' }], {}, NOLOGIN);
  assert.deepEqual(cmds(auto[6]), ['quiet', 'send-nologin-refusal']);
  assert.deepEqual(last(auto).state, { name: 'ended', exitCode: 20, reason: 'nologin file present, call refused', keepLock: true, kind: 'nologin' });
  // The file goes away between two RINGs: the next snapshot says so.
  const gone = run([...toIdle, { type: 'activity' }, { type: 'lock-free' }], {}, NOLOGIN);
  const t = transition(last(gone).state, { type: 'ring', distRing: 0 }, base, NO_NOLOGIN);
  assert.equal(t.state.name, 'screening');
});

test('virtual ring during the ringback loop answers at once (it would otherwise count forever)', () => {
  const cfg = { ringback: true, ringbackTimeS: 30, rings: 1 };
  const s = last(run([...toIdle, { type: 'virtual-ring' }, { type: 'lock-free' }, { type: 'virtual-ring' }], cfg));
  assert.equal(s.state.name, 'screening');
});

test('ringback: the first call is let go, the recall within the window is answered', () => {
  const cfg = { ringback: true, ringbackTimeS: 30, rings: 1 };
  const steps = run([...toIdle, { type: 'activity' }, { type: 'lock-free' }, { type: 'ring', distRing: 0 }, { type: 'ring', distRing: 0 }, { type: 'ring-timeout' }, { type: 'ring', distRing: 0 }], cfg);
  assert.deepEqual((steps[5]).commands, [{ cmd: 'wait-ring', timeoutMs: 17_000 }]);
  const waiting = steps[8];
  assert.equal((waiting.state as { ringback: string }).ringback, 'waiting-recall');
  assert.deepEqual(waiting.commands.at(-1), { cmd: 'wait-ring', timeoutMs: 30_000 });
  assert.equal(last(steps).state.name, 'screening');
  const missed = last(run([...toIdle, { type: 'activity' }, { type: 'lock-free' }, { type: 'ring', distRing: 0 }, { type: 'ring-timeout' }, { type: 'ring-timeout' }], cfg));
  assert.deepEqual(missed.commands[0], { cmd: 'audit', text: 'missed ringback!' });
});

test('direct line: no init, any byte leads to the login phase with connect DIRECT', () => {
  const steps = run([{ type: 'opened' }, { type: 'quiet-done' }, { type: 'activity' }, { type: 'lock-free' }], { direct: true });
  assert.equal((steps[1]).state.name, 'reset');
  assert.deepEqual((steps[2]).commands.at(-1), { cmd: 'wait-activity', checkAfterS: -1 });
  assert.deepEqual(last(steps).state, { name: 'connected', connect: 'DIRECT', autoAnswered: false });
});

test('open failure exits 30; hangup while answering exits 10; unexpected inputs are logged, not fatal', () => {
  assert.equal((last(run([{ type: 'open-failed', message: 'ENOENT' }])).state as { exitCode: number }).exitCode, 30);
  const odd = last(run([...toIdle, { type: 'ring', distRing: 0 }]));
  assert.equal(odd.state.name, 'idle');
  assert.deepEqual(cmds(odd), ['log']);
});

test('transition is a pure function: the nologin file reaches it only through the snapshot', () => {
  const ringing = last(run([...toIdle, { type: 'activity' }]));
  const lockFree: LineInput = { type: 'lock-free' };
  // The config carries no callback: the same arguments give the same answer, every time.
  assert.equal(Object.values(base).some((v) => typeof v === 'function'), false);
  const a = transition(ringing.state, lockFree, base, NOLOGIN);
  assert.deepEqual(transition(ringing.state, lockFree, base, NOLOGIN), a);
  assert.equal(a.state.name, 'nologin');
  assert.equal(transition(ringing.state, lockFree, base, NO_NOLOGIN).state.name, 'ringing');
});

test('rings 0 is taken as 1 by the machine (it would otherwise answer without a RING)', () => {
  const steps = run([...toIdle, { type: 'activity' }, { type: 'lock-free' }, { type: 'ring', distRing: 0 }], { rings: 0 });
  assert.deepEqual(steps[5].state, { name: 'ringing', rings: 0, wanted: 1, ringback: 'off' });
  assert.deepEqual(steps[5].commands, [{ cmd: 'wait-ring', timeoutMs: 10_000 }]);
  assert.equal(last(steps).state.name, 'screening');
});

test('cid-program: the machine runs it once a call, when caller data is known or at the second RING', () => {
  const ringing: LineInput[] = [...toIdle, { type: 'activity' }, { type: 'lock-free' }];
  const cfg = { rings: 5, cidProgram: true };
  // No caller data: not at RING 1, at RING 2; then never again in this call.
  const plain = run([...ringing, { type: 'ring', distRing: 0 }, { type: 'ring', distRing: 0 }, { type: 'cid-done' }, { type: 'ring', distRing: 0, caller: true }], cfg);
  assert.deepEqual(plain[6].commands, [{ cmd: 'wait-ring', timeoutMs: 10_000 }]);
  assert.deepEqual(plain[7].commands, [{ cmd: 'cid-program', rings: 2 }]);
  assert.deepEqual(last(plain).commands, [{ cmd: 'wait-ring', timeoutMs: 10_000 }]);
  // Caller data with RING 1: at once.
  assert.deepEqual(last(run([...ringing, { type: 'ring', distRing: 0, caller: true }], cfg)).commands, [{ cmd: 'cid-program', rings: 1 }]);
  // None configured: never.
  const none = run([...ringing, { type: 'ring', distRing: 0, caller: true }, { type: 'ring', distRing: 0 }], { rings: 5 });
  assert.ok(none.every((s) => !cmds(s).includes('cid-program')));
  // The next call may run it again.
  const again = run([...ringing, { type: 'ring', distRing: 0, caller: true }, { type: 'cid-done' }, { type: 'ring-timeout' }, { type: 'quiet-done' }, ...ringing.slice(3), { type: 'ring', distRing: 0, caller: true }], cfg);
  assert.deepEqual(last(again).commands, [{ cmd: 'cid-program', rings: 1 }]);
});

test('virtual ring: once SIGUSR1 came, the call\'s RING waits are taken as come (the machine says so)', () => {
  const steps = run([...toIdle, { type: 'virtual-ring' }, { type: 'lock-free' }, { type: 'virtual-ring' }], { rings: 3 });
  assert.deepEqual(cmds(steps[5]), ['log', 'virtual-ring']);
  assert.equal(last(steps).state.name, 'screening');
  // With the nologin file too (as mgetty: the virtual ring overrides it), down to the answer.
  const refused = run([...toIdle, { type: 'virtual-ring' }, { type: 'lock-free' }, { type: 'virtual-ring' }, { type: 'virtual-ring' }], { rings: 2 }, NOLOGIN);
  assert.deepEqual(cmds(refused[5]), ['log', 'log', 'virtual-ring']);
  assert.deepEqual(cmds(refused[6]), ['log', 'virtual-ring']);
  assert.equal(last(refused).state.name, 'screening');
  // A plain call afterwards waits for real RINGs again.
  const later = run([...toIdle, { type: 'virtual-ring' }, { type: 'lock-free' }, { type: 'virtual-ring' }, { type: 'screened', allowed: false, why: 'x' }, { type: 'quiet-done' }, { type: 'activity' }, { type: 'lock-free' }], { rings: 3 });
  assert.deepEqual(last(later).commands, [{ cmd: 'wait-ring', timeoutMs: 10_000 }]);
});

/** Every event of a run, as `event` or `event:detail`. */
const eventsOfRun = (steps: Step[]): string[] =>
  steps.flatMap((s) => (s as { events?: MachineEvent[] }).events ?? []).map((e) =>
    e.event === 'phase' ? `phase:${e.phase}` : e.event === 'call-end' ? `call-end:${e.outcome}` : e.event === 'ended' ? `ended:${e.afterAnswer}` : e.event,
  );

test('events: a call from start-up to CONNECT tells the outside what happened, in order, without state names', () => {
  const steps = run([
    ...toIdle,
    { type: 'activity' },
    { type: 'lock-free' },
    { type: 'ring', distRing: 0, caller: true },
    { type: 'screened', allowed: true, why: '' },
    { type: 'chat-ok', connect: '33600' },
  ]);
  assert.deepEqual(eventsOfRun(steps), [
    'phase:initializing', 'modem-ready', 'phase:idle', 'call-start', 'phase:ringing', 'call-caller', 'phase:answering', 'phase:connected',
  ]);
});

test('events: calls that end before the answer, and ends straight from the answer chat', () => {
  const ringing: LineInput[] = [...toIdle, { type: 'activity' }, { type: 'lock-free' }];
  const missed = eventsOfRun(run([...ringing, { type: 'ring', distRing: 0 }, { type: 'ring-timeout' }, { type: 'quiet-done' }], { rings: 3 }));
  assert.deepEqual(missed.slice(-2), ['call-end:missed', 'phase:idle']);
  const denied = eventsOfRun(run([...ringing, { type: 'ring', distRing: 0 }, { type: 'screened', allowed: false, why: 'x' }]));
  assert.equal(denied.at(-1), 'call-end:denied');
  const refused = eventsOfRun(run([...ringing, { type: 'ring', distRing: 0 }, { type: 'ring-timeout' }], {}, NOLOGIN));
  assert.equal(refused.at(-1), 'call-end:refused');
  const noCarrier = eventsOfRun(run([...ringing, { type: 'ring', distRing: 0 }, { type: 'screened', allowed: true, why: '' }, { type: 'chat-failed', reason: 'abort', action: 'NO CARRIER' }]));
  assert.equal(noCarrier.at(-1), 'ended:true');
  const junk = eventsOfRun(run([...ringing, { type: 'ring-timeout' }]));
  assert.equal(junk.at(-1), 'ended:false');
  // A direct line is ready as soon as it is open; a dial-out program's lock is a phase of its own.
  assert.deepEqual(eventsOfRun(run([{ type: 'opened' }], { direct: true })), ['modem-ready']);
  assert.deepEqual(eventsOfRun(run([{ type: 'lock-held', ownerPid: 1, ownerCmd: 'cu' }, { type: 'lock-free' }])), ['phase:dialout', 'phase:starting']);
});
