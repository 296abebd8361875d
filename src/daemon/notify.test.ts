import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeClock } from '../core/clock.js';
import { bindUnixDatagram, recvDatagram } from '../os/unix-socket.js';
import { closeFd } from '../line/libc.js';
import { MGETTY_OPTIONS } from '../cli/mgetty-options.js';
import { notify, notifyAddress, ready, reloading, startWatchdog, status, stopping } from './notify.js';

function tempDir(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'tgetty-notify-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A receiving socket for NOTIFY_SOCKET=`value`, closed after the test. */
function receiver(t: { after(fn: () => void): void }, value: string): () => string | undefined {
  const addr = notifyAddress(value);
  assert.ok(addr !== undefined);
  const fd = bindUnixDatagram(addr);
  t.after(() => closeFd(fd));
  return () => recvDatagram(fd)?.toString('utf8');
}

const uniqueAbstract = (): string => `@tgetty-test-${process.pid}-${Math.random().toString(36).slice(2)}`;

test('notifyAddress: paths, abstract names, and forms systemd does not hand us', () => {
  assert.deepEqual(notifyAddress('/run/systemd/notify'), Buffer.from('/run/systemd/notify'));
  assert.deepEqual(notifyAddress('@abc'), Buffer.from('\0abc', 'latin1'));
  assert.equal(notifyAddress(undefined), undefined);
  assert.equal(notifyAddress(''), undefined);
  assert.equal(notifyAddress('@'), undefined);
  assert.equal(notifyAddress('relative/sock'), undefined);
  assert.equal(notifyAddress('vsock:2:1234'), undefined);
});

test('READY, STOPPING, STATUS and RELOADING arrive as single datagrams on a path socket', (t) => {
  const value = join(tempDir(t), 'notify');
  const recv = receiver(t, value);
  const env = { NOTIFY_SOCKET: value };
  assert.equal(ready(env), true);
  assert.equal(recv(), 'READY=1');
  assert.equal(status('3 lines idle\nbut a newline', env), true);
  assert.equal(recv(), 'STATUS=3 lines idle but a newline');
  assert.equal(reloading(env, () => 123456789n), true);
  assert.equal(recv(), 'RELOADING=1\nMONOTONIC_USEC=123456789');
  assert.equal(stopping(env), true);
  assert.equal(recv(), 'STOPPING=1');
  assert.equal(recv(), undefined, 'nothing else was sent');
});

test('the abstract-socket form (@name) works', (t) => {
  const value = uniqueAbstract();
  const recv = receiver(t, value);
  assert.equal(notify('READY=1\nSTATUS=up', { NOTIFY_SOCKET: value }), true);
  assert.equal(recv(), 'READY=1\nSTATUS=up');
});

test('RELOADING carries CLOCK_MONOTONIC in microseconds by default', (t) => {
  const value = uniqueAbstract();
  const recv = receiver(t, value);
  const before = process.hrtime.bigint() / 1000n;
  assert.equal(reloading({ NOTIFY_SOCKET: value }), true);
  const after = process.hrtime.bigint() / 1000n;
  const m = /^RELOADING=1\nMONOTONIC_USEC=(\d+)$/.exec(recv() ?? '');
  assert.ok(m !== null);
  const usec = BigInt(m[1] ?? '0');
  assert.ok(usec >= before && usec <= after, `${usec} within [${before}, ${after}]`);
});

test('without a usable NOTIFY_SOCKET nothing is sent and nothing throws', (t) => {
  assert.equal(notify('READY=1', {}), false);
  assert.equal(ready({ NOTIFY_SOCKET: 'relative' }), false);
  // Nobody bound there: the send fails, notify reports it and goes on.
  assert.equal(ready({ NOTIFY_SOCKET: join(tempDir(t), 'nobody') }), false);
  assert.equal(ready({ NOTIFY_SOCKET: `/${'x'.repeat(200)}` }), false, 'path longer than sun_path');
});

test('watchdog: WATCHDOG=1 every WATCHDOG_USEC/2, skipped while unhealthy, silent after stop', (t) => {
  const value = uniqueAbstract();
  const recv = receiver(t, value);
  const clock = new FakeClock(0);
  let healthy = true;
  const wd = startWatchdog(
    { NOTIFY_SOCKET: value, WATCHDOG_USEC: '2000000', WATCHDOG_PID: String(process.pid) },
    { setTimeout: (fn, ms) => clock.setTimeout(fn, ms), healthy: () => healthy },
  );
  assert.equal(wd.intervalMs, 1000);
  clock.advance(999);
  assert.equal(recv(), undefined);
  clock.advance(1);
  assert.equal(recv(), 'WATCHDOG=1');
  assert.equal(recv(), undefined);
  healthy = false;
  clock.advance(1000);
  assert.equal(recv(), undefined, 'an unhealthy daemon does not ping');
  healthy = true;
  clock.advance(1000);
  assert.equal(recv(), 'WATCHDOG=1');
  wd.stop();
  clock.advance(10_000);
  assert.equal(recv(), undefined);
  assert.equal(clock.pending, 0);
});

test('watchdog stays off when not asked for, or asked for another pid', () => {
  const clock = new FakeClock(0);
  const arm = (fn: () => void, ms: number): ReturnType<FakeClock['setTimeout']> => clock.setTimeout(fn, ms);
  const base = { NOTIFY_SOCKET: '@x' };
  assert.equal(startWatchdog(base, { setTimeout: arm }).intervalMs, undefined);
  assert.equal(startWatchdog({ ...base, WATCHDOG_USEC: '0' }, { setTimeout: arm }).intervalMs, undefined);
  assert.equal(startWatchdog({ ...base, WATCHDOG_USEC: 'abc' }, { setTimeout: arm }).intervalMs, undefined);
  assert.equal(startWatchdog({ ...base, WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1' }, { setTimeout: arm, pid: 2 }).intervalMs, undefined);
  assert.equal(startWatchdog({ WATCHDOG_USEC: '1000000' }, { setTimeout: arm }).intervalMs, undefined, 'no socket to send to');
  assert.equal(clock.pending, 0);
  const wd = startWatchdog({ ...base, WATCHDOG_USEC: '1000000' }, { setTimeout: arm, pid: 2 });
  assert.equal(wd.intervalMs, 500, 'WATCHDOG_PID unset: the request is ours');
  wd.stop();
});

/** socat as an independent receiver: proves our sockaddr_un matches what other programs bind. */
async function viaSocat(t: { after(fn: () => void): void }, address: string, value: string): Promise<string> {
  const child = spawn('socat', ['-d', '-d', '-u', address, '-'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let errText = '';
  // socat logs "starting data transfer loop" once the socket is bound: no polling.
  await new Promise<void>((resolve, reject) => {
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (c: string) => {
      errText += c;
      if (errText.includes('starting data transfer loop')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`socat exited (${code}): ${errText}`)));
    child.once('error', reject);
  });
  const out = new Promise<string>((resolve) => {
    child.stdout.setEncoding('utf8');
    child.stdout.once('data', (c: string) => resolve(c));
  });
  assert.equal(notify('READY=1', { NOTIFY_SOCKET: value }), true);
  return out;
}

const hasSocat = spawnSync('socat', ['-V'], { stdio: 'ignore' }).status === 0;

test('socat receives READY=1 on a path socket', async (t) => {
  if (!hasSocat) return t.skip('socat not installed');
  const path = join(tempDir(t), 'notify');
  assert.equal(await viaSocat(t, `UNIX-RECV:${path}`, path), 'READY=1');
});

test('socat receives READY=1 on an abstract socket', async (t) => {
  if (!hasSocat) return t.skip('socat not installed');
  const value = uniqueAbstract();
  assert.equal(await viaSocat(t, `ABSTRACT-RECV:${value.slice(1)}`, value), 'READY=1');
});

// ---- the shipped unit files, inittab line and udev rule (contrib/) ----

const contrib = fileURLToPath(new URL('../../../contrib/', import.meta.url));

type Ini = Map<string, [string, string][]>;

/** systemd's unit syntax: [Section], Key=Value, # and ; comments. Throws on anything else. */
function parseUnit(text: string): Ini {
  const out: Ini = new Map();
  let cur: [string, string][] | undefined;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) return;
    const sec = /^\[([A-Za-z]+)\]$/.exec(line);
    if (sec !== null) {
      cur = [];
      out.set(sec[1] ?? '', cur);
      return;
    }
    const kv = /^([A-Za-z][A-Za-z0-9]*)=(.*)$/.exec(line);
    assert.ok(kv !== null && cur !== undefined, `line ${i + 1}: not a key=value in a section: ${raw}`);
    cur.push([kv[1] ?? '', kv[2] ?? '']);
  });
  return out;
}

function get(ini: Ini, section: string, key: string): string[] {
  return (ini.get(section) ?? []).filter(([k]) => k === key).map(([, v]) => v);
}

/** The subcommands of the real CLI, from its own --help. */
async function cliCommands(): Promise<string[]> {
  const { main } = await import('../cli/main.js');
  let text = '';
  const code = await main(['--help'], { out: (s) => (text += s), err: (s) => (text += s) });
  assert.equal(code, 0);
  const section = text.split(/^Commands:$/m)[1] ?? '';
  return [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1] ?? '');
}

test('tgetty.service: Type=notify daemon that runs `tgetty serve`', async (t) => {
  const ini = parseUnit(readFileSync(join(contrib, 'systemd/tgetty.service'), 'utf8'));
  assert.deepEqual([...ini.keys()], ['Unit', 'Service', 'Install']);
  assert.deepEqual(get(ini, 'Service', 'Type'), ['notify']);
  assert.deepEqual(get(ini, 'Service', 'ExecStart'), ['/usr/local/bin/tgetty serve']);
  assert.deepEqual(get(ini, 'Service', 'ExecReload'), ['/bin/kill -HUP $MAINPID']);
  assert.deepEqual(get(ini, 'Service', 'KillMode'), ['mixed']);
  assert.deepEqual(get(ini, 'Service', 'WatchdogSec'), ['30s']);
  assert.deepEqual(get(ini, 'Service', 'RuntimeDirectory'), ['tgetty'], 'the default --run-dir is /run/tgetty');
  const commands = await cliCommands();
  // The daemon and its subcommand land together; until then there is nothing to check against.
  if (!commands.includes('serve') && !existsSync(fileURLToPath(new URL('./daemon.js', import.meta.url)))) {
    t.skip('the daemon (src/daemon/daemon.ts, `tgetty serve`) is not built yet');
    return;
  }
  assert.ok(commands.includes('serve'), `ExecStart runs \`tgetty serve\`, but the CLI has only: ${commands.join(', ')}`);
});

test('tgetty@.service: one line, like serial-getty@', async () => {
  const ini = parseUnit(readFileSync(join(contrib, 'systemd/tgetty@.service'), 'utf8'));
  assert.deepEqual(get(ini, 'Service', 'ExecStart'), ['-/usr/local/bin/tgetty %I']);
  assert.deepEqual(get(ini, 'Unit', 'BindsTo'), ['dev-%i.device']);
  assert.ok(get(ini, 'Unit', 'Conflicts').includes('serial-getty@%i.service'));
  assert.deepEqual(get(ini, 'Service', 'Restart'), ['always']);
  // systemd's ut_id would be `tyS3`, tgetty's is `S3`: tgetty writes the records (see docs/operations.md).
  assert.deepEqual(get(ini, 'Service', 'UtmpIdentifier'), []);
  // `tgetty <tty>` is the default command: the instance name must not collide with a subcommand.
  const commands = await cliCommands();
  assert.ok(commands.length > 0);
  for (const c of commands) assert.ok(!/^tty/.test(c), `subcommand ${c} would shadow a tty name`);
});

test('the inittab example uses options tgetty accepts', () => {
  const lines = readFileSync(join(contrib, 'inittab.example'), 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('#'));
  assert.deepEqual(lines, ['S3:2345:respawn:/usr/local/bin/tgetty -x3 ttyS3']);
  const [id, levels, action, cmd] = (lines[0] ?? '').split(':');
  assert.equal(id, 'S3');
  assert.match(levels ?? '', /^[0-6Ss]+$/);
  assert.equal(action, 'respawn');
  assert.ok(MGETTY_OPTIONS.some((o) => o.flag === '-x'));
  assert.deepEqual(cmd?.split(' '), ['/usr/local/bin/tgetty', '-x3', 'ttyS3']);
});

test('the udev rule sets ID_MM_DEVICE_IGNORE on a tty match', () => {
  const rules = readFileSync(join(contrib, 'udev/99-tgetty-modem.rules'), 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  assert.ok(rules.length >= 1);
  for (const r of rules) {
    // udev syntax: comma-separated KEY op "value" pairs.
    for (const part of r.split(/,\s*/)) assert.match(part, /^[A-Z_]+(\{[A-Za-z_]+\})?(==|!=|=|\+=|:=)"[^"]*"$/, `rule part: ${part}`);
  }
  assert.ok(rules.some((r) => r.includes('SUBSYSTEM=="tty"') && r.includes('ENV{ID_MM_DEVICE_IGNORE}="1"')));
});

// systemd-analyze verify of both units (with their Documentation= man pages): test/system/units.test.ts.
