import { join } from 'node:path';
import { tmpdir } from 'node:os';
import type { SystemPaths } from '../core/paths.js';

/**
 * Every system path tgetty touches, with its default and the long option that moves
 * it. Tests pass temp dirs for all of them, so they never disturb the machine.
 */

export type { SystemPaths } from '../core/paths.js';

/** The system paths, as root uses them. */
export const SYSTEM_PATHS: SystemPaths = {
  configDir: undefined,
  lockDir: '/var/lock',
  logDir: '/var/log/tgetty',
  utmp: '/var/run/utmp',
  wtmp: '/var/log/wtmp',
  runDir: '/run/tgetty',
  records: '/var/lib/tgetty/calls.sqlite',
};

/**
 * A normal user cannot write /run, /var/log or /var/lib: run dir, logs and call records
 * then default to the user's XDG dirs, so `tgetty status` and `tgetty calls` in another
 * terminal find a daemon the same user started without any option. (The demo keeps its
 * own paths in its demo dir and prints the options that reach it.)
 */
export function defaultPaths(uid: number = process.getuid?.() ?? 0, env: NodeJS.ProcessEnv = process.env): SystemPaths {
  if (uid === 0) return { ...SYSTEM_PATHS };
  const home = env.HOME ?? `/tmp/tgetty-${uid}`;
  const state = env.XDG_STATE_HOME ?? join(home, '.local', 'state');
  const runtime = env.XDG_RUNTIME_DIR ?? join(tmpdir(), `tgetty-${uid}`);
  return {
    ...SYSTEM_PATHS,
    logDir: join(state, 'tgetty', 'log'),
    runDir: join(runtime, 'tgetty'),
    records: join(state, 'tgetty', 'calls.sqlite'),
  };
}

export const DEFAULT_PATHS: SystemPaths = defaultPaths();

/** [long option, key, help] for each path: one list for every subcommand. */
export const PATH_OPTIONS: readonly [string, keyof SystemPaths, string][] = [
  ['--config-dir <dir>', 'configDir', 'config directory (default /etc/mgetty, else /etc/mgetty+sendfax)'],
  ['--lock-dir <dir>', 'lockDir', `UUCP lock directory (default ${DEFAULT_PATHS.lockDir})`],
  ['--log-dir <dir>', 'logDir', `per-line log directory (default ${DEFAULT_PATHS.logDir})`],
  ['--utmp <file>', 'utmp', `utmp file (default ${DEFAULT_PATHS.utmp})`],
  ['--wtmp <file>', 'wtmp', `wtmp file (default ${DEFAULT_PATHS.wtmp})`],
  ['--run-dir <dir>', 'runDir', `pid files and the status socket (default ${DEFAULT_PATHS.runDir})`],
  ['--records <file>', 'records', `call records database (default ${DEFAULT_PATHS.records})`],
];

export function pathsFrom(opts: Record<string, unknown>): SystemPaths {
  const out: SystemPaths = { ...DEFAULT_PATHS };
  for (const [, key] of PATH_OPTIONS) {
    const v = opts[key];
    if (typeof v === 'string' && v !== '') out[key] = v;
  }
  return out;
}
