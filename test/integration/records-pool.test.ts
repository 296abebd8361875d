/**
 * The record sender against a real PostgreSQL and its bad inputs: a database that never
 * answers, a refused password, the server ending the connection in a batch, a database
 * that does not exist, a host that refuses. (Two daemons on one database, the database
 * stopped for 20 s: serve-pool-two.test.ts.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PgRecordStore } from '../../src/daemon/records-pg.js';
import { MemoryOutbox, RecordForwarder } from '../../src/daemon/record-queue.js';
import { eventToOp } from '../../src/daemon/record-store.js';
import type { DaemonEvent } from '../../src/daemon/events.js';
import { isTgettyError } from '../../src/core/errors.js';
import { pgUnavailable, startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';

const skip = pgUnavailable();
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function callEvents(line: string, id: string, at: number): DaemonEvent[] {
  return [
    { type: 'call-start', line, callId: id, at },
    { type: 'call-caller', line, callId: id, at: at + 1, callerId: '555', callerName: 'X' },
    { type: 'call-answering', line, callId: id, at: at + 2, ringToAtaMs: 100 },
    { type: 'call-connect', line, callId: id, at: at + 3, connect: '33600' },
    { type: 'call-session', line, callId: id, at: at + 4, loginName: 'u', program: '/bin/login', pid: 1 },
    { type: 'call-end', line, callId: id, at: at + 5, outcome: 'completed', exitStatus: 0 },
  ];
}

describe('call records pool on PostgreSQL', { skip }, () => {
  let cluster: PgCluster;
  let dir: string;
  before(async () => {
    cluster = await startPgCluster();
    dir = mkdtempSync(join(tmpdir(), 'tgetty-pool-'));
  });
  after(async () => {
    await cluster?.destroy();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  test('a database that never answers: emit stays fast, rows wait, status says why', { timeout: 30_000 }, async () => {
    // Accepts the TCP connection and never says a word.
    const conns: net.Socket[] = [];
    const hole = net.createServer((s) => conns.push(s));
    await new Promise<void>((r) => hole.listen(0, '127.0.0.1', () => r()));
    const port = (hole.address() as net.AddressInfo).port;
    const url = `postgresql://tgetty@127.0.0.1:${port}/tgetty`;
    const fwd = new RecordForwarder({
      connect: () => PgRecordStore.open(url, { migrate: true, connectTimeoutMs: 300 }),
      location: url,
      outbox: new MemoryOutbox(),
      spill: 'memory',
      run: 'r',
      host: 'h',
      retryMinMs: 100,
      retryMaxMs: 200,
    });
    try {
      const started = performance.now();
      for (let i = 0; i < 50; i++) for (const e of callEvents('ttyS0', `c${i}`, 1000 + i)) fwd.emit(e);
      assert.ok(performance.now() - started < 50, 'emit does not wait for the database');
      await sleep(800);
      const st = fwd.status();
      assert.deepEqual(st.waiting, { events: 300, calls: 50 });
      assert.equal(st.connected, false);
      assert.match(st.lastError ?? '', /timeout/i);
    } finally {
      await fwd.close(0);
      for (const s of conns) s.destroy();
      await new Promise<void>((r) => hole.close(() => r()));
    }
  });

  test('a refused password is a clear error naming the database, never the password; rows wait', { timeout: 60_000 }, async () => {
    const secured = await startPgCluster({ password: 'right-one' });
    try {
      const bad = secured.url({ password: 'wrong-one' });
      await assert.rejects(PgRecordStore.open(bad, { migrate: true }), (err: unknown) => {
        assert.ok(isTgettyError(err, 'RECORDS_FAILED'));
        assert.match(err.message, /127\.0\.0\.1:\d+\/tgetty refused the login: password authentication failed for user "tgetty"/);
        assert.ok(!err.message.includes('wrong-one'), err.message);
        return true;
      });
      const fwd = new RecordForwarder({
        connect: () => PgRecordStore.open(bad, { migrate: true }),
        location: 'x',
        outbox: new MemoryOutbox(),
        spill: 'memory',
        run: 'r',
        host: 'h',
        retryMinMs: 50,
      });
      for (const e of callEvents('ttyS0', 'c1', 1)) fwd.emit(e);
      await sleep(500);
      assert.equal(fwd.status().waiting.calls, 1);
      assert.match(fwd.status().lastError ?? '', /password authentication failed/);
      await fwd.close(0);
      // The right password works, and the migration made the schema.
      const good = await PgRecordStore.open(secured.url({ password: 'right-one' }), { migrate: true });
      assert.deepEqual(await good.query(), []);
      await good.close();
    } finally {
      await secured.destroy();
    }
  });

  test('the server ending our connection in the middle of a batch fails the batch, never the process', { timeout: 60_000 }, async () => {
    const store = await PgRecordStore.open(cluster.url(), { migrate: true });
    let uncaught: unknown;
    const onUncaught = (err: unknown): void => {
      uncaught = err;
    };
    process.on('uncaughtException', onUncaught);
    try {
      let failed = 0;
      for (let round = 0; round < 8; round++) {
        const batch = Array.from({ length: 5000 }, (_, i) => callEvents('ttyS0', `k${round}-${i}`, i)).flat();
        const ops = batch.map((e) => ({ ...e })).map((e) => eventToOp(e, `kill-${round}`, 'h')!);
        const applying = store.apply(ops).then(
          () => 'ok',
          (err: unknown) => String(err),
        );
        await sleep(5 + round * 10);
        cluster.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'tgetty'");
        if ((await applying) !== 'ok') failed++;
        await sleep(50);
      }
      assert.ok(failed > 0, 'some batch was cut');
      assert.equal(uncaught, undefined, `no uncaught exception: ${String(uncaught)}`);
      // The store works again afterwards (the pool reconnects).
      await store.apply([eventToOp(callEvents('ttyS0', 'after', 1)[0], 'after', 'h')!]);
      assert.equal(cluster.psql("SELECT COUNT(*) FROM calls WHERE run = 'after'").trim(), '1');
    } finally {
      process.off('uncaughtException', onUncaught);
      await store.close();
    }
  });

  test('a database that does not exist, a host that refuses: clear messages', async () => {
    await assert.rejects(PgRecordStore.open(cluster.url({ database: 'nosuchdb' }), { migrate: true }), /nosuchdb: database "nosuchdb" does not exist/);
    const port = (await import('../helpers/pg-cluster.js')).freePort;
    const closed = await port();
    await assert.rejects(PgRecordStore.open(`postgresql://u@127.0.0.1:${closed}/d`, { migrate: true }), /cannot connect to postgresql:\/\/u@127\.0\.0\.1:\d+\/d: connection refused/);
  });
});
