/**
 * `tgetty [options] ttyS3`: one line in one process, as mgetty runs under init or a
 * systemd template unit. Reads the config, runs the line until CONNECT, then the login
 * phase, and exits with mgetty's exit code for the path taken, so the respawn
 * re-initialises the modem.
 */
import { systemClock, type Clock } from '../core/clock.js';
import type { LinePaths } from '../core/paths.js';
import { findConfigDir, loadConfigFiles } from '../config/load.js';
import { resolvePort, effectiveHasErrors } from '../config/effective.js';
import { formatDiagnostic } from '../config/diagnostics.js';
import type { ConfigValue } from '../config/keywords.js';
import { createLogger, type LogFormat } from '../log/logger.js';
import { writePidFile, removePidFile } from '../line/pidfile.js';
import { LineRunner, type RunResult } from '../session/runner.js';
import { lineSettings } from '../session/settings.js';
import { lineName, systemRunnerDeps } from '../session/single-line.js';
import { afterConnect } from '../login/after-connect.js';
import { LoginConfigCache } from '../login/login-config-cache.js';
import { takeOver } from '../login/takeover.js';

export interface SingleLineOptions {
  tty: string;
  overrides: Record<string, ConfigValue>;
  paths: LinePaths;
  logFormat: LogFormat;
  clock?: Clock;
}

export async function runSingleLine(o: SingleLineOptions): Promise<number> {
  const clock = o.clock ?? systemClock;
  const { device, path } = lineName(o.tty);
  const cliDebug = o.overrides.debug;
  const log = createLogger({ device, level: typeof cliDebug === 'number' ? cliDebug : 4, logDir: o.paths.logDir, format: o.logFormat, clock });
  log.mesg(`tgetty: line ${device} (${path}), pid ${process.pid}`);

  const dir = findConfigDir(o.paths.configDir);
  const files = loadConfigFiles(dir);
  const eff = resolvePort(files.mgetty.parsed, device, o.overrides);
  for (const d of [...files.diagnostics, ...eff.diagnostics.filter((x) => x.line === 0 || x.code === 'CLI_BAD_SPEED' || x.code === 'CONFIG_OUT_OF_RANGE')]) {
    if (d.kind === 'missing-file') log.mesg(formatDiagnostic(d));
    else if (d.severity === 'error') log.error(formatDiagnostic(d));
    else log.warn(formatDiagnostic(d));
  }
  if (effectiveHasErrors(eff)) {
    log.fatal('invalid configuration, exiting');
    process.stderr.write(`tgetty: invalid configuration for ${device}:\n${eff.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n')}\n`);
    return 2;
  }
  const settings = lineSettings(eff, path);
  if (typeof cliDebug !== 'number') log.setLevel(settings.debug);

  try {
    writePidFile(o.paths.runDir, settings.devId);
  } catch (err) {
    log.warn('cannot write the pid file', { err });
  }

  const deps = systemRunnerDeps(settings, log, dir, clock, () => takeOver(settings, log, clock, o.paths));
  const runner = new LineRunner({ settings, clock, log, lockDir: o.paths.lockDir, ...deps });

  const signals: NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2'];
  const onSignal = (sig: NodeJS.Signals): void => {
    log.mesg(`got signal ${sig}`);
    if (sig === 'SIGUSR1') runner.deliver({ type: 'virtual-ring' });
    else runner.deliver({ type: 'signal', signal: sig as 'SIGTERM' | 'SIGINT' | 'SIGQUIT' | 'SIGHUP' | 'SIGUSR2' });
  };
  for (const s of signals) process.on(s, onSignal);

  let result: RunResult;
  try {
    result = await runner.run();
  } catch (err) {
    log.fatal('internal error', { err });
    for (const s of signals) process.off(s, onSignal);
    log.close();
    return 33;
  }
  for (const s of signals) process.off(s, onSignal);

  let code: number;
  if (result.kind === 'ended') {
    code = result.exitCode;
  } else {
    // One call per process: login.config is read once, on the way to the prompt.
    const lp = await afterConnect({
      result,
      settings,
      log,
      clock,
      paths: o.paths,
      configDir: dir,
      loginConfig: new LoginConfigCache(),
      openLine: deps.openLine,
      lockDir: o.paths.lockDir,
      device,
    });
    code = lp.exitCode;
  }
  removePidFile(o.paths.runDir, settings.devId);
  log.close();
  return code;
}
