/**
 * The carrier watch of a real tty (TtyLine.watchCarrier): while a child holds the
 * device, poll it for a hangup and for DCD. It keeps one fd on the device, opened
 * O_RDONLY|O_NOCTTY|O_NONBLOCK (so it can never become our controlling tty, never
 * waits for carrier) and NEVER read: only the FIONREAD and TIOCMGET ioctls are done on
 * it, so no byte of the caller's typing reaches the daemon. TIOCMIWAIT would block the
 * main thread, hence the poll.
 */
import { realpathSync } from 'node:fs';
import type { Clock, TimerHandle } from '../core/clock.js';
import { toTgettyError } from '../core/errors.js';
import { closeFd, getModemBits, inputPending, openFd, O_NOCTTY, O_NONBLOCK, O_RDONLY, TIOCM_CAR } from './libc.js';
import type { CarrierWatch, CarrierWatchOptions } from './line.js';

/** The flags of the watch's fd (tested: FIONREAD and TIOCMGET work on it). */
export const CARRIER_WATCH_FLAGS = O_RDONLY | O_NOCTTY | O_NONBLOCK;

export function watchTtyCarrier(path: string, clock: Clock, opts: CarrierWatchOptions, onLost: (why: string) => void): CarrierWatch {
  let fd: number | undefined;
  try {
    fd = openFd(realpathSync(path), CARRIER_WATCH_FLAGS);
  } catch (err) {
    opts.onError?.(toTgettyError(err, 'LINE_OPEN_FAILED', { path }));
  }
  let stopped = false;
  let timer: TimerHandle | undefined;
  const stop = (): void => {
    stopped = true;
    timer?.cancel();
    if (fd !== undefined) closeFd(fd);
    fd = undefined;
  };
  const lost = (why: string): void => {
    stop();
    onLost(why);
  };
  const check = (): void => {
    if (stopped) return;
    if (fd === undefined) return lost('the line cannot be opened');
    try {
      // Fails (EIO) once the tty is hung up: pty master closed, or DCD loss without CLOCAL.
      inputPending(fd);
    } catch {
      return lost('the line hung up');
    }
    if (!opts.ignoreDcd) {
      try {
        if ((getModemBits(fd) & TIOCM_CAR) === 0) return lost('DCD is low');
      } catch {
        // No modem lines (pty): the hangup check above is all there is.
      }
    }
    timer = clock.setTimeout(check, opts.intervalMs);
  };
  timer = clock.setTimeout(check, opts.intervalMs);
  return { stop, get fd() { return fd; } };
}
