/**
 * "Tell me when this fd can be written", for the sim's pty masters. libuv cannot wait for a
 * tty to become writable (its tty writes block, or spin on EAGAIN), and a retry timer is too
 * slow: a pty holds only ~11.5 KB, which a reading DTE empties in under a millisecond at
 * 20 MB/s, so a 1 ms timer left the line idle most of the time (measured in
 * test/bench/sim-bank.bench.ts). One worker thread for the whole process polls every fd that
 * waits (writable-worker.ts) and posts it back once it has room.
 *
 * `wait` returns false when no watcher can run (no worker threads, no free slot): the caller
 * then keeps its timer.
 */
import { writeSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { closeFd, openEventFd } from '../line/libc.js';

/** Up to this many fds wait at once (the bank's limit of lines). */
const SLOTS = 4096;
/** A worker with nothing to watch for this long ends. */
const IDLE_EXIT_MS = 2000;
const ONE = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0]);

class FdWritable {
  /** Slot 0: how many fd slots have ever been used (the worker scans no further); then the fds, -1 free. */
  private readonly slots = new Int32Array(new SharedArrayBuffer(4 * (SLOTS + 1))).fill(-1);
  private readonly waiters = new Map<number, () => void>();
  private worker: Worker | undefined;
  private wakeFd = -1;
  private broken = false;
  private exitHooked = false;

  /** Whether waits can be watched here (no failure so far). */
  get available(): boolean {
    return !this.broken;
  }

  wait(fd: number, fn: () => void): boolean {
    if (this.broken || !this.ensureWorker()) return false;
    if (this.waiters.has(fd)) {
      this.waiters.set(fd, fn);
      return true;
    }
    const s = this.slots.indexOf(-1, 1);
    if (s < 0) return false;
    this.waiters.set(fd, fn);
    Atomics.store(this.slots, s, fd);
    if (s > Atomics.load(this.slots, 0)) Atomics.store(this.slots, 0, s);
    this.worker?.ref();
    this.wake();
    return true;
  }

  cancel(fd: number): void {
    if (!this.waiters.delete(fd)) return;
    const s = this.slots.indexOf(fd, 1);
    if (s >= 0) Atomics.compareExchange(this.slots, s, fd, -1);
    if (this.waiters.size === 0) this.worker?.unref();
    this.wake();
  }

  private wake(): void {
    try {
      writeSync(this.wakeFd, ONE);
    } catch {
      // EAGAIN: the counter is full, the worker is awake anyway
    }
  }

  private ensureWorker(): boolean {
    if (this.worker !== undefined) return true;
    try {
      if (this.wakeFd < 0) this.wakeFd = openEventFd();
      Atomics.store(this.slots, 0, 0);
      const w = new Worker(new URL('./writable-worker.js', import.meta.url), { workerData: { slots: this.slots.buffer, wakeFd: this.wakeFd, idleExitMs: IDLE_EXIT_MS } });
      w.on('message', (m: number | 'idle') => {
        if (m === 'idle') return;
        const fn = this.waiters.get(m);
        if (fn === undefined) return;
        this.waiters.delete(m);
        if (this.waiters.size === 0) w.unref();
        fn();
      });
      w.on('error', () => this.lost(w, true));
      w.on('exit', () => this.lost(w, false));
      w.unref();
      this.worker = w;
      if (!this.exitHooked) {
        this.exitHooked = true;
        // process.exit() joins the worker: get it out of poll(2) at once.
        process.once('exit', () => {
          if (this.wakeFd >= 0) this.wake();
        });
      }
      return true;
    } catch {
      this.broken = true;
      return false;
    }
  }

  /** The worker ended (idle, or failed): whoever still waits is told to try again now. */
  private lost(w: Worker, failed: boolean): void {
    if (this.worker !== w) return;
    this.worker = undefined;
    if (failed) this.broken = true;
    this.slots.fill(-1, 1);
    const fns = [...this.waiters.values()];
    this.waiters.clear();
    for (const fn of fns) fn();
    if (this.broken && this.wakeFd >= 0) {
      closeFd(this.wakeFd);
      this.wakeFd = -1;
    }
  }
}

export const fdWritable = new FdWritable();
