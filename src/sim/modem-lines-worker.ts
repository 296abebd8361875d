/**
 * The worker thread of ModemLinesWatcher (modem-lines.ts): waits in TIOCMIWAIT for a change
 * of the port's input lines and posts the new TIOCMGET bits; the event loop never polls.
 * On an error (a port without modem lines, a port that is gone) it posts the message and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { getModemBits, waitModemChange } from '../line/libc.js';

const { fd, mask } = workerData as { fd: number; mask: number };
for (;;) {
  try {
    waitModemChange(fd, mask);
    parentPort?.postMessage({ bits: getModemBits(fd) });
  } catch (err) {
    parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) });
    break;
  }
}
