/**
 * The runner on a memory line with the simulator's modem (scripted per test) and a FakeClock, cleaned up by
 * t.after: what runner unit tests share. Each open gets a fresh memory line, as
 * reopening a device would; the modem follows it.
 */
import type { TestContext } from 'node:test';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../src/core/clock.js';
import { createMemoryLinePair, type FarEnd } from '../../src/line/memory-line.js';
import { createLogger, type Logger } from '../../src/log/logger.js';
import { resolvePort } from '../../src/config/effective.js';
import { parseMgettyConfig } from '../../src/config/mgetty-config.js';
import { LineRunner, type RunnerDeps, type RunResult } from '../../src/session/runner.js';
import { lineSettings } from '../../src/session/settings.js';
import { drive } from './drive.js';
import { SimModem, type SimModemOptions } from './sim-modem.js';

export interface Rig {
  runner: LineRunner;
  clock: FakeClock;
  modem: SimModem;
  dir: string;
  lockDir: string;
  lockFile: string;
  /** The far end of the line currently open. */
  far: () => FarEnd;
  logText: () => string;
  done: Promise<RunResult>;
}

/** `{DIR}` in the config is replaced by the rig's temp dir (for hook scripts). */
export type Deps = Partial<RunnerDeps> | ((log: Logger) => Partial<RunnerDeps>);

export function rig(t: TestContext, config: string, modemOpts: SimModemOptions = {}, deps: Deps = {}, setup?: (dir: string) => void): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-runner-'));
  const lockDir = join(dir, 'lock');
  const logDir = join(dir, 'log');
  mkdirSync(lockDir);
  setup?.(dir);
  const clock = new FakeClock();
  const first = createMemoryLinePair({ clock, path: '/dev/ttyT0' });
  const modem = new SimModem(first.far, clock, modemOpts);
  let pair: typeof first | undefined = first;
  let far = first.far;
  const eff = resolvePort(parseMgettyConfig(config.replaceAll('{DIR}', dir), 'mgetty.config'), 'ttyT0');
  const settings = lineSettings(eff, '/dev/ttyT0');
  const log = createLogger({ device: 'ttyT0', level: 6, logDir, audit: 'none', clock, stderr: () => undefined });
  const runner = new LineRunner({
    settings,
    clock,
    log,
    lockDir,
    openLine: () => {
      const p = pair ?? createMemoryLinePair({ clock, path: '/dev/ttyT0' });
      if (pair === undefined) modem.attach(p.far);
      pair = undefined;
      far = p.far;
      return p.line;
    },
    nologinPresent: () => false,
    pid: process.pid,
    ...(typeof deps === 'function' ? deps(log) : deps),
  });
  const done = runner.run();
  const r: Rig = {
    runner,
    clock,
    modem,
    dir,
    lockDir,
    lockFile: join(lockDir, 'LCK..ttyT0'),
    far: () => far,
    done,
    logText: () => (existsSync(join(logDir, 'ttyT0.log')) ? readFileSync(join(logDir, 'ttyT0.log'), 'utf8') : ''),
  };
  t.after(async () => {
    // End the runner if a test failed half-way, so no fake timer or watcher is left.
    r.runner.deliver({ type: 'signal', signal: 'SIGTERM' });
    const res = await drive(clock, done).catch(() => undefined);
    if (res?.kind === 'connected') res.line.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return r;
}
