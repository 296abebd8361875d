/**
 * The standby gate's LOGIN_PROCESS record (issue 16): the login stage writes it at
 * CONNECT for the gate's pid, as mgetty writes its own before the issue and the prompt
 * (spec §9.5), so the hand-off after the CR does not; a call that ends without a session
 * on that pid ends it with DEAD_PROCESS. The runner on a real pty, utmp and wtmp in a
 * temp dir.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tty from 'node:tty';
import { O_NOCTTY, O_NONBLOCK, O_RDWR, closeFd, openFd, openPty } from '../../src/line/libc.js';
import { openTtyLine } from '../../src/line/tty-line.js';
import { systemClock } from '../../src/core/clock.js';
import { createLogger } from '../../src/log/logger.js';
import { resolvePort } from '../../src/config/effective.js';
import { parseMgettyConfig } from '../../src/config/mgetty-config.js';
import { newCallData } from '../../src/modem/callerid.js';
import { lineSettings } from '../../src/session/settings.js';
import { DEAD_PROCESS, LOGIN_PROCESS, readUtmp } from '../../src/os/utmp.js';
import { runLoginPhase, type LoginPhaseResult } from '../../src/login/runner.js';
import { UtmpWriter, utmpLine } from '../../src/login/utmp.js';
import { startSession, type GateRecord } from '../../src/login/spawn.js';
import { startStandbyGate } from '../../src/login/standby-gate.js';
import { realDevice } from '../../src/login/handoff.js';

const GUARD_MS = 20_000;

interface Call {
  utmp: string;
  wtmp: string;
  device: string;
  sessions: number[];
  output(): string;
  waitFor(re: RegExp): Promise<void>;
  send(s: string): void;
  hangup(): void;
  done: Promise<LoginPhaseResult>;
}

/** One call's login stage on a fresh pty; `program` (run as `user`) is login.config's default entry. */
function call(t: TestContext, program: string, user = '-'): Call {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-gate-record-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const utmp = join(dir, 'utmp');
  const wtmp = join(dir, 'wtmp');
  writeFileSync(wtmp, ''); // never created by us: `last` wants it made by the admin
  writeFileSync(join(dir, 'login.config'), `* ${user} - ${program} @\n`, { mode: 0o600 });
  writeFileSync(join(dir, 'issue'), 'Welcome\n');
  const pty = openPty();
  // An extra slave fd: the pty outlives the sessions, so the caller's output stays readable.
  const hold = openFd(pty.slave, O_RDWR | O_NOCTTY | O_NONBLOCK);
  const master = new tty.ReadStream(pty.master);
  let out = '';
  let open = true;
  master.on('data', (b: Buffer) => (out += b.toString('latin1')));
  master.on('error', () => undefined);
  const hangup = (): void => {
    if (!open) return;
    open = false;
    master.destroy();
  };
  t.after(() => {
    hangup();
    closeFd(hold);
  });
  const line = openTtyLine(pty.slave);
  t.after(() => line.close());
  const eff = resolvePort(parseMgettyConfig(`issue-file ${join(dir, 'issue')}\nlogin-time 30\n`, 'mgetty.config'), 'ttyT0');
  const log = createLogger({ device: 'ttyT0', level: 0, clock: systemClock, audit: { write: () => undefined }, stderr: () => undefined });
  const sessions: number[] = [];
  const done = runLoginPhase({
    result: { kind: 'connected', line, call: { ...newCallData(), connect: '33600/ARQ' }, connect: '33600/ARQ', autoAnswered: false, leftover: Buffer.alloc(0) },
    settings: lineSettings(eff, pty.slave),
    log,
    clock: systemClock,
    paths: { utmp, wtmp },
    configDir: dir,
    onSession: (s) => sessions.push(s.pid),
  });
  return {
    utmp,
    wtmp,
    device: utmpLine(realDevice(pty.slave)),
    sessions,
    output: () => out,
    send: (s) => master.write(s),
    hangup,
    done,
    waitFor: (re) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          master.off('data', check);
          reject(new Error(`never saw ${String(re)}; got ${JSON.stringify(out)}`));
        }, GUARD_MS);
        const check = (): void => {
          if (!re.test(out)) return;
          clearTimeout(timer);
          master.off('data', check);
          resolve();
        };
        master.on('data', check);
        check();
      }),
  };
}

const records = (file: string, device: string): Array<[number, number, string, string]> =>
  readUtmp(file)
    .filter((r) => r.line === device)
    .map((r) => [r.type, r.pid, r.user, r.host]);

test('gate record: LOGIN_PROCESS for the gate in utmp while the prompt shows; a hangup there leaves DEAD, wtmp LOGIN then DEAD', async (t) => {
  const c = call(t, '/bin/true');
  await c.waitFor(/login: $/);
  const shown = records(c.utmp, c.device);
  assert.equal(shown.length, 1, JSON.stringify(shown));
  const [type, pid, user, host] = shown[0] ?? [];
  assert.deepEqual([type, user, host], [LOGIN_PROCESS, 'LOGIN', '33600/ARQ'], 'written before the name, host = CONNECT (no caller ID)');
  assert.ok(typeof pid === 'number' && pid !== process.pid && pid > 0);
  assert.match(readFileSync(`/proc/${pid}/cmdline`, 'latin1'), /^\/bin\/sh\0/, 'the pid is the standby gate');
  c.hangup();
  const res = await c.done;
  assert.equal(res.outcome, 'hangup');
  assert.deepEqual(records(c.utmp, c.device), [[DEAD_PROCESS, pid, '', '']], '`who` shows no stale LOGIN');
  assert.deepEqual(records(c.wtmp, c.device), [
    [LOGIN_PROCESS, pid, 'LOGIN', '33600/ARQ'],
    [DEAD_PROCESS, pid, '', ''],
  ]);
});

test('gate record: a login through the gate writes no second LOGIN record; its end writes DEAD for the same pid', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-gate-prog-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const prog = join(dir, 'prog.sh');
  writeFileSync(prog, '#!/bin/sh\necho "ran=$$ [$1]"\n');
  chmodSync(prog, 0o755);
  const c = call(t, prog);
  await c.waitFor(/login: $/);
  const [before] = records(c.utmp, c.device);
  assert.ok(before !== undefined && before[0] === LOGIN_PROCESS);
  c.send('joe\r');
  await c.waitFor(/ran=\d+ \[joe\]/);
  const res = await c.done;
  assert.equal(res.outcome, 'completed', JSON.stringify(res));
  const ran = Number(/ran=(\d+)/.exec(c.output())?.[1]);
  assert.deepEqual(c.sessions, [before[1]], 'the session is the gate');
  assert.equal(ran, before[1], 'the program ran with the gate\'s pid');
  assert.deepEqual(records(c.wtmp, c.device), [
    [LOGIN_PROCESS, ran, 'LOGIN', '33600/ARQ'],
    [DEAD_PROCESS, ran, '', ''],
  ], 'one LOGIN (at CONNECT), one DEAD (the session\'s end)');
  assert.deepEqual(records(c.utmp, c.device), [[DEAD_PROCESS, ran, '', '']]);
});

test('gate record: the gate not used (a word it cannot carry: the hand-off spawns), the new pid\'s LOGIN replaces it; a failed start leaves it to the login stage', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-gate-unused-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const utmpFile = join(dir, 'utmp');
  const wtmpFile = join(dir, 'wtmp');
  writeFileSync(wtmpFile, '');
  const writer = new UtmpWriter({ utmpFile, wtmpFile });
  // Each call on its own pty (one gate per call, as the login stage starts it).
  const start = async (program: string): Promise<{ device: string; gate: number; rec: GateRecord; r: Awaited<ReturnType<typeof startSession>> }> => {
    const pty = openPty();
    const hold = openFd(pty.slave, O_RDWR | O_NOCTTY | O_NONBLOCK);
    t.after(() => {
      closeFd(hold);
      closeFd(pty.master);
    });
    const line = openTtyLine(pty.slave);
    t.after(() => line.close());
    const sb = await startStandbyGate(line);
    assert.ok(sb !== undefined);
    t.after(() => void sb.cancel());
    // What the login stage does at CONNECT (runner.ts).
    assert.ok(writer.loginProcess(realDevice(pty.slave), sb.pid, '33600/ARQ'));
    const rec: GateRecord = { pid: sb.pid, open: true };
    const r = await startSession({
      line,
      program,
      argv: ['x', '-c', 'exit 0', 'x\ny'], // the newline: encodeStandby refuses, the hand-off spawns
      env: { CALLER_ID: 'none', CONNECT: '33600/ARQ' },
      utmp: { writer, loginRecord: true },
      standby: sb,
      gateRecord: rec,
      utmpDevice: realDevice(pty.slave),
      log: { error: () => undefined, warn: () => undefined, noise: () => undefined, audit: () => undefined },
    });
    assert.equal(sb.usable(), false, 'the unused gate was cancelled');
    return { device: utmpLine(realDevice(pty.slave)), gate: sb.pid, rec, r };
  };

  const a = await start('/bin/sh');
  assert.ok(a.r.ok, a.r.ok ? '' : a.r.error.message);
  assert.notEqual(a.r.session.pid, a.gate);
  assert.equal(a.rec.open, false, 'taken over by the new pid\'s record: the login stage writes no DEAD for the gate');
  await a.r.session.exited;
  assert.deepEqual(records(wtmpFile, a.device).map((x) => [x[0], x[1]]), [
    [LOGIN_PROCESS, a.gate],
    [LOGIN_PROCESS, a.r.session.pid],
    [DEAD_PROCESS, a.r.session.pid],
  ]);

  const b = await start(join(dir, 'missing'));
  assert.equal(b.r.ok, false);
  assert.equal(b.rec.open, true, 'nothing replaced it: the login stage ends it (runner.ts, run()\'s finally)');
  assert.deepEqual(records(utmpFile, b.device).map((x) => [x[0], x[1]]), [[LOGIN_PROCESS, b.gate]]);
});
