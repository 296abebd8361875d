/**
 * Fax polling on an open line (`tgetty sendfax -p`): dial asking to poll (FaxSender with
 * `poll`; pages given are sent first, the last with EOM so the call turns round), and
 * when the far end has a document (+FPOLL /
 * +FPO) receive it (FaxReceiver, AT+FDR first), each page stored in the poll dir under
 * mgetty's received-page names (as sendfax -p writes them), then put the modem back.
 * Errors never escape: the result says what happened, with the pages kept.
 */
import type { Clock } from '../core/clock.js';
import { toTgettyError, type TgettyError } from '../core/errors.js';
import type { Line } from '../line/line.js';
import { FaxReceiver, DEFAULT_RECEIVE_LIMITS, type ReceiveCommand, type ReceiveResult } from './class2/receive.js';
import { ModemCleanup, SEND_EXIT, type CleanupCommand, type SendPage, type SendResult, type SendSettings, type SentPage } from './class2/send.js';
import { driveOnLine } from './drive.js';
import type { FaxLog } from './receive-call.js';
import { sendFaxCall } from './send-call.js';
import { FaxSpoolWriter } from './spool.js';

export interface PollCallOptions {
  line: Line;
  clock: Clock;
  log: FaxLog & { dump?: (prefix: string, bytes: Uint8Array) => void };
  settings: SendSettings;
  /** Pages to send before the poll (sendfax -p PHONE FILE...); none: poll only. */
  pages?: readonly SendPage[];
  /** A page sent is through (for -r and -v). */
  onPage?: (page: SentPage) => void;
  /** Where the polled pages go (-d; default the current dir). */
  dir: string;
  /** The line's name, for the file names (the last two characters, as mgetty). */
  device: string;
  /** A received page stored (for -v). */
  onPolledPage?: (index: number, file: string) => void;
  abort?: Promise<string>;
  /** File mode of the pages (default 0644). */
  mode?: number;
}

export interface PollResult {
  /** The dial (and the sending, if any). */
  send: SendResult;
  /** The reception; undefined when there was nothing to poll or the dial failed. */
  received: ReceiveResult | undefined;
  /** Page files written, in order. */
  files: string[];
  /** sendfax's exit code: 0 polled (or nothing there to poll, as sendfax), 12 the poll failed (pages sent or not), else the send's. */
  exitCode: number;
  reason: string;
}

export async function pollFaxCall(o: PollCallOptions): Promise<PollResult> {
  const send = await sendFaxCall({
    line: o.line,
    clock: o.clock,
    log: o.log,
    settings: { ...o.settings, poll: true },
    pages: o.pages ?? [],
    ...(o.onPage !== undefined ? { onPage: o.onPage } : {}),
    ...(o.abort !== undefined ? { abort: o.abort } : {}),
  });
  if (send.end !== 'pollable') {
    return { send, received: undefined, files: [], exitCode: send.exitCode, reason: send.end === 'no-document' ? 'the far end has no document to poll' : send.reason };
  }
  const callTime = o.clock.now();
  const rx = new FaxReceiver(DEFAULT_RECEIVE_LIMITS, { fdrFirst: true });
  const files: string[] = [];
  let writer: FaxSpoolWriter | undefined;
  let error: TgettyError | undefined;
  const received = await driveOnLine<ReceiveCommand, ReceiveResult>({
    line: o.line,
    clock: o.clock,
    machine: rx,
    begin: (run) => {
      o.abort?.then(() => run(rx.carrierLost()), () => undefined);
      run(rx.start());
    },
    onData: (b) => o.log.dump?.('got: ', b.length > 200 ? b.subarray(0, 200) : b),
    onSend: (b) => o.log.dump?.('send: ', b),
    writeFailed: (e, run) => {
      o.log.warn(`fax poll: write failed: ${toTgettyError(e).message}`);
      run(rx.carrierLost());
    },
    other: (c) => {
      if (c.type !== 'page' || error !== undefined) return;
      try {
        writer ??= FaxSpoolWriter.open(o.dir, { fine: (c.page.params?.vr ?? 0) === 1, time: callTime, device: o.device, senderId: rx.remoteId }, { dirs: [o.dir], minFreeKb: 0, mode: o.mode ?? 0o644 });
        const f = writer.writePage(c.index, c.page.data).path;
        files.push(f);
        o.log.mesg(`polled page ${c.index}: ${c.page.data.length} bytes, ${f}`);
        o.onPolledPage?.(c.index, f);
      } catch (e) {
        error = toTgettyError(e, 'FAX_SPOOL_FAILED');
        o.log.error(`polled page ${c.index} not stored: ${error.message}`);
      }
    },
  });
  const ok = received.end === 'complete' && error === undefined;
  // Back to class 0; after a failure the call may still be up: hang up first.
  const cleanup = new ModemCleanup(ok ? ['AT+FCLASS=0'] : ['ATH0', 'AT+FCLASS=0']);
  await driveOnLine<CleanupCommand, undefined>({
    line: o.line,
    clock: o.clock,
    machine: cleanup,
    begin: (run) => run(cleanup.start()),
    onData: (b) => o.log.dump?.('got: ', b),
    onSend: (b) => o.log.dump?.('send: ', b),
    writeFailed: (_e, run) => run(cleanup.carrierLost()),
    other: () => undefined,
  });
  const hangup = received.hangupCode !== undefined ? `, hang-up code ${received.hangupCode}` : '';
  const reason = ok
    ? `${files.length} page(s) polled from '${received.remoteId}'`
    : `polling failed: ${error !== undefined ? error.message : `${received.end}${hangup}`}, ${send.pages.length > 0 ? `${send.pages.length} page(s) sent, ` : ''}${files.length} page(s) stored`;
  return { send, received, files, exitCode: ok ? SEND_EXIT.ok : SEND_EXIT.page, reason };
}
