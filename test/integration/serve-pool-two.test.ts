/**
 * A modem pool as the issue describes it: TWO `tgetty serve` processes (hosts pi1 and pi2,
 * 8 simulated lines each, one simulator) write their call records into ONE PostgreSQL
 * database; 200 short calls between them, and the database stopped for 20 s in the middle.
 * Every call's row arrives exactly once (by call id), in each daemon's order, complete;
 * while the database is down `tgetty status` says how many rows wait. pi1 names the
 * database with `records-url` in its mgetty.config, pi2 with TGETTY_RECORDS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { createBank, type SimBank } from '../../src/sim/index.js';
import { queryDaemon } from '../../src/daemon/status-server.js';
import type { DaemonStatus } from '../../src/daemon/events.js';
import { startChild, type Child } from '../helpers/child.js';
import { pgUnavailable, startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');
const skip = process.getuid?.() !== 0 ? 'needs root (login.config owned by root, as in production)' : pgUnavailable();
/** The issue's outage; TGETTY_PG_DOWN_MS shortens it for a quick local run. */
const DOWN_MS = Number(process.env.TGETTY_PG_DOWN_MS ?? 20_000);
const LINES_PER_HOST = 8;
const CALLS = 200;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Host {
  name: string;
  root: string;
  run: string;
  spool: string;
  /** Bank line indexes this host serves. */
  lines: number[];
  child: Child;
}

async function status(h: Host): Promise<DaemonStatus | undefined> {
  try {
    const r = await queryDaemon(h.run, { cmd: 'status' }, 5000);
    return r.ok && 'status' in r ? r.status : undefined;
  } catch {
    return undefined;
  }
}

async function until(what: string, cond: () => Promise<boolean> | boolean, ms: number, hosts: Host[] = []): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}\n${hosts.map((h) => `--- ${h.name}:\n${h.child.output().slice(-1500)}`).join('\n')}`);
    await sleep(50);
  }
}

function startHost(base: string, name: string, bank: SimBank, lines: number[], records: { config?: string; env?: string }): Host {
  const root = join(base, name);
  const d = { etc: join(root, 'etc'), lock: join(root, 'lock'), log: join(root, 'log'), run: join(root, 'run') };
  for (const x of Object.values(d)) mkdirSync(x, { recursive: true });
  writeFileSync(join(root, 'utmp'), '');
  writeFileSync(join(root, 'wtmp'), '');
  // Short calls: answer on the second RING (after the caller ID), hang up by closing the line.
  const conf = ['toggle-dtr no', 'fido-send-emsi no', 'rings 2', 'dtr-by-close yes', 'login-prompt login:'];
  if (records.config !== undefined) conf.unshift(`records-url ${records.config}`);
  writeFileSync(join(d.etc, 'mgetty.config'), `${conf.join('\n')}\n`);
  chmodSync(join(d.etc, 'mgetty.config'), 0o640);
  writeFileSync(join(d.etc, 'hi.sh'), '#!/bin/sh\necho "hi $1"\nexit 0\n');
  chmodSync(join(d.etc, 'hi.sh'), 0o755);
  writeFileSync(join(d.etc, 'login.config'), `* - - ${d.etc}/hi.sh @\n`);
  chmodSync(join(d.etc, 'login.config'), 0o600);
  const spool = join(root, 'spool.sqlite');
  const env = { ...process.env };
  delete env.TGETTY_RECORDS;
  if (records.env !== undefined) env.TGETTY_RECORDS = records.env;
  const args = [
    BIN, 'serve', '--host-name', name, '--records-spool', spool,
    '--config-dir', d.etc, '--lock-dir', d.lock, '--log-dir', d.log, '--run-dir', d.run, '--utmp', join(root, 'utmp'), '--wtmp', join(root, 'wtmp'),
    '--lines', lines.map((i) => bank.line(i).path).join(','),
  ];
  return { name, root, run: d.run, spool, lines, child: startChild(process.execPath, args, { cwd: root, env }) };
}

/** One call: caller ID `number`, login name `u<n>`, the greeting, the program's end, the hang-up. */
async function oneCall(bank: SimBank, line: number, n: number, h: Host): Promise<void> {
  const call = bank.line(line).call({ callerId: `555${String(n).padStart(4, '0')}`, cidFormat: 'clip', ringCadenceMs: 400, cidDelayMs: 50, answerDelayMs: 50 });
  try {
    await call.waitFor(/login:/, 15_000);
    call.write(`u${n}\r`);
    await call.waitFor(new RegExp(`hi u${n}\\b`), 10_000);
    await call.ended;
  } catch (err) {
    // What the daemon saw of this call: its line's log (the test's message alone cannot tell).
    throw new Error(`call u${n} on ${h.name}: ${err instanceof Error ? err.message : String(err)}\n--- ${h.name} ${basename(bank.line(line).path)}.log:\n${lineLog(h, line, bank)}`, { cause: err });
  }
}

function lineLog(h: Host, line: number, bank: SimBank): string {
  try {
    return readFileSync(join(h.root, 'log', `${basename(bank.line(line).path)}.log`), 'latin1').split('\n').slice(-40).join('\n');
  } catch (e) {
    return `(no log: ${e instanceof Error ? e.message : String(e)})`;
  }
}

describe('two tgetty serve daemons on one PostgreSQL database', { skip }, () => {
  let cluster: PgCluster;
  let base: string;
  let bank: SimBank;
  const hosts: Host[] = [];
  before(async () => {
    cluster = await startPgCluster();
    base = mkdtempSync(join(tmpdir(), 'tgetty-pool-two-'));
    bank = await createBank({ lines: 2 * LINES_PER_HOST, dir: join(base, 'sim') });
  });
  after(async () => {
    for (const h of hosts) await h.child.stop({ graceMs: 5000 });
    await bank?.close();
    await cluster?.destroy();
    if (base !== undefined) rmSync(base, { recursive: true, force: true });
  });

  test(`${CALLS} calls between them, the database down for ${DOWN_MS / 1000} s in the middle: every row arrives once, in order; status counts the waiting rows`, { timeout: 120_000 }, async (t) => {
    const url = cluster.url();
    const idx = (from: number): number[] => Array.from({ length: LINES_PER_HOST }, (_, i) => from + i);
    hosts.push(startHost(base, 'pi1', bank, idx(0), { config: url }), startHost(base, 'pi2', bank, idx(LINES_PER_HOST), { env: url }));
    const lineOwner = new Map(hosts.flatMap((h) => h.lines.map((l) => [l, h] as const)));
    await until('both daemons idle and connected', async () => {
      for (const h of hosts) {
        const st = await status(h);
        if (st?.records?.connected !== true || !st.lines.every((l) => l.state === 'idle')) return false;
      }
      return true;
    }, 30_000, hosts);
    for (const h of hosts) assert.equal((await status(h))?.records?.location, url, `${h.name}: the records go to the pool`);

    // Calls are made on every line at once, each line one call after the other, until `total` calls were made.
    let made = 0;
    const madeOn = new Map<string, number>();
    const wave = async (total: number): Promise<void> => {
      await Promise.all(
        [...lineOwner.keys()].map(async (line) => {
          while (made < total) {
            const n = made++;
            const h = lineOwner.get(line)!;
            madeOn.set(h.name, (madeOn.get(h.name) ?? 0) + 1);
            await oneCall(bank, line, n, h);
            // The line answers again once the daemon has re-initialised it.
            await until(`${h.name} line ${line} idle again`, async () => (await status(h))?.lines.find((l) => l.path === bank.line(line).path)?.state === 'idle', 15_000, hosts);
          }
        }),
      );
    };
    const pgCount = (): number => Number(cluster.psql('SELECT COUNT(*) FROM calls WHERE outcome IS NOT NULL').trim());
    const waiting = async (h: Host): Promise<{ events: number; calls: number } | undefined> => (await status(h))?.records?.waiting;

    // 1. The database up: 80 calls, all in PostgreSQL.
    await wave(80);
    await until('the first 80 rows in PostgreSQL', () => pgCount() === 80, 15_000, hosts);

    // 2. The database down: 60 calls; the rows wait, and status says how many.
    await cluster.stop();
    const downAt = Date.now();
    const before = new Map(madeOn);
    await wave(140);
    const during = new Map(hosts.map((h) => [h.name, (madeOn.get(h.name) ?? 0) - (before.get(h.name) ?? 0)]));
    assert.equal([...during.values()].reduce((a, b) => a + b, 0), 60);
    for (const h of hosts) {
      const n = during.get(h.name)!;
      // The count is refreshed at most once a second.
      await until(`${h.name}: ${n} call rows waiting`, async () => (await waiting(h))?.calls === n, 10_000, hosts);
      const text = execFileSync(process.execPath, [BIN, 'status', '--run-dir', h.run], { encoding: 'utf8' });
      assert.match(text, new RegExp(`records postgresql://tgetty@127\\.0\\.0\\.1:\\d+/tgetty: not reachable: [^\\n]*; ${n} call row\\(s\\) waiting \\(\\d+ write\\(s\\)\\) in ${h.spool.replace(/[.]/g, '\\.')}`));
      assert.equal((await status(h))?.records?.connected, false);
    }
    // Down for DOWN_MS, or longer if the 60 calls took longer on a busy machine.
    await sleep(Math.max(0, DOWN_MS - (Date.now() - downAt)));
    await cluster.start();
    t.diagnostic(`the database was down for ${((Date.now() - downAt) / 1000).toFixed(1)} s; calls during the outage: ${[...during].map(([k, v]) => `${k} ${v}`).join(', ')}`);

    // 3. The database back: the last 60 calls; everything drains.
    await wave(CALLS);
    for (const h of hosts) await until(`${h.name}: the outbox drained`, async () => (await waiting(h))?.events === 0 && (await status(h))?.records?.connected === true, 30_000, hosts);
    await until(`all ${CALLS} rows in PostgreSQL`, () => pgCount() === CALLS, 10_000, hosts);

    // Exactly once: 200 rows, one per (run, call id), one per caller number (the test's call number).
    const rows = cluster
      .psql("SELECT host, run, call_id, caller_id, login_name, outcome, exit_status, ended_at >= started_at FROM calls ORDER BY id")
      .trim()
      .split('\n')
      .map((r) => r.split('|'));
    assert.equal(rows.length, CALLS);
    assert.equal(new Set(rows.map((r) => `${r[1]}/${r[2]}`)).size, CALLS, 'each (run, call id) once');
    assert.deepEqual(rows.map((r) => Number(r[3].slice(3))).sort((a, b) => a - b), Array.from({ length: CALLS }, (_, i) => i), 'every call, none twice');
    // Complete: every event of every call arrived (the writes in order: the end after the start).
    for (const r of rows) {
      assert.equal(r[4], `u${Number(r[3].slice(3))}`, `login name of ${r[3]}`);
      assert.deepEqual(r.slice(5), ['completed', '0', 't'], r.join('|'));
    }
    for (const h of hosts) {
      const mine = rows.filter((r) => r[0] === h.name);
      assert.equal(mine.length, madeOn.get(h.name), `${h.name}: one row per call it answered`);
      assert.equal(new Set(mine.map((r) => r[1])).size, 1, `${h.name}: one run`);
      // In order: PostgreSQL got the host's calls in the order its local copy recorded them.
      const db = new Database(h.spool, { readonly: true, fileMustExist: true });
      try {
        const local = db.prepare('SELECT call_id FROM calls ORDER BY id').all() as { call_id: string }[];
        assert.deepEqual(mine.map((r) => r[2]), local.map((r) => r.call_id), `${h.name}: the same order as its local copy`);
        assert.equal((db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n, 0, `${h.name}: nothing left in the outbox`);
      } finally {
        db.close();
      }
      const st = (await status(h))?.records;
      assert.equal(st?.dropped, 0, `${h.name}: nothing dropped`);
    }
  });
});
