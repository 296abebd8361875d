import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../core/clock.js';
import { createMemoryLinePair, type FarEnd, type MemoryLine } from '../line/memory-line.js';
import { createLogger } from '../log/logger.js';
import { resolvePort } from '../config/effective.js';
import { parseMgettyConfig } from '../config/mgetty-config.js';
import { newCallData } from '../modem/callerid.js';
import { lineSettings } from '../session/settings.js';
import { drive, until } from '../../test/helpers/drive.js';
import { LoginConfigCache } from './login-config-cache.js';
import { runLoginPhase, type LoginPhaseResult } from './runner.js';

// The runner on a memory line and a FakeClock: the login stage's I/O without a real tty
// and without a real sleep. Paths that start a program are covered by the integration,
// system and compat tests (they need a tty for the hand-off).
interface Stage {
  far: FarEnd;
  line: MemoryLine;
  clock: FakeClock;
  audit: string[];
  done: Promise<LoginPhaseResult>;
  cache: LoginConfigCache;
}

function stage(t: TestContext, config: string, loginConfig = '* - - /bin/login @\n'): Stage {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-login-runner-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'login.config'), loginConfig, { mode: 0o600 });
  const clock = new FakeClock();
  const { line, far } = createMemoryLinePair({ clock, path: '/dev/ttyT0' });
  const eff = resolvePort(parseMgettyConfig(`issue-file ${join(dir, 'issue')}\n${config}`, 'mgetty.config'), 'ttyT0');
  writeFileSync(join(dir, 'issue'), 'Welcome\n');
  const settings = lineSettings(eff, '/dev/ttyT0');
  const audit: string[] = [];
  const log = createLogger({ device: 'ttyT0', level: 4, clock, audit: { write: (_l, text) => audit.push(text) }, stderr: () => undefined });
  const call = { ...newCallData(), connect: '33600' };
  const cache = new LoginConfigCache();
  const done = runLoginPhase({
    result: { kind: 'connected', line, call, connect: '33600', autoAnswered: false, leftover: Buffer.alloc(0) },
    settings,
    log,
    clock,
    paths: { utmp: join(dir, 'utmp'), wtmp: join(dir, 'wtmp') },
    configDir: dir,
    loginConfig: cache,
  });
  return { far, line, clock, audit, done, cache };
}

const seen = (s: Stage): string => s.far.received.toString('latin1');

test('runner: silent caller -> issue and prompt, then after login-time the goodbye, exit 0, line closed', async (t) => {
  const s = stage(t, 'login-time 30\n');
  await until(s.clock, () => seen(s).includes('login:'));
  assert.match(seen(s), /Welcome/);
  const res = await drive(s.clock, s.done, { stepMs: 500 });
  assert.equal(res.outcome, 'login-timeout');
  assert.equal(res.exitCode, 0);
  assert.match(seen(s), /Login timed out after 30 seconds\. Goodbye\./);
  assert.ok(s.audit.some((a) => a.startsWith('failed: login time out, dev=ttyT0')), s.audit.join('\n'));
  assert.equal(s.line.state, 'closed');
});

test('runner: ^U re-prompts, an empty line prints issue and prompt again, ^D quits (exit 0); login.config read once', async (t) => {
  const s = stage(t, '');
  await until(s.clock, () => seen(s).includes('login:'));
  const prompts = (): number => seen(s).split('login:').length - 1;
  s.far.send('ab\x15');
  await until(s.clock, () => prompts() === 2);
  s.far.send('\r');
  await until(s.clock, () => prompts() === 3);
  assert.equal(seen(s).split('Welcome').length - 1, 2, 'the issue again after the empty line');
  s.far.send('\x04');
  const res = await drive(s.clock, s.done);
  assert.deepEqual({ outcome: res.outcome, exitCode: res.exitCode }, { outcome: 'quit', exitCode: 0 });
  assert.equal(s.cache.loads, 1);
});

test('runner: NO CARRIER typed as the name is a modem talking: audited, exit 0', async (t) => {
  const s = stage(t, '');
  await until(s.clock, () => seen(s).includes('login:'));
  s.far.send('NO CARRIER\r');
  const res = await drive(s.clock, s.done);
  assert.equal(res.outcome, 'modem-error');
  assert.ok(s.audit.some((a) => a.startsWith("failed: got modem error 'NO CARRIER',")), s.audit.join('\n'));
});

test('runner: a hangup at the prompt ends with exit 10 and an audit line', async (t) => {
  const s = stage(t, '');
  await until(s.clock, () => seen(s).includes('login:'));
  s.far.hangup();
  const res = await drive(s.clock, s.done);
  assert.deepEqual({ outcome: res.outcome, exitCode: res.exitCode }, { outcome: 'hangup', exitCode: 10 });
  assert.ok(s.audit.some((a) => a.startsWith('failed: got hangup, exiting; dev=ttyT0')), s.audit.join('\n'));
});

test('runner: ^\\ before anything is typed quits at once', async (t) => {
  const s = stage(t, 'prompt-waittime 0\n');
  await until(s.clock, () => seen(s).includes('login:'));
  s.far.send('\x1c');
  const res = await drive(s.clock, s.done);
  assert.equal(res.outcome, 'quit');
});
