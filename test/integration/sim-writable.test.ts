/**
 * The writability watcher of the sim's pty masters (src/sim/writable.ts), on a real pty: a
 * master whose queue is full is reported once the slave side has read, not before; a
 * cancelled wait is never reported; process.exit() is not held up by the poll thread.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { closeFd, cfmakeraw, O_NOCTTY, O_NONBLOCK, O_RDWR, openFd, openPty, tcgetattr, tcsetattr } from '../../src/line/libc.js';
import { fdWritable } from '../../src/sim/writable.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Write to a non-blocking fd until EAGAIN; the bytes written. */
function fill(fd: number): number {
  const chunk = Buffer.alloc(4096, 0x61);
  let n = 0;
  for (;;) {
    try {
      n += writeSync(fd, chunk);
    } catch {
      return n;
    }
  }
}

test('fdWritable: a full pty master is reported writable once the DTE reads, and a cancelled wait never', async () => {
  const pty = openPty();
  const slave = openFd(pty.slave, O_RDWR | O_NOCTTY | O_NONBLOCK);
  try {
    const t = tcgetattr(slave);
    cfmakeraw(t);
    tcsetattr(slave, t);
    // The kernel moves bytes on to the slave's queue a moment after the write: fill until
    // a pause makes no more room.
    let queued = fill(pty.master);
    for (let more = 1; more > 0; queued += more) {
      await sleep(50);
      more = fill(pty.master);
    }
    assert.ok(queued > 0 && queued < 1 << 20, `the pty took ${queued} bytes`);
    let told = 0;
    assert.equal(fdWritable.wait(pty.master, () => told++), true, 'the watcher runs here');
    await sleep(200);
    assert.equal(told, 0, 'nothing read yet: not writable');
    const buf = Buffer.alloc(65536);
    let read = 0;
    for (let w = 0; told === 0 && w < 5000; w += 10) {
      try {
        read += readSync(slave, buf, 0, buf.length, null);
      } catch {
        // EAGAIN: the kernel is still moving bytes to the slave side
      }
      await sleep(10);
    }
    assert.equal(told, 1, `writable after the DTE read ${read} bytes`);
    // Full again, then cancelled: the later room is not reported.
    for (let more = fill(pty.master); more > 0; more = fill(pty.master)) await sleep(50);
    let late = 0;
    assert.equal(fdWritable.wait(pty.master, () => late++), true);
    fdWritable.cancel(pty.master);
    for (let k = 0; k < 20; k++) {
      try {
        readSync(slave, buf, 0, buf.length, null);
      } catch {
        // EAGAIN
      }
      await sleep(10);
    }
    assert.equal(late, 0);
  } finally {
    closeFd(slave);
    closeFd(pty.master);
  }
});

test('fdWritable: process.exit() while a wait is outstanding ends the process at once (the poll thread is woken)', () => {
  const url = (rel: string): string => pathToFileURL(join(import.meta.dirname, rel)).href;
  const script = `
    import { writeSync } from 'node:fs';
    import { cfmakeraw, openFd, openPty, O_NOCTTY, O_NONBLOCK, O_RDWR, tcgetattr, tcsetattr } from '${url('../../src/line/libc.js')}';
    import { fdWritable } from '${url('../../src/sim/writable.js')}';
    const p = openPty();
    const s = openFd(p.slave, O_RDWR | O_NOCTTY | O_NONBLOCK);
    const t = tcgetattr(s); cfmakeraw(t); tcsetattr(s, t);
    try { for (;;) writeSync(p.master, Buffer.alloc(4096)); } catch {}
    // Room the kernel makes a moment later is filled again: a wait stays outstanding.
    const again = () => { try { for (;;) writeSync(p.master, Buffer.alloc(4096)); } catch {} fdWritable.wait(p.master, again); };
    if (!fdWritable.wait(p.master, again)) process.exit(2);
    setTimeout(() => process.exit(0), 400); // the worker is in poll(2) by then
  `;
  // A file, not `-e`: with -e, node's exit did not wait for the worker, and the hang never showed.
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-writable-'));
  try {
    const file = join(dir, 'exit.mjs');
    writeFileSync(file, script);
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, `status ${r.status} signal ${r.signal}: ${r.stderr}`);
    assert.ok(Date.now() - t0 < 5000, `exit took ${Date.now() - t0} ms`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
