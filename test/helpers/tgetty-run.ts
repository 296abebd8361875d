/**
 * Run the real `tgetty` binary (bin/tgetty.mjs) on one line with every system path in
 * a temp dir: config dir, lock dir, log dir, run dir, utmp, wtmp. The child is ours and
 * is killed by pid in stop().
 */
import type { ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startChild } from './child.js';
import { tempSystem } from './temp-system.js';

export interface TgettyRun {
  proc: ChildProcess;
  root: string;
  paths: { config: string; lock: string; log: string; run: string; utmp: string; wtmp: string };
  exited: Promise<number | null>;
  logText(device: string): string;
  stderr(): string;
  stop(): Promise<void>;
}

export interface TgettyRunOptions {
  /** The line argument (an absolute path). */
  tty: string;
  args?: string[];
  config?: string;
  /** login.config text; `{CONFIG}` is replaced by the config dir (for scripts placed there). */
  loginConfig?: string;
  dialinConfig?: string;
  /** Extra files in the config dir: name -> content (executables get mode 0755 if they start with #!). */
  files?: Record<string, string>;
  /** The environment of the tgetty process (default: the test's). */
  env?: NodeJS.ProcessEnv;
  /** Start it with this fd open on /etc/hostname (as a careless shell would leave one). */
  extraFd?: number;
}

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');

export function startTgetty(o: TgettyRunOptions): TgettyRun {
  const sys = tempSystem('tgetty-run-');
  const root = sys.root;
  const paths = { config: sys.etc, lock: sys.lock, log: sys.log, run: sys.run, utmp: sys.utmp, wtmp: sys.wtmp };
  if (o.config !== undefined) writeFileSync(join(paths.config, 'mgetty.config'), o.config);
  if (o.loginConfig !== undefined) {
    const p = join(paths.config, 'login.config');
    writeFileSync(p, o.loginConfig.replaceAll('{CONFIG}', paths.config));
    chmodSync(p, 0o600);
  }
  if (o.dialinConfig !== undefined) writeFileSync(join(paths.config, 'dialin.config'), o.dialinConfig);
  for (const [name, text] of Object.entries(o.files ?? {})) {
    const p = join(paths.config, name);
    writeFileSync(p, text);
    if (text.startsWith('#!')) chmodSync(p, 0o755);
  }
  const args = [
    BIN,
    ...sys.args,
    ...(o.args ?? []),
    o.tty,
  ];
  const spawnOpts = o.env !== undefined ? { env: o.env } : {};
  // bash opens the fd without close-on-exec and execs node: same pid, so stop() still ends it by pid.
  const child =
    o.extraFd !== undefined
      ? startChild('/bin/bash', ['-c', `exec ${o.extraFd}</etc/hostname; exec "$0" "$@"`, process.execPath, ...args], spawnOpts)
      : startChild(process.execPath, args, spawnOpts);
  return {
    proc: child.proc,
    root,
    paths,
    exited: child.exited,
    logText: (device) => {
      const f = join(paths.log, `${device}.log`);
      return existsSync(f) ? readFileSync(f, 'utf8') : '';
    },
    stderr: () => child.output(),
    stop: async () => {
      await child.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
