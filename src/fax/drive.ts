/**
 * Drives a pure fax machine (class2/send.ts, class2/receive.ts) on a line: the line's
 * bytes, its hang-up and one timer in, the machine's commands carried out, until it says
 * `done`. Sending and receiving share this; each handles its own other commands (pages,
 * log lines) and what a failed write means to it.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import type { Line } from '../line/line.js';

/** The inputs every fax machine takes from the line and the clock. */
export interface LineMachine<C> {
  feed(chunk: Uint8Array): C[];
  timeout(): C[];
  carrierLost(): C[];
}

/** The commands the driver carries out itself. */
type CoreCommand<R> = { type: 'send'; bytes: Uint8Array } | { type: 'timer'; ms: number } | { type: 'done'; result: R };

export interface DriveOptions<C> {
  line: Line;
  clock: Clock;
  machine: LineMachine<C>;
  /** Feeds the machine its first inputs (start, bytes already read, an abort to come). */
  begin: (run: (cmds: C[]) => void) => void;
  /** Every chunk from the line, before the machine sees it (a debug dump). */
  onData?: (chunk: Buffer) => void;
  /** Every write, before it goes out (a debug dump). */
  onSend?: (bytes: Uint8Array) => void;
  /** A write failed: the caller decides what the machine hears of it. */
  writeFailed: (err: unknown, run: (cmds: C[]) => void) => void;
  /** Any command other than send, timer and done. */
  other: (cmd: C) => void;
}

/** Runs the machine on the line; resolves with its result, the line paused and unhooked. */
export function driveOnLine<C extends { type: string }, R>(o: DriveOptions<C>): Promise<R> {
  return new Promise<R>((resolve) => {
    let timer: TimerHandle | undefined;
    let finished = false;
    const run = (cmds: C[]): void => {
      for (const cmd of cmds) {
        if (finished) return;
        const c = cmd as unknown as CoreCommand<R>;
        if (c.type === 'send') {
          o.onSend?.(c.bytes);
          o.line.write(c.bytes).catch((e: unknown) => o.writeFailed(e, run));
        } else if (c.type === 'timer') {
          timer?.cancel();
          timer = o.clock.setTimeout(() => run(o.machine.timeout()), c.ms);
        } else if (c.type === 'done') {
          finished = true;
          timer?.cancel();
          o.line.off('data', onData);
          o.line.off('hangup', onHangup);
          o.line.pause();
          resolve(c.result);
        } else {
          o.other(cmd);
        }
      }
    };
    const onData = (b: Buffer): void => {
      o.onData?.(b);
      run(o.machine.feed(b));
    };
    const onHangup = (): void => run(o.machine.carrierLost());
    o.line.on('data', onData);
    o.line.on('hangup', onHangup);
    o.begin(run);
    o.line.resume();
  });
}
