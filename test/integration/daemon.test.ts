// The daemon serves many simulated lines from one process: concurrent calls, faults on
// some lines while the others keep answering, supervision after the session, reload
// during calls. Runs the Daemon in this process (real ptys, real child processes).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createBank, type SimBank } from '../../src/sim/index.js';
import { Daemon } from '../../src/daemon/daemon.js';
import type { DaemonEvent } from '../../src/daemon/events.js';
import { createLogger } from '../../src/log/logger.js';
import { waitFor } from '../helpers/leaks.js';
import { tempSystem } from '../helpers/temp-system.js';
import { canTrimMalloc } from '../../src/os/malloc.js';

const skip = process.getuid?.() === 0 ? undefined : 'needs root (login.config must be owned by root)';

interface Rig {
  bank: SimBank;
  daemon: Daemon;
  root: string;
  events: DaemonEvent[];
  writeConfig: (text: string) => void;
}

const REC = '#!/bin/sh\necho "REC $* on $DEVICE"\nsleep "${SLEEP:-0}"\nexit 0\n';
const HUPSTUBBORN = '#!/bin/sh\ntrap "" HUP\necho STUBBORN\nwhile :; do sleep 1; done\n';

async function rig(t: TestContext, lines: number, extraConfig = ''): Promise<Rig> {
  const dirs = tempSystem('tgetty-daemon-');
  const root = dirs.root;
  writeFileSync(join(dirs.etc, 'rec.sh'), REC);
  chmodSync(join(dirs.etc, 'rec.sh'), 0o755);
  writeFileSync(join(dirs.etc, 'stubborn.sh'), HUPSTUBBORN);
  chmodSync(join(dirs.etc, 'stubborn.sh'), 0o755);
  writeFileSync(join(dirs.etc, 'login.config'), `stubborn - - ${dirs.etc}/stubborn.sh\n* - - ${dirs.etc}/rec.sh login @\n`);
  chmodSync(join(dirs.etc, 'login.config'), 0o600);
  const bank = await createBank({ lines, dir: dirs.sim });
  const writeConfig = (text: string): void => writeFileSync(join(dirs.etc, 'mgetty.config'), text);
  const ports = Array.from({ length: lines }, (_, i) => `port ttySIM${i}\n`).join('');
  writeConfig(`toggle-dtr no\nfido-send-emsi no\nlogin-prompt login:\nissue-file Line \\P\nhangup-grace 2\n${extraConfig}${ports}`);
  const events: DaemonEvent[] = [];
  const daemon = new Daemon({
    paths: dirs.paths,
    lines: Array.from({ length: lines }, (_, i) => join(dirs.sim, `ttySIM${i}`)),
    sinks: [{ emit: (e) => events.push(e) }],
    policy: { backoffBaseMs: 200, backoffMaxMs: 1000, maxFailures: 10, windowMs: 120_000, restMs: 300_000 },
    log: createLogger({ device: 'tgetty', logDir: dirs.log, audit: 'none', stderr: () => undefined }),
  });
  t.after(async () => {
    await daemon.stop();
    await bank.close();
    rmSync(root, { recursive: true, force: true });
  });
  daemon.start();
  return { bank, daemon, root, events, writeConfig };
}

const idle = (r: Rig, line: string): boolean => r.daemon.status().lines.find((l) => l.line === line)?.state === 'idle';

function diag(t: TestContext, r: Rig, line: string): void {
  t.diagnostic(`status: ${JSON.stringify(r.daemon.status().lines.find((l) => l.line === line))}`);
  const f = join(r.root, 'log', `${line}.log`);
  if (existsSync(f)) t.diagnostic(readFileSync(f, 'utf8').split('\n').slice(-40).join('\n'));
}

test('16 lines: concurrent calls are all answered while faulty lines fail on their own', { skip }, async (t) => {
  const r = await rig(t, 16);
  try {
    // Lines 12..15 get a silent modem: their init fails (after ~45 s of chat time outs) —
    // start the faults before the first init finishes, so they fail from the start.
    for (let i = 12; i < 16; i++) r.bank.line(i).setFaults({ silent: true });
    await waitFor(() => Array.from({ length: 12 }, (_, i) => idle(r, `ttySIM${i}`)).every(Boolean), 20_000, '12 healthy lines idle');
    const calls = Array.from({ length: 12 }, (_, i) => r.bank.line(i).call({ cidFormat: 'none', connect: `${9600 * (i + 1)}` }));
    await Promise.all(calls.map((c) => c.waitFor(/login:/, 15_000)));
    calls.forEach((c, i) => c.write(`user${i}\r`));
    await Promise.all(calls.map((c, i) => c.waitFor(new RegExp(`REC login user${i} on ttySIM${i}`), 10_000)));
    // Every session ended, every line went back to idle after a re-initialisation.
    await waitFor(() => Array.from({ length: 12 }, (_, i) => idle(r, `ttySIM${i}`)).every(Boolean), 20_000, 'lines idle again');
    const ends = r.events.filter((e) => e.type === 'call-end');
    assert.equal(ends.length, 12);
    assert.ok(ends.every((e) => e.type === 'call-end' && e.outcome === 'completed' && e.exitStatus === 0));
    const latencies = r.events.filter((e) => e.type === 'call-answering');
    assert.equal(latencies.length, 12, 'RING -> ATA measured for every call');
    // status --json says what the heap trims after calls have cost (glibc only: malloc_trim).
    const ht = r.daemon.status().heapTrim;
    if (canTrimMalloc()) {
      assert.ok(ht !== undefined, 'heapTrim in the status');
      for (const k of ['trims', 'deferred', 'lastMs', 'maxMs', 'totalMs', 'collectMaxMs', 'collectTotalMs'] as const) assert.equal(typeof ht[k], 'number', k);
    } else assert.equal(ht, undefined);
    // The faulty lines never reached idle and are not in a call.
    for (let i = 12; i < 16; i++) {
      const st = r.daemon.status().lines.find((l) => l.line === `ttySIM${i}`);
      assert.ok(st !== undefined && ['initializing', 'starting', 'resting'].includes(st.state), `ttySIM${i} is ${st?.state}`);
    }
  } catch (err) {
    diag(t, r, 'ttySIM0');
    diag(t, r, 'ttySIM12');
    throw err;
  }
});

test('a session that outlives its carrier gets SIGHUP, then SIGKILL; the line comes back', { skip }, async (t) => {
  const r = await rig(t, 1);
  try {
    await waitFor(() => idle(r, 'ttySIM0'), 15_000, 'idle');
    const call = r.bank.line(0).call({ cidFormat: 'none' });
    await call.waitFor(/login:/, 10_000);
    call.write('stubborn\r');
    await call.waitFor(/STUBBORN/, 5_000);
    const st = r.daemon.status().lines[0];
    assert.equal(st?.state, 'in-session');
    const pid = st?.call?.pid;
    assert.ok(typeof pid === 'number');
    // The caller drops: NO CARRIER, then the pty master closes. The program ignores SIGHUP.
    call.hangup();
    await waitFor(() => r.events.some((e) => e.type === 'call-end'), 15_000, 'the session to be ended');
    const end = r.events.find((e) => e.type === 'call-end');
    assert.equal(end?.type === 'call-end' && end.signal, 'SIGKILL');
    await waitFor(() => idle(r, 'ttySIM0'), 15_000, 'idle again');
    assert.throws(() => process.kill(pid, 0), 'the stubborn process is gone');
  } catch (err) {
    diag(t, r, 'ttySIM0');
    throw err;
  }
});

test('reload during a call: the idle line re-initialises now, the busy one after its call; a bad config is rejected', { skip }, async (t) => {
  const r = await rig(t, 2);
  try {
    await waitFor(() => idle(r, 'ttySIM0') && idle(r, 'ttySIM1'), 15_000, 'idle');
    const call = r.bank.line(1).call({ cidFormat: 'none' });
    await call.waitFor(/login:/, 10_000);
    // New prompt for both lines.
    const ports = 'port ttySIM0\nport ttySIM1\n';
    r.writeConfig(`toggle-dtr no\nfido-send-emsi no\nlogin-prompt NEW login:\nissue-file Line \\P\n${ports}`);
    const before0 = r.bank.line(0).transcript.toString().split('ATQ0V1H0').length;
    const res = await r.daemon.reload();
    assert.deepEqual(res, { ok: true, errors: [] });
    // ttySIM0 was idle: it re-initialises (the init chat runs again).
    await waitFor(() => r.bank.line(0).transcript.toString().split('ATQ0V1H0').length > before0 && idle(r, 'ttySIM0'), 15_000, 're-init of the idle line');
    // ttySIM1 keeps its call with the old settings.
    // An empty name reprints issue and prompt: still the old prompt on the busy line.
    call.write('\r');
    await call.waitFor(/Line ttySIM1\r\n\r\nlogin:/, 5_000);
    call.write('bob\r');
    await call.waitFor(/REC login bob on ttySIM1/, 5_000);
    await waitFor(() => idle(r, 'ttySIM1'), 15_000, 'ttySIM1 idle after the call');
    const next = r.bank.line(1).call({ cidFormat: 'none' });
    await next.waitFor(/NEW login:/, 10_000);
    next.hangup();
    // A broken config is rejected and the running one stays.
    r.writeConfig('speed 12345\nport ttySIM0\n');
    const bad = await r.daemon.reload();
    assert.equal(bad.ok, false);
    assert.match(bad.errors.join('\n'), /12345/);
    assert.match(r.daemon.status().lastReloadError ?? '', /12345/);
    assert.deepEqual(r.daemon.lines.sort(), ['ttySIM0', 'ttySIM1']);
  } catch (err) {
    diag(t, r, 'ttySIM0');
    diag(t, r, 'ttySIM1');
    throw err;
  }
});
