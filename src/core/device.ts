/**
 * The Device vocabulary of mgetty (spec §0): how a tty argument becomes the names of
 * its log, pid, lock and nologin files. Pure; shared by config, line, log and session.
 */

/** The Device: the tty argument with one leading `/dev/` removed (`/dev/ttyS3` -> `ttyS3`). */
export function deviceFromArg(arg: string): string {
  return arg.startsWith('/dev/') ? arg.slice(5) : arg;
}

/** Path to open for a Device: absolute names stay, others live under /dev. */
export function devicePath(device: string): string {
  return device.startsWith('/') ? device : `/dev/${device}`;
}

/** DevID: the Device with every `/` replaced by `-` (log, pid and nologin file names). */
export function devId(device: string): string {
  return device.replaceAll('/', '-');
}

/** Lock name: the part of the Device after its last `/` (for `LCK..<name>`). */
export function lockName(device: string): string {
  return device.slice(device.lastIndexOf('/') + 1);
}

/** Log infix: the last 3 characters of the Device (e.g. `yS0`). */
export function infix(device: string): string {
  return device.slice(-3);
}
