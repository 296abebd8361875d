/**
 * The modem control lines of a serial port, as the emulated modem (a DCE) uses them.
 *
 * The port is a PC's UART, a DTE itself; the old computer is another DTE on a null-modem
 * cable, which crosses the lines: our DTR reaches the computer's DSR and DCD (most cables
 * wire DTR to both), our RTS its CTS, and its DTR our DSR and DCD. So:
 * - set: TIOCM_DTR (TIOCMBIS/TIOCMBIC) is the computer's DCD and DSR: on while a call is up
 *   (carrier), off at its end; TIOCM_RTS, its CTS, goes with it.
 * - read: TIOCM_DSR | TIOCM_CAR (TIOCMGET) is the computer's DTR: on when either is on (a
 *   cable may wire DTR to only one of them). Its fall is the DTR drop of `&D`.
 * - RI cannot be driven: a PC UART has no RI output and a null-modem cable no RI wire;
 *   RING reaches the computer as text only.
 *
 * Changes are waited for in TIOCMIWAIT in a worker thread of its own (one per port), so
 * an idle line costs nothing; the worker ends when the port has no modem lines (a pty:
 * noted once) or is closed.
 */
import { Worker } from 'node:worker_threads';
import { TIOCM_CAR, TIOCM_DSR, TIOCM_DTR, TIOCM_RTS, getModemBits, setModemBits } from '../line/libc.js';

/** The computer's DTR as it reaches us through a null-modem cable. */
export const DTR_IN = TIOCM_DSR | TIOCM_CAR;
/** Our lines that are the computer's DCD and DSR (DTR) and CTS (RTS). */
export const CARRIER_OUT = TIOCM_DTR | TIOCM_RTS;

/** What a serial line needs from the port's modem lines (a fake in tests). */
export interface ModemLines {
  /** TIOCMGET: the bits now. */
  get(): number;
  /** TIOCMBIS / TIOCMBIC. */
  set(bits: number, on: boolean): void;
  /** Tell `fn` the bits after each change of the `mask` input lines; `fail` once if that cannot be done. */
  watch(mask: number, fn: (bits: number) => void, fail: (why: string) => void): void;
  close(): void;
}

/** The real lines of the port open on `fd`. */
export class PortModemLines implements ModemLines {
  private worker: Worker | undefined;

  constructor(private readonly fd: number) {}

  get(): number {
    return getModemBits(this.fd);
  }

  set(bits: number, on: boolean): void {
    setModemBits(this.fd, bits, on);
  }

  watch(mask: number, fn: (bits: number) => void, fail: (why: string) => void): void {
    const w = new Worker(new URL('./modem-lines-worker.js', import.meta.url), { workerData: { fd: this.fd, mask } });
    // A worker blocked in TIOCMIWAIT must not keep the process alive.
    w.unref();
    w.on('message', (m: { bits?: number; error?: string }) => {
      if (m.bits !== undefined) fn(m.bits);
      else fail(m.error ?? 'TIOCMIWAIT failed');
    });
    w.on('error', (err) => fail(err.message));
    this.worker = w;
  }

  close(): void {
    // A worker blocked in the ioctl ends with the process (it is unref'd); terminate()
    // takes it down as soon as it is back in JavaScript.
    void this.worker?.terminate();
    this.worker = undefined;
  }
}

/**
 * The computer's DTR from the port's bits, edge by edge: `onDrop` when it falls (on to
 * off), `onRaise` when it rises. The first reading sets the level without an edge.
 */
export class DtrInput {
  private level: boolean | undefined;

  constructor(private readonly onDrop: () => void, private readonly onRaise?: () => void) {}

  get on(): boolean {
    return this.level === true;
  }

  update(bits: number): void {
    const now = (bits & DTR_IN) !== 0;
    const was = this.level;
    this.level = now;
    if (was === true && !now) this.onDrop();
    else if (was === false && now) this.onRaise?.();
  }
}
