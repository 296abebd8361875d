/**
 * What a line's runner needs from the system, for the daemon and for single-line mode
 * (src/cli/single-line.ts): the line's name and path, the device's owner and mode,
 * dialin.config and the nologin file looked at per call without a syscall while
 * nothing changed, the hook programs.
 */
import { chownSync, chmodSync, existsSync, lstatSync, statSync } from 'node:fs';
import { basename, isAbsolute } from 'node:path';
import type { Clock } from '../core/clock.js';
import { loadDialinConfig, type LoadedDialinConfig } from '../config/load.js';
import { evaluateDialin } from '../config/dialin-config.js';
import type { Logger } from '../log/logger.js';
import { openTtyLine } from '../line/tty-line.js';
import { getgrnam, getpwnam } from '../os/passwd.js';
import type { RunnerDeps } from './runner.js';
import type { LineSettings } from './settings.js';
import { hookRunner } from './hooks.js';
import { fileStamp, stampOf } from './file-stamps.js';

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
 * call, so edits apply without a restart), the hook programs, the nologin file, and the
 * takeover of what an earlier getty left on the line (login/takeover.ts: it writes utmp,
 * which is the login layer's; the caller passes it in).
 */
export function systemRunnerDeps(
  settings: LineSettings,
  log: Logger,
  configDir: string,
  clock: Clock,
  takeOver?: () => Promise<void>,
): Pick<RunnerDeps, 'openLine' | 'prepareDevice' | 'takeOver' | 'screen' | 'runHook' | 'nologinPresent' | 'prepareIdle'> {
  const dialinPath = `${configDir}/dialin.config`;
  const nologinName = `nologin.${settings.devId}`;
  return {
    openLine: () => openTtyLine(settings.path, { clock }),
    prepareDevice: () => prepareDevice(settings, log),
    ...(takeOver !== undefined ? { takeOver } : {}),
    screen: (callerId) => {
      const d = currentDialinConfig(dialinPath);
      if (d.parsed === undefined) return { allowed: true, why: 'no dialin.config' };
      const r = evaluateDialin(d.parsed.tokens, callerId);
      return { allowed: r.accept, why: r.reason };
    },
    runHook: hookRunner(log),
    nologinPresent: () => nologinPresent(settings.nologinDir, nologinName),
    // While idle: the RING then finds both cached behind their directory watches (no
    // watch set up, no stat, no read between the RING and the ATA; issue 21).
    prepareIdle: () => {
      currentDialinConfig(dialinPath);
      nologinPresent(settings.nologinDir, nologinName);
    },
  };
}
