/**
 * `tgetty sim` status over its unix socket: per modem state, peer, bytes and since, for an
 * incoming telnet-style call and a dial-out, and the socket's safety (mode 0600, a file
 * that is not a socket is never removed).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { formatSimStatus } from '../../src/cli/sim-status.js';
import { isTgettyError } from '../../src/core/errors.js';
import { closeFd, O_NOCTTY, O_NONBLOCK, O_RDWR, openFd } from '../../src/line/libc.js';
import { createBank } from '../../src/sim/index.js';
import { querySimStatus, simStatusPath, startSimStatus } from '../../src/sim/status.js';

test('sim status: state, peer, bytes, since per modem; the socket is 0600 and goes with the bank', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sim-status-'));
  const host = net.createServer((s) => s.on('data', (d: Buffer) => s.write(d)));
  await new Promise<void>((r) => host.listen(0, '127.0.0.1', () => r()));
  const port = (host.address() as net.AddressInfo).port;
  const bank = await createBank({ lines: 2, dir });
  const st = await startSimStatus(bank, dir);
  bank.atClose(() => st.close());
  const fd = openFd(bank.line(1).path, O_RDWR | O_NOCTTY | O_NONBLOCK);
  try {
    assert.equal(lstatSync(simStatusPath(dir)).mode & 0o777, 0o600);
    let s = await querySimStatus(dir);
    assert.deepEqual(s.lines.map((l) => [l.line, l.state, l.peer]), [['ttySIM0', 'idle', ''], ['ttySIM1', 'idle', '']]);
    // An incoming call, answered by a DTE on line 0... a scripted one is enough here.
    const call = bank.line(0).call({ callerId: '192.0.2.9', cidFormat: 'none', answerDelayMs: 10 });
    // Line 1 dials out to the loopback host.
    writeSync(fd, `ATD127.0.0.1:${port}\r`);
    await bank.line(1).waitForModem(/CONNECT 33600\r\n/, 5000);
    writeSync(fd, 'ping');
    await bank.line(1).waitForModem(/ping/, 5000);
    s = await querySimStatus(dir);
    const [l0, l1] = s.lines;
    assert.equal(l0?.state, 'ringing');
    assert.equal(l0?.peer, '192.0.2.9');
    assert.equal(l1?.state, 'connected');
    assert.equal(l1?.mode, 'data');
    assert.equal(l1?.peer, `127.0.0.1:${port} (telnet)`);
    assert.ok((l1?.bytesFromDte ?? 0) >= 4, JSON.stringify(l1));
    assert.ok((l1?.bytesToDte ?? 0) >= 'CONNECT 33600'.length + 4, JSON.stringify(l1));
    assert.ok((l1?.since ?? 0) <= Date.now());
    const table = formatSimStatus(s, Date.now());
    assert.match(table, /^ttySIM1\s+5550001\s+connected\s+127\.0\.0\.1:\d+ \(telnet\)\s+\d+\s+\d+\s+\d+s$/m);
    call.hangup();
  } finally {
    closeFd(fd);
    await bank.close();
    await new Promise((r) => host.close(r));
  }
  assert.throws(() => lstatSync(simStatusPath(dir)), 'the socket is gone with the bank');
  // A file that is not a socket where the socket goes: refused, left alone.
  writeFileSync(simStatusPath(dir), 'not a socket');
  const b2 = await createBank({ lines: 1, dir });
  try {
    await assert.rejects(startSimStatus(b2, dir), (e) => isTgettyError(e, 'SIM_FAILED') && /is not a socket/.test((e as Error).message));
    assert.equal(lstatSync(simStatusPath(dir)).isFile(), true);
  } finally {
    await b2.close();
  }
  await assert.rejects(querySimStatus(join(dir, 'nope')), /no tgetty sim is running/);
  rmSync(dir, { recursive: true, force: true });
});
