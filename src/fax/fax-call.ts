/**
 * A fax call after the modem reported it (+FCON, +FCO, FAX): the reception into the spool
 * (receive-call.ts), the notify program as mgetty runs it, and the audit line. The
 * caller (src/login/after-connect.ts) hangs up and frees the lock afterwards, as for a
 * data call.
 *
 * The notify program gets mgetty's arguments, `<hangup code> <sender id> <pages> <file>...`,
 * but as argv words with no shell in between: mgetty builds a shell command line from the
 * sender id, which the far end chooses.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants as fsc } from 'node:fs';
import type { Clock } from '../core/clock.js';
import type { Line } from '../line/line.js';
import type { Logger } from '../log/logger.js';
import { logField } from '../log/format.js';
import { getgrnam, getpwnam } from '../os/passwd.js';
import type { FaxClass } from './class2/init.js';
import { receiveFaxCall, type FaxCallOutcome } from './receive-call.js';

export interface FaxReceiveSettings {
  spoolIn: readonly string[];
  minFreeKb: number;
  owner: string | undefined;
  group: string | undefined;
  mode: number;
}

export interface FaxCallOptions {
  line: Line;
  cls: FaxClass;
  device: string;
  clock: Clock;
  log: Logger;
  fax: FaxReceiveSettings;
  leftover: Uint8Array;
  callerId: string;
  callerName: string;
  /** The notify program (mgetty: /etc/mgetty/new_fax) and its environment; skipped when it is not executable. */
  notify?: { program: string; env: Record<string, string> };
}

/** What the call records and single-line mode's exit code get. */
export interface FaxCallResult {
  outcome: FaxCallOutcome;
  /** 0 when every page arrived and was stored. */
  exitCode: number;
  ok: boolean;
}

/** The hang-up code for the notify program: the modem's, or -1 for our side's failures (spool, time-out). */
export function notifyCode(o: FaxCallOutcome): number {
  if (o.error !== undefined) return -1;
  if (o.result.hangupCode !== undefined) return o.result.hangupCode;
  return o.result.end === 'complete' ? 0 : -1;
}

function owner(fax: FaxReceiveSettings, log: Logger): { uid: number; gid: number } | undefined {
  if (fax.owner === undefined && fax.group === undefined) return undefined;
  const pw = fax.owner !== undefined ? getpwnam(fax.owner) : undefined;
  const gr = fax.group !== undefined ? getgrnam(fax.group) : undefined;
  if (fax.owner !== undefined && pw === undefined) log.warn(`fax-owner ${logField(fax.owner)} is not a user: files stay root's`);
  if (fax.group !== undefined && gr === undefined) log.warn(`fax-group ${logField(fax.group)} is not a group`);
  return { uid: pw?.uid ?? process.getuid?.() ?? 0, gid: gr?.gid ?? pw?.gid ?? process.getgid?.() ?? 0 };
}

async function runNotify(program: string, args: string[], env: Record<string, string>, log: Logger): Promise<void> {
  try {
    accessSync(program, fsc.X_OK);
  } catch {
    log.noise(`fax notify program ${program} not there: not run`);
    return;
  }
  await new Promise<void>((resolve) => {
    const child = spawn(program, args, { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const timer = setTimeout(() => {
      log.warn(`fax notify program ${program} still running after 60 s: killing it`);
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, 60_000);
    child.stderr.on('data', (b: Buffer) => log.noise(`${program}: ${b.toString('utf8').trimEnd()}`));
    child.on('error', (err) => {
      log.error(`cannot run the fax notify program ${program}`, { err });
      clearTimeout(timer);
      resolve();
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

export async function runFaxCall(o: FaxCallOptions): Promise<FaxCallResult> {
  o.log.mesg(`fax call (class ${o.cls}): receiving`);
  const ids = owner(o.fax, o.log);
  const outcome = await receiveFaxCall({
    line: o.line,
    clock: o.clock,
    log: o.log,
    device: o.device,
    // +FBOR=0 (class 2) and +FBO=1 (class 2.0): pages arrive first bit on top, as G3 files have it.
    lsbFirst: false,
    leftover: o.leftover,
    spool: { dirs: o.fax.spoolIn, minFreeKb: o.fax.minFreeKb, mode: o.fax.mode, ...(ids !== undefined ? { owner: ids } : {}) },
  });
  const r = outcome.result;
  const code = notifyCode(outcome);
  // pages= counts the pages stored; when our side failed (no spool dir, disk full) the end
  // says so, with how the call itself ended and how many pages came.
  const end = outcome.error !== undefined
    ? `spool-failed, call=${r.end}, received=${r.pages.length}, error=${logField(outcome.error.message)}`
    : `${r.end}${r.partialPage ? ' (a page broke off)' : ''}`;
  o.log.audit(
    `fax dev=${o.device}, pid=${process.pid}, caller=${logField(o.callerId)}, name=${logField(o.callerName)}, id=${logField(r.remoteId)}, ` +
      `+FHNG=${r.hangupCode ?? -1}, pages=${outcome.pageFiles.length}, end=${end}`,
  );
  if (outcome.pdf !== undefined) o.log.mesg(`fax stored: ${outcome.pageFiles.length} page(s), ${outcome.pdf}`);
  if (o.notify !== undefined && outcome.pageFiles.length > 0) {
    await runNotify(o.notify.program, [String(code), r.remoteId, String(outcome.pageFiles.length), ...outcome.pageFiles], o.notify.env, o.log);
  }
  const ok = code === 0 && outcome.error === undefined;
  return { outcome, exitCode: 0, ok };
}
