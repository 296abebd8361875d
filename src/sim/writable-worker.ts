/**
 * The worker thread of FdWritable (writable.ts): poll(2) for POLLOUT on the fds in the
 * shared slots (a pty master whose DTE's input queue was full), and post each fd once it
 * can be written; a slot is freed here as it is posted. The main thread wakes the poll
 * through the eventfd when it fills or frees a slot. With no fd to watch for a while the
 * worker ends by itself (the main thread starts a new one when needed), so it never holds
 * up the process's exit for long.
 */
import { readSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { POLLFD_SIZE, POLLIN, POLLOUT, pollFds } from '../line/libc.js';

const { slots, wakeFd, idleExitMs } = workerData as { slots: SharedArrayBuffer; wakeFd: number; idleExitMs: number };
/** Slot 0: how many slots have ever been used (the main thread fills the lowest free one); then the fds. */
const fds = new Int32Array(slots);
const table = Buffer.alloc(POLLFD_SIZE * (fds.length + 1));
const slotOf = new Int32Array(fds.length + 1);
const wakeBuf = Buffer.alloc(8);
/** Short polls while idle, so that an idle worker notices it may end. */
const IDLE_POLL_MS = 100;
/**
 * Bounded polls while watching too: a worker blocked in poll(2) cannot be terminated, and
 * process.exit() waits for it (the main thread also wakes it on 'exit'; this is the backstop).
 */
const WATCH_POLL_MS = 1000;
let idleMs = 0;

function entry(i: number, fd: number, events: number): void {
  table.writeInt32LE(fd, i * POLLFD_SIZE);
  table.writeInt16LE(events, i * POLLFD_SIZE + 4);
  table.writeInt16LE(0, i * POLLFD_SIZE + 6);
}

for (;;) {
  let n = 0;
  entry(n++, wakeFd, POLLIN);
  const used = Atomics.load(fds, 0);
  for (let s = 1; s <= used; s++) {
    const fd = Atomics.load(fds, s);
    if (fd < 0) continue;
    slotOf[n] = s;
    entry(n++, fd, POLLOUT);
  }
  if (n === 1) {
    if (idleMs >= idleExitMs) break;
    idleMs += IDLE_POLL_MS;
  } else idleMs = 0;
  pollFds(table, n, n === 1 ? IDLE_POLL_MS : WATCH_POLL_MS);
  for (let i = 1; i < n; i++) {
    if (table.readInt16LE(i * POLLFD_SIZE + 6) === 0) continue;
    const fd = table.readInt32LE(i * POLLFD_SIZE);
    // Only if the slot still holds this fd (the main thread may have cancelled it meanwhile).
    if (Atomics.compareExchange(fds, slotOf[i] ?? 0, fd, -1) === fd) parentPort?.postMessage(fd);
  }
  if (table.readInt16LE(6) !== 0) {
    try {
      readSync(wakeFd, wakeBuf, 0, 8, null);
    } catch {
      // EAGAIN: another read took the count already
    }
  }
}
parentPort?.postMessage('idle');
