// The real binary (single-line mode) on a simulated modem: SIGUSR1 is the virtual ring,
// SIGUSR2 ends an idle line with 0, and a nologin file (in a configurable dir) keeps
// calls from being answered.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBank, type SimBank } from '../../src/sim/index.js';
import { startTgetty, type TgettyRun } from '../helpers/tgetty-run.js';

const CONFIG = 'toggle-dtr no\nfido-send-emsi no\n';

interface Env {
  dir: string;
  bank: SimBank;
  tg: TgettyRun;
}

async function setup(t: TestContext, config = CONFIG, before?: (dir: string) => void): Promise<Env> {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-sig-'));
  before?.(dir);
  const bank = await createBank({ lines: 1, dir });
  const tg = startTgetty({ tty: join(dir, 'ttySIM0'), args: ['-x', '6'], config: config.replaceAll('{DIR}', dir) });
  const env = { dir, bank, tg };
  t.after(async () => {
    await tg.stop();
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    await waitLog(env, /waiting\.\.\./, 10_000);
  } catch (err) {
    diagnostics(t, env);
    throw err;
  }
  return env;
}

/** Poll the line's log file (real time: this is the real binary). */
async function waitLog(env: Env, re: RegExp, timeoutMs: number): Promise<void> {
  for (let waited = 0; waited < timeoutMs; waited += 50) {
    if (re.test(env.tg.logText('ttySIM0'))) return;
    if (env.tg.proc.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`tgetty log never matched ${re}`);
}

function diagnostics(t: TestContext, env: Env): void {
  t.diagnostic(`transcript:\n${env.bank.line(0).transcript.toString()}`);
  t.diagnostic(`tgetty log:\n${env.tg.logText('ttySIM0')}`);
  t.diagnostic(`tgetty stderr:\n${env.tg.stderr()}`);
}

async function withDiagnostics(t: TestContext, env: Env, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (err) {
    diagnostics(t, env);
    throw err;
  }
}

test('SIGUSR1 while idle: tgetty sends ATA although the modem never said RING', async (t) => {
  const env = await setup(t, `${CONFIG}rings 3\n`);
  await withDiagnostics(t, env, async () => {
    const line = env.bank.line(0);
    env.tg.proc.kill('SIGUSR1');
    await line.waitForDte(/ATA\r/, 5_000);
    assert.doesNotMatch(line.transcript.text('>'), /RING/, 'the modem sent no RING');
    assert.match(env.tg.logText('ttySIM0'), /got signal SIGUSR1/);
    assert.ok(existsSync(join(env.tg.paths.lock, 'LCK..ttySIM0')), 'answering holds the lock');
    // Nobody is calling, so the modem would say NO CARRIER only after S7: end it here.
    env.tg.proc.kill('SIGTERM');
    assert.equal(await env.tg.exited, 10);
    assert.equal(existsSync(join(env.tg.paths.lock, 'LCK..ttySIM0')), false);
  });
});

test('SIGUSR2 while idle: exit 0 with an audit line, lock and pid file gone', async (t) => {
  const env = await setup(t);
  await withDiagnostics(t, env, async () => {
    env.tg.proc.kill('SIGUSR2');
    assert.equal(await env.tg.exited, 0);
    assert.match(env.tg.logText('ttySIM0'), /##### exit: got signal USR2 dev=ttySIM0/);
    assert.equal(existsSync(join(env.tg.paths.lock, 'LCK..ttySIM0')), false);
    assert.equal(existsSync(join(env.tg.paths.run, 'tgetty.pid.ttySIM0')), false);
  });
});

test('nologin-dir: while nologin.<tty> exists a call is not answered; once removed the next call is', async (t) => {
  const nologin = (dir: string): string => join(dir, 'nologin', 'nologin.ttySIM0');
  const env = await setup(t, `${CONFIG}nologin-dir {DIR}/nologin\n`, (dir) => {
    mkdirSync(join(dir, 'nologin'));
    writeFileSync(nologin(dir), 'maintenance\n');
  });
  await withDiagnostics(t, env, async () => {
    const line = env.bank.line(0);
    const refused = line.call({ cidFormat: 'none', ringCadenceMs: 300, maxRings: 3 });
    assert.equal(await refused.ended, 'not-answered');
    assert.doesNotMatch(line.transcript.text('<'), /ATA/, 'not answered');
    await waitLog(env, /nologin file exists: not accepting calls/, 2_000);
    // tgetty is still listening for RINGs of this call (10 s); the file goes, the phone rings again.
    rmSync(nologin(env.dir));
    const call = line.call({ cidFormat: 'none', ringCadenceMs: 300, maxRings: 3 });
    await line.waitForDte(/ATA\r/, 5_000);
    await call.connected;
    env.tg.proc.kill('SIGTERM');
    assert.equal(await env.tg.exited, 10);
  });
});
