/**
 * `tgetty [options] ttyS3`: one line in one process, as mgetty runs under init or a
 * systemd template unit. Reads the config, runs the line until CONNECT, then the login
 * phase, and exits with mgetty's exit code for the path taken, so the respawn
 * re-initialises the modem.
 */
import { chownSync, chmodSync, existsSync, lstatSync, statSync } from 'node:fs';
import { basename, isAbsolute } from 'node:path';
import { systemClock, type Clock } from '../core/clock.js';
import type { LinePaths } from '../core/paths.js';
import { findConfigDir, loadConfigFiles, loadDialinConfig, type LoadedDialinConfig } from '../config/load.js';
import { resolvePort, effectiveHasErrors } from '../config/effective.js';
import { formatDiagnostic } from '../config/diagnostics.js';
import { evaluateDialin } from '../config/dialin-config.js';
import type { ConfigValue } from '../config/keywords.js';
import { createLogger, type Logger, type LogFormat } from '../log/logger.js';
import { openTtyLine } from '../line/tty-line.js';
import { getgrnam, getpwnam, readUtmp } from '../line/libc.js';
import { writePidFile, removePidFile } from '../line/pidfile.js';
import { removeLock } from '../line/lock.js';
import { LineRunner, type RunResult, type RunnerDeps } from './runner.js';
import { lineSettings, type LineSettings } from './settings.js';
import { hookRunner } from './hooks.js';
import { runLoginPhase } from './login-phase.js';
import { hangupAfterCall } from './hangup.js';
import { fileStamp, stampOf } from './file-stamps.js';
import { takeOverLine } from '../line/takeover.js';
import { UtmpWriter, deadRecord } from '../login/utmp.js';


export interface SingleLineOptions {
  tty: string;
  overrides: Record<string, ConfigValue>;
  paths: LinePaths;
  logFormat: LogFormat;
  clock?: Clock;
}

/**
 * The Device name and the path to open. `ttyS3` and `/dev/ttyS3` mean /dev/ttyS3
 * (Device `ttyS3`); any other absolute path (a simulator line, a udev symlink) is
 * opened as given and named by its last component, so `port` sections, lock files and
 * logs use a short name. mgetty cannot open lines outside /dev at all.
 */
export function lineName(tty: string): { device: string; path: string } {
  if (tty.startsWith('/dev/')) return { device: tty.slice(5), path: tty };
  if (isAbsolute(tty)) return { device: basename(tty), path: tty };
  return { device: tty, path: `/dev/${tty}` };
}

/** chown/chmod the device per port-owner, port-group, port-mode (spec §5.1 step 6). */
export function prepareDevice(s: LineSettings, log: Logger): void {
  if (process.getuid?.() !== 0) {
    // Only root may give a device away; a user's own pty needs no change of owner.
    log.noise('not running as root: port-owner and port-group are not applied');
  } else if (s.portOwner !== undefined && s.portOwner !== '') {
    const pw = /^\d+$/.test(s.portOwner) ? { uid: Number(s.portOwner), gid: -1 } : getpwnam(s.portOwner);
    if (pw === undefined) log.error(`port-owner: unknown user '${s.portOwner}', leaving the owner as it is`);
    let gid = pw?.gid ?? -1;
    if (s.portGroup !== undefined && s.portGroup !== '') {
      const gr = /^\d+$/.test(s.portGroup) ? { gid: Number(s.portGroup) } : getgrnam(s.portGroup);
      if (gr === undefined) log.error(`port-group: unknown group '${s.portGroup}'`);
      else gid = gr.gid;
    }
    if (pw !== undefined) {
      try {
        chownSync(s.path, pw.uid, gid);
      } catch (err) {
        log.error(`cannot chown ${s.path}`, { err });
      }
    }
  }
  if (s.portMode !== undefined) {
    try {
      chmodSync(s.path, s.portMode);
    } catch (err) {
      log.error(`cannot chmod ${s.path}`, { err });
    }
  }
}

/** dialin.config as last read, by path: the stat(2) key, and the directory watch's stamp when it can stand in for the stat. */
const dialinCache = new Map<string, { key: string; stamp: number | undefined; loaded: LoadedDialinConfig }>();

/**
 * dialin.config for this call: edits apply to the next call without a restart, as with
 * mgetty, but the file is only read and parsed again when it changed. "Changed" is first
 * asked of the config directory's inotify watch (no syscall on the way from RING to ATA);
 * without a watch, or when the file is a symlink (its target may change out of the
 * watch's sight), stat(2) decides (inode, size, mtime, ctime: ctime also covers
 * chmod/chown, which decide whether it is trusted).
 */
export function currentDialinConfig(path: string): LoadedDialinConfig {
  const stamp = fileStamp(path);
  const hit = dialinCache.get(path);
  if (stamp !== undefined && hit !== undefined && hit.stamp === stamp) return hit.loaded;
  let st;
  try {
    st = statSync(path, { throwIfNoEntry: false });
  } catch {
    // Not ENOENT (EACCES, ENOTDIR...): no cache; the loader reports what is wrong.
    dialinCache.delete(path);
    return loadDialinConfig(path);
  }
  // Milliseconds as doubles keep sub-microsecond digits; a bigint stat cost more than the rest of the check.
  const key = st === undefined ? 'missing' : `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  const trustStamp = stamp !== undefined && (st === undefined || !isSymlink(path));
  const loaded = hit !== undefined && hit.key === key ? hit.loaded : loadDialinConfig(path);
  dialinCache.set(path, { key, stamp: trustStamp ? stamp : undefined, loaded });
  return loaded;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return true; // cannot tell: do not trust the stamp
  }
}

/** The nologin file as last looked at, by path, with the stamp of that look. */
const nologinCache = new Map<string, { stamp: number; present: boolean }>();

/**
 * Is `dir/name` there (mgetty's NOLOGIN file: refuse calls)? Asked on every RING: the
 * answer is kept until the directory's inotify watch reports a change of that name, so a
 * RING costs no syscall here. A symlink is looked at every time (its target may change
 * out of the watch's sight); without a watch, every time too.
 */
export function nologinPresent(dir: string, name: string): boolean {
  const path = `${dir}/${name}`;
  const stamp = stampOf(dir, name);
  const hit = nologinCache.get(path);
  if (stamp !== undefined && hit !== undefined && hit.stamp === stamp) return hit.present;
  let present: boolean;
  let stable = stamp !== undefined;
  try {
    const st = lstatSync(path, { throwIfNoEntry: false });
    if (st === undefined) present = false;
    else if (st.isSymbolicLink()) {
      present = existsSync(path);
      stable = false;
    } else present = true;
  } catch {
    present = existsSync(path);
    stable = false;
  }
  if (stable && stamp !== undefined) nologinCache.set(path, { stamp, present });
  else nologinCache.delete(path);
  return present;
}

/**
 * The parts of a runner that touch the system: the device, dialin.config (checked per
 * call, so edits apply without a restart), the hook programs, the nologin file.
 */
export function systemRunnerDeps(
  settings: LineSettings,
  log: Logger,
  configDir: string,
  clock: Clock,
  utmp?: { utmp: string; wtmp: string },
): Pick<RunnerDeps, 'openLine' | 'prepareDevice' | 'takeOver' | 'screen' | 'runHook' | 'nologinPresent'> {
  const dialinPath = `${configDir}/dialin.config`;
  const nologinName = `nologin.${settings.devId}`;
  return {
    openLine: () => openTtyLine(settings.path, { clock }),
    prepareDevice: () => prepareDevice(settings, log),
    ...(utmp !== undefined ? { takeOver: () => takeOver(settings, log, clock, utmp) } : {}),
    screen: (callerId) => {
      const d = currentDialinConfig(dialinPath);
      if (d.parsed === undefined) return { allowed: true, why: 'no dialin.config' };
      const r = evaluateDialin(d.parsed.tokens, callerId);
      return { allowed: r.accept, why: r.reason };
    },
    runHook: hookRunner(log),
    nologinPresent: () => nologinPresent(settings.nologinDir, nologinName),
  };
}

/**
 * The one takeover of a line, for the daemon and single-line mode alike (see
 * src/line/takeover.ts): after `kill -9` of a getty mid-call, its session must not keep
 * the tty, nor its utmp record. Grace between SIGHUP and SIGKILL: hangup-grace.
 */
async function takeOver(s: LineSettings, log: Logger, clock: Clock, paths: { utmp: string; wtmp: string }): Promise<void> {
  const writer = new UtmpWriter({ utmpFile: paths.utmp, wtmpFile: paths.wtmp, clock, log });
  await takeOverLine({
    path: s.path,
    clock,
    log,
    graceMs: s.hangupGraceS * 1000,
    utmp: { read: () => readUtmp(paths.utmp), markDead: (r) => writer.put({ ...deadRecord(r.line, r.pid, clock.now()), id: r.id }) },
  });
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

  const deps = systemRunnerDeps(settings, log, dir, clock, o.paths);
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
    const lp = await runLoginPhase({ result, settings, log, clock, paths: o.paths, configDir: dir, files });
    code = lp.exitCode;
    if (lp.outcome !== 'hangup' || lp.exit !== undefined) {
      await hangupAfterCall(deps.openLine, { clock, log, speed: settings.speed, dtrMs: settings.toggleDtrWaitMs, dtrByClose: settings.dtrByClose });
    }
    // The lock was ours for the whole call; mgetty leaves it behind to go stale (Q14).
    removeLock(o.paths.lockDir, device, { pid: process.pid });
  }
  removePidFile(o.paths.runDir, settings.devId);
  log.close();
  return code;
}
