/**
 * sd_notify(3) without libsystemd: the service manager's protocol is one datagram of
 * newline-separated `KEY=VALUE` assignments sent to the unix socket named by
 * NOTIFY_SOCKET (a path, or `@name` for an abstract socket). Node cannot send unix
 * datagrams, so the socket calls go through src/line/libc.ts.
 *
 * Nothing here throws: a getty must keep answering the phone even when the service
 * manager is gone, so a failed send is reported as `false` and otherwise ignored.
 */
import { sendUnixDatagram } from '../os/unix-socket.js';
import type { TimerHandle } from '../core/clock.js';

type Env = Record<string, string | undefined>;

/**
 * The raw sun_path bytes for a NOTIFY_SOCKET value, or undefined when it is not a
 * form systemd uses (absolute path or `@abstract`). Exported for tests.
 */
export function notifyAddress(value: string | undefined): Buffer | undefined {
  if (value === undefined || value.length < 2) return undefined;
  if (value.startsWith('@')) return Buffer.concat([Buffer.from([0]), Buffer.from(value.slice(1), 'utf8')]);
  if (value.startsWith('/')) return Buffer.from(value, 'utf8');
  return undefined; // vsock:... and relative paths: not supported, and systemd never hands them to a service on Debian 12
}

/**
 * Send `state` (e.g. `READY=1`, or several assignments separated by newlines) to the
 * service manager. Returns true if a datagram was sent, false when NOTIFY_SOCKET is
 * unset or unusable or the send failed.
 */
export function notify(state: string, env: Env = process.env): boolean {
  const addr = notifyAddress(env.NOTIFY_SOCKET);
  if (addr === undefined) return false;
  try {
    sendUnixDatagram(addr, Buffer.from(state, 'utf8'));
    return true;
  } catch {
    return false;
  }
}

/** CLOCK_MONOTONIC in microseconds (libuv's hrtime reads CLOCK_MONOTONIC, the clock systemd compares with). */
function monotonicUsec(): bigint {
  return process.hrtime.bigint() / 1000n;
}

/** The daemon is up: lines are open and the status socket answers. */
export function ready(env: Env = process.env): boolean {
  return notify('READY=1', env);
}

/**
 * A reload (SIGHUP) has begun; send ready() when it is done. MONOTONIC_USEC lets
 * systemd >= 253 (Type=notify-reload) match this message to its reload request;
 * older versions ignore the field.
 */
export function reloading(env: Env = process.env, now: () => bigint = monotonicUsec): boolean {
  return notify(`RELOADING=1\nMONOTONIC_USEC=${now()}`, env);
}

/** Shutdown has begun (sessions are being ended). */
export function stopping(env: Env = process.env): boolean {
  return notify('STOPPING=1', env);
}

/** Free-form status shown by `systemctl status`. One line: newlines would start new assignments. */
export function status(text: string, env: Env = process.env): boolean {
  return notify(`STATUS=${text.replace(/[\r\n]+/g, ' ')}`, env);
}

export interface WatchdogOptions {
  /** Timer source; default: real timers that never keep the process alive on their own. */
  setTimeout?: (fn: () => void, ms: number) => TimerHandle;
  /** Checked before every ping; a false answer skips it, so systemd restarts a wedged daemon. */
  healthy?: () => boolean;
  /** Our pid, for WATCHDOG_PID (default process.pid). */
  pid?: number;
}

export interface Watchdog {
  /** Interval between pings in ms, or undefined when the watchdog is off. */
  readonly intervalMs: number | undefined;
  stop(): void;
}

const unrefTimeout = (fn: () => void, ms: number): TimerHandle => {
  const t = setTimeout(fn, ms);
  t.unref();
  return { cancel: () => clearTimeout(t) };
};

/**
 * Send WATCHDOG=1 every WATCHDOG_USEC/2 when systemd asked for it (WatchdogSec=) and
 * the request is for this process (WATCHDOG_PID unset or ours). The pings come from
 * the event loop, so a daemon stuck in a blocking call or a busy loop stops pinging
 * and gets restarted.
 */
export function startWatchdog(env: Env = process.env, opts: WatchdogOptions = {}): Watchdog {
  const usec = Number(env.WATCHDOG_USEC ?? '');
  const pid = opts.pid ?? process.pid;
  const forUs = env.WATCHDOG_PID === undefined || env.WATCHDOG_PID === '' || Number(env.WATCHDOG_PID) === pid;
  if (!Number.isFinite(usec) || usec <= 0 || !forUs || notifyAddress(env.NOTIFY_SOCKET) === undefined) {
    return { intervalMs: undefined, stop: () => undefined };
  }
  const intervalMs = Math.max(1, Math.floor(usec / 2000));
  const arm = opts.setTimeout ?? unrefTimeout;
  let handle: TimerHandle | undefined;
  let stopped = false;
  const tick = (): void => {
    if (stopped) return;
    if (opts.healthy === undefined || opts.healthy()) notify('WATCHDOG=1', env);
    handle = arm(tick, intervalMs);
  };
  handle = arm(tick, intervalMs);
  return {
    intervalMs,
    stop() {
      stopped = true;
      handle?.cancel();
    },
  };
}

