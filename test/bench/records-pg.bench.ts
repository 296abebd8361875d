// Benchmark (not a test): call records into PostgreSQL on the same machine through the
// outbox. 10,000 calls (6 events each) in bursts; reports what emit() costs the daemon
// (the local SQLite write plus the outbox row: the only part on the line's path) and the
// lag from a call's end to its row committed in PostgreSQL (budget: p99 under 1 s).
// Run: npm run bench -- records-pg   (or node dist/test/bench/records-pg.bench.js [--calls N] [--burst N])
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallRecords } from '../../src/daemon/records.js';
import { PgRecordStore } from '../../src/daemon/records-pg.js';
import { RecordForwarder } from '../../src/daemon/record-queue.js';
import type { DaemonEvent } from '../../src/daemon/events.js';
import type { RecordOp } from '../../src/daemon/record-store.js';
import { pgUnavailable, startPgCluster } from '../helpers/pg-cluster.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

const why = pgUnavailable();
if (why !== undefined) {
  console.log(`skipped: ${why}`);
  process.exit(0);
}
const calls = arg('calls', 10_000);
const burst = arg('burst', 64);
const cluster = await startPgCluster();
const dir = mkdtempSync(join(tmpdir(), 'tgetty-pg-bench-'));
const endedAt = new Map<string, number>();
const lags: number[] = [];
const emitMs: number[] = [];
try {
  const local = CallRecords.open(join(dir, 'calls.sqlite'), { host: 'bench' });
  const fwd = new RecordForwarder({
    connect: async () => {
      const store = await PgRecordStore.open(cluster.url(), { migrate: true });
      const apply = store.apply.bind(store);
      store.apply = async (ops: readonly RecordOp[]) => {
        await apply(ops);
        const now = performance.now();
        for (const op of ops) if (op.kind === 'end') lags.push(now - endedAt.get(op.callId)!);
      };
      return store;
    },
    location: 'bench',
    outbox: local.outbox(),
    spill: local.file,
    run: local.run,
    host: 'bench',
  });
  const t0 = performance.now();
  for (let i = 0; i < calls; i += burst) {
    for (let j = i; j < Math.min(calls, i + burst); j++) {
      const id = `c${j}`;
      const at = Date.now();
      const ev: DaemonEvent[] = [
        { type: 'call-start', line: `ttyS${j % 64}`, callId: id, at },
        { type: 'call-caller', line: `ttyS${j % 64}`, callId: id, at, callerId: '5551234', callerName: 'X' },
        { type: 'call-answering', line: `ttyS${j % 64}`, callId: id, at, ringToAtaMs: 30 },
        { type: 'call-connect', line: `ttyS${j % 64}`, callId: id, at, connect: '33600' },
        { type: 'call-session', line: `ttyS${j % 64}`, callId: id, at, loginName: 'u', program: '/bin/login', pid: 1 },
        { type: 'call-end', line: `ttyS${j % 64}`, callId: id, at, outcome: 'completed', exitStatus: 0 },
      ];
      for (const e of ev) {
        const s = performance.now();
        local.emit(e);
        fwd.emit(e);
        emitMs.push(performance.now() - s);
        if (e.type === 'call-end') endedAt.set(id, performance.now());
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  await fwd.flush(60_000);
  const wall = performance.now() - t0;
  await fwd.close(0);
  local.close();
  const rows = cluster.psql('SELECT COUNT(*) FROM calls').trim();
  console.log(`| calls | burst | rows in PostgreSQL | wall (s) | emit p50 / p99 / max (ms) | end -> row committed p50 / p99 / max (ms) |`);
  console.log(`|---|---|---|---|---|---|`);
  console.log(
    `| ${calls} | ${burst} every 20 ms | ${rows} | ${(wall / 1000).toFixed(1)} | ${pct(emitMs, 50).toFixed(3)} / ${pct(emitMs, 99).toFixed(3)} / ${Math.max(...emitMs).toFixed(1)} | ${pct(lags, 50).toFixed(0)} / ${pct(lags, 99).toFixed(0)} / ${Math.max(...lags).toFixed(0)} |`,
  );
} finally {
  await cluster.destroy();
  rmSync(dir, { recursive: true, force: true });
}
