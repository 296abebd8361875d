/**
 * The emulated modem on a real serial port (`tgetty sim --serial /dev/ttyUSB0[,speed]`),
 * for an old computer on a null-modem cable: the port is opened raw at the given speed,
 * its UUCP lock taken (as cu and mgetty take it), and the call state drives our DTR and
 * RTS, which the cable carries to the computer's DCD and DSR/CTS: on while a call is up,
 * dropped at its end (carrier loss). The computer's DTR arrives as our DSR/DCD, read in
 * TIOCMIWAIT in a worker (modem-lines.ts): its fall is the modem's DTR drop (`&D`).
 *
 * A pty slave stands in for a port in the tests; it has no modem lines (the ioctls fail
 * with ENOTTY/EINVAL): that is noted once and the modem works without them.
 */
import { writeSync } from 'node:fs';
import tty from 'node:tty';
import { TgettyError, errnoCode } from '../core/errors.js';
import {
  CLOCAL, CREAD, O_NOCTTY, O_NONBLOCK, O_RDWR, cfmakeraw, cfsetspeed, closeFd, dupFd, openFd, tcgetattr, tcsetattr,
} from '../line/libc.js';
import { CARRIER_OUT, DTR_IN, DtrInput, PortModemLines, type ModemLines } from './modem-lines.js';
import { makeLock, removeLock } from '../line/lock.js';
import type { LineTransport } from './pty-line.js';

export interface SerialSpec {
  device: string;
  speed: number;
}

/** `DEV[,SPEED]` (default 38400). */
export function parseSerialSpec(s: string): SerialSpec {
  const [device = '', speed] = s.split(',');
  const n = speed === undefined ? 38400 : Number(speed);
  if (!device.startsWith('/') || !Number.isInteger(n) || n <= 0) {
    throw new TgettyError('CLI_USAGE', `--serial needs /dev/PATH[,SPEED], got '${s}'`, { input: s });
  }
  return { device, speed: n };
}

export interface SerialLineOptions extends SerialSpec {
  lockDir: string;
  onData: (bytes: Buffer) => void;
  /** Notes for the transcript (no modem lines, dropped bytes). */
  onNote?: (text: string) => void;
  /** The computer dropped its DTR (our DSR/DCD fell). */
  onDtrDrop?: () => void;
  /** The port's modem lines (default: the real ones, TIOCMGET/TIOCMBIS/TIOCMIWAIT on the fd). */
  modemLines?: (fd: number) => ModemLines;
}

export class SerialLine implements LineTransport {
  readonly path: string;
  readonly slave: string;
  private fd = -1;
  private reader: tty.ReadStream | undefined;
  private closed = false;
  private noModemLines = false;
  private dropped = 0;
  private lines: ModemLines | undefined;

  constructor(private readonly o: SerialLineOptions) {
    this.path = o.device;
    this.slave = o.device;
    const lock = makeLock(o.lockDir, o.device);
    if (!lock.ok) throw lock.error;
    try {
      this.fd = openFd(o.device, O_RDWR | O_NOCTTY | O_NONBLOCK);
      const t = tcgetattr(this.fd);
      cfmakeraw(t);
      t.c_cflag |= CLOCAL | CREAD;
      cfsetspeed(t, o.speed);
      tcsetattr(this.fd, t);
      this.lines = (o.modemLines ?? ((fd) => new PortModemLines(fd)))(this.fd);
      this.carrier(false);
      this.watchDtr();
      const r = new tty.ReadStream(dupFd(this.fd));
      r.on('data', (d: Buffer) => o.onData(d));
      r.on('error', () => o.onNote?.(`${o.device}: read error; the port is gone`));
      this.reader = r;
    } catch (err) {
      if (this.fd >= 0) closeFd(this.fd);
      this.fd = -1;
      removeLock(o.lockDir, o.device);
      throw new TgettyError('SIM_FAILED', `cannot open serial port ${o.device}`, { port: o.device }, { cause: err });
    }
  }

  /** Our DTR and RTS: the computer's DCD and DSR/CTS through a null-modem cable. */
  carrier(on: boolean): void {
    if (this.fd < 0 || this.noModemLines || this.lines === undefined) return;
    try {
      this.lines.set(CARRIER_OUT, on);
    } catch {
      this.noLines();
    }
  }

  private noLines(): void {
    if (this.noModemLines) return;
    this.noModemLines = true;
    this.o.onNote?.(`${this.o.device} has no modem control lines: carrier is shown only by the result codes, DTR is not read`);
  }

  /** The computer's DTR (our DSR/DCD): its level now, then every change, from the worker. */
  private watchDtr(): void {
    const lines = this.lines;
    if (lines === undefined || this.noModemLines) return;
    const dtr = new DtrInput(() => {
      this.o.onNote?.(`${this.o.device}: the computer dropped DTR`);
      this.o.onDtrDrop?.();
    });
    try {
      dtr.update(lines.get());
    } catch {
      this.noLines();
      return;
    }
    lines.watch(DTR_IN, (bits) => {
      if (!this.closed) dtr.update(bits);
    }, (why) => {
      if (!this.closed) this.o.onNote?.(`${this.o.device}: cannot wait for the computer's DTR (${why})`);
    });
  }

  write(bytes: Uint8Array): void {
    if (this.fd < 0) return;
    let off = 0;
    while (off < bytes.length) {
      try {
        off += writeSync(this.fd, bytes, off, bytes.length - off);
      } catch (err) {
        // The computer does not take bytes as fast (no flow control here): drop, as a full UART does.
        if (errnoCode(err) === 'EAGAIN' && this.dropped === 0) this.o.onNote?.(`${this.o.device}: output queue full, dropping bytes`);
        this.dropped += bytes.length - off;
        return;
      }
    }
    this.dropped = 0;
  }

  /** Carrier loss: DCD drops for a moment (the port stays ours and open). */
  hangup(): void {
    this.carrier(false);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.carrier(false);
    this.lines?.close();
    this.reader?.destroy();
    this.reader = undefined;
    if (this.fd >= 0) closeFd(this.fd);
    this.fd = -1;
    removeLock(this.o.lockDir, this.o.device);
  }
}
