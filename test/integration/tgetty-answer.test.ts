// tgetty itself (the real binary, single-line mode) answers simulated calls on a pty:
// init chat, RING, ATA, CONNECT, issue and prompt, the login name, login.config
// dispatch, AutoPPP, utmp, and mgetty's exit codes for the failure paths.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBank, type SimBank } from '../../src/sim/index.js';
import { readUtmp, USER_PROCESS, DEAD_PROCESS } from '../../src/os/utmp.js';
import { lcpConfigureRequest } from '../../src/login/ppp.js';
import { startTgetty, type TgettyRun } from '../helpers/tgetty-run.js';
import { waitFor } from '../helpers/leaks.js';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? undefined : 'needs root (login.config must be owned by root)';

// The "login program": reports what it got on the tty, then exits 3.
const REC = '#!/bin/sh\necho "REC args=[$*] tty=$(tty) caller=$CALLER_ID connect=$CONNECT device=$DEVICE"\nexit 3\n';
const CONFIG = 'issue-file Welcome to \\P at \\I\nlogin-prompt sim login:\nfido-send-emsi no\ntoggle-dtr no\n';
const LOGIN = '/AutoPPP/ - a_ppp {CONFIG}/rec.sh ppp @\n* - - {CONFIG}/rec.sh login @\n';

interface Env {
  bank: SimBank;
  tg: TgettyRun;
}

async function setup(t: TestContext, config = CONFIG, loginConfig = LOGIN): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-ans-'));
  const bank = await createBank({ lines: 1, dir });
  const tg = startTgetty({ tty: join(dir, 'ttySIM0'), args: ['-x', '6'], config, loginConfig, files: { 'rec.sh': REC } });
  t.after(async () => {
    await tg.stop();
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  // Idle: the init chat went through (default Debian chat: ATQ0V1H0, AT).
  await bank.line(0).waitForDte(/ATQ0V1H0\r[^]*AT\r/, 10_000);
  // ... and the getty is idle, waiting for RING (its log names the state change).
  await waitFor(() => tg.logText('ttySIM0').includes('--> idle'), 10_000, 'the getty to reach idle');
  return { bank, tg };
}

async function withDiagnostics(t: TestContext, env: () => Env | undefined, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    const e = env();
    if (e !== undefined) {
      t.diagnostic(`transcript:\n${e.bank.line(0).transcript.toString()}`);
      t.diagnostic(`tgetty log:\n${e.tg.logText('ttySIM0')}`);
      t.diagnostic(`tgetty stderr:\n${e.tg.stderr()}`);
    }
    throw err;
  }
}

test('a login call: RING, ATA, CONNECT, issue, prompt, the name to the login.config program, exit with its status', { skip }, async (t) => {
  let env: Env | undefined;
  await withDiagnostics(t, () => env, async () => {
    // rings 2: the caller ID block comes after the first RING and counts as the second (Q9).
    env = await setup(t, `${CONFIG}rings 2\n`);
    const { bank, tg } = env;
    const call = bank.line(0).call({ callerId: '5551234', cidFormat: 'mdmf', connect: '33600/ARQ' });
    await bank.line(0).waitForDte(/ATA\r/, 10_000);
    await call.connected;
    await call.waitFor(/Welcome to ttySIM0 at 33600\/ARQ/, 5_000);
    await call.waitFor(/sim login:/, 5_000);
    // The lock is held during the call.
    assert.ok(existsSync(join(tg.paths.lock, 'LCK..ttySIM0')));
    call.write('joe\r');
    const m = await call.waitFor(/REC args=\[login joe\] tty=(\S+) caller=(\S*) connect=(\S*) device=(\S+)/, 5_000);
    assert.match(m[1] ?? '', /^\/dev\/pts\/\d+$/, 'the program has the line as its tty');
    assert.equal(m[2], '5551234');
    assert.equal(m[3], '33600/ARQ');
    assert.equal(m[4], 'ttySIM0');
    assert.equal(await tg.exited, 3, "single-line mode exits with the program's status");
    assert.equal(existsSync(join(tg.paths.lock, 'LCK..ttySIM0')), false, 'the lock is released after the call (Q14)');
    assert.match(tg.logText('ttySIM0'), /##### data dev=ttySIM0, .*caller='5551234', conn='33600\/ARQ'.*user='joe'/);
  });
});

test('AutoPPP: an LCP frame 50 ms after CONNECT (before any prompt) selects /AutoPPP/ with a USER_PROCESS record', { skip }, async (t) => {
  let env: Env | undefined;
  await withDiagnostics(t, () => env, async () => {
    env = await setup(t);
    const { bank, tg } = env;
    const call = bank.line(0).call({ cidFormat: 'none', connect: '28800' });
    await call.connected;
    await new Promise((r) => setTimeout(r, 50));
    call.write(lcpConfigureRequest({ magic: 0x12345678 }));
    await call.waitFor(/REC args=\[ppp \/AutoPPP\/\]/, 5_000);
    assert.equal(await tg.exited, 3);
    const recs = readUtmp(tg.paths.wtmp);
    assert.ok(recs.some((r) => r.type === USER_PROCESS && r.user === 'a_ppp' && r.host === '28800'), 'USER_PROCESS a_ppp in wtmp');
    assert.ok(recs.some((r) => r.type === DEAD_PROCESS), 'DEAD_PROCESS in wtmp after the session');
    assert.ok(recs.every((r) => /^pts\/\d+$/.test(r.line)), `utmp names the real tty: ${recs.map((r) => r.line).join(',')}`);
  });
});

test('the modem says NO CARRIER after ATA: exit 1, lock removed', { skip }, async (t) => {
  let env: Env | undefined;
  await withDiagnostics(t, () => env, async () => {
    env = await setup(t);
    const { bank, tg } = env;
    const call = bank.line(0).call({ cidFormat: 'none', outcome: 'no-carrier' });
    await bank.line(0).waitForDte(/ATA\r/, 10_000);
    await call.ended;
    assert.equal(await tg.exited, 1);
    assert.equal(existsSync(join(tg.paths.lock, 'LCK..ttySIM0')), false);
  });
});

test('the line hangs up at the prompt (pty master closed, no text): exit 10', { skip }, async (t) => {
  let env: Env | undefined;
  await withDiagnostics(t, () => env, async () => {
    env = await setup(t);
    const { bank, tg } = env;
    const call = bank.line(0).call({ cidFormat: 'none' });
    await call.waitFor(/sim login:/, 10_000);
    bank.line(0).hangupLine();
    assert.equal(await tg.exited, 10);
    assert.match(tg.logText('ttySIM0'), /##### failed: got hangup/);
  });
});

test('the caller hangs up at the prompt and the modem says NO CARRIER: read as a modem error, exit 0 (as mgetty)', { skip }, async (t) => {
  let env: Env | undefined;
  await withDiagnostics(t, () => env, async () => {
    env = await setup(t);
    const { bank, tg } = env;
    const call = bank.line(0).call({ cidFormat: 'none' });
    await call.waitFor(/sim login:/, 10_000);
    call.hangup();
    assert.equal(await tg.exited, 0);
    assert.match(tg.logText('ttySIM0'), /##### failed: got modem error 'NO CARRIER'/);
  });
});

test('SIGTERM while idle: exit 10, lock and pid file gone', { skip }, async (t) => {
  let env: Env | undefined;
  await withDiagnostics(t, () => env, async () => {
    env = await setup(t);
    const { tg } = env;
    assert.ok(existsSync(join(tg.paths.run, 'tgetty.pid.ttySIM0')));
    tg.proc.kill('SIGTERM');
    assert.equal(await tg.exited, 10);
    assert.equal(existsSync(join(tg.paths.lock, 'LCK..ttySIM0')), false);
    assert.equal(existsSync(join(tg.paths.run, 'tgetty.pid.ttySIM0')), false);
  });
});
