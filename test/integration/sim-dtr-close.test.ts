/**
 * A virtual line's DTR is its pty slave: when the DTE's last fd on it closes (what HUPCL
 * turns into a DTR drop on a serial port), the simulated modem hangs up as &D says. Real
 * ptys, real clock; the sim notices the close from the master's EPOLLHUP/EIO, not by polling.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeFd, O_NOCTTY, O_NONBLOCK, O_RDWR, openFd } from '../../src/line/libc.js';
import { createBank } from '../../src/sim/index.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function withBank(fn: (b: Awaited<ReturnType<typeof createBank>>) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sim-dtr-'));
  const bank = await createBank({ lines: 1, dir, ringDefaults: {} });
  try {
    await fn(bank);
  } finally {
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const openDte = (path: string): number => openFd(path, O_RDWR | O_NOCTTY | O_NONBLOCK);

test('the DTE closing the line (its last fd) ends the call at once (&D2), back to command mode', async () => {
  await withBank(async (bank) => {
    const line = bank.line(0);
    const fd = openDte(line.path);
    let closed = false;
    try {
      const call = line.call({ cidFormat: 'none', answerDelayMs: 50 });
      writeSync(fd, 'ATA\r');
      await call.connected;
      assert.equal(line.modem.currentMode, 'data');
      writeSync(fd, 'hello');
      await call.waitFor(/hello/, 2000);
      const t0 = Date.now();
      closeFd(fd);
      closed = true;
      assert.equal(await Promise.race([call.ended, sleep(3000).then(() => 'still in the call after 3 s')]), 'hangup');
      assert.ok(Date.now() - t0 < 500, `noticed in ${Date.now() - t0} ms`);
      assert.equal(line.modem.state, 'idle');
      assert.equal(line.modem.currentMode, 'command');
      assert.match(line.transcript.toString(), /DTE closed the line \(DTR drop\)/);
      // The line is at once usable again: same device, command mode, the modem answers.
      const fd2 = openDte(line.path);
      try {
        const ok = line.waitForModem(/AT\r\r\nOK\r\n$/, 2000);
        writeSync(fd2, 'AT\r');
        await ok;
      } finally {
        closeFd(fd2);
      }
    } finally {
      if (!closed) closeFd(fd);
    }
  });
});

test('&D0 ignores the close; a call that only rings rings on; a DTE that opens and closes again and again is seen each time', async () => {
  await withBank(async (bank) => {
    const line = bank.line(0);
    // A ringing call survives the DTE's close.
    let fd = openDte(line.path);
    const ringing = line.call({ cidFormat: 'none', answerDelayMs: 50 });
    writeSync(fd, 'AT\r');
    await line.waitForModem(/OK\r\n$/, 2000);
    closeFd(fd);
    await sleep(300);
    assert.equal(ringing.state, 'ringing');
    assert.equal(line.modem.state, 'ringing');
    fd = openDte(line.path);
    writeSync(fd, 'AT&D0\r');
    await line.waitForModem(/AT&D0\r\r\nOK\r\n$/, 2000);
    writeSync(fd, 'ATA\r');
    await ringing.connected;
    closeFd(fd);
    await sleep(300);
    assert.equal(ringing.state, 'connected', '&D0: DTR is ignored');
    ringing.hangup();
    for (let i = 0; i < 5; i++) {
      const f = openDte(line.path);
      writeSync(f, 'AT\r');
      await line.waitForModem(/AT\r\r\nOK\r\n$/, 2000);
      closeFd(f);
      const want = 3 + i;
      for (let k = 0; k < 40 && (line.transcript.toString().match(/DTE closed the line/g) ?? []).length < want; k++) await sleep(25);
    }
    assert.ok((line.transcript.toString().match(/DTE closed the line/g) ?? []).length >= 7, line.transcript.toString());
  });
});
