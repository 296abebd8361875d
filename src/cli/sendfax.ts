/**
 * `tgetty sendfax [options] PHONE-NUMBER FILE...`: mgetty's sendfax. Takes the first fax
 * line (-l, else sendfax.config's fax-devices) whose UUCP lock it gets, sets the modem up
 * for class 2 / 2.0, dials and sends the pages (src/fax/class2/send.ts), and exits with
 * sendfax's code: 0 sent; 1 command line; 2 no line (locked, cannot open); 3 modem set-up;
 * 4 BUSY; 5 NO DIALTONE; 10 dial failed after the far end may have answered; 11 no XON;
 * 12 a page failed; 15 killed by a signal. Below 10 the attempt cost nothing (faxrunq and
 * `tgetty fax run` retry those).
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock, type Clock } from '../core/clock.js';
import { isTgettyError, toTgettyError } from '../core/errors.js';
import { findConfigDir } from '../config/load.js';
import { resolveSendfaxConfig, type SendfaxConfig } from '../config/sendfax-config.js';
import { SEND_EXIT, type SendResult, type SendSettings, type SentPage } from '../fax/class2/send.js';
import { sendFaxCall } from '../fax/send-call.js';
import { pollFaxCall, type PollResult } from '../fax/poll-call.js';
import { inResolution, loadInputFile, type InputPage } from '../fax/send-input.js';
import type { Line } from '../line/line.js';
import { lockDirProblem, makeLock, removeLock } from '../line/lock.js';
import { openTtyLine } from '../line/tty-line.js';
import { createLogger, type Logger } from '../log/logger.js';
import { logField } from '../log/format.js';
import { LogLevel } from '../log/levels.js';
import { childEnv } from '../login/env.js';
import type { SystemPaths } from '../core/paths.js';

const SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

export interface SendfaxOptions {
  phone: string | undefined;
  files: string[];
  verbose: boolean;
  debug: number | undefined;
  normal: boolean;
  header: string | undefined;
  poll: boolean;
  lines: string | undefined;
  modemInit: string | undefined;
  pollDir: string | undefined;
  rename: boolean;
  stdin: boolean;
  dialPrefix: string | undefined;
  maxSpeed: number | undefined;
  portSpeed: number | undefined;
  modemType: string | undefined;
  faxId: string | undefined;
  maxTries: number | undefined;
  /** -A: an accounting handle for the log line. */
  account?: string;
  paths: SystemPaths;
  out: (s: string) => void;
  err: (s: string) => void;
  clock?: Clock;
}

/** `ttyS0` -> /dev/ttyS0, a path stays: as `--lines` and mgetty's -l take them. */
export function linePath(name: string): { device: string; path: string } {
  if (name.startsWith('/')) return { device: name.startsWith('/dev/') ? name.slice(5) : (name.split('/').pop() ?? name), path: name };
  return { device: name, path: `/dev/${name}` };
}

/** Every -l / fax-devices entry (`:` separated, as sendfax; `,` too, as --lines). */
export function splitLines(v: string): string[] {
  return v.split(/[:,]/).map((x) => x.trim()).filter((x) => x !== '');
}

function readSendfaxConfig(dir: string, device: string | undefined, log?: Logger): SendfaxConfig {
  const file = join(dir, 'sendfax.config');
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    log?.noise(`no ${file}: compiled-in defaults`);
  }
  const r = resolveSendfaxConfig(text, device);
  for (const d of r.diagnostics) log?.warn(`${file}:${d.line}: ${d.message}`);
  for (const k of r.ignored) log?.noise(`${file}: '${k}' is read but has no effect in tgetty`);
  return r.config;
}

function settingsFor(c: SendfaxConfig, o: SendfaxOptions, phone: string): SendSettings {
  const type = o.modemType ?? c.modemType;
  return {
    modemType: type === 'cls2' || type === 'c2.0' ? type : 'auto',
    faxId: o.faxId ?? c.faxId,
    maxSpeed: o.maxSpeed ?? c.faxMaxSpeed,
    normal: o.normal || c.normalRes,
    dialPrefix: o.dialPrefix ?? c.dialPrefix,
    phone,
    initCommands: c.modemInit !== undefined ? [c.modemInit] : ['ATQ0V1'],
    extraCommands: [...(o.modemInit !== undefined ? [o.modemInit] : []), ...(c.modemHandshake !== undefined ? [c.modemHandshake] : [])],
    maxTries: o.maxTries ?? c.maxTries,
    maxTriesContinue: c.maxTriesContinue,
    ...(c.resetAfterFail !== undefined ? { resetAfterFail: c.resetAfterFail } : {}),
  };
}

interface Held {
  line: Line;
  device: string;
  locked: boolean;
}

/** The first line that is free: locked, opened, set to raw at the fax speed. */
function takeLine(names: string[], o: SendfaxOptions, log: Logger, speedOf: (device: string) => number): Held | string {
  const reasons: string[] = [];
  for (const name of names) {
    const { device, path } = linePath(name);
    const problem = lockDirProblem(o.paths.lockDir);
    if (problem !== undefined) return `lock directory: ${problem}`;
    let lock;
    try {
      lock = makeLock(o.paths.lockDir, path, { log });
    } catch (err) {
      reasons.push(`${device}: ${toTgettyError(err).message}`);
      continue;
    }
    if (!lock.ok) {
      reasons.push(`${device}: ${lock.error.message}`);
      log.mesg(`${device} is locked, trying the next line`);
      continue;
    }
    try {
      const line = openTtyLine(path);
      line.applyMode({ mode: 'idle-raw', speed: speedOf(device), clocal: true });
      return { line, device, locked: true };
    } catch (err) {
      removeLock(o.paths.lockDir, path);
      reasons.push(`${device}: ${toTgettyError(err).message}`);
    }
  }
  return reasons.join('; ');
}

function hangupText(r: SendResult): string {
  return r.hangupCode === undefined ? '' : r.cls === '2.0' ? `, +FHS:${r.hangupCode.toString(16).toUpperCase().padStart(2, '0')}` : `, +FHNG:${r.hangupCode}`;
}

export async function sendfaxCommand(o: SendfaxOptions): Promise<number> {
  const clock = o.clock ?? systemClock;
  let verbose = o.verbose;
  const say = (s: string): void => {
    if (verbose) o.out(`${s}\n`);
  };
  if (o.phone === undefined || o.phone === '') {
    o.err('tgetty sendfax: no fax number given\nusage: tgetty sendfax [options] PHONE-NUMBER FILE...\n');
    return SEND_EXIT.usage;
  }
  const phone = o.phone;
  const dir = findConfigDir(o.paths.configDir);
  const global = readSendfaxConfig(dir, undefined);
  verbose ||= global.verbose;
  const log = createLogger({ device: 'sendfax', file: join(o.paths.logDir, 'sendfax.log'), level: o.debug ?? global.debug, audit: 'none', clock });
  readSendfaxConfig(dir, undefined, log);
  const done = (code: number): number => {
    log.close();
    return code;
  };
  if (o.header !== undefined) log.warn(`page header ${logField(o.header)}: not put on the pages (sendfax does not either)`);
  if (o.pollDir !== undefined && !o.poll) log.noise('-d: a poll directory is only used for polling');
  const pollDir = o.pollDir ?? '.';
  // The files first: a missing file is a command line error (with -r: already sent, skipped).
  const files = o.files.filter((f) => {
    if (existsSync(f)) return true;
    if (o.rename) {
      log.mesg(`${f} is not there (sent before?): skipped`);
      return false;
    }
    return true;
  });
  const env = childEnv({ inherit: process.env });
  const pages: InputPage[] = [];
  for (const f of files) {
    try {
      const input = await loadInputFile(f, { normal: o.normal || global.normalRes, env });
      for (const n of input.notes) log.mesg(`${f}: ${n}`);
      log.mesg(`${f}: ${input.kind}, ${input.pages.length} page(s)`);
      const fine = !(o.normal || global.normalRes);
      for (const p of input.pages) {
        const r = inResolution(p, fine);
        if (r.converted) log.mesg(`${f} page ${p.pageInFile}: ${fine ? 'normal, sent as fine (every line twice)' : 'fine, sent as normal (every other line)'}`);
        pages.push(r.page);
      }
    } catch (err) {
      o.err(`tgetty sendfax: ${isTgettyError(err) ? err.message : String(err)}\n`);
      return done(SEND_EXIT.usage);
    }
  }
  if (pages.length === 0 && !o.poll) {
    if (o.rename && o.files.length > 0) {
      log.mesg('nothing left to send');
      return done(SEND_EXIT.ok);
    }
    o.err('tgetty sendfax: no pages to send (give files, or -p to poll)\n');
    return done(SEND_EXIT.usage);
  }
  const names = o.stdin ? ['/dev/stdin'] : splitLines(o.lines ?? global.faxDevices.join(':'));
  if (names.length === 0) {
    o.err('tgetty sendfax: no fax line given (-l, or fax-devices in sendfax.config)\n');
    return done(SEND_EXIT.usage);
  }
  // From before the lock is taken: a signal must never leave the lock or the modem behind.
  let onSignal: ((sig: NodeJS.Signals) => void) | undefined;
  const abort = new Promise<string>((resolve) => {
    onSignal = (sig) => resolve(`got signal ${sig}`);
    for (const s of SIGNALS) process.on(s, onSignal);
  });
  const stopSignals = (): void => {
    for (const s of SIGNALS) if (onSignal !== undefined) process.off(s, onSignal);
  };
  const portSpeed = (device: string): number => o.portSpeed ?? readSendfaxConfig(dir, device).speed;
  let held: Held | string;
  if (o.stdin) {
    try {
      held = { line: openTtyLine('/dev/stdin'), device: 'stdin', locked: false };
    } catch (err) {
      held = toTgettyError(err).message;
    }
  } else held = takeLine(names, o, log, portSpeed);
  if (typeof held === 'string') {
    stopSignals();
    o.err(`tgetty sendfax: no fax line free: ${held}\n`);
    log.error(`no fax line free: ${held}`);
    return done(SEND_EXIT.open);
  }
  const { line, device } = held;
  const port = readSendfaxConfig(dir, device, log);
  verbose ||= port.verbose;
  const settings = settingsFor(port, o, phone);
  if (!port.ignoreCarrier) log.noise('ignore-carrier no: has no effect, the carrier is ignored while sending (CLOCAL)');
  say(`Trying fax device '${line.path}'... OK.`);
  log.mesg(`sendfax: ${pages.length} page(s) to ${logField(phone)}${o.poll ? `, then polling into ${logField(pollDir)}` : ''} on ${device}, class ${settings.modemType}, ${settings.normal ? 'normal' : 'fine'}`);
  // The files' pages, to rename each file when its last page is through (-r).
  const lastPageOf = new Map<number, string>();
  pages.forEach((p, i) => {
    if (pages[i + 1]?.file !== p.file) lastPageOf.set(i + 1, p.file);
  });
  const start = clock.monotonic();
  say(`Dialing ${phone}...`);
  let result: SendResult;
  let polled: PollResult | undefined;
  try {
    if (port.openDelayMs > 0) {
      await new Promise<void>((r) => clock.setTimeout(r, port.openDelayMs));
      line.flushInput();
    }
    const faxLog = { mesg: (s: string) => log.mesg(s), warn: (s: string) => log.warn(s), error: (s: string) => log.error(s), noise: (s: string) => log.noise(s), dump: (p: string, b: Uint8Array) => log.dump(LogLevel.JUNK, p, b) };
    const onPage = (p: SentPage): void => {
      say(`page ${p.index} sent${p.status !== 1 && p.status !== 3 ? ` (the receiver reported it bad, +FPTS:${p.status})` : ''}${p.tries > 1 ? `, ${p.tries} tries` : ''}`);
      const file = lastPageOf.get(p.index);
      if (o.rename && file !== undefined) {
        try {
          renameSync(file, `${file}.done`);
        } catch (err) {
          log.warn(`cannot rename ${file} to ${file}.done: ${toTgettyError(err).message}`);
        }
      }
    };
    if (o.poll) {
      // With files: sent first, then the poll in the same call (as sendfax -p PHONE FILE...).
      polled = await pollFaxCall({ line, clock, log: faxLog, settings, pages, onPage, dir: pollDir, device, abort, onPolledPage: (n, f) => say(`polled page ${n}: ${f}`) });
      result = polled.send;
    } else result = await sendFaxCall({ line, clock, log: faxLog, settings, pages, abort, onPage });
  } finally {
    stopSignals();
    line.close();
    if (held.locked) removeLock(o.paths.lockDir, line.path);
  }
  const secs = Math.round((clock.monotonic() - start) / 1000);
  const summary = `phone=${logField(phone)}, dev=${device}, time=${secs}s, pages=${result.pages.length}(+${pages.length - result.pages.length}), bytes=${result.bytes}${hangupText(result)}${o.account !== undefined ? `, acct=${logField(o.account)}` : ''}`;
  const sayPagesSent = (): void => say(`fax sent: ${result.pages.length} page(s) to ${phone}${result.remoteId !== '' ? ` (${result.remoteId})` : ''}`);
  if (polled !== undefined) {
    const n = polled.files.length;
    const sent = result.pages.length;
    if (polled.send.end === 'no-document') {
      // As mgetty's sendfax: said, and not a failure (exit 0); pages given were sent.
      log.mesg(sent > 0 ? 'the remote fax machine has no document to poll' : `##### nothing to poll, ${summary}`);
      if (sent > 0) {
        log.mesg(`##### success, ${summary}`);
        sayPagesSent();
      }
      o.err('tgetty sendfax: the remote fax machine has no document to poll\n');
    } else if (polled.exitCode === SEND_EXIT.ok && polled.received !== undefined) {
      log.mesg(`##### success, polled ${n} page(s), ${summary}`);
      if (sent > 0) sayPagesSent();
      say(`fax polled: ${n} page(s) from ${phone}${polled.received.remoteId !== '' ? ` (${polled.received.remoteId})` : ''}`);
    } else {
      log.error(`##### failed: ${polled.reason}, ${summary}`);
      o.err(`tgetty sendfax: ${polled.reason} (exit ${polled.exitCode})\n`);
    }
    return done(polled.exitCode);
  }
  if (result.exitCode === SEND_EXIT.ok) {
    log.mesg(`##### success, ${summary}`);
    sayPagesSent();
  } else {
    log.error(`##### failed: ${result.reason}, ${summary}`);
    o.err(`tgetty sendfax: ${result.reason} (exit ${result.exitCode})\n`);
  }
  return done(result.exitCode);
}
