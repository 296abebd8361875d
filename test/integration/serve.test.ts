// `tgetty serve` as a user runs it: a child process with sd_notify to a test socket,
// the status socket, a call through the simulator, call records, SIGHUP reload, SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBank } from '../../src/sim/index.js';
import { bindUnixDatagram, recvDatagram } from '../../src/os/unix-socket.js';
import { closeFd } from '../../src/line/libc.js';
import { startChild } from '../helpers/child.js';
import { waitFor } from '../helpers/leaks.js';

const skip = process.getuid?.() === 0 ? undefined : 'needs root (login.config owned by root, as in production)';
const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');

test('tgetty serve: READY, status, a recorded call, reload on SIGHUP, clean stop on SIGTERM', { skip }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-serve-'));
  const d = { sim: join(root, 'sim'), etc: join(root, 'etc'), lock: join(root, 'lock'), log: join(root, 'log'), run: join(root, 'run') };
  for (const x of Object.values(d)) mkdirSync(x);
  writeFileSync(join(root, 'utmp'), '');
  writeFileSync(join(root, 'wtmp'), '');
  writeFileSync(join(d.etc, 'mgetty.config'), 'toggle-dtr no\nfido-send-emsi no\nlogin-prompt login:\n');
  writeFileSync(join(d.etc, 'hi.sh'), '#!/bin/sh\necho "hi $1"\nexit 7\n');
  chmodSync(join(d.etc, 'hi.sh'), 0o755);
  writeFileSync(join(d.etc, 'login.config'), `* - - ${d.etc}/hi.sh @\n`);
  chmodSync(join(d.etc, 'login.config'), 0o600);
  const notifyPath = join(root, 'notify.sock');
  const nfd = bindUnixDatagram(Buffer.from(notifyPath));
  const bank = await createBank({ lines: 2, dir: d.sim });
  const records = join(root, 'calls.sqlite');
  const paths = ['--config-dir', d.etc, '--lock-dir', d.lock, '--log-dir', d.log, '--run-dir', d.run, '--utmp', join(root, 'utmp'), '--wtmp', join(root, 'wtmp'), '--records', records];
  const c = startChild(process.execPath, [BIN, 'serve', ...paths, '--lines', `${d.sim}/ttySIM0,${d.sim}/ttySIM1`], {
    env: { ...process.env, NOTIFY_SOCKET: notifyPath },
  });
  const { proc: child, exited } = c;
  t.after(async () => {
    await c.stop({ signal: 'SIGKILL' });
    closeFd(nfd);
    await bank.close();
    rmSync(root, { recursive: true, force: true });
  });

  const messages: string[] = [];
  const waitNotify = async (re: RegExp, ms: number): Promise<void> => {
    const end = Date.now() + ms;
    for (;;) {
      for (let m = recvDatagram(nfd); m !== undefined; m = recvDatagram(nfd)) messages.push(m.toString());
      if (messages.some((m) => re.test(m))) return;
      if (Date.now() > end) throw new Error(`no sd_notify ${re} within ${ms} ms; got ${JSON.stringify(messages)}; output: ${c.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const cli = (...args: string[]): string => execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });

  await waitNotify(/^READY=1$/m, 10_000);
  assert.ok(messages.some((m) => /^STATUS=serving 2 line\(s\)$/m.test(m)));
  // Both lines reach idle.
  for (let i = 0; i < 100; i++) {
    const st = JSON.parse(cli('status', '--run-dir', d.run, '--json')) as { lines: { line: string; state: string }[] };
    if (st.lines.every((l) => l.state === 'idle')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const human = cli('status', '--run-dir', d.run);
  assert.match(human, /ttySIM0\s+idle/);
  assert.match(human, /ttySIM1\s+idle/);

  const call = bank.line(1).call({ callerId: '5551234', cidFormat: 'clip' });
  await call.waitFor(/login:/, 10_000);
  call.write('carol\r');
  await call.waitFor(/hi carol/, 5_000);
  // The record is committed as the call goes: wait for its end.
  let rows: { line: string; outcome: string | null; loginName: string | null; exitStatus: number | null; connect: string | null }[] = [];
  for (let i = 0; i < 100; i++) {
    rows = JSON.parse(cli('calls', '--records', records, '--json')) as typeof rows;
    if (rows[0]?.outcome !== undefined && rows[0].outcome !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(rows.length, 1);
  assert.deepEqual(
    { line: rows[0]?.line, outcome: rows[0]?.outcome, loginName: rows[0]?.loginName, exitStatus: rows[0]?.exitStatus },
    { line: 'ttySIM1', outcome: 'completed', loginName: 'carol', exitStatus: 7 },
  );
  assert.match(cli('calls', '--records', records, '--line', 'ttySIM1'), /ttySIM1 .* completed/);

  // Reload by signal: RELOADING=1 then READY=1 again.
  messages.length = 0;
  child.kill('SIGHUP');
  await waitNotify(/^RELOADING=1$/m, 5_000);
  await waitNotify(/^READY=1$/m, 5_000);

  messages.length = 0;
  child.kill('SIGTERM');
  await waitNotify(/^STOPPING=1$/m, 5_000);
  assert.equal(await exited, 0);
  assert.equal(existsSync(join(d.run, 'tgetty.sock')), false, 'status socket removed');
  assert.equal(existsSync(join(d.lock, 'LCK..ttySIM0')), false, 'no lock left');
});

test('tgetty serve with a lock directory that does not exist: said at start-up, the line is `error` with the reason in status --json, and the retries back off', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-serve-nolock-'));
  const d = { sim: join(root, 'sim'), etc: join(root, 'etc'), log: join(root, 'log'), run: join(root, 'run') };
  for (const x of Object.values(d)) mkdirSync(x);
  const lock = join(root, 'no-such-lock-dir');
  writeFileSync(join(d.etc, 'mgetty.config'), 'toggle-dtr no\n');
  const bank = await createBank({ lines: 1, dir: d.sim });
  const paths = ['--config-dir', d.etc, '--lock-dir', lock, '--log-dir', d.log, '--run-dir', d.run, '--utmp', join(root, 'utmp'), '--wtmp', join(root, 'wtmp'), '--no-records'];
  const c = startChild(process.execPath, [BIN, 'serve', ...paths, '--lines', `${d.sim}/ttySIM0`]);
  t.after(async () => {
    await c.stop({ signal: 'SIGKILL' });
    await bank.close();
    rmSync(root, { recursive: true, force: true });
  });
  const cli = (...args: string[]): string => execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  type St = { lines: { line: string; state: string; detail?: string; lastError?: { message: string } }[] };
  let st: St | undefined;
  for (let i = 0; i < 100; i++) {
    try {
      st = JSON.parse(cli('status', '--run-dir', d.run, '--json')) as St;
      if (st.lines[0]?.state === 'error') break;
    } catch {
      // the socket is not there yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const l = st?.lines[0];
  assert.equal(l?.state, 'error', JSON.stringify(st));
  assert.match(l?.detail ?? '', new RegExp(`lock directory ${lock} does not exist`));
  assert.match(l?.lastError?.message ?? '', /lock directory .* does not exist/);
  await waitFor(() => /tgetty serve: configuration error/.test(c.output()), 5_000, 'the start-up message');
  assert.match(c.output(), new RegExp(`tgetty serve: configuration error: lock directory ${lock} does not exist`));
  assert.match(cli('status', '--run-dir', d.run), /ttySIM0 .*error \(lock directory .* does not exist/);
  // Back-off: 1 s, then 2 s, ... (not a retry every 2 s for ever); no dial-out is assumed.
  const logFile = join(d.log, 'ttySIM0.log');
  for (let i = 0; i < 60 && !/next try in 2000 ms/.test(existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''); i++) await new Promise((r) => setTimeout(r, 100));
  const log = readFileSync(logFile, 'utf8');
  assert.match(log, /does not exist; .*next try in 1000 ms/);
  assert.match(log, /next try in 2000 ms/);
  assert.doesNotMatch(log, /dialout/);
  assert.deepEqual(bank.line(0).fromDte.all, '', 'the modem is not touched without a lock');
});

test('tgetty serve with a device that does not exist: status says so in words, as state `error`', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-serve-nodev-'));
  const d = { etc: join(root, 'etc'), lock: join(root, 'lock'), log: join(root, 'log'), run: join(root, 'run') };
  for (const x of Object.values(d)) mkdirSync(x);
  writeFileSync(join(d.etc, 'mgetty.config'), 'toggle-dtr no\n');
  const dev = join(root, 'ttyS9');
  const paths = ['--config-dir', d.etc, '--lock-dir', d.lock, '--log-dir', d.log, '--run-dir', d.run, '--utmp', join(root, 'utmp'), '--wtmp', join(root, 'wtmp'), '--no-records'];
  const c = startChild(process.execPath, [BIN, 'serve', ...paths, '--lines', dev]);
  t.after(async () => {
    await c.stop({ signal: 'SIGKILL' });
    rmSync(root, { recursive: true, force: true });
  });
  type St = { lines: { line: string; state: string; detail?: string; lastError?: { message: string } }[] };
  let st: St | undefined;
  await waitFor(() => {
    try {
      st = JSON.parse(execFileSync(process.execPath, [BIN, 'status', '--run-dir', d.run, '--json'], { encoding: 'utf8' })) as St;
    } catch {
      return false;
    }
    return st.lines[0]?.state === 'error';
  }, 10_000, `ttyS9 in state error (${JSON.stringify(st)})`);
  assert.match(st?.lines[0]?.detail ?? '', new RegExp(`no such device ${dev}`));
  assert.match(st?.lines[0]?.lastError?.message ?? '', new RegExp(`^cannot open the line: no such device ${dev} \\(mgetty exit code 30\\)$`));
  assert.equal(existsSync(join(d.lock, 'LCK..ttyS9')), false);
});
