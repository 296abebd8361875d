/**
 * Security review, "the file permissions of everything written", the status socket and
 * the metrics port: the real binary (`tgetty serve`, and single-line `tgetty` for the
 * pid file) on simulator lines, every path in a temp dir, run under umask 000 so that a
 * mode that only looks right because of the usual umask 022 fails here.
 * See docs/security.md (the table of modes).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBank } from '../../src/sim/index.js';
import { startChild, type Child } from '../helpers/child.js';
import { waitFor as pollUntil } from '../helpers/leaks.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');
const skip = process.getuid?.() === 0 ? undefined : 'needs root (login.config owned by root, utmp group, a second user for the socket)';

/** Run the binary under umask 000 (the shell sets it, then execs node). */
function runUmask000(t: TestContext, args: string[]): Child {
  const c = startChild('/bin/sh', ['-c', 'umask 000; exec "$@"', 'sh', process.execPath, BIN, ...args]);
  t.after(() => c.stop({ signal: 'SIGKILL' }));
  return c;
}

/** The shared poll loop (test/helpers/leaks.ts), with this file's argument order. */
const waitFor = (cond: () => boolean, what: string, ms = 10_000): Promise<void> => pollUntil(cond, ms, what);

function mode(path: string): string {
  return `0${(statSync(path).mode & 0o7777).toString(8)}`;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function root(t: TestContext, prefix: string): string {
  const r = mkdtempSync(join(tmpdir(), prefix));
  // Traversable by others, so the socket's own mode is the only thing that keeps them out.
  chmodSync(r, 0o755);
  t.after(() => rmSync(r, { recursive: true, force: true }));
  return r;
}

test('serve under umask 000: lock 0644, log 0640 in a 0755 dir, records 0640 in a 0750 dir, status socket 0600, utmp 0664; metrics refuse a non-loopback host', { skip }, async (t) => {
  const r = root(t, 'tgetty-sec-files-');
  const d = { sim: join(r, 'sim'), etc: join(r, 'etc'), lock: join(r, 'lock'), log: join(r, 'log', 'tgetty'), run: join(r, 'run', 'tgetty') };
  for (const x of [d.sim, d.etc, d.lock]) mkdirSync(x);
  const records = join(r, 'lib', 'tgetty', 'calls.sqlite');
  const utmp = join(r, 'utmp'); // missing: tgetty creates it
  writeFileSync(join(r, 'wtmp'), '');
  writeFileSync(join(d.etc, 'mgetty.config'), 'toggle-dtr no\nfido-send-emsi no\nlogin-prompt login:\n');
  writeFileSync(join(d.etc, 'hi.sh'), '#!/bin/sh\necho "hi $1"\nexit 0\n');
  chmodSync(join(d.etc, 'hi.sh'), 0o755);
  writeFileSync(join(d.etc, 'login.config'), `* - - ${d.etc}/hi.sh @\n`);
  chmodSync(join(d.etc, 'login.config'), 0o600);
  const bank = await createBank({ lines: 1, dir: d.sim });
  t.after(() => bank.close());
  const metricsPort = await freePort();
  const serve = runUmask000(t, [
    'serve', '--config-dir', d.etc, '--lock-dir', d.lock, '--log-dir', d.log, '--run-dir', d.run, '--utmp', utmp,
    '--wtmp', join(r, 'wtmp'), '--records', records, '--lines', join(d.sim, 'ttySIM0'),
    '--metrics-port', String(metricsPort), '--metrics-host', '0.0.0.0',
  ]);
  const sock = join(d.run, 'tgetty.sock');
  await waitFor(() => existsSync(sock), `${sock} (${serve.output()})`);

  // The metrics server was refused, loudly, and nothing listens on its port. The message
  // comes through the child's stderr pipe, which may be read after the socket appears.
  const refusal = /metrics disabled: metrics: refusing to listen on non-loopback address 0\.0\.0\.0/;
  await waitFor(() => refusal.test(serve.output()), `the metrics refusal on stderr (${serve.output()})`);
  assert.match(serve.output(), refusal);
  const refused = await new Promise<string>((res) => {
    const c = createConnection(metricsPort, '127.0.0.1');
    c.on('connect', () => {
      c.destroy();
      res('connected');
    });
    c.on('error', (e: NodeJS.ErrnoException) => res(e.code ?? e.message));
  });
  assert.equal(refused, 'ECONNREFUSED');

  await bank.line(0).waitForDte(/AT\r/, 10_000);
  await new Promise((res) => setTimeout(res, 600));
  const call = bank.line(0).call({ cidFormat: 'none' });
  await call.waitFor(/login:/, 10_000);
  const lock = join(d.lock, 'LCK..ttySIM0');
  assert.ok(existsSync(lock), 'the lock is held during the call');
  assert.equal(mode(lock), '0644', 'lock');
  call.write('carol\r');
  await call.waitFor(/hi carol/, 5_000);
  await waitFor(() => existsSync(utmp), 'utmp');

  assert.equal(mode(utmp), '0664', 'utmp');
  assert.ok(statSync(sock).isSocket());
  assert.equal(mode(sock), '0600', 'status socket');
  assert.equal(mode(d.run), '0755', 'run dir');
  assert.equal(mode(records), '0640', 'call records');
  assert.equal(mode(join(r, 'lib', 'tgetty')), '0750', 'records dir');
  for (const ext of ['-wal', '-shm']) if (existsSync(records + ext)) assert.equal(mode(records + ext), '0640', `records${ext}`);
  await waitFor(() => existsSync(join(d.log, 'ttySIM0.log')), 'line log');
  assert.equal(mode(join(d.log, 'ttySIM0.log')), '0640', 'line log');
  assert.equal(mode(join(d.log, 'tgetty.log')), '0640', 'daemon log');
  assert.equal(mode(d.log), '0755', 'log dir');

  // The status socket: root gets an answer, another user gets "permission denied".
  const asRoot = spawnSync(process.execPath, [BIN, 'status', '--run-dir', d.run], { encoding: 'utf8' });
  assert.equal(asRoot.status, 0, asRoot.stderr);
  assert.match(asRoot.stdout, /ttySIM0/);
  const asNobody = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, BIN, 'status', '--run-dir', d.run], {
    encoding: 'utf8',
  });
  assert.notEqual(asNobody.status, 0);
  assert.match(asNobody.stderr, /permission denied: run as root \(cannot connect to .*tgetty\.sock\)/);

  serve.proc.kill('SIGTERM');
  assert.equal(await serve.exited, 0, serve.output());
});

test('single-line tgetty under umask 000: pid file 0644', { skip }, async (t) => {
  const r = root(t, 'tgetty-sec-pid-');
  const d = { sim: join(r, 'sim'), etc: join(r, 'etc'), lock: join(r, 'lock'), log: join(r, 'log'), run: join(r, 'run') };
  for (const x of Object.values(d)) mkdirSync(x);
  writeFileSync(join(d.etc, 'mgetty.config'), 'toggle-dtr no\n');
  const bank = await createBank({ lines: 1, dir: d.sim });
  t.after(() => bank.close());
  const tg = runUmask000(t, ['--config-dir', d.etc, '--lock-dir', d.lock, '--log-dir', d.log, '--run-dir', d.run,
    '--utmp', join(r, 'utmp'), '--wtmp', join(r, 'wtmp'), join(d.sim, 'ttySIM0')]);
  const pid = join(d.run, 'tgetty.pid.ttySIM0');
  await waitFor(() => existsSync(pid), `pid file (${tg.output()})`);
  assert.equal(mode(pid), '0644', 'pid file');
  await bank.line(0).waitForDte(/AT\r/, 10_000);
  assert.equal(mode(join(d.log, 'ttySIM0.log')), '0640', 'line log');
  tg.proc.kill('SIGTERM');
  assert.equal(await tg.exited, 10);
});
