/**
 * The line's UUCP lock as the runner uses it: take and give back our lock (`lock`,
 * `unlock`), see a foreign one (a dial-out program), and the dial-out wait: while another
 * program holds the lock, wait until it is gone (inotify on the lock dir, plus a poll for
 * an owner killed with SIGKILL) and has stayed gone for a moment (`watch-lock`).
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { toTgettyError } from '../core/errors.js';
import { LockTemplate, foreignLockOwner, makeLock, removeLock, watchLock } from '../line/lock.js';
import type { Logger } from '../log/logger.js';
import type { Cancel } from './cancel.js';
import { Interrupted, sleep } from './line-io.js';
import type { LineInput } from './machine.js';

/** How long a lock must stay gone before the line comes back (a dial-out program may re-lock). */
export const DIALOUT_CONFIRM_MS = 2_000;
/**
 * How often a held foreign lock is re-checked while waiting: an owner killed with
 * SIGKILL (cu, minicom) leaves its lock behind, and nobody removes it to wake the
 * watch (mgetty polls every 10 s).
 */
export const DIALOUT_POLL_MS = 5_000;

export interface LockWaitIo {
  clock: Clock;
  log: Logger;
  lockDir: string;
  device: string;
  pid: number;
}

/** Our lock on the line, with its content prepared while idle (a lock on a call is one link(2)). */
export class LineLock {
  private holding = false;
  /** Why the last take() could not create the lock file (undefined: it could). */
  lastError: string | undefined;
  readonly template: LockTemplate;

  constructor(private readonly io: LockWaitIo) {
    this.template = new LockTemplate(io.lockDir, io.pid);
  }

  /** Someone else's lock on the line, as the machine's input, or undefined. */
  foreign(): Extract<LineInput, { type: 'lock-held' }> | undefined {
    const owner = foreignLockOwner(this.io.lockDir, this.io.device, { pid: this.io.pid, log: this.io.log });
    return owner === undefined ? undefined : { type: 'lock-held', ownerPid: owner.pid, ownerCmd: owner.cmd };
  }

  /** Take the lock: lock-free (ours now) or lock-held. */
  take(): LineInput {
    this.lastError = undefined;
    try {
      const r = makeLock(this.io.lockDir, this.io.device, { pid: this.io.pid, log: this.io.log, template: this.template });
      if (r.ok) {
        this.holding = true;
        return { type: 'lock-free' };
      }
      return { type: 'lock-held', ownerPid: r.ownerPid, ownerCmd: r.ownerCmd };
    } catch (err) {
      // Lock dir missing or read-only: mgetty treats a failed lock as "someone else has it".
      this.io.log.error('cannot create the lock file', { err });
      this.lastError = toTgettyError(err).message;
      return { type: 'lock-held', ownerPid: 0, ownerCmd: '(lock file could not be created)' };
    }
  }

  /** Give our lock back (nothing if we hold none). */
  release(): void {
    if (!this.holding) return;
    try {
      removeLock(this.io.lockDir, this.io.device, { pid: this.io.pid });
    } catch (err) {
      this.io.log.error('cannot remove the lock file', { err });
    }
    this.holding = false;
  }
}

/** Resolves when the lock is gone (inotify or poll); rejects Interrupted on cancel. */
function lockGone(io: LockWaitIo, owner: () => boolean, signal: Cancel): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let timer: TimerHandle | undefined;
    let settled = false;
    let off = (): void => undefined;
    const stop = (): void => {
      settled = true;
      w.close();
      timer?.cancel();
      off();
    };
    const w = watchLock(io.lockDir, io.device, (present) => {
      if (present || settled) return;
      stop();
      resolve();
    });
    const onAbort = (): void => {
      if (settled) return;
      stop();
      reject(new Interrupted());
    };
    off = signal.onCancel(onAbort);
    // Judging the lock also removes it when its owner is dead (stale).
    const check = (): void => {
      if (settled) return;
      if (!owner()) {
        stop();
        resolve();
        return;
      }
      timer = io.clock.setTimeout(check, DIALOUT_POLL_MS);
    };
    // The lock may have gone between the first check and the watch.
    check();
  });
}

export async function waitLockGone(io: LockWaitIo, signal: Cancel): Promise<LineInput> {
  const owner = (): boolean => foreignLockOwner(io.lockDir, io.device, { pid: io.pid, log: io.log }) !== undefined;
  for (;;) {
    if (owner()) await lockGone(io, owner, signal);
    await sleep(io, DIALOUT_CONFIRM_MS, signal);
    if (!owner()) return { type: 'lock-free' };
  }
}
