/**
 * Security review, exposed telnet lines: the real `tgetty sim` binary on a loopback port.
 * - Abuse controls: cool-down per caller after its call, calls per minute (all and per
 *   address), busy-out; each refusal is logged.
 * - Telnet option floods (thousands of WILL/DO, an unterminated subnegotiation, a caller
 *   that sends but never reads) neither loop nor grow memory: end to end through the sim
 *   (no amplification, back in step after the SB, the non-reader is no longer read), and
 *   the codec itself measured on the heap after GC (RSS of a child is too noisy for that).
 * See docs/security.md.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DO, IAC, SB, SE, TelnetCodec, WILL } from '../../src/sim/telnet.js';
import { startChild } from '../helpers/child.js';
import { waitFor as pollUntil } from '../helpers/leaks.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

interface Sim {
  pid: number;
  port: number;
  output(): string;
}

/** Start `tgetty sim` with a telnet port; killed (by pid) and its dir removed after the test. */
async function startSim(t: TestContext, extra: string[], lines = 2): Promise<Sim> {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-sec-telnet-'));
  const port = await freePort();
  const c = startChild(process.execPath, [BIN, 'sim', '--lines', String(lines), '--dir', dir, '--telnet', String(port), ...extra]);
  t.after(async () => {
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const end = Date.now() + 10_000;
  while (!c.output().includes(`telnet callers: 127.0.0.1:${port}`)) {
    if (Date.now() > end || c.proc.exitCode !== null) throw new Error(`tgetty sim did not start: ${c.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { pid: c.proc.pid ?? 0, port, output: () => c.output() };
}

interface Client {
  sock: Socket;
  received(): Buffer;
  closed: Promise<void>;
  waitFor(re: RegExp, ms?: number): Promise<void>;
}

function connect(port: number, localAddress = '127.0.0.1'): Promise<Client> {
  return new Promise((res, rej) => {
    const chunks: Buffer[] = [];
    const sock = createConnection({ port, host: '127.0.0.1', localAddress });
    const closed = new Promise<void>((r) => sock.on('close', () => r()));
    sock.on('data', (b: Buffer) => chunks.push(b));
    sock.on('error', () => undefined);
    const received = (): Buffer => Buffer.concat(chunks);
    const waitFor = async (re: RegExp, ms = 5000): Promise<void> => {
      const end = Date.now() + ms;
      while (!re.test(received().toString('latin1'))) {
        if (Date.now() > end) throw new Error(`caller did not get ${re}; got ${JSON.stringify(received().toString('latin1'))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    sock.once('connect', () => res({ sock, received, closed, waitFor }));
    sock.once('error', rej);
  });
}

/** The shared poll loop (test/helpers/leaks.ts), with this file's argument order. */
const until = (cond: () => boolean, what: string, ms = 5000): Promise<void> => pollUntil(cond, ms, what);

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0);
}

test('busy-out: every telnet caller gets BUSY and is disconnected; the refusal is logged', async (t) => {
  const sim = await startSim(t, ['--busy-out']);
  for (let i = 0; i < 3; i++) {
    const c = await connect(sim.port);
    await c.closed;
    assert.equal(c.received().toString('latin1'), 'BUSY\r\n', 'no telnet negotiation, no ring: just BUSY');
  }
  await until(() => (sim.output().match(/busy-out: refused caller 127\.0\.0\.1/g) ?? []).length === 3, 'three logged refusals');
  assert.doesNotMatch(sim.output(), /tcp caller|RING/);
});

test('cool-down after a call, and the per-minute cap over all callers', async (t) => {
  const sim = await startSim(t, ['--cooldown', '30', '--max-calls-per-minute', '3'], 4);
  // Call 1 from 127.0.0.1: it rings a line; the caller hangs up.
  const a = await connect(sim.port, '127.0.0.1');
  await a.waitFor(/\xff\xfb\x01/); // the telnet offers (WILL ECHO): the call was taken
  a.sock.destroy();
  await a.closed;
  // The cool-down starts when the sim has seen the connection go.
  await until(() => sim.output().includes('tcp caller 127.0.0.1 disconnected'), 'the end of call 1');
  // Back at once: cool-down.
  const again = await connect(sim.port, '127.0.0.1');
  await again.closed;
  assert.match(again.received().toString('latin1'), /^please wait (29|30) s\r\n$/);
  assert.match(sim.output(), /cool-down: refused caller 127\.0\.0\.1 \(\d+ s left\)/);
  // Another address is not affected by that cool-down: calls 2 and 3 of this minute.
  const b = await connect(sim.port, '127.0.0.2');
  await b.waitFor(/\xff\xfb\x01/);
  const c = await connect(sim.port, '127.0.0.3');
  await c.waitFor(/\xff\xfb\x01/);
  // The fourth call within the minute is refused, whoever places it.
  const d = await connect(sim.port, '127.0.0.4');
  await d.closed;
  assert.match(d.received().toString('latin1'), /^please wait \d+ s\r\n$/);
  assert.match(sim.output(), /rate limit: refused caller 127\.0\.0\.4 \(3 calls per minute in all\)/);
  b.sock.destroy();
  c.sock.destroy();
});

test('the per-caller cap holds back one address only', async (t) => {
  const sim = await startSim(t, ['--max-calls-per-minute-per-caller', '2'], 4);
  for (let i = 0; i < 2; i++) {
    const x = await connect(sim.port, '127.0.0.5');
    await x.waitFor(/\xff\xfb\x01/);
    x.sock.destroy();
    await x.closed;
  }
  const third = await connect(sim.port, '127.0.0.5');
  await third.closed;
  assert.match(third.received().toString('latin1'), /^please wait \d+ s\r\n$/);
  assert.match(sim.output(), /rate limit: refused caller 127\.0\.0\.5 \(2 calls per minute from one address\)/);
  const other = await connect(sim.port, '127.0.0.6');
  await other.waitFor(/\xff\xfb\x01/);
  other.sock.destroy();
});

test('telnet floods through the sim: no reply loop or amplification; an unterminated SB is skipped; a caller that never reads is not read either', async (t) => {
  const sim = await startSim(t, []);
  const MB = 1024 * 1024;
  const rss0 = rssKb(sim.pid);

  // 1. 300 000 option commands, every verb and option: replies never exceed the input.
  const a = await connect(sim.port);
  await a.waitFor(/\xff\xfb\x01/);
  const before = a.received().length;
  const cmds = Buffer.alloc(3 * 300_000);
  // Option 5 (STATUS, which the sim refuses) is kept out of the flood: a DO 5 after it is
  // answered WONT 5 only once, last, so its reply marks the end of every reply.
  for (let i = 0; i < 300_000; i++) cmds.set([IAC, 251 + (i % 4), (i * 7) % 256 === 5 ? 6 : (i * 7) % 256], i * 3);
  a.sock.write(Buffer.concat([cmds, Buffer.from([IAC, DO, 5])]));
  await a.waitFor(/\xff\xfc\x05$/, 60_000);
  const replies = a.received().length - before - 3;
  assert.ok(replies > 0, 'refusals were sent');
  assert.ok(replies <= cmds.length, `replies ${replies} bytes <= commands ${cmds.length} bytes: no amplification`);

  // 2. A 64 MB subnegotiation without its end: nothing is answered while it lasts, and
  //    after IAC SE the codec is back in step (a new DO gets its WONT).
  const replied = a.received().length;
  const chunk = Buffer.alloc(MB, 0x41);
  await new Promise<void>((r) => a.sock.write(Buffer.from([IAC, SB, 24]), () => r()));
  for (let i = 0; i < 64; i++) await new Promise<void>((r) => a.sock.write(chunk, () => r()));
  // DO 7 (refused): a new option, so its WONT cannot be the reply already at the end.
  a.sock.write(Buffer.from([IAC, SE, IAC, DO, 7]));
  await a.waitFor(/\xff\xfc\x07$/);
  // Replies come in order: the WONT 7 is the only reply since the subnegotiation began.
  assert.equal(a.received().length, replied + 3, 'no reply to subnegotiation bytes');
  a.sock.destroy();

  // 3. A caller that floods WILLs (each earns a 3-byte DONT) but never reads: once what we
  //    owe it passes the high-water mark we stop reading, so its writes stall.
  const b = await connect(sim.port);
  await b.waitFor(/\xff\xfb\x01/);
  b.sock.pause();
  const will = Buffer.alloc(MB);
  for (let i = 0; i + 2 < will.length; i += 3) will.set([IAC, i % 2 === 0 ? WILL : DO, 31], i);
  let sent = 0;
  let stalled = false;
  while (sent < 256 * MB) {
    sent += will.length;
    if (b.sock.write(will)) continue;
    // Our side is full. A server that keeps reading drains it quickly; one that stopped does not.
    stalled = !(await Promise.race([
      new Promise<boolean>((r) => b.sock.once('drain', () => r(true))),
      new Promise<boolean>((r) => setTimeout(() => r(false), 1000)),
    ]));
    if (stalled) break;
  }
  t.diagnostic(`the non-reading caller wrote ${(sent / MB).toFixed(0)} MB (stalled: ${stalled}); sim RSS ${((rssKb(sim.pid) - rss0) / 1024).toFixed(1)} MB above its start`);
  assert.ok(stalled, `the sim kept reading from a caller that does not read (${sent / MB} MB)`);
  b.sock.destroy();
});

test('telnet codec: floods leave no state behind (heap after GC), and an acknowledgement is never answered', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const sent: number[] = [];
  const codec = new TelnetCodec((b) => sent.push(b.length));
  codec.start();
  const chunk = Buffer.alloc(64 * 1024, 0x41);
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  codec.decode(Buffer.from([IAC, SB, 24]));
  for (let i = 0; i < 1024; i++) assert.equal(codec.decode(chunk).length, 0); // 64 MB inside an SB
  const cmds = Buffer.alloc(3 * 256 * 1000);
  for (let i = 0; i < 256 * 1000; i++) cmds.set([IAC, 251 + (i % 4), i % 256], i * 3);
  codec.decode(Buffer.from([IAC, SE]));
  codec.decode(cmds);
  gc();
  const grown = process.memoryUsage().heapUsed - heap0;
  assert.ok(grown < 2 * 1024 * 1024, `heap grew by ${grown} bytes`);
  // Each command got at most one 3-byte reply.
  assert.ok(sent.reduce((x, y) => x + y, 0) <= 15 + cmds.length);
  // A client that agrees to everything we asked: its acknowledgements get no answer.
  const quiet = new TelnetCodec((b) => sent.push(b.length));
  quiet.start();
  const n = sent.length;
  for (let i = 0; i < 1000; i++) quiet.decode(Buffer.from([IAC, DO, 1, IAC, DO, 3, IAC, DO, 0, IAC, WILL, 3, IAC, WILL, 0]));
  assert.equal(sent.length, n);
});
