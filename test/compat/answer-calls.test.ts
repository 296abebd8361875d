// Differential: the same simulated calls against Debian's real mgetty (private mount
// namespace) and against tgetty. They must agree on the AT commands sent, the RING on
// which ATA goes out, the exit code and the lock file left behind; every field that
// may differ is named here with its quirk number from docs/differences.md.
//
// Both run with `-D` (data only). Without it mgetty probes for fax (ATI, AT+FCLASS=2.0,
// AT+FCLASS=2) and tgetty sends no fax probes at all ("Not supported (yet)" in
// docs/differences.md); runScenario() files any such command under `faxProbes`, never
// under `commands`, and the tests below check that no probe was sent by either.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { compatUnavailable, expectSame, runBoth, type CompatRecord, type Scenario } from '../helpers/compat.js';

const skip = compatUnavailable();
const BASE = 'port ttySIM0\n  toggle-dtr n\n';
const INIT = ['ATQ0V1H0', 'AT'];

/** A call that reached the program: the lock (Q14), argv[0] and the hang-up differ (docs/differences.md). */
const PROGRAM_DIFFS = {
  documented: {
    lockLeft: 'Q14: mgetty execs the program with its own pid, so the lock outlives the session; tgetty removes it',
    'program.argv0': "docs/differences.md 'argv[0]': mgetty passes the base name ('sh'); tgetty the full path ('/bin/sh')",
    commands: "docs/differences.md 'hang-up after calls': tgetty hangs the modem up with +++ and ATH0 after the session; mgetty relies on HUPCL",
    // docs/differences.md "Environment" (issue 15 item 3): an allow-list instead of the getty's whole environment.
    'program.env': 'tgetty passes TERM only when the term keyword sets it; mgetty passes its own TERM',
    'program.envAdded': 'tgetty sets a fixed PATH (and HOME/USER/LOGNAME/SHELL of a login.config user)',
    'program.envRemoved': 'tgetty passes an allow-list (PATH, TZ, LANG, the call variables), not its whole environment',
  },
};

async function same(t: TestContext, m: CompatRecord, g: CompatRecord, diffs: Parameters<typeof expectSame>[3] = {}): Promise<void> {
  assert.deepEqual(m.faxProbes, [], 'mgetty -D sends no fax probes');
  assert.deepEqual(g.faxProbes, [], 'tgetty sends no fax probes');
  // Whatever tgetty sends after the session (see PROGRAM_DIFFS), everything up to it is the same.
  assert.deepEqual(g.commands.slice(0, m.commands.length), m.commands, 'the commands up to the end of mgetty\'s part');
  await expectSame(t, m, g, diffs);
}

async function both(s: Scenario): Promise<{ m: CompatRecord; t: CompatRecord }> {
  const r = await runBoth(s);
  return { m: r.mgetty, t: r.tgetty };
}

test('default config, one RING: same commands, ATA on RING 1, the program runs, same exit', { skip }, async (t) => {
  const { m, t: g } = await both({
    name: 'one-ring',
    config: BASE,
    call: { cidFormat: 'none' },
    caller: [{ waitFor: /login: / }, { send: 'joe\r' }],
    end: 'program',
  });
  assert.deepEqual(m.commands, [...INIT, 'ATA']);
  assert.equal(m.ataAfterRing, 1);
  assert.equal(m.exitCode, 3, "the recorder's status");
  assert.equal(m.lockLeft, true);
  assert.equal(g.lockLeft, false);
  assert.deepEqual(
    m.wtmp.map((u) => [u.user, u.host]),
    [['LOGIN', '33600/ARQ/V34/LAPM/V42BIS']],
  );
  await same(t, m, g, PROGRAM_DIFFS);
});

test('rings 2 with an MDMF caller ID block: the NMBR+NAME block counts as the second RING (Q9), ATA after RING 1 for both', { skip }, async (t) => {
  const { m, t: g } = await both({
    name: 'rings2-mdmf',
    config: `${BASE}  rings 2\n`,
    call: { cidFormat: 'mdmf', callerId: '5551234', callerName: 'JOE' },
    caller: [{ waitFor: /login: / }, { send: 'joe\r' }],
    end: 'program',
  });
  assert.equal(m.ataAfterRing, 1, 'mgetty answers on the caller ID block, before the second RING');
  assert.equal(m.program?.env.CALLER_ID, '5551234');
  await same(t, m, g, PROGRAM_DIFFS);
});

test('rings 2 with a caller ID block without a name: a lone NMBR is no RING (Q9), ATA after RING 2 for both', { skip }, async (t) => {
  const { m, t: g } = await both({
    name: 'rings2-mdmf-no-name',
    config: `${BASE}  rings 2\n`,
    call: { cidFormat: 'mdmf', callerId: '5551234' },
    caller: [{ waitFor: /login: / }, { send: 'joe\r' }],
    end: 'program',
  });
  assert.equal(m.ataAfterRing, 2, 'mgetty waits for the second RING: NMBR without NAME does not count');
  assert.equal(m.program?.env.CALLER_ID, '5551234');
  await same(t, m, g, PROGRAM_DIFFS);
});

test('rings 2 with a private caller (NMBR = P, no NAME): the NMBR line counts at once (Q9), ATA after RING 1 for both', { skip }, async (t) => {
  const { m, t: g } = await both({
    name: 'rings2-mdmf-private',
    config: `${BASE}  rings 2\n`,
    call: { cidFormat: 'mdmf', callerId: 'P' },
    caller: [{ waitFor: /login: / }, { send: 'joe\r' }],
    end: 'program',
  });
  assert.equal(m.ataAfterRing, 1, 'mgetty answers on NMBR = P, before the second RING');
  assert.equal(m.program?.env.CALLER_ID, 'P');
  await same(t, m, g, PROGRAM_DIFFS);
});

test('NO CARRIER after ATA: exit 1, lock removed, for both', { skip }, async (t) => {
  const { m, t: g } = await both({ name: 'no-carrier', config: BASE, call: { cidFormat: 'none', outcome: 'no-carrier' }, end: 'exit' });
  assert.deepEqual(m.commands, [...INIT, 'ATA']);
  assert.equal(m.exitCode, 1);
  assert.equal(m.lockLeft, false);
  await same(t, m, g);
});

test('an ERROR line from the idle modem: exit 20, lock left, for both', { skip }, async (t) => {
  const { m, t: g } = await both({ name: 'idle-error', config: BASE, idle: [{ modemSays: '\r\nERROR\r\n' }], end: 'exit' });
  assert.deepEqual(m.commands, INIT);
  assert.equal(m.ataAfterRing, undefined);
  assert.equal(m.exitCode, 20);
  assert.equal(m.lockLeft, true, 'exit 20: the modem state is unknown, the lock stays (Q14 keeps this one)');
  await same(t, m, g);
});

test('the init chat answered with ERROR: exit 1, lock removed, for both', { skip }, async (t) => {
  // X9 is out of range for the simulated modem, so it answers ERROR.
  const { m, t: g } = await both({ name: 'init-error', config: `${BASE}  init-chat "" ATQ0V1H0X9 OK\n`, end: 'exit' });
  assert.deepEqual(m.commands, ['ATQ0V1H0X9']);
  assert.equal(m.exitCode, 1);
  assert.equal(m.lockLeft, false);
  await same(t, m, g);
});

test('dialin.config denies the caller: no ATA from either, both still running', { skip }, async (t) => {
  // rings 2: the caller ID block arrives after RING 1 and counts as the second ring, so
  // the number is known when the decision is made.
  const { m, t: g } = await both({
    name: 'dialin-deny',
    config: `${BASE}  rings 2\n`,
    dialinConfig: '!5551234\n',
    call: { cidFormat: 'mdmf', callerId: '5551234' },
    end: 'observe',
    observeMs: 2500,
  });
  assert.deepEqual(m.commands, INIT);
  assert.equal(m.ataAfterRing, undefined);
  assert.equal(m.exitCode, null, 'still waiting for the line to clear');
  assert.equal(m.lockLeft, true, 'the call is locked while the line clears');
  await same(t, m, g);
});
