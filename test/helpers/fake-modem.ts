/**
 * A minimal scripted Hayes responder on a memory line's far end, for runner tests
 * that need exact control (the full simulator lives in src/sim). Commands are
 * answered from a table; RING and other unsolicited lines are sent by the test.
 */
import type { FarEnd } from '../../src/line/memory-line.js';

export interface FakeModemOptions {
  /** Reply for a command (without AT prefix handling: the whole line, e.g. 'ATA'); undefined = 'OK'. null = silence. */
  reply?: (cmd: string) => string | null | undefined;
  echo?: boolean;
}

export class FakeModem {
  readonly commands: string[] = [];
  private buf = '';

  private far: FarEnd;

  constructor(
    far: FarEnd,
    private readonly opts: FakeModemOptions = {},
  ) {
    this.far = far;
    far.onData((chunk) => this.onBytes(chunk));
  }

  /** Move to a new far end (the getty reopened the line). */
  attach(far: FarEnd): void {
    this.far = far;
    this.buf = '';
    far.onData((chunk) => this.onBytes(chunk));
  }

  private onBytes(chunk: Buffer): void {
    for (const ch of chunk.toString('latin1')) {
      if (ch === '\r') {
        const cmd = this.buf.trim();
        this.buf = '';
        if (cmd === '') continue;
        this.commands.push(cmd);
        if (this.opts.echo === true) this.far.send(`${cmd}\r`);
        const r = this.opts.reply?.(cmd);
        if (r === null) continue;
        this.far.send(`\r\n${r ?? 'OK'}\r\n`);
      } else {
        this.buf += ch;
      }
    }
  }

  send(text: string): void {
    this.far.send(text);
  }
}
