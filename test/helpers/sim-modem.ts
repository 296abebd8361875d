/**
 * The simulator's Hayes modem (src/sim) on a memory line's far end, with per-test
 * behaviours: what runner and supervisor tests that need exact control use. As
 * zwave-js's MockController does, a test installs a behaviour that overrides or observes
 * commands; everything it leaves alone the real simulated modem answers (so `ATQ0V1H0`
 * gets the sim's OK, `ATA` with a `CONNECT ...` reply puts the sim in data mode).
 *
 * RING and other unsolicited lines are sent by the test with `send()`: the test is the
 * telephone network here.
 */
import type { Clock } from '../../src/core/clock.js';
import type { FarEnd } from '../../src/line/memory-line.js';
import { HayesModem, type AtContext, type LineBehaviour } from '../../src/sim/modem.js';

export interface SimModemOptions {
  /**
   * A behaviour for every line the DTE ends with CR (the whole line as sent, trimmed, e.g.
   * 'ATA'): a string is the modem's answer (`CONNECT <x>` connects, anything else is a
   * result code), null is silence (a dead modem), undefined or 'OK' lets the sim answer.
   */
  reply?: (cmd: string) => string | null | undefined;
  /** Echo commands (the sim's E1). Default off, as the scripted tests expect. */
  echo?: boolean;
}

export class SimModem {
  /** Every CR-terminated line the DTE sent, as sent (trimmed): AT commands and anything else. */
  readonly commands: string[] = [];
  /** Bytes the DTE sent in data mode (to the far end of a call a reply connected). */
  readonly dataFromDte: Buffer[] = [];
  readonly modem: HayesModem;
  private far: FarEnd;
  private buf = '';
  private unsubscribe: (() => void)[] = [];
  /** The reply chosen for the line whose CR is being fed to the modem. */
  private decision: string | null | undefined;
  private quietSetup = true;

  constructor(far: FarEnd, clock: Clock, private readonly opts: SimModemOptions = {}) {
    this.far = far;
    this.modem = new HayesModem({ clock, output: (b) => {
      if (!this.quietSetup) this.far.send(b);
    } });
    if (opts.echo !== true) this.modem.execute('E0');
    this.quietSetup = false;
    this.modem.addBehaviour(this.replyBehaviour);
    this.listen(far);
  }

  /** Install a behaviour on the modem (asked before the reply option). */
  behave(b: LineBehaviour): () => void {
    const d = this.modem.addBehaviour(b);
    return () => d.dispose();
  }

  /** Move to a new far end (the getty reopened the line): the modem sees DTR drop first. */
  attach(far: FarEnd): void {
    for (const u of this.unsubscribe) u();
    this.far = far;
    this.buf = '';
    this.modem.dtrDrop();
    this.listen(far);
  }

  /** Bytes from the network side straight to the DTE (RING, caller ID). */
  send(text: string): void {
    this.far.send(text);
  }

  private listen(far: FarEnd): void {
    this.unsubscribe = [
      far.onData((chunk) => this.onBytes(chunk)),
      // &D2: DTR off ends the call and puts the modem on-hook in command mode.
      far.onDtr((on) => (on ? undefined : this.modem.dtrDrop())),
    ];
  }

  private onBytes(chunk: Buffer): void {
    // Fed to the modem line by line, so the reply chosen for a line is the one its CR sees.
    let from = 0;
    for (let k = 0; k < chunk.length; k++) {
      const ch = chunk[k] ?? 0;
      if (ch !== 0x0d) {
        this.buf += String.fromCharCode(ch);
        continue;
      }
      const cmd = this.buf.trim();
      this.buf = '';
      this.decision = undefined;
      if (cmd !== '') {
        this.commands.push(cmd);
        this.decision = this.opts.reply?.(cmd);
      }
      this.modem.onDteBytes(chunk.subarray(from, k + 1));
      this.decision = undefined;
      from = k + 1;
    }
    if (from < chunk.length) this.modem.onDteBytes(chunk.subarray(from));
  }

  private readonly replyBehaviour = (_line: string, ctx: AtContext): boolean => {
    const r = this.decision;
    if (r === undefined || r === 'OK') return false;
    if (r === null) return true;
    const connect = /^CONNECT ?(.*)$/.exec(r);
    if (connect === null) {
      ctx.result(r);
      return true;
    }
    ctx.calls.connectNow(connect[1] ?? '', {
      connected: () => undefined,
      data: (b) => this.dataFromDte.push(Buffer.from(b)),
      ended: () => undefined,
    });
    return true;
  };
}
