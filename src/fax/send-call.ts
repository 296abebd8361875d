/**
 * A fax transmission on an open line, start to end: the FaxSender machine driven by the
 * line's bytes and a clock. Errors never escape: a write that fails or a line that hangs
 * up ends the machine with the exit code it gives for that state.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { toTgettyError } from '../core/errors.js';
import type { Line } from '../line/line.js';
import { DEFAULT_SEND_LIMITS, FaxSender, type SendCommand, type SendLimits, type SendPage, type SendResult, type SendSettings, type SentPage } from './class2/send.js';
import type { FaxLog } from './receive-call.js';

export interface SendCallOptions {
  line: Line;
  clock: Clock;
  log: FaxLog & { dump?: (prefix: string, bytes: Uint8Array) => void };
  settings: SendSettings;
  pages: readonly SendPage[];
  limits?: SendLimits;
  /** Called when a page is through (for -r and -v). */
  onPage?: (page: SentPage) => void;
  /** Resolves (with the reason) to end the transmission early: a termination signal. */
  abort?: Promise<string>;
}

/** Run a transmission. Resolves with the result when the modem is back in class 0. */
export function sendFaxCall(o: SendCallOptions): Promise<SendResult> {
  const tx = new FaxSender(o.settings, o.pages, o.limits ?? DEFAULT_SEND_LIMITS);
  return new Promise<SendResult>((resolve) => {
    let timer: TimerHandle | undefined;
    let finished = false;
    const run = (cmds: SendCommand[]): void => {
      for (const c of cmds) {
        if (finished) return;
        switch (c.type) {
          case 'send':
            if (c.bytes.length < 200) o.log.dump?.('send: ', c.bytes);
            else o.log.noise(`send: ${c.bytes.length} bytes of page data`);
            o.line.write(c.bytes).catch((e: unknown) => {
              o.log.warn(`fax: write failed: ${toTgettyError(e).message}`);
              run(tx.carrierLost());
            });
            break;
          case 'timer':
            timer?.cancel();
            timer = o.clock.setTimeout(() => run(tx.timeout()), c.ms);
            break;
          case 'page':
            o.onPage?.(c.page);
            break;
          case 'log':
            o.log[c.level](c.text);
            break;
          case 'done':
            finished = true;
            timer?.cancel();
            o.line.off('data', onData);
            o.line.off('hangup', onHangup);
            o.line.pause();
            resolve(c.result);
            break;
        }
      }
    };
    const onData = (b: Buffer): void => {
      o.log.dump?.('got: ', b.length > 200 ? b.subarray(0, 200) : b);
      run(tx.feed(b));
    };
    const onHangup = (): void => run(tx.carrierLost());
    o.line.on('data', onData);
    o.line.on('hangup', onHangup);
    o.abort?.then((why) => run(tx.abort(why)), () => undefined);
    run(tx.start());
    o.line.resume();
  });
}
