import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../core/clock.js';
import { createBank } from './index.js';
import type { MemoryTransport } from './memory-transport.js';
import { bannerText, Switchboard, type CallerSink } from './switchboard.js';

class FakeSink implements CallerSink {
  text = '';
  closed = false;
  send(b: Uint8Array | string): void {
    assert.equal(this.closed, false, 'nothing is sent after close');
    this.text += typeof b === 'string' ? b : Buffer.from(b).toString('latin1');
  }
  close(): void {
    this.closed = true;
  }
}

async function rig(lines: number, queue = 0, banners = {}) {
  const clock = new FakeClock();
  const bank = await createBank({ lines, dir: '/nonexistent/sim', transport: 'memory', clock });
  const mem = (i: number) => bank.line(i).transport as MemoryTransport;
  const written = (i: number) => Buffer.concat(mem(i).written).toString('latin1');
  const board = new Switchboard({ clock, freeLine: () => bank.freeLine(), queue, ring: { ringCadenceMs: 6000, maxRings: 4, cidFormat: 'none' }, banners });
  return { clock, bank, mem, written, board };
}

const count = (s: string, sub: string): number => s.split(sub).length - 1;

test('switchboard: the caller hears a ring per RING on the line until the getty answers, then the connect banner and data', async () => {
  const { clock, bank, mem, written, board } = await rig(1, 0, { connect: 'Welcome to the BBS\r\n' });
  const sink = new FakeSink();
  const c = board.arrive(sink, '127.0.0.1');
  assert.equal(c.state, 'ringing');
  assert.equal(sink.text, 'RINGING\r\n');
  assert.equal(count(written(0), 'RING\r\n'), 1);
  clock.advance(6000);
  assert.equal(count(sink.text, 'RINGING'), 2);
  assert.equal(count(written(0), 'RING\r\n'), 2);
  await mem(0).dteWrite('ATA\r');
  clock.advance(500);
  assert.equal(c.state, 'connected');
  assert.match(sink.text, /RINGING\r\nWelcome to the BBS\r\n$/);
  await mem(0).dteWrite('login: ');
  assert.match(sink.text, /login: $/);
  c.input(Buffer.from('joe\r'));
  assert.match(written(0), /joe\r$/);
  c.gone();
  assert.equal(bank.line(0).modem.state, 'idle');
  assert.equal(sink.closed, false, 'the caller closed: nothing to close');
  await bank.close();
});

test('switchboard: the caller\'s address is the caller ID; nobody answers -> NO ANSWER only after the ring limit', async () => {
  const clock = new FakeClock();
  const bank = await createBank({ lines: 1, dir: '/x', transport: 'memory', clock });
  const written = () => Buffer.concat((bank.line(0).transport as MemoryTransport).written).toString('latin1');
  const board = new Switchboard({ clock, freeLine: () => bank.freeLine(), ring: { ringCadenceMs: 6000, maxRings: 3 } });
  const sink = new FakeSink();
  board.arrive(sink, '192.0.2.7');
  clock.advance(1000);
  assert.match(written(), /NMBR = 192\.0\.2\.7/);
  clock.advance(11_000); // rings 2 and 3
  assert.equal(sink.closed, false);
  assert.doesNotMatch(sink.text, /NO ANSWER/);
  clock.advance(6000);
  assert.equal(sink.text, 'RINGING\r\n'.repeat(3) + 'NO ANSWER\r\n');
  assert.equal(sink.closed, true);
  await bank.close();
});

test('switchboard: a getty initialising its line (ATZ, ATH0) while the caller rings does not end the call', async () => {
  const { clock, mem, written, board, bank } = await rig(1);
  const sink = new FakeSink();
  const c = board.arrive(sink, '127.0.0.1');
  await mem(0).dteWrite('ATZ\r');
  await mem(0).dteWrite('ATH0\r');
  await mem(0).dteWrite('AT&D2\r');
  assert.equal(c.state, 'ringing');
  assert.doesNotMatch(sink.text, /NO CARRIER/);
  clock.advance(6000);
  assert.match(written(0), /OK\r\n\r\nRING\r\n$/);
  await mem(0).dteWrite('ATA\r');
  clock.advance(500);
  assert.equal(c.state, 'connected');
  await bank.close();
});

test('switchboard: every line busy -> BUSY (the banner) and close; with --queue the caller waits and gets the next free line', async () => {
  {
    const { board, bank } = await rig(1, 0, { busy: bannerText('All our lines are busy.\nCall again later.\n') });
    board.arrive(new FakeSink(), 'a');
    const b = new FakeSink();
    const cb = board.arrive(b, 'b');
    assert.equal(cb.outcome, 'busy');
    assert.equal(b.text, 'All our lines are busy.\r\nCall again later.\r\n');
    assert.equal(b.closed, true);
    await bank.close();
  }
  const { clock, board, bank, mem } = await rig(1, 1);
  const a = board.arrive(new FakeSink(), 'a');
  const bs = new FakeSink();
  const b = board.arrive(bs, 'b');
  assert.equal(b.state, 'queued');
  assert.match(bs.text, /number 1 in the queue/);
  assert.match(bs.text, /RINGING\r\n$/);
  const cs = new FakeSink();
  assert.equal(board.arrive(cs, 'c').outcome, 'busy', 'the queue has one place');
  assert.equal(cs.text, 'BUSY\r\n');
  await mem(0).dteWrite('ATA\r');
  clock.advance(500);
  assert.equal(a.state, 'connected');
  clock.advance(6000);
  assert.equal(count(bs.text, 'RINGING'), 2, 'the queued caller hears the ringing');
  a.gone(); // the first caller hangs up: the line is free
  assert.equal(b.state, 'ringing');
  assert.equal(b.line, bank.line(0));
  assert.equal(board.queued, 0);
  await mem(0).dteWrite('ATA\r');
  clock.advance(500);
  assert.equal(b.state, 'connected');
  await bank.close();
});

test('switchboard: a queued caller gives up after the ring limit (NO ANSWER), and one who hangs up leaves the queue', async () => {
  const { clock, board, bank, mem } = await rig(1, 2);
  const a = board.arrive(new FakeSink(), 'a');
  await mem(0).dteWrite('ATA\r');
  clock.advance(500);
  assert.equal(a.state, 'connected');
  const bs = new FakeSink();
  const b = board.arrive(bs, 'b');
  const cs = new FakeSink();
  const c = board.arrive(cs, 'c');
  assert.match(cs.text, /number 2 in the queue/);
  c.gone();
  assert.equal(board.queued, 1);
  clock.advance(4 * 6000);
  assert.equal(b.outcome, 'no-answer');
  assert.match(bs.text, /NO ANSWER\r\n$/);
  assert.equal(count(bs.text, 'RINGING'), 4);
  assert.equal(bs.closed, true);
  assert.equal(board.queued, 0);
  assert.equal(a.state, 'connected', 'the first caller is still on the line');
  await bank.close();
});
