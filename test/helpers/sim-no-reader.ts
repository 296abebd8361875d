/**
 * Run as a program (`sim-no-reader.js DIR`) by test/integration/sim-pty.test.ts: one
 * simulated line whose DTE opens the line but never reads, a call that sends far more than a pty's input queue and the line's own 1 MB for a DTE that is behind hold, then
 * the caller hangs up. Prints one JSON line: the transcript notes and whether the line was
 * hung up and re-made. It runs in its own process because the bug it guards against (a
 * write to the pty master spinning on EAGAIN) blocks the event loop for good: in the test's
 * own process no timeout could fire.
 */
import { readlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { O_NOCTTY, O_NONBLOCK, O_RDWR, closeFd, openFd } from '../../src/line/libc.js';
import { createBank } from '../../src/sim/index.js';

export interface NoReaderResult {
  notes: string[];
  hungUp: boolean;
}

/** `dir`: made and removed by the caller, so it goes even when this process must be killed. */
async function main(dir: string): Promise<NoReaderResult> {
  const notes: string[] = [];
  const bank = await createBank({ lines: 1, dir, hangupDelayMs: 100, onNote: (_line, text) => notes.push(text) });
  let fd = -1;
  try {
    const path = join(dir, 'ttySIM0');
    const first = readlinkSync(path);
    // A DTE that writes but never reads: everything the modem says piles up in the pty.
    fd = openFd(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
    const call = bank.line(0).call({ cidFormat: 'none', ringCadenceMs: 200, answerDelayMs: 20 });
    await bank.line(0).waitForModem(/RING\r\n/, 2000);
    writeSync(fd, 'ATA\r');
    await call.connected;
    // More than the line keeps for a DTE that is behind (1 MB) and the pty holds.
    for (let i = 0; i < 24; i++) call.write(Buffer.alloc(64 * 1024, 0x78));
    await new Promise((r) => setTimeout(r, 200));
    // Timers still run: the caller hangs up and the line is hung up and re-made.
    call.hangup();
    const end = Date.now() + 5000;
    while (readlinkSync(path) === first && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    return { notes, hungUp: readlinkSync(path) !== first };
  } finally {
    if (fd >= 0) closeFd(fd);
    await bank.close();
  }
}

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: sim-no-reader.js DIR');
process.stdout.write(`${JSON.stringify(await main(dir))}\n`);
