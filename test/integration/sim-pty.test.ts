// The simulator on real ptys: a getty-like opener on the stable name, a telnet caller
// on TCP, a real hangup (master closed) and the symlink re-pointed to a fresh pty.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import tty from 'node:tty';
import { systemClock } from '../../src/core/clock.js';
import { O_NOCTTY, O_NONBLOCK, O_RDWR, closeFd, openFd } from '../../src/line/libc.js';
import { ExpectBuffer, createBank } from '../../src/sim/index.js';
import { startChild } from '../helpers/child.js';
import type { NoReaderResult } from '../helpers/sim-no-reader.js';

/** Open the line the way a getty does: O_NOCTTY|O_NONBLOCK, event-driven reads. */
function openLine(path: string) {
  const fd = openFd(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
  const stream = new tty.ReadStream(fd);
  const rx = new ExpectBuffer(systemClock, `getty on ${path}`);
  let ended = false;
  stream.on('data', (d: Buffer) => rx.push(d));
  stream.on('error', () => undefined); // EIO after a hangup; 'close' follows
  stream.on('close', () => {
    ended = true;
    rx.close('line hung up');
  });
  return {
    rx,
    write: (s: string) => stream.write(s),
    get ended() {
      return ended;
    },
    close: () => {
      stream.destroy();
      // libuv re-opened the slave on its own fd; ours is still open.
      closeFd(fd);
    },
  };
}

/** A telnet caller that never negotiates: it strips IAC commands and keeps the data. */
function telnetCaller(port: number) {
  const sock: Socket = connect(port, '127.0.0.1');
  const rx = new ExpectBuffer(systemClock, 'telnet caller');
  const opts: number[] = [];
  let pend: number[] = [];
  sock.on('data', (d: Buffer) => {
    const data: number[] = [];
    for (const b of [...pend, ...d]) {
      pend = [];
      data.push(b);
    }
    // Remove IAC x y triples (the server only sends option commands and IAC IAC).
    const out: number[] = [];
    for (let i = 0; i < data.length; i++) {
      if (data[i] === 255) {
        if (i + 1 >= data.length) {
          pend = data.slice(i);
          break;
        }
        if (data[i + 1] === 255) {
          out.push(255);
          i++;
          continue;
        }
        if (i + 2 >= data.length) {
          pend = data.slice(i);
          break;
        }
        opts.push(data[i + 1] ?? 0, data[i + 2] ?? 0);
        i += 2;
        continue;
      }
      out.push(data[i] ?? 0);
    }
    rx.push(Buffer.from(out));
  });
  const closed = new Promise<void>((res) => sock.on('close', () => res()));
  sock.on('close', () => rx.close('tcp closed'));
  sock.on('error', () => undefined);
  return { sock, rx, opts, closed, ready: new Promise<void>((res) => sock.once('connect', () => res())) };
}

test('sim on real ptys: AT/OK, a telnet caller rings in, data flows, hangups both ways', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-sim-'));
  const bank = await createBank({ lines: 2, dir, hangupDelayMs: 100 });
  const opened: { close(): void }[] = [];
  t.after(async () => {
    for (const o of opened) o.close();
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const path = join(dir, 'ttySIM0');
  const first = readlinkSync(path);
  assert.match(first, /^\/dev\/pts\/\d+$/);

  const g = openLine(path);
  opened.push(g);
  g.write('ATE0 S12=5\r');
  await g.rx.waitFor(/OK\r\n$/, 2000);

  const addr = await bank.listen({ port: 0, ring: { ringCadenceMs: 500, answerDelayMs: 50, cidFormat: 'none' } });
  const caller = telnetCaller(addr.port);
  await caller.ready;
  await g.rx.waitFor(/RING\r\n/, 2000);
  g.write('ATA\r');
  await g.rx.waitFor(/CONNECT 33600\/ARQ\/V34\/LAPM\/V42BIS\r\n/, 2000);
  g.write('\r\nlogin: ');
  await caller.rx.waitFor(/login: $/, 2000);
  assert.ok(caller.opts.length >= 6, 'the server offered telnet options');
  caller.sock.write('joe\r\n');
  await g.rx.waitFor(/^joe\r$/, 2000);

  // The caller hangs up: NO CARRIER, then the getty side sees a real hangup.
  caller.sock.end();
  await g.rx.waitFor(/NO CARRIER\r\n/, 2000);
  await assert.rejects(g.rx.waitFor(/never/, 3000), /line hung up/);
  assert.equal(g.ended, true);
  const second = readlinkSync(path);
  assert.notEqual(second, first, 'symlink re-pointed to a fresh pty');

  // The getty reopens the same name; now the getty hangs up (+++ ATH) and the TCP caller is dropped.
  const g2 = openLine(path);
  opened.push(g2);
  g2.write('AT\r');
  await g2.rx.waitFor(/OK\r\n/, 2000);
  const caller2 = telnetCaller(addr.port);
  await caller2.ready;
  await g2.rx.waitFor(/RING\r\n/, 2000);
  g2.write('ATA\r');
  await g2.rx.waitFor(/CONNECT/, 2000);
  await new Promise((r) => setTimeout(r, 150));
  g2.write('+++');
  await g2.rx.waitFor(/OK\r\n/, 2000);
  g2.write('ATH\r');
  await g2.rx.waitFor(/OK\r\n/, 2000);
  await caller2.closed;
  assert.equal(readlinkSync(path), second, 'a DTE hangup keeps the line');
});

test('all lines busy: a TCP caller gets BUSY; raw TCP mode passes bytes untouched', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-sim-'));
  const bank = await createBank({ lines: 1, dir });
  const opened: { close(): void }[] = [];
  t.after(async () => {
    for (const o of opened) o.close();
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const g = openLine(join(dir, 'ttySIM0'));
  opened.push(g);
  const addr = await bank.listen({ port: 0, raw: true, ring: { answerDelayMs: 20, cidFormat: 'none' } });
  const c1 = telnetCaller(addr.port);
  await g.rx.waitFor(/RING/, 2000);
  const c2 = telnetCaller(addr.port);
  await c2.rx.waitFor(/^BUSY\r\n$/, 2000);
  await c2.closed;
  g.write('ATA\r');
  await g.rx.waitFor(/CONNECT/, 2000);
  c1.sock.write(Buffer.from([0xff, 0x0d, 0x00, 0x41]));
  await g.rx.waitFor(/\xff\r\x00A/, 2000);
  c1.sock.destroy();
  await g.rx.waitFor(/NO CARRIER/, 2000);
});

test('a DTE that stops reading: the line drops what it cannot deliver (noted) instead of hanging the simulator', async (t) => {
  // In a child process: before the fix, the write to the master spun on EAGAIN inside
  // libuv and that process never came back; here that is a failure after 30 s, not a hang.
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-sim-'));
  const child = startChild(process.execPath, [resolve(import.meta.dirname, '../helpers/sim-no-reader.js'), dir]);
  t.after(async () => {
    await child.stop({ signal: 'SIGKILL' });
    rmSync(dir, { recursive: true, force: true });
  });
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 30_000).unref());
  const code = await Promise.race([child.exited, timeout]);
  assert.notEqual(code, 'timeout', `the simulator hung (a DTE not reading); output: ${child.output()}`);
  assert.equal(code, 0, child.output());
  const res = JSON.parse(child.output().trim().split('\n').pop() ?? '') as NoReaderResult;
  assert.ok(res.notes.some((n) => /DTE is not reading/.test(n)), `the drop is noted: ${JSON.stringify(res.notes)}`);
  assert.equal(res.hungUp, true, `the line was hung up after the caller left: ${JSON.stringify(res.notes)}`);
  assert.ok(res.notes.some((n) => /\d+ byte\(s\) for the DTE dropped/.test(n)), `the total is noted at the hangup: ${JSON.stringify(res.notes)}`);
});
