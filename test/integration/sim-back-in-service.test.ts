/**
 * After a call, how soon is a virtual line back in service? `tgetty serve` on 16 sim
 * lines with `dtr-by-close yes`: 16 callers log in, then all hang up at once. Each line
 * must be `idle` again (answering the next RING) within 1.5 s of its caller hanging up:
 * the getty hangs up by closing the line, as HUPCL does on a serial port, instead of the
 * +++ / ATH0 dance (5.5 s). The init chat has no `\d` (the 1 s pause a real modem needs
 * after DTR; a virtual one does not), as in the demo's config. Also the other way: the session ends while the caller is still
 * on the line; the getty's close of the line (the sim's DTR drop) ends the call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { queryDaemon } from '../../src/daemon/status-server.js';
import type { DaemonStatus } from '../../src/daemon/events.js';
import { createBank, type SimBank } from '../../src/sim/index.js';
import { startChild, type Child } from '../helpers/child.js';

const skip = process.getuid?.() === 0 ? undefined : 'needs root (login.config owned by root, as in production)';
const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');
const LINES = 16;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function rig(lines: number, session: string): Promise<{ bank: SimBank; run: string; child: Child; cleanup: () => Promise<void> }> {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-bis-'));
  const d = { sim: join(root, 'sim'), etc: join(root, 'etc'), lock: join(root, 'lock'), log: join(root, 'log'), run: join(root, 'run') };
  for (const x of Object.values(d)) mkdirSync(x);
  writeFileSync(join(root, 'utmp'), '');
  writeFileSync(join(root, 'wtmp'), '');
  writeFileSync(join(d.etc, 'mgetty.config'), 'toggle-dtr no\ndtr-by-close yes\ninit-chat "" ATQ0V1H0 OK AT OK\nfido-send-emsi no\nlogin-prompt login:\n');
  writeFileSync(join(d.etc, 'session.sh'), session);
  chmodSync(join(d.etc, 'session.sh'), 0o755);
  writeFileSync(join(d.etc, 'login.config'), `* - - ${d.etc}/session.sh @\n`);
  chmodSync(join(d.etc, 'login.config'), 0o600);
  const bank = await createBank({ lines, dir: d.sim, transcripts: process.env.TGETTY_KEEP_TEST_DIR !== undefined });
  const paths = ['--config-dir', d.etc, '--lock-dir', d.lock, '--log-dir', d.log, '--run-dir', d.run, '--utmp', join(root, 'utmp'), '--wtmp', join(root, 'wtmp'), '--no-records'];
  const child = startChild(process.execPath, [BIN, 'serve', ...paths, '--lines', bank.lines.map((l) => l.path).join(',')]);
  return {
    bank,
    run: d.run,
    child,
    cleanup: async () => {
      await child.stop({ signal: 'SIGKILL' });
      await bank.close();
      if (process.env.TGETTY_KEEP_TEST_DIR === undefined) rmSync(root, { recursive: true, force: true });
      else console.log(`kept ${root}`);
    },
  };
}

async function status(run: string): Promise<DaemonStatus | undefined> {
  try {
    const r = await queryDaemon(run, { cmd: 'status' }, 2000);
    return 'status' in r ? r.status : undefined;
  } catch {
    return undefined;
  }
}

async function allIdle(run: string, n: number, ms: number, diag: () => string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const st = await status(run);
    if (st !== undefined && st.lines.length === n && st.lines.every((l) => l.state === 'idle')) return;
    if (Date.now() > end) throw new Error(`lines not idle within ${ms} ms: ${JSON.stringify(st?.lines.map((l) => l.state))}\n${diag()}`);
    await sleep(50);
  }
}

test(`${LINES} virtual lines back in service after the callers hang up, hung up by closing the line (dtr-by-close), no +++ or ATH0`, { skip, timeout: 120_000 }, async () => {
  const r = await rig(LINES, '#!/bin/sh\necho "hi $1"\nexec sleep 600\n');
  try {
    await allIdle(r.run, LINES, 30_000, () => r.child.output());
    const calls = r.bank.lines.map((l) => l.call({ callerId: '5551234', cidFormat: 'none' }));
    await Promise.all(calls.map((c) => c.waitFor(/login:/, 30_000)));
    calls.forEach((c, i) => c.write(`user${i}\r`));
    await Promise.all(calls.map((c, i) => c.waitFor(new RegExp(`hi user${i}`), 20_000)));
    await sleep(300);
    const hungUpAt = Date.now();
    const sentBefore = r.bank.lines.map((l) => l.fromDte.all.length);
    for (const c of calls) c.hangup();
    const backAt = new Map<string, number>();
    while (backAt.size < LINES && Date.now() - hungUpAt < 15_000) {
      const st = await status(r.run);
      for (const l of st?.lines ?? []) {
        // idle since after the hang-up: the getty re-initialised the line and waits for the next call
        if (l.state === 'idle' && l.since >= hungUpAt && !backAt.has(l.line)) backAt.set(l.line, Date.now() - hungUpAt);
      }
      await sleep(20);
    }
    const times = [...backAt.values()].sort((a, b) => a - b);
    console.log(`back in service after the caller hung up, ${LINES} lines: min ${times[0]} ms, median ${times[times.length >> 1]} ms, max ${times[times.length - 1]} ms`);
    assert.equal(backAt.size, LINES, `every line back: ${JSON.stringify([...backAt])}\n${r.child.output()}`);
    // The fast way back is the mechanism, checked here; its time (budget 1.5 s) is the
    // benchmark's to measure (docs/benchmarks.md), not a test's.
    r.bank.lines.forEach((l, i) => assert.doesNotMatch(l.fromDte.all.slice(sentBefore[i]), /\+\+\+|ATH/, `${l.name}: the getty hung up by closing the line, not with +++ ATH0`));
    // And the lines really answer again.
    const again = r.bank.line(3).call({ cidFormat: 'none' });
    await again.waitFor(/login:/, 20_000);
    again.hangup();
  } finally {
    await r.cleanup();
  }
});

test('the session ends while the caller is on the line: the getty closing the line ends the call (DTR drop), no +++ reaches the caller', { skip, timeout: 60_000 }, async () => {
  const r = await rig(2, '#!/bin/sh\necho "bye $1"\nexit 0\n');
  try {
    await allIdle(r.run, 2, 30_000, () => r.child.output());
    const call = r.bank.line(0).call({ callerId: '5551234', cidFormat: 'none' });
    await call.waitFor(/login:/, 20_000);
    call.write('dave\r');
    await call.waitFor(/bye dave/, 10_000);
    assert.equal(await Promise.race([call.ended, sleep(5000).then(() => 'still connected')]), 'hangup');
    assert.doesNotMatch(call.received.all, /\+\+\+|ATH/, 'no escape or command reached the caller');
    await allIdle(r.run, 2, 5_000, () => r.child.output());
  } finally {
    await r.cleanup();
  }
});
