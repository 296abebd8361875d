/**
 * A fax transmission on an open line, start to end: the FaxSender machine driven by the
 * line's bytes and a clock. Errors never escape: a write that fails or a line that hangs
 * up ends the machine with the exit code it gives for that state.
 */
import type { Clock } from '../core/clock.js';
import { toTgettyError } from '../core/errors.js';
import type { Line } from '../line/line.js';
import { DEFAULT_SEND_LIMITS, FaxSender, type SendCommand, type SendLimits, type SendPage, type SendResult, type SendSettings, type SentPage } from './class2/send.js';
import { driveOnLine } from './drive.js';
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
  return driveOnLine<SendCommand, SendResult>({
    line: o.line,
    clock: o.clock,
    machine: tx,
    begin: (run) => {
      o.abort?.then((why) => run(tx.abort(why)), () => undefined);
      run(tx.start());
    },
    onData: (b) => o.log.dump?.('got: ', b.length > 200 ? b.subarray(0, 200) : b),
    onSend: (bytes) => {
      if (bytes.length < 200) o.log.dump?.('send: ', bytes);
      else o.log.noise(`send: ${bytes.length} bytes of page data`);
    },
    writeFailed: (e, run) => {
      o.log.warn(`fax: write failed: ${toTgettyError(e).message}`);
      run(tx.carrierLost());
    },
    other: (c) => {
      if (c.type === 'page') o.onPage?.(c.page);
      else if (c.type === 'log') o.log[c.level](c.text);
    },
  });
}
