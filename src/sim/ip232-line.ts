/**
 * The emulated modem on an ip232 port (`tgetty sim --ip232 PORT[,COUNT]`): an emulator
 * (VICE, openMSX, ...) connects its serial port to HOST:PORT over TCP (framing in
 * ip232.ts). One emulator a port: a second connection while one is up is closed at once,
 * as tcpser does. The call state drives DCD (FF 01 on while connected, FF 00 at its end;
 * the current state is also sent as soon as an emulator connects). The emulator's DTR low
 * (FF 00) is the modem's DTR drop (`&D`), and so is the emulator going away (its socket
 * closes): the computer was switched off or unplugged.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TgettyError } from '../core/errors.js';
import { Ip232Decoder, ip232Dcd, ip232Encode } from './ip232.js';
import type { LineTransport } from './pty-line.js';

export interface Ip232Spec {
  port: number;
  /** Listen address (default 127.0.0.1). */
  host?: string;
}

export interface Ip232LineOptions extends Ip232Spec {
  onData: (bytes: Buffer) => void;
  onNote?: (text: string) => void;
  /** DTR fell (FF 00 after DTR was high) or the emulator disconnected. */
  onDtrDrop?: () => void;
}

/** Bytes queued to the emulator above which the source is paused (as the pty's full queue). */
const HIGH_WATER = 64 * 1024;

export class Ip232Line implements LineTransport {
  private readonly server: Server;
  private client: Socket | undefined;
  private readonly decoder = new Ip232Decoder();
  private dtr = true;
  private dcd = false;
  private closed = false;
  private inputPaused = false;
  private addr: { host: string; port: number };
  /** Resolves once listening; rejects if the port cannot be had. */
  readonly ready: Promise<void>;

  constructor(private readonly o: Ip232LineOptions) {
    const host = o.host ?? '127.0.0.1';
    this.addr = { host, port: o.port };
    this.server = createServer((s) => this.accept(s));
    this.ready = new Promise<void>((res, rej) => {
      let listening = false;
      this.server.on('error', (err) => {
        if (!listening) rej(new TgettyError('SIM_FAILED', `cannot listen for ip232 on ${host}:${o.port}`, { port: `${host}:${o.port}` }, { cause: err }));
        else o.onNote?.(`ip232 ${this.path}: ${err.message}`);
      });
      this.server.listen(o.port, host, () => {
        listening = true;
        this.addr = { host, port: (this.server.address() as AddressInfo).port };
        res();
      });
    });
    // Rejection is reported to whoever awaits ready; this keeps it from being unhandled.
    this.ready.catch(() => undefined);
  }

  /** Where emulators connect. */
  get path(): string {
    return `${this.addr.host.includes(':') ? `[${this.addr.host}]` : this.addr.host}:${this.addr.port}`;
  }

  get slave(): string {
    return this.path;
  }

  /** The emulator connected now, if any: its address. */
  get peer(): string | undefined {
    return this.client === undefined ? undefined : `${this.client.remoteAddress ?? '?'}:${this.client.remotePort ?? 0}`;
  }

  private accept(s: Socket): void {
    if (this.closed || this.client !== undefined) {
      this.o.onNote?.(`ip232 ${this.path}: one emulator a port, refused ${s.remoteAddress ?? '?'}`);
      s.destroy();
      return;
    }
    this.client = s;
    this.decoder.reset();
    // A fresh DTE: DTR is taken as high until it says otherwise (most emulators send it only on change).
    this.dtr = true;
    s.setNoDelay(true);
    this.o.onNote?.(`ip232 emulator connected from ${s.remoteAddress ?? '?'}:${s.remotePort ?? 0}`);
    s.write(ip232Dcd(this.dcd));
    if (this.inputPaused) s.pause();
    s.on('data', (chunk: Buffer) => {
      const { data, dtr } = this.decoder.push(chunk);
      // Bytes before a DTR change in the same read belong to the call before it: deliver them first.
      if (data.length > 0) this.o.onData(data);
      for (const high of dtr) this.setDtr(high);
    });
    const gone = (): void => {
      if (this.client !== s) return;
      this.client = undefined;
      this.o.onNote?.('ip232 emulator disconnected (DTR drop)');
      if (!this.closed) this.o.onDtrDrop?.();
    };
    s.on('close', gone);
    s.on('error', () => s.destroy());
  }

  private setDtr(high: boolean): void {
    if (high === this.dtr) return;
    this.dtr = high;
    this.o.onNote?.(`ip232 DTR ${high ? 'high' : 'low'}`);
    if (!high) this.o.onDtrDrop?.();
  }

  /** DCD to the emulator, sent only when it changes. */
  carrier(on: boolean): void {
    if (on === this.dcd) return;
    this.dcd = on;
    this.client?.write(ip232Dcd(on));
  }

  write(bytes: Uint8Array): void {
    // Nobody connected: the bytes go nowhere, as on a port with no cable.
    this.client?.write(ip232Encode(bytes));
  }

  get blocked(): boolean {
    return (this.client?.writableLength ?? 0) > HIGH_WATER;
  }

  onceDrained(fn: () => void): void {
    const c = this.client;
    if (c === undefined || c.writableLength <= HIGH_WATER) {
      fn();
      return;
    }
    const done = (): void => {
      c.off('drain', done);
      c.off('close', done);
      fn();
    };
    c.on('drain', done);
    c.on('close', done);
  }

  pauseInput(): void {
    this.inputPaused = true;
    this.client?.pause();
  }

  resumeInput(): void {
    this.inputPaused = false;
    this.client?.resume();
  }

  /** Carrier loss: DCD drops; the emulator stays connected, as a cable stays plugged in. */
  hangup(): void {
    this.carrier(false);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client?.destroy();
    this.client = undefined;
    this.server.close();
  }
}
