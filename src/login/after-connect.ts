/**
 * The tail of every call after CONNECT, the same for the daemon and single-line mode:
 * the login stage (runner.ts), then the hang-up (DTR, or +++ ATH0 where DTR cannot be
 * seen) while the lock is still ours, then the lock goes (mgetty leaves it behind to go
 * stale, Q14). The next round re-opens and re-initialises the modem.
 */
import { removeLock } from '../line/lock.js';
import type { Line } from '../line/line.js';
import { hangupAfterCall } from '../session/hangup.js';
import { join } from 'node:path';
import type { FaxClass } from '../fax/class2/init.js';
import { hookEnv } from '../session/child-env.js';
import { runLoginPhase, type LoginPhaseOptions, type LoginPhaseResult } from './runner.js';

export interface AfterConnectOptions extends LoginPhaseOptions {
  /** Opens the line again for the hang-up (the runner's openLine). */
  openLine: () => Line;
  lockDir: string;
  /** The line's device name, as the lock file names it. */
  device: string;
  /** The login stage is over, before the hang-up (the daemon ends its call record here). */
  onLoginEnd?: (res: LoginPhaseResult) => void;
  /** The modem is being hung up (the daemon's status says so). */
  onHangup?: () => void;
}

/** A fax call instead of the login stage (src/fax/fax-call.ts), as a login result for the records. */
async function faxPhase(o: AfterConnectOptions, cls: FaxClass): Promise<LoginPhaseResult> {
  const s = o.settings;
  const call = o.result.call;
  const fax = s.fax;
  if (fax === undefined) return { exitCode: 0, outcome: 'failed' };
  const env = hookEnv({ inherit: process.env }, {
    CALLER_ID: call.callerId !== '' ? call.callerId : 'none', CALLER_NAME: call.callerName, CALLED_ID: call.calledNr,
    CALL_DATE: call.callDate, CALL_TIME: call.callTime, DEVICE: s.device,
  });
  // The fax reception (class 2 protocol, T.4 codec, TIFF and PDF writers) is loaded by the
  // first fax call: a getty that only answers data calls never holds it (issue 21).
  const { runFaxCall } = await import('../fax/fax-call.js');
  const res = await runFaxCall({
    line: o.result.line, cls, device: s.device, clock: o.clock, log: o.log, fax, leftover: o.result.leftover,
    callerId: call.callerId, callerName: call.callerName,
    notify: { program: join(o.configDir, 'new_fax'), env },
  });
  o.result.line.close();
  return { exitCode: res.exitCode, outcome: res.ok ? 'completed' : 'failed', loginName: res.outcome.result.remoteId, program: 'fax', fax: res.summary };
}

export async function afterConnect(o: AfterConnectOptions): Promise<LoginPhaseResult> {
  const res = o.result.fax !== undefined ? await faxPhase(o, o.result.fax) : await runLoginPhase(o);
  o.onLoginEnd?.(res);
  // A line that hung up before any session has nobody to hang up on; after a session the
  // modem may still be in the call (a program that ended while the caller stayed).
  if (res.outcome !== 'hangup' || res.exit !== undefined) {
    o.onHangup?.();
    await hangupAfterCall(o.openLine, {
      clock: o.clock,
      log: o.log,
      speed: o.settings.speed,
      dtrMs: o.settings.toggleDtrWaitMs,
      dtrByClose: o.settings.dtrByClose,
      // A fax call leaves the modem in command mode: nothing to escape from.
      commandMode: o.result.fax !== undefined,
    });
  }
  try {
    removeLock(o.lockDir, o.device, { pid: process.pid });
  } catch (err) {
    o.log.error('cannot remove the lock file', { err });
  }
  return res;
}
