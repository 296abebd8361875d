/**
 * The tail of every call after CONNECT, the same for the daemon and single-line mode:
 * the login stage (runner.ts), then the hang-up (DTR, or +++ ATH0 where DTR cannot be
 * seen) while the lock is still ours, then the lock goes (mgetty leaves it behind to go
 * stale, Q14). The next round re-opens and re-initialises the modem.
 */
import { removeLock } from '../line/lock.js';
import type { Line } from '../line/line.js';
import { hangupAfterCall } from '../session/hangup.js';
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

export async function afterConnect(o: AfterConnectOptions): Promise<LoginPhaseResult> {
  const res = await runLoginPhase(o);
  o.onLoginEnd?.(res);
  // A line that hung up before any session has nobody to hang up on; after a session the
  // modem may still be in the call (a program that ended while the caller stayed).
  if (res.outcome !== 'hangup' || res.exit !== undefined) {
    o.onHangup?.();
    await hangupAfterCall(o.openLine, { clock: o.clock, log: o.log, speed: o.settings.speed, dtrMs: o.settings.toggleDtrWaitMs, dtrByClose: o.settings.dtrByClose });
  }
  try {
    removeLock(o.lockDir, o.device, { pid: process.pid });
  } catch (err) {
    o.log.error('cannot remove the lock file', { err });
  }
  return res;
}
