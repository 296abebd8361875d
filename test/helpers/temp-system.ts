/**
 * A throw-away system tree for one test or benchmark run: config, lock, log and run dirs
 * plus empty utmp and wtmp files under one mkdtemp root, so nothing touches the machine's
 * /etc, /run or /var. The caller removes `root` when done.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LinePaths } from '../../src/core/paths.js';

export interface TempSystem {
  root: string;
  /** A dir for the simulated modems' ptys. */
  sim: string;
  etc: string;
  lock: string;
  log: string;
  run: string;
  utmp: string;
  wtmp: string;
  /** The same paths as the daemon takes them. */
  paths: LinePaths;
  /** The same paths as command-line options: --config-dir ... --wtmp. */
  args: string[];
}

export function tempSystem(prefix: string): TempSystem {
  return systemTreeAt(mkdtempSync(join(tmpdir(), prefix)));
}

/** The same tree in a directory the caller made (or one to be made) and will remove. */
export function systemTreeAt(root: string): TempSystem {
  mkdirSync(root, { recursive: true });
  const d = (name: string): string => join(root, name);
  const s = { root, sim: d('sim'), etc: d('etc'), lock: d('lock'), log: d('log'), run: d('run'), utmp: d('utmp'), wtmp: d('wtmp') };
  for (const dir of [s.sim, s.etc, s.lock, s.log, s.run]) mkdirSync(dir);
  writeFileSync(s.utmp, '');
  writeFileSync(s.wtmp, '');
  return {
    ...s,
    paths: { configDir: s.etc, lockDir: s.lock, logDir: s.log, utmp: s.utmp, wtmp: s.wtmp, runDir: s.run },
    args: ['--config-dir', s.etc, '--lock-dir', s.lock, '--log-dir', s.log, '--run-dir', s.run, '--utmp', s.utmp, '--wtmp', s.wtmp],
  };
}
