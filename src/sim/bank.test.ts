import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../core/clock.js';
import { isTgettyError } from '../core/errors.js';
import { Socket } from 'node:net';
import { createBank } from './index.js';
import type { MemoryTransport } from './memory-transport.js';

async function memBank(lines = 3) {
  const clock = new FakeClock();
  const bank = await createBank({ lines, dir: '/nonexistent/sim', transport: 'memory', clock });
  const mem = (i: number) => bank.line(i).transport as MemoryTransport;
  const written = (i: number) => Buffer.concat(mem(i).written).toString('latin1');
  return { clock, bank, mem, written };
}

test('lines get stable names and consecutive numbers', async () => {
  const { bank } = await memBank(3);
  assert.deepEqual(bank.lines.map((l) => [l.name, l.number, l.path]), [
    ['ttySIM0', '5550000', '/nonexistent/sim/ttySIM0'],
    ['ttySIM1', '5550001', '/nonexistent/sim/ttySIM1'],
    ['ttySIM2', '5550002', '/nonexistent/sim/ttySIM2'],
  ]);
  assert.equal(bank.byNumber('5550002')?.index, 2);
  const b2 = await createBank({ lines: 2, dir: '/x', transport: 'memory', numbersBase: '0899', clock: new FakeClock() });
  assert.deepEqual(b2.lines.map((l) => l.number), ['0899', '0900']);
  await bank.close();
  await b2.close();
});

test('bad options are usage errors', async () => {
  await assert.rejects(createBank({ lines: 0, dir: '/x', transport: 'memory' }), (e) => isTgettyError(e, 'CLI_USAGE'));
  await assert.rejects(createBank({ lines: 1, dir: '/x', transport: 'memory', personality: 'hal9000' }), (e) => isTgettyError(e, 'CLI_USAGE'));
  await assert.rejects(createBank({ lines: 1, dir: '/x', transport: 'memory', numbersBase: '55a' }), (e) => isTgettyError(e, 'CLI_USAGE'));
});

test('a scripted call: RING, the getty answers, CONNECT, data both ways, caller hangs up -> NO CARRIER then line hangup', async () => {
  const { clock, bank, mem, written } = await memBank(1);
  const line = bank.line(0);
  const call = line.call({ callerId: '5551234', cidFormat: 'none' });
  assert.equal(written(0), '\r\nRING\r\n');
  assert.throws(() => line.call(), (e) => isTgettyError(e, 'SIM_NO_FREE_LINE'));
  const sawAta = line.waitForDte(/ATA\r/, 5000);
  await mem(0).dteWrite('ATA\r');
  await sawAta;
  clock.advance(500);
  assert.equal(await call.connected, '33600/ARQ/V34/LAPM/V42BIS');
  await mem(0).dteWrite('login: ');
  await call.waitFor(/login: $/, 1000);
  call.write('joe\r');
  assert.match(written(0), /CONNECT 33600\/ARQ\/V34\/LAPM\/V42BIS\r\njoe\r$/);
  call.hangup();
  assert.equal(await call.ended, 'remote-hangup');
  assert.match(written(0), /NO CARRIER\r\n$/);
  assert.equal(mem(0).hangups, 0);
  clock.advance(200);
  assert.equal(mem(0).hangups, 1, 'pty master closed after the hangup delay');
  const t = line.transcript.entries;
  assert.ok(t.some((e) => e.dir === '<' && e.bytes.toString() === 'ATA\r'));
  assert.ok(t.some((e) => e.dir === '#' && e.bytes.toString().startsWith('hangup')));
  await bank.close();
});

test('call.connected rejects and waits fail when the call ends unanswered', async () => {
  const { clock, bank } = await memBank(1);
  const call = bank.line(0).call({ maxRings: 2, cidFormat: 'none' });
  const w = call.waitFor(/never/, 60_000);
  clock.advance(12_000);
  assert.equal(await call.ended, 'not-answered');
  await assert.rejects(call.connected, (e) => isTgettyError(e, 'SIM_FAILED'));
  await assert.rejects(w, /call ended/);
  assert.throws(() => call.write('x'), (e) => isTgettyError(e, 'SIM_FAILED'));
  await bank.close();
});

test('waitForDte times out on the injected clock', async () => {
  const { clock, bank } = await memBank(1);
  const w = bank.line(0).waitForDte(/ATA/, 3000);
  clock.advance(3000);
  await assert.rejects(w, (e) => isTgettyError(e, 'SIM_FAILED') && /timeout after 3000 ms/.test(e.message));
  await bank.close();
});

test('modem to modem through the bank: ATDT the other line number', async () => {
  const { clock, bank, mem, written } = await memBank(2);
  await mem(0).dteWrite('ATE0\r');
  await mem(1).dteWrite('ATE0S0=1\r');
  await mem(0).dteWrite(`ATDT${bank.line(1).number}\r`);
  clock.advance(500);
  assert.match(written(1), /RING\r\n\r\nCONNECT/);
  assert.match(written(0), /CONNECT 33600/);
  await mem(0).dteWrite('ping');
  assert.match(written(1), /ping$/);
  await mem(1).dteWrite('pong');
  assert.match(written(0), /pong$/);
  await bank.close();
});

test('the memory transport is a real memory Line: the getty side reads what the modem says, and a hangup ends it for a fresh one', async () => {
  const { bank, mem } = await memBank(1);
  const first = mem(0).line;
  let got = '';
  first.on('data', (b: Buffer) => (got += b.toString('latin1')));
  first.resume();
  await mem(0).dteWrite('ATI3\r');
  await new Promise((r) => setImmediate(r));
  assert.match(got, /ATI3\r\r\nV\.92 Data Modem \(tgetty sim\)\r\n\r\nOK\r\n/);
  bank.line(0).hangupLine();
  assert.equal(first.state, 'hungup');
  assert.notEqual(mem(0).line, first);
  assert.equal(mem(0).line.state, 'open');
  await bank.close();
});

test('dialout: false: ATD host:port is not a TCP dial (the number is looked up in the bank: NO CARRIER)', async () => {
  const clock = new FakeClock();
  let dialled = 0;
  const bank = await createBank({ lines: 1, dir: '/x', transport: 'memory', clock, dialout: false });
  // A socket that never connects: no packet leaves the machine.
  const on = await createBank({ lines: 1, dir: '/y', transport: 'memory', clock, dialout: { connect: () => (dialled++, new Socket()) } });
  const mem = bank.line(0).transport as MemoryTransport;
  await mem.dteWrite('ATD127.0.0.1:2424\r');
  clock.advance(1000);
  assert.match(Buffer.concat(mem.written).toString('latin1'), /NO CARRIER\r\n$/);
  assert.equal(bank.line(0).dialCall, undefined);
  // With dial-out on, the same line would have tried the network.
  await (on.line(0).transport as MemoryTransport).dteWrite('ATD127.0.0.1:2424\r');
  assert.equal(dialled, 1);
  assert.equal(on.line(0).modem.state, 'dialing');
  await bank.close();
  await on.close();
});
