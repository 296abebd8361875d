import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../core/clock.js';
import { createMemoryLinePair, type FarEnd, type MemoryLine } from '../line/memory-line.js';
import { lockPath, makeLock } from '../line/lock.js';
import { createLogger } from '../log/logger.js';
import { resolvePort } from '../config/effective.js';
import { parseMgettyConfig } from '../config/mgetty-config.js';
import { newCallData } from '../modem/callerid.js';
import type { FaxClass } from '../fax/class2/init.js';
import { lineSettings } from '../session/settings.js';
import { drive, until } from '../../test/helpers/drive.js';
import { afterConnect, type AfterConnectOptions } from './after-connect.js';
import { LoginConfigCache } from './login-config-cache.js';
import { lcpConfigureRequest } from './ppp.js';
import type { LoginPhaseResult } from './runner.js';

// afterConnect on memory lines and a FakeClock: the login stage (or the fax phase), then
// the hang-up on a line opened again, then the lock; no tty, no real sleep. A program
// that really starts is covered by the system and compat tests (they need a tty).
interface Rig {
  far: FarEnd;
  line: MemoryLine;
  clock: FakeClock;
  /** What happened, in order: login-end, hangup (onHangup), open (the hang-up's line). */
  events: string[];
  /** The far ends of the lines the hang-up opened. */
  reopened: FarEnd[];
  lockDir: string;
  logText: () => string;
  done: Promise<LoginPhaseResult>;
}

function rig(t: TestContext, o: { config?: string; loginConfig?: string; fax?: FaxClass } = {}): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-after-connect-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'login.config'), o.loginConfig ?? '* - - /bin/login @\n', { mode: 0o600 });
  writeFileSync(join(dir, 'issue'), 'Welcome\n');
  const lockDir = join(dir, 'lock');
  mkdirSync(lockDir);
  const clock = new FakeClock();
  const { line, far } = createMemoryLinePair({ clock, path: '/dev/ttyT0', modem: { dcd: true } });
  const settings = lineSettings(resolvePort(parseMgettyConfig(`issue-file ${join(dir, 'issue')}\n${o.config ?? ''}`, 'mgetty.config'), 'ttyT0'), '/dev/ttyT0');
  const logged: string[] = [];
  const log = createLogger({ device: 'ttyT0', level: 6, clock, file: null, audit: { write: (_l, text) => logged.push(text) }, stderr: (s) => logged.push(s) });
  const lock = makeLock(lockDir, 'ttyT0');
  assert.equal(lock.ok, true, 'the call holds the lock');
  const events: string[] = [];
  const reopened: FarEnd[] = [];
  const opts: AfterConnectOptions = {
    result: { kind: 'connected', line, call: { ...newCallData(), connect: '33600' }, connect: '33600', autoAnswered: false, leftover: Buffer.alloc(0), ...(o.fax !== undefined ? { fax: o.fax } : {}) },
    settings,
    log,
    clock,
    paths: { utmp: join(dir, 'utmp'), wtmp: join(dir, 'wtmp') },
    configDir: dir,
    loginConfig: new LoginConfigCache(),
    lockDir,
    device: 'ttyT0',
    openLine: () => {
      events.push('open');
      // The modem drops carrier once DTR goes down, as a real one does.
      const pair = createMemoryLinePair({ clock, path: '/dev/ttyT0', modem: { dcd: true } });
      pair.far.onDtr((on) => {
        if (!on) pair.far.setModem({ dcd: false });
      });
      reopened.push(pair.far);
      return pair.line;
    },
    onLoginEnd: (res) => events.push(`login-end ${res.outcome}`),
    onHangup: () => events.push('hangup'),
  };
  return { far, line, clock, events, reopened, lockDir, logText: () => logged.join(''), done: afterConnect(opts) };
}

const seen = (r: Rig): string => r.far.received.toString('latin1');
const lockGone = (r: Rig): boolean => !existsSync(lockPath(r.lockDir, 'ttyT0'));

test('afterConnect: the caller quits at the prompt -> login stage over, then the hang-up (DTR dropped on a line opened again), then the lock goes', async (t) => {
  const r = rig(t);
  await until(r.clock, () => seen(r).includes('login:'));
  assert.equal(r.events.length, 0, 'nothing happens while the login stage runs');
  assert.equal(lockGone(r), false);
  r.far.send('\x04');
  const res = await drive(r.clock, r.done);
  assert.deepEqual({ outcome: res.outcome, exitCode: res.exitCode }, { outcome: 'quit', exitCode: 0 });
  assert.deepEqual(r.events, ['login-end quit', 'hangup', 'open']);
  assert.equal(r.reopened.length, 1);
  assert.deepEqual(r.reopened[0]?.dtrChanges.map((c) => c.on), [true, false, true, false], 'open, the drop and raise of the hang-up, close');
  assert.match(r.logText(), /hung up by dropping DTR/);
  assert.equal(lockGone(r), true);
});

test('afterConnect: a hangup at the prompt leaves nobody to hang up on: no line opened again, no onHangup; the lock still goes', async (t) => {
  const r = rig(t);
  await until(r.clock, () => seen(r).includes('login:'));
  r.far.hangup();
  const res = await drive(r.clock, r.done);
  assert.deepEqual({ outcome: res.outcome, exitCode: res.exitCode }, { outcome: 'hangup', exitCode: 10 });
  assert.deepEqual(r.events, ['login-end hangup']);
  assert.equal(r.reopened.length, 0);
  assert.equal(lockGone(r), true);
});

test('afterConnect: a PPP frame after CONNECT goes to /AutoPPP/ (no prompt); a program that cannot run is told to the caller, then the hang-up and the lock', async (t) => {
  const r = rig(t, { loginConfig: '/AutoPPP/ - a_ppp /nonexistent/pppd auth\n* - - /bin/login @\n' });
  r.far.send(lcpConfigureRequest({ magic: 0x01020304 }));
  const res = await drive(r.clock, r.done);
  // mgetty's exit 255 for a program that cannot run; the outcome is 'refused'.
  assert.deepEqual({ outcome: res.outcome, exitCode: res.exitCode }, { outcome: 'refused', exitCode: 255 }, r.logText());
  assert.equal(res.loginName, '/AutoPPP/');
  assert.equal(res.program, '/nonexistent/pppd');
  assert.doesNotMatch(seen(r), /login:/, 'AutoPPP: no prompt');
  assert.match(seen(r), /cannot execute '\/nonexistent\/pppd': No such file or directory/);
  assert.deepEqual(r.events, ['login-end refused', 'hangup', 'open']);
  assert.equal(lockGone(r), true);
});

test('afterConnect: a fax call on a line without fax settings fails without a login stage, then the hang-up and the lock', async (t) => {
  const r = rig(t, { fax: '2' });
  const res = await drive(r.clock, r.done);
  assert.deepEqual({ outcome: res.outcome, exitCode: res.exitCode }, { outcome: 'failed', exitCode: 0 });
  assert.equal(seen(r), '', 'no issue, no prompt: the login stage never ran');
  assert.deepEqual(r.events, ['login-end failed', 'hangup', 'open']);
  assert.equal(lockGone(r), true);
});

test("afterConnect: a lock that is no longer ours (another process's) is left alone", async (t) => {
  const r = rig(t);
  await until(r.clock, () => seen(r).includes('login:'));
  // Someone else's lock now (pid 1 is always alive).
  writeFileSync(lockPath(r.lockDir, 'ttyT0'), '         1\n');
  r.far.send('\x04');
  await drive(r.clock, r.done);
  assert.equal(lockGone(r), false);
});
