import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusBoard } from '../daemon/events.js';
import type { DaemonStatus } from '../daemon/events.js';
import { startStatusServer } from '../daemon/status-server.js';
import type { ReloadResult } from '../daemon/status-server.js';
import { formatStatus, printable, reloadCommand, statusCommand } from './status.js';

const T0 = Date.UTC(2026, 10, 21, 19, 30, 0);
const S = 1000;

/** A daemon status built the way the daemon builds it: events into a StatusBoard. */
function exampleStatus(): DaemonStatus {
  const b = new StatusBoard();
  b.addLine('ttyS0', '/dev/ttyS0', T0);
  b.addLine('ttyS1', '/dev/ttyS1', T0);
  b.addLine('ttyUSB0', '/dev/ttyUSB0', T0);
  b.emit({ type: 'line-state', line: 'ttyS0', state: 'idle', at: T0 + 10 * S });
  b.emit({ type: 'line-state', line: 'ttyS1', state: 'in-session', at: T0 + 60 * S });
  b.emit({ type: 'call-start', line: 'ttyS1', callId: 'c1', at: T0 + 50 * S });
  b.emit({ type: 'call-caller', line: 'ttyS1', callId: 'c1', at: T0 + 51 * S, callerId: '0301234567', callerName: 'ACME' });
  b.emit({ type: 'call-connect', line: 'ttyS1', callId: 'c1', at: T0 + 55 * S, connect: '33600/ARQ' });
  b.emit({ type: 'call-session', line: 'ttyS1', callId: 'c1', at: T0 + 60 * S, loginName: 'ann', program: '/bin/login', pid: 4711 });
  b.emit({ type: 'modem-init', line: 'ttyUSB0', at: T0 + 20 * S, ok: false, detail: 'no response to AT' });
  b.emit({ type: 'line-state', line: 'ttyUSB0', state: 'resting', at: T0 + 20 * S });
  b.setResting('ttyUSB0', T0 + 320 * S);
  return {
    pid: 321,
    version: '0.1.0',
    startedAt: T0,
    configDir: '/etc/mgetty',
    configLoadedAt: T0 + 5 * S,
    lines: b.snapshot(),
  };
}

test('printable escapes control characters from the phone network', () => {
  assert.equal(printable('ACME\x1b[2J\r\n\x9b'), 'ACME\\x1b[2J\\x0d\\x0a\\x9b');
  assert.equal(printable('Müller 0301234'), 'Müller 0301234');
});

test('the table: header, one row per line with state, since, caller, connect, program and last error', () => {
  const now = T0 + 192 * S + 10 * S; // ttyS0 idle for 3m12s
  assert.equal(
    formatStatus(exampleStatus(), now),
    [
      'tgetty 0.1.0, pid 321, up 3m 22s',
      'config /etc/mgetty, loaded 3m 17s ago',
      '',
      'LINE     STATE                  SINCE   CALLS  CALLER           CONNECT    LOGIN/PROGRAM           LAST ERROR',
      'ttyS0    idle                   3m 12s  0      -                -          -                       -',
      'ttyS1    in-session             2m 22s  1      0301234567 ACME  33600/ARQ  ann: /bin/login [4711]  -',
      'ttyUSB0  resting (1m 58s left)  3m 2s   0      -                -          -                       no response to AT (3m 2s ago)',
      '',
    ].join('\n'),
  );
});

test('the header shows a rejected reload; an empty daemon says so', () => {
  const st: DaemonStatus = { ...exampleStatus(), lines: [], lastReloadError: 'mgetty.config:3: unknown keyword\nttyS1: mgetty.config:9: bad\x1bvalue' };
  assert.equal(
    formatStatus(st, T0 + 61 * S),
    'tgetty 0.1.0, pid 321, up 1m 1s\nconfig /etc/mgetty, loaded 56s ago\n' +
      'last reload: the new configuration was rejected; the old one stays in force:\n  mgetty.config:3: unknown keyword\n  ttyS1: mgetty.config:9: bad\\x1bvalue\n' +
      '\nno lines configured\n',
  );
});

function tempRun(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'tgetty-cli-status-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function capture(): { out: (s: string) => void; err: (s: string) => void; o: () => string; e: () => string } {
  let o = '';
  let e = '';
  return { out: (s) => (o += s), err: (s) => (e += s), o: () => o, e: () => e };
}

test('status and reload against a real status socket', async (t) => {
  const runDir = tempRun(t);
  const st = exampleStatus();
  let next: ReloadResult = { ok: true, errors: [] };
  const srv = await startStatusServer({ runDir, handlers: { status: () => st, reload: () => Promise.resolve(next) } });
  t.after(() => srv.close());

  const a = capture();
  assert.equal(await statusCommand({ runDir, json: false, ...a, now: () => T0 + 202 * S }), 0);
  assert.equal(a.o(), formatStatus(st, T0 + 202 * S));
  assert.equal(a.e(), '');

  const j = capture();
  assert.equal(await statusCommand({ runDir, json: true, ...j }), 0);
  assert.deepEqual(JSON.parse(j.o()), st);

  const r = capture();
  assert.equal(await reloadCommand({ runDir, ...r }), 0);
  assert.equal(r.o(), 'tgetty: configuration reloaded\n');

  next = { ok: false, errors: ['mgetty.config:3: unknown keyword "rigns"', 'login.config:9: bad\x1bline'] };
  const bad = capture();
  assert.equal(await reloadCommand({ runDir, ...bad }), 1);
  assert.equal(
    bad.e(),
    'tgetty: the new configuration was rejected; the old one stays in force:\n  mgetty.config:3: unknown keyword "rigns"\n  login.config:9: bad\\x1bline\n',
  );
});

test('no daemon: exit 1 with a clear message, nothing on stdout', async (t) => {
  const runDir = tempRun(t);
  for (const run of [
    (io: ReturnType<typeof capture>) => statusCommand({ runDir, json: false, ...io }),
    (io: ReturnType<typeof capture>) => reloadCommand({ runDir, ...io }),
  ]) {
    const io = capture();
    assert.equal(await run(io), 1);
    assert.equal(io.o(), '');
    assert.equal(io.e(), `tgetty: no tgetty daemon is running (no socket at ${join(runDir, 'tgetty.sock')})\n`);
  }
});

test('a daemon that refuses the status request: exit 1 with its error', async () => {
  const io = capture();
  const code = await statusCommand({ runDir: '/nonexistent', json: false, ...io, query: () => Promise.resolve({ ok: false, error: 'status failed: board broken' }) });
  assert.equal(code, 1);
  assert.equal(io.e(), 'tgetty: the daemon refused: status failed: board broken\n');
});

test('the table stays aligned with wide characters in a caller name (display width, not string length)', () => {
  const b = new StatusBoard();
  b.addLine('ttyS0', '/dev/ttyS0', T0);
  b.addLine('ttyS1', '/dev/ttyS1', T0);
  b.emit({ type: 'call-start', line: 'ttyS0', callId: 'c1', at: T0 });
  b.emit({ type: 'call-caller', line: 'ttyS0', callId: 'c1', at: T0, callerId: '0301234567', callerName: '山田太郎' });
  b.emit({ type: 'call-start', line: 'ttyS1', callId: 'c2', at: T0 });
  b.emit({ type: 'call-caller', line: 'ttyS1', callId: 'c2', at: T0, callerId: '0301234567', callerName: 'YAMADA TARO' });
  const text = formatStatus({ pid: 1, version: 'x', startedAt: T0, configDir: '/etc/mgetty', configLoadedAt: T0, lines: b.snapshot() }, T0);
  const width = (s: string): number => [...s].reduce((w, c) => w + ((c.codePointAt(0) ?? 0) >= 0x3000 ? 2 : 1), 0);
  const rows = text.split('\n').filter((l) => l.startsWith('LINE') || l.startsWith('tty'));
  const at = rows.map((l) => width(l.slice(0, l.startsWith('LINE') ? l.indexOf('CONNECT') : l.indexOf(' -  ') + 1)));
  assert.equal(rows.length, 3);
  assert.equal(new Set(at).size, 1, `the CONNECT column starts at one display column: ${at.join(', ')}\n${text}`);
});
