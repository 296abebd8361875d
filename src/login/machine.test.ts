import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initial, transition, POST_CONNECT_QUIET_MS, type LoginCommand, type LoginInput, type LoginMachineConfig, type LoginTransition } from './machine.js';

// Time is an input: every test walks a clock of its own (ms, monotonic); nothing sleeps.
const base: LoginMachineConfig = {
  connect: '33600/ARQ',
  autobauding: false,
  ignoreCarrier: false,
  autopppWindowMs: 2000,
  promptWaitMs: 500,
  loginTimeS: 240,
  fidoSendEmsi: false,
  ttypromptHack: false,
};

/** Feed inputs from CONNECT at t=0; every step's transition. */
function run(inputs: LoginInput[], cfg: Partial<LoginMachineConfig> = {}): LoginTransition[] {
  const c = { ...base, ...cfg };
  let t = initial(c, 0);
  const steps = [t];
  for (const i of inputs) {
    t = transition(t.state, i, c);
    steps.push(t);
  }
  return steps;
}

const last = (steps: LoginTransition[]): LoginTransition => steps[steps.length - 1];
const cmds = (t: LoginTransition): string[] => t.commands.map((c) => c.cmd);
const find = <K extends LoginCommand['cmd']>(t: LoginTransition, cmd: K): Extract<LoginCommand, { cmd: K }> | undefined =>
  t.commands.find((c): c is Extract<LoginCommand, { cmd: K }> => c.cmd === cmd);

/** The quiet-wait and prompt-waittime pass in silence: the prompt is out at t=900. */
const toPrompt: LoginInput[] = [
  { type: 'timeout', at: 300 },
  { type: 'timeout', at: 800 },
  { type: 'prompted', at: 900 },
];
const name = (at: number, result?: Extract<LoginInput, { type: 'name-bytes' }>['result']): LoginInput => ({ type: 'name-bytes', at, ...(result !== undefined ? { result } : {}) });

test('CONNECT: the 0.3 s quiet-wait inside the autoppp window, then prompt-waittime, then login.config, issue and prompt', () => {
  const steps = run(toPrompt);
  assert.deepEqual(steps[0]?.commands, [{ cmd: 'wait-input', parse: 'ppp', until: 2000, quietMs: POST_CONNECT_QUIET_MS }]);
  assert.deepEqual(steps[1]?.commands, [{ cmd: 'set-clocal', on: false }, { cmd: 'wait-input', parse: 'ppp', until: 2000, quietMs: 500 }]);
  assert.equal(steps[2]?.state.name, 'prompting');
  assert.deepEqual(cmds(steps[2]), ['load-login-config', 'apply-mode', 'print-issue', 'drain', 'apply-mode', 'write-prompt']);
  // The login timer starts when the prompt is out, not before the issue.
  assert.deepEqual(last(steps).state, { name: 'reading-name', deadline: 900 + 240_000 });
  assert.deepEqual(last(steps).commands, [{ cmd: 'wait-input', parse: 'name', until: 240_900 }]);
});

test('noise after CONNECT is logged and restarts the quiet-wait; at the window end the wait is over', () => {
  const steps = run([{ type: 'bytes', at: 100, ppp: false, bytes: Buffer.from('\r\n') }, { type: 'bytes', at: 2000, ppp: false, bytes: Buffer.from('x') }], { promptWaitMs: 0 });
  assert.deepEqual(steps[1]?.commands, [
    { cmd: 'log', level: 'noise', text: 'after CONNECT: [0d][0a]' },
    { cmd: 'wait-input', parse: 'ppp', until: 2000, quietMs: 300 },
  ]);
  assert.equal(find(last(steps), 'log')?.text.startsWith('after CONNECT'), true);
  assert.equal(find(last(steps), 'set-clocal')?.on, false);
  assert.equal(last(steps).state.name, 'prompting');
});

test('PPP before the prompt: /AutoPPP/ without issue or prompt; the carrier counts from the end of the quiet-wait', () => {
  const early = last(run([{ type: 'bytes', at: 50, ppp: true, bytes: Buffer.from([0x7e, 0xff]) }]));
  assert.deepEqual(cmds(early), ['set-clocal', 'log', 'load-login-config', 'hand-off']);
  assert.deepEqual(find(early, 'hand-off'), { cmd: 'hand-off', request: { kind: 'autoppp' }, ttyPrompt: false });
  assert.equal(early.state.name, 'handing-off');
  // In prompt-waittime the carrier has been looked at already.
  const late = last(run([{ type: 'timeout', at: 300 }, { type: 'bytes', at: 500, ppp: true, bytes: Buffer.from([0x7e]) }]));
  assert.deepEqual(cmds(late), ['log', 'load-login-config', 'hand-off']);
  const ended = transition(late.state, { type: 'session-ended', at: 9000, loginName: '/AutoPPP/', program: '/usr/sbin/pppd', exit: { code: 0, signal: null } }, base);
  assert.deepEqual(ended.state, { name: 'ended', exitCode: 0, outcome: 'completed', loginName: '/AutoPPP/', program: '/usr/sbin/pppd', exit: { code: 0, signal: null } });
});

test('ignore-carrier: CLOCAL stays, with a warning; autobauding sets the speed from CONNECT first', () => {
  const steps = run([{ type: 'timeout', at: 300 }], { ignoreCarrier: true, autobauding: true, connect: '2400/REL' });
  assert.deepEqual(steps[0]?.commands[0], { cmd: 'set-speed', baud: 2400 });
  assert.deepEqual(steps[1]?.commands[0], { cmd: 'log', level: 'warn', text: 'carrier signal is ignored (ignore-carrier)' });
  assert.equal(find(steps[1], 'set-clocal'), undefined);
  assert.deepEqual(initial({ ...base, autobauding: true, connect: 'CONNECT' }, 0).commands[0], { cmd: 'set-speed', baud: 300 });
});

test('ttyprompt mode: the prompt is written and remembered, no name is read, the hand-off is an empty name ended by CR', () => {
  const t = last(run([{ type: 'timeout', at: 300 }, { type: 'timeout', at: 800 }], { ttypromptHack: true }));
  assert.deepEqual(t.commands, [
    { cmd: 'write-prompt', emsi: false, ttyPrompt: true },
    { cmd: 'load-login-config' },
    { cmd: 'hand-off', request: { kind: 'name', name: '', endedWith: 'cr', upperOnly: false }, ttyPrompt: true },
  ]);
});

test('a name: bytes without a result wait on with the same deadline; the name is handed off; the program\'s status is the exit code', () => {
  const steps = run([...toPrompt, name(1000), name(1100, { kind: 'name', name: 'alice', endedWith: 'cr', upperOnly: false })]);
  assert.deepEqual(steps[4]?.commands, [{ cmd: 'wait-input', parse: 'name', until: 240_900 }]);
  const h = last(steps);
  assert.deepEqual(h.state, { name: 'handing-off', loginName: 'alice' });
  assert.deepEqual(h.commands, [{ cmd: 'hand-off', request: { kind: 'name', name: 'alice', endedWith: 'cr', upperOnly: false }, ttyPrompt: false }]);
  const ok = transition(h.state, { type: 'session-ended', at: 5000, loginName: 'alice', program: '/bin/login', exit: { code: 3, signal: null } }, base);
  assert.equal(ok.state.name === 'ended' && ok.state.exitCode, 3);
  assert.deepEqual(ok.commands, [{ cmd: 'log', level: 'mesg', text: "session of 'alice' ended: exit 3" }]);
  const hup = transition(h.state, { type: 'session-ended', at: 5000, loginName: 'alice', program: '/bin/login', exit: { code: null, signal: 'SIGHUP' } }, base);
  assert.equal(hup.state.name === 'ended' && hup.state.exitCode, 10);
  const kill = transition(h.state, { type: 'session-ended', at: 5000, loginName: 'alice', program: '/bin/login', exit: { code: null, signal: 'SIGKILL' } }, base);
  assert.equal(kill.state.name === 'ended' && kill.state.exitCode, 1);
  const refused = transition(h.state, { type: 'refused', at: 5000, loginName: 'alice', program: '/bin/login' }, base);
  assert.deepEqual(refused.state, { name: 'ended', exitCode: 1, outcome: 'refused', loginName: 'alice', program: '/bin/login' });
  const noexec = transition(h.state, { type: 'exec-failed', at: 5000, loginName: 'alice', program: '/nonexistent' }, base);
  assert.equal(noexec.state.name === 'ended' && noexec.state.exitCode, 255);
});

test('restart (^U, ^C, EMSI_CLI): the prompt again, the login timer runs on; EMSI only if both allow it', () => {
  const steps = run([...toPrompt, name(60_000, { kind: 'restart', emsi: true })], { fidoSendEmsi: true });
  assert.deepEqual(last(steps).commands, [{ cmd: 'write-prompt', emsi: true }, { cmd: 'wait-input', parse: 'name', until: 240_900 }]);
  assert.deepEqual(last(steps).state, { name: 'reading-name', deadline: 240_900 });
  const cli = last(run([...toPrompt, name(60_000, { kind: 'restart', emsi: false })], { fidoSendEmsi: true }));
  assert.deepEqual(cli.commands[0], { cmd: 'write-prompt', emsi: false });
});

test('an empty name: issue and prompt again, and the login timer starts again (Q31)', () => {
  const steps = run([...toPrompt, name(100_000, { kind: 'empty', endedWith: 'cr' }), { type: 'prompted', at: 100_100 }]);
  assert.equal(steps[4]?.state.name, 'prompting');
  assert.deepEqual(cmds(steps[4]), ['apply-mode', 'print-issue', 'drain', 'apply-mode', 'write-prompt']);
  assert.deepEqual(last(steps).state, { name: 'reading-name', deadline: 340_100 });
});

test('quit: ^\\ and ^D end with exit 0, the line closed', () => {
  for (const [key, text] of [['quit', 'got ^\\ at the prompt: exiting'], ['eof', 'got ^D at the prompt: exiting']] as const) {
    const t = last(run([...toPrompt, name(2000, { kind: 'quit', key })]));
    assert.deepEqual(t.state, { name: 'ended', exitCode: 0, outcome: 'quit' });
    assert.deepEqual(t.commands, [{ cmd: 'log', level: 'mesg', text }, { cmd: 'close' }]);
  }
});

test('the login timeout: a word to the caller, an audit line, exit 0; no timer without login-time', () => {
  const t = last(run([...toPrompt, name(2000), { type: 'timeout', at: 240_900 }], { loginTimeS: 240 }));
  assert.deepEqual(t.state, { name: 'ended', exitCode: 0, outcome: 'login-timeout' });
  assert.deepEqual(t.commands, [
    { cmd: 'log', level: 'mesg', text: 'login time (240 s) ran out' },
    { cmd: 'audit', text: 'failed: login time out,' },
    { cmd: 'write', text: '\r\n\r\nLogin timed out after 240 seconds. Goodbye.\r\n' },
    { cmd: 'drain' },
    { cmd: 'close' },
  ]);
  const forever = last(run(toPrompt, { loginTimeS: 0 }));
  assert.deepEqual(forever.commands, [{ cmd: 'wait-input', parse: 'name', until: undefined }]);
});

test('modem error text as a name: audited (escaped) and exit 0', () => {
  const t = last(run([...toPrompt, name(2000, { kind: 'modem-error', text: "NO CARRIER'\n" })]));
  assert.deepEqual(t.state, { name: 'ended', exitCode: 0, outcome: 'modem-error' });
  assert.deepEqual(t.commands, [{ cmd: 'audit', text: "failed: got modem error 'NO CARRIER\\'\\x0a'," }, { cmd: 'close' }]);
});

test('a FidoNet handshake is handed off as its packet text', () => {
  const t = last(run([...toPrompt, name(2000, { kind: 'fido', packet: '**EMSI_INQC816', nonInq: false })]));
  assert.deepEqual(t.state, { name: 'handing-off', loginName: '**EMSI_INQC816' });
});

test('hangup in any state before the hand-off: audit, close, exit 10; a failure: exit 1', () => {
  const states = run([...toPrompt, name(1000)]).map((s) => s.state);
  for (const s of states) {
    const t = transition(s, { type: 'hangup', at: 5000 }, base);
    assert.deepEqual(t.state, { name: 'ended', exitCode: 10, outcome: 'hangup' }, s.name);
    assert.deepEqual(t.commands, [{ cmd: 'audit', text: 'failed: got hangup, exiting;' }, { cmd: 'close' }]);
  }
  // The goodbye after a login timeout found the line gone: that is a hangup too.
  const timedOut = last(run([...toPrompt, { type: 'timeout', at: 240_900 }]));
  assert.deepEqual(transition(timedOut.state, { type: 'hangup', at: 240_901 }, base).state, { name: 'ended', exitCode: 10, outcome: 'hangup' });
  const err = new Error('boom');
  const failed = transition({ name: 'prompting' }, { type: 'failed', at: 1, error: err }, base);
  assert.deepEqual(failed.state, { name: 'ended', exitCode: 1, outcome: 'failed' });
  assert.deepEqual(failed.commands, [{ cmd: 'log', level: 'error', text: 'login phase failed', err }, { cmd: 'close' }]);
});

test('an input that does not belong to the state ends the phase as failed, never silently', () => {
  const t = transition({ name: 'prompting' }, { type: 'timeout', at: 1 }, base);
  assert.deepEqual(t.state, { name: 'ended', exitCode: 1, outcome: 'failed' });
  assert.equal(find(t, 'log')?.level, 'error');
});
