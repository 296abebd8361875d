/**
 * ip232 lines (`--ip232`), driven as an emulator drives them: this test connects over TCP
 * as VICE would, types AT commands, and reads the modem's stream with its own decoder (data,
 * and the DCD messages FF 00 / FF 01). One emulator dials the other ip232 modem (RING, ATA,
 * data with 0xFF both ways, then DTR low hangs up); another dials a raw TCP host on
 * loopback through the phone book and hangs up by going away (its socket closes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBank, type SimBank } from '../../src/sim/index.js';
import { parsePhonebook } from '../../src/sim/phonebook.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The emulator's side: what the modem sent, decoded here independently of src/sim/ip232.ts. */
interface Emulator {
  sock: net.Socket;
  /** Data bytes, latin1. */
  text(): string;
  /** DCD messages in order, each with how much text had come before it. */
  dcd: { on: boolean; at: number }[];
  closed: boolean;
  send(b: string | Buffer): void;
  until(re: RegExp, ms?: number): Promise<void>;
}

async function emulator(path: string): Promise<Emulator> {
  const i = path.lastIndexOf(':');
  const sock = net.connect({ host: path.slice(0, i), port: Number(path.slice(i + 1)) });
  await new Promise<void>((res, rej) => {
    sock.once('connect', () => res());
    sock.once('error', rej);
  });
  const bytes: number[] = [];
  const dcd: { on: boolean; at: number }[] = [];
  let esc = false;
  const e: Emulator = {
    sock,
    dcd,
    closed: false,
    text: () => Buffer.from(bytes).toString('latin1'),
    send: (b) => void sock.write(b),
    async until(re, ms = 5000) {
      for (let w = 0; w < ms; w += 20) {
        if (re.test(e.text())) return;
        await sleep(20);
      }
      throw new Error(`the emulator never got ${re}; got ${JSON.stringify(e.text())}, DCD ${JSON.stringify(dcd)}`);
    },
  };
  sock.on('data', (d: Buffer) => {
    for (const x of d) {
      if (esc) {
        esc = false;
        if (x === 0xff) bytes.push(x);
        else if (x === 0 || x === 1) dcd.push({ on: x === 1, at: bytes.length });
        else throw new Error(`unexpected escape FF ${x}`);
      } else if (x === 0xff) esc = true;
      else bytes.push(x);
    }
  });
  sock.on('close', () => (e.closed = true));
  sock.on('error', () => undefined);
  return e;
}

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  for (let w = 0; w < ms; w += 20) {
    if (cond()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

test('ip232: an emulator dials the other ip232 modem; RING, ATA, CONNECT with DCD high, 0xFF both ways, DTR low hangs up, DCD low on both', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-ip232-'));
  let bank: SimBank | undefined;
  const emus: Emulator[] = [];
  try {
    bank = await createBank({ lines: 0, dir, ip232: [{ port: 0 }, { port: 0 }] });
    const [la, lb] = [bank.line(0), bank.line(1)];
    assert.match(la.path, /^127\.0\.0\.1:\d+$/);
    assert.match(bank.banner()[0] ?? '', /^ip232 127\.0\.0\.1:\d+ {2}number 5550000$/);
    const a = await emulator(la.path);
    const b = await emulator(lb.path);
    emus.push(a, b);
    // The modem tells a new emulator where DCD stands: low, no call.
    await until('DCD at connect', () => a.dcd.length === 1 && b.dcd.length === 1);
    assert.deepEqual([a.dcd[0]?.on, b.dcd[0]?.on], [false, false]);
    // A second emulator on a busy port is turned away.
    const extra = await emulator(la.path);
    emus.push(extra);
    await until('the second emulator refused', () => extra.closed);
    a.send(Buffer.from([0xff, 0x01])); // DTR high, as an emulator says when its port opens
    a.send('AT\r');
    await a.until(/AT\r\r\nOK\r\n/);
    a.send(`ATDT${lb.number}\r`);
    await b.until(/RING/, 10_000);
    b.send('ATA\r');
    await a.until(/CONNECT/, 10_000);
    await b.until(/CONNECT/, 10_000);
    await until('DCD high on both', () => a.dcd.at(-1)?.on === true && b.dcd.at(-1)?.on === true);
    // Data with 0xFF in it, escaped on the wire both ways, arrives as it was sent.
    const aSent = a.text().length;
    const bSent = b.text().length;
    a.send(Buffer.from([0x68, 0x69, 0xff, 0xff, 0x21])); // "hi", 0xFF, "!"
    b.send(Buffer.from([0x6f, 0x6b, 0xff, 0xff, 0xff, 0xff])); // "ok", 0xFF, 0xFF
    await b.until(/hi\xff!$/);
    await a.until(/ok\xff\xff$/);
    assert.equal(b.text().slice(bSent), 'hi\xff!');
    assert.equal(a.text().slice(aSent), 'ok\xff\xff');
    // DTR low (&D2): the modem hangs up; both DCDs fall, the far end gets NO CARRIER.
    a.send(Buffer.from([0xff, 0x00]));
    await b.until(/NO CARRIER/, 10_000);
    await until('DCD low on both', () => a.dcd.at(-1)?.on === false && b.dcd.at(-1)?.on === false);
    await until('both modems idle', () => la.modem.state === 'idle' && lb.modem.state === 'idle');
    assert.deepEqual(a.dcd.map((d) => d.on), [false, true, false]);
    assert.deepEqual(b.dcd.map((d) => d.on), [false, true, false]);
    assert.match(la.transcript.toString(), /ip232 DTR low[^]*DTR dropped: hanging up/);
    // DTR back up, and the modem takes commands again.
    a.send(Buffer.from([0xff, 0x01]));
    a.send('AT\r');
    await a.until(/AT\r\r\nOK\r\n$/);
    assert.equal(a.closed, false, 'the emulator stays connected after the call');
  } finally {
    for (const e of emus) e.sock.destroy();
    await bank?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('ip232: an emulator dials a raw TCP host through the phone book, and hangs up by going away', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-ip232-'));
  let bank: SimBank | undefined;
  let emu: Emulator | undefined;
  const hostConns: net.Socket[] = [];
  let hostGot = '';
  let hostClosed = 0;
  const host = net.createServer((s) => {
    hostConns.push(s);
    s.on('data', (d: Buffer) => {
      hostGot += d.toString('latin1');
      if (hostGot.includes('ping\r')) s.write('pong\r\n');
    });
    s.on('close', () => hostClosed++);
    s.on('error', () => undefined);
    s.write('welcome\r\n');
  });
  await new Promise<void>((r) => host.listen(0, '127.0.0.1', () => r()));
  try {
    const port = (host.address() as net.AddressInfo).port;
    bank = await createBank({ lines: 1, dir, ip232: [{ port: 0 }], dialout: { phonebook: parsePhonebook(`5551000 = 127.0.0.1:${port} raw\n`) } });
    const line = bank.line(1);
    emu = await emulator(line.path);
    emu.send('ATDT555-1000\r');
    await emu.until(/CONNECT 33600[^]*welcome\r\n/, 10_000);
    const dialled = emu.text().indexOf('ATDT555-1000\r') + 'ATDT555-1000\r'.length;
    await until('DCD high', () => emu?.dcd.at(-1)?.on === true);
    assert.deepEqual(emu.dcd.map((d) => d.on), [false, true]);
    assert.ok((emu.dcd.at(-1)?.at ?? 0) >= dialled, 'DCD rises when the host answers, not at the dial');
    emu.send('ping\r');
    await emu.until(/pong\r\n/);
    assert.equal(line.modem.state, 'connected');
    // The emulator quits: its socket closes, which the modem takes as DTR dropping.
    emu.sock.destroy();
    await until('the host sees the call end', () => hostClosed === 1);
    await until('the modem idle', () => line.modem.state === 'idle');
    assert.match(line.transcript.toString(), /ip232 emulator disconnected \(DTR drop\)/);
    // The port takes the next emulator, which is told DCD is low.
    const next = await emulator(line.path);
    emu = next;
    await until('DCD at connect', () => next.dcd.length === 1);
    assert.equal(next.dcd[0]?.on, false);
    next.send('AT\r');
    await next.until(/OK\r\n/);
  } finally {
    emu?.sock.destroy();
    for (const s of hostConns) s.destroy();
    await new Promise((r) => host.close(r));
    await bank?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
