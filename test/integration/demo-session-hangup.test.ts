/**
 * The demo's login program on a real pty as its controlling tty, as tgetty starts it (a
 * new session, stdin/stdout/stderr on the line). The caller hangs up at the menu: the
 * master closes, the kernel sends SIGHUP and reads give EOF. The program must exit with
 * status 0, not die of a signal (Node's exit-time tty reset aborted on the hung-up tty).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import tty from 'node:tty';
import { openPty } from '../../src/line/libc.js';

const SESSION = resolve(import.meta.dirname, '../../src/demo/session.js');

async function callAndHangUp(how: 'at-menu' | 'in-echo-test'): Promise<{ code: number | null; signal: NodeJS.Signals | null; seen: string }> {
  const pty = openPty();
  const master = new tty.ReadStream(pty.master);
  let seen = '';
  const waiters: { re: RegExp; res: () => void }[] = [];
  master.on('data', (d: Buffer) => {
    seen += d.toString('latin1');
    for (const w of [...waiters]) if (w.re.test(seen)) w.res();
  });
  master.on('error', () => undefined);
  const until = (re: RegExp, ms: number): Promise<void> =>
    new Promise((res, rej) => {
      if (re.test(seen)) return res();
      const t = setTimeout(() => rej(new Error(`timed out waiting for ${re}; saw ${JSON.stringify(seen)}`)), ms);
      waiters.push({ re, res: () => (clearTimeout(t), res()) });
    });
  // The shell is a session leader (detached) and opens the tty without O_NOCTTY: it becomes
  // the controlling tty, as for login under tgetty; exec keeps the pid.
  const child = spawn('/bin/sh', ['-c', `exec "$0" "$1" joe <>"$2" >&0 2>&0`, process.execPath, SESSION, pty.slave], {
    detached: true,
    stdio: 'ignore',
    env: { PATH: '/usr/bin:/bin', DEVICE: 'pts', CALLER_ID: '5551234', CONNECT: '33600' },
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('exit', (code, signal) => res({ code, signal })));
  try {
    await until(/choice> $/, 10_000);
    if (how === 'in-echo-test') {
      master.write('3\r');
      await until(/echo> $/, 5_000);
    }
    master.destroy(); // the caller hangs up: the line's master goes away
    const r = await Promise.race([exited, new Promise<never>((_, rej) => setTimeout(() => rej(new Error('session did not exit')), 10_000))]);
    return { ...r, seen };
  } finally {
    master.destroy();
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}

for (const how of ['at-menu', 'in-echo-test'] as const) {
  test(`demo login program: the caller hangs up ${how}: it exits 0, no signal`, async () => {
    const r = await callAndHangUp(how);
    assert.match(r.seen, /Welcome to the tgetty demo/);
    assert.equal(r.signal, null, `ended by signal ${r.signal}`);
    assert.equal(r.code, 0);
  });
}
