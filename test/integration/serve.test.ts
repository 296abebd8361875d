// `tgetty serve` as a user runs it: a child process with sd_notify to a test socket,
// the status socket, a call through the simulator, call records, SIGHUP reload, SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBank } from '../../src/sim/index.js';
import { bindUnixDatagram, recvDatagram, closeFd } from '../../src/line/libc.js';
import { startChild } from '../helpers/child.js';

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
