/**
 * A simulated line without a pty, for unit tests of everything above the modem: the
 * getty's side is a full `Line` from src/line/memory-line.ts (the one in-memory line
 * implementation), the modem writes to its far end. A hangup ends that line, as closing
 * the pty master does, and puts a fresh one in its place.
 */
import type { Clock } from '../core/clock.js';
import { createMemoryLinePair, type FarEnd, type MemoryLine } from '../line/memory-line.js';
import type { LineTransport } from './pty-line.js';

export class MemoryTransport implements LineTransport {
  readonly slave: string;
  /** Bytes the modem sent to the DTE. */
  readonly written: Buffer[] = [];
  hangups = 0;
  closed = false;
  private pair: { line: MemoryLine; far: FarEnd };

  constructor(
    readonly path: string,
    private readonly clock: Clock,
    private readonly onData: (bytes: Buffer) => void,
  ) {
    this.slave = `${path}.mem`;
    this.pair = this.open();
  }

  /** The getty's side of the current line (a new one after each hangup). */
  get line(): MemoryLine {
    return this.pair.line;
  }

  /** The DTE writes to the modem; resolves once the bytes reached it. */
  async dteWrite(data: string | Uint8Array): Promise<void> {
    await this.pair.line.write(data);
    await this.pair.line.drain();
  }

  write(bytes: Uint8Array): void {
    if (this.closed) return;
    this.written.push(Buffer.from(bytes));
    this.pair.far.send(bytes);
  }

  hangup(): void {
    if (this.closed) return;
    this.hangups++;
    this.pair.far.hangup();
    this.pair = this.open();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pair.far.hangup();
  }

  private open(): { line: MemoryLine; far: FarEnd } {
    // A pty has no modem control lines: no DTR, no DCD.
    const pair = createMemoryLinePair({ clock: this.clock, path: this.path, modemLines: false });
    pair.far.onData((b) => this.onData(b));
    return pair;
  }
}
