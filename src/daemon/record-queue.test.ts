import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryOutbox, RecordForwarder } from './record-queue.js';
import type { CallQuery, CallRow, RecordOp, RecordStore, SummaryRow } from './record-store.js';

/** A store that keeps the ops it committed, and can fail before or after "committing". */
class FakeStore implements RecordStore {
  readonly backend = 'postgresql' as const;
  readonly location = 'fake';
  committed: RecordOp[] = [];
  failBefore = 0;
  /** Commit, then lose the reply (the caller sees an error). */
  loseReply = 0;
  apply(ops: readonly RecordOp[]): Promise<void> {
    if (this.failBefore > 0) {
      this.failBefore--;
      return Promise.reject(new Error('connection refused'));
    }
    this.committed.push(...ops);
    if (this.loseReply > 0) {
      this.loseReply--;
      return Promise.reject(new Error('connection reset'));
    }
    return Promise.resolve();
  }
  query(_q?: CallQuery): Promise<CallRow[]> {
    return Promise.resolve([]);
  }
  summary(_q?: CallQuery): Promise<SummaryRow[]> {
    return Promise.resolve([]);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

const start = (id: string, at: number) => ({ type: 'call-start' as const, line: 'ttyS0', callId: id, at });

test('writes are sent in order; failures are retried; a lost reply resends the batch (harmless: UPSERTs)', async () => {
  const store = new FakeStore();
  store.failBefore = 2;
  store.loseReply = 1;
  const errors: string[] = [];
  const fwd = new RecordForwarder({ connect: () => Promise.resolve(store), location: 'fake', outbox: new MemoryOutbox(), spill: 'memory', run: 'r', host: 'h', retryMinMs: 5, retryMaxMs: 10, batch: 3, log: { error: (m) => errors.push(m) } });
  for (let i = 0; i < 10; i++) fwd.emit(start(`c${i}`, i));
  assert.equal(fwd.status().waiting.events, 10);
  assert.ok(await fwd.flush(5000));
  const ids = store.committed.map((o) => o.callId);
  // The first batch went twice (its reply was lost); after it, each write once, in order.
  assert.deepEqual(ids, ['c0', 'c1', 'c2', 'c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7', 'c8', 'c9']);
  assert.equal(fwd.status().sent, 10);
  assert.equal(errors.length, 2, `one entry when sending fails, one when it works again: ${errors.join(' | ')}`);
  assert.match(errors[0], /cannot send, rows wait in memory: connection refused/);
  await fwd.close(0);
});

test('a write that comes while a send finishes is not left behind', async () => {
  const store = new FakeStore();
  const fwd = new RecordForwarder({ connect: () => Promise.resolve(store), location: 'fake', outbox: new MemoryOutbox(), spill: 'memory', run: 'r', host: 'h' });
  // The constructor's send of the (empty) outbox is still running here.
  fwd.emit(start('a', 1));
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(store.committed.map((o) => o.callId), ['a']);
  await fwd.close(0);
});

test('the outbox is bounded: past maxWaiting writes are dropped, counted and logged once', async () => {
  const store = new FakeStore();
  store.failBefore = 1_000_000;
  const errors: string[] = [];
  const fwd = new RecordForwarder({ connect: () => Promise.resolve(store), location: 'fake', outbox: new MemoryOutbox(), spill: 'memory', run: 'r', host: 'h', maxWaiting: 5, retryMinMs: 1000, log: { error: (m) => errors.push(m) } });
  for (let i = 0; i < 8; i++) fwd.emit(start(`c${i}`, i));
  const st = fwd.status();
  assert.equal(st.waiting.events, 5);
  assert.equal(st.dropped, 3);
  assert.equal(errors.filter((m) => /dropping writes: the outbox is full \(5 writes waiting\)/.test(m)).length, 1);
  await fwd.close(0);
});

test('events that are not about a call are not queued', async () => {
  const store = new FakeStore();
  const fwd = new RecordForwarder({ connect: () => Promise.resolve(store), location: 'fake', outbox: new MemoryOutbox(), spill: 'memory', run: 'r', host: 'h' });
  fwd.emit({ type: 'line-state', line: 'ttyS0', state: 'idle', at: 1 });
  assert.equal(fwd.status().waiting.events, 0);
  await fwd.close(0);
});

test('status counts the waiting calls at most once a second, and estimates them past EXACT_COUNT_MAX writes', async () => {
  const store = new FakeStore();
  store.failBefore = 1_000_000;
  const outbox = new MemoryOutbox();
  let counts = 0;
  const count = outbox.count.bind(outbox);
  outbox.count = () => {
    counts++;
    return count();
  };
  let now = 1_000_000;
  const fwd = new RecordForwarder({ connect: () => Promise.resolve(store), location: 'fake', outbox, spill: 'memory', run: 'r', host: 'h', retryMinMs: 60_000, now: () => now });
  for (let i = 0; i < 4; i++) fwd.emit(start(`c${i}`, i));
  const before = counts;
  assert.deepEqual(fwd.status().waiting, { events: 4, calls: 4 });
  for (let i = 0; i < 50; i++) fwd.status();
  assert.equal(counts - before, 1, 'one count for 51 status calls within a second');
  fwd.emit(start('c4', 5));
  assert.deepEqual(fwd.status().waiting, { events: 5, calls: 4 }, 'the call count may be a second old');
  now += 1000;
  assert.deepEqual(fwd.status().waiting, { events: 5, calls: 5 });
  await fwd.close(0);
});

test('a send waits while a line is between RING and ATA: it goes after the last ATA, or after holdMaxMs at the latest', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const store = new FakeStore();
  const fwd = new RecordForwarder({ connect: () => Promise.resolve(store), location: 'fake', outbox: new MemoryOutbox(), spill: 'memory', run: 'r', host: 'h', holdMaxMs: 200 });
  const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
  await turn(); // connected (the constructor's empty send)
  const ringing = (line: string) => ({ type: 'line-state' as const, line, state: 'ringing' as const, at: 1 });
  fwd.emit(ringing('ttyS0'));
  fwd.emit(ringing('ttyS1'));
  fwd.emit(start('c1', 1));
  await turn();
  assert.equal(store.committed.length, 0, 'held while ttyS0 and ttyS1 ring');
  fwd.emit({ type: 'call-answering', line: 'ttyS0', callId: 'c1', at: 2, ringToAtaMs: 5 });
  await turn();
  assert.equal(store.committed.length, 0, 'ttyS1 still rings');
  fwd.emit({ type: 'line-state', line: 'ttyS1', state: 'answering', at: 3 });
  await turn();
  await turn();
  assert.deepEqual(store.committed.map((o) => o.kind), ['start', 'answering'], 'sent after the last line stopped ringing');

  // A line that keeps ringing (rings 3) holds a send for holdMaxMs only.
  fwd.emit(ringing('ttyS2'));
  fwd.emit({ type: 'call-start', line: 'ttyS2', callId: 'c2', at: 4 });
  await turn();
  t.mock.timers.tick(199);
  await turn();
  assert.equal(store.committed.length, 2, 'still held at 199 ms');
  t.mock.timers.tick(1);
  await turn();
  await turn();
  assert.deepEqual(store.committed.map((o) => o.callId), ['c1', 'c1', 'c2'], 'sent at 200 ms although ttyS2 rings');
  assert.equal(fwd.status().waiting.events, 0);
  await fwd.close(0);
});
