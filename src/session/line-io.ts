/**
 * What the runner's I/O modules share: the line and its input, the call data, and the
 * two waits every step is made of (a cancellable sleep, and consuming input until a
 * parser has a result). The runner owns one and hands it to the modules
 * (chat-exec.ts, modem-io.ts, call-hooks.ts, lock-wait.ts).
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { toTgettyError } from '../core/errors.js';
import type { Line } from '../line/line.js';
import type { Logger } from '../log/logger.js';
import type { CallData } from '../modem/callerid.js';
import type { Cancel } from './cancel.js';
import type { InputQueue } from './input-queue.js';
import type { LineSettings } from './settings.js';

export interface LineIo {
  readonly s: LineSettings;
  readonly log: Logger;
  readonly clock: Clock;
  readonly input: InputQueue;
  readonly call: CallData;
  /** The open line, or an INTERNAL error when there is none. */
  requireLine(): Line;
}

/** A wait cut short by an outside input (the runner turns it into that input). */
export class Interrupted extends Error {
  constructor() {
    super('interrupted');
  }
}

export function sleep(io: Pick<LineIo, 'clock'>, ms: number, signal: Cancel): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(new Interrupted());
      return;
    }
    const t = io.clock.setTimeout(() => {
      off();
      resolve();
    }, ms);
    const off = signal.onCancel(() => {
      t.cancel();
      reject(new Interrupted());
    });
  });
}

/**
 * Wait for input while calling `step` on every chunk until it returns a result;
 * `onTimeout` gives the result when `timeoutMs` passes without one.
 */
export function consume<T>(io: LineIo, signal: Cancel, timeoutMs: number | undefined, step: (chunk: Buffer) => T | undefined, onTimeout: () => T): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let timer: TimerHandle | undefined;
    let done = false;
    let off = (): void => undefined;
    const finish = (fn: () => void): void => {
      if (done) return;
      done = true;
      timer?.cancel();
      off();
      io.input.cancelWait();
      fn();
    };
    const onAbort = (): void => finish(() => reject(new Interrupted()));
    const pump = (): void => {
      for (;;) {
        const chunk = io.input.take();
        if (chunk === undefined) break;
        let r: T | undefined;
        try {
          r = step(chunk);
        } catch (err) {
          finish(() => reject(toTgettyError(err, 'INTERNAL', { port: io.s.device })));
          return;
        }
        if (r !== undefined) {
          finish(() => resolve(r));
          return;
        }
      }
      if (!done) io.input.onNext(pump);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    off = signal.onCancel(onAbort);
    // Input already queued (the RING that woke an idle line) may settle it at once: then
    // no timer is armed and cancelled on the way to ATA.
    pump();
    if (!done && timeoutMs !== undefined) {
      timer = io.clock.setTimeout(() => finish(() => resolve(onTimeout())), timeoutMs);
    }
  });
}
