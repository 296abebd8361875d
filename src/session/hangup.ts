/**
 * Hang the modem up after a call. DTR is dropped where the line has modem control lines;
 * where it has none (a pty) or the carrier is still up afterwards, the modem is taken
 * back to command mode with the escape sequence (guard time, `+++`, guard time) and told
 * `ATH0`. mgetty relies on HUPCL alone, so a modem whose DTR cannot be seen stays in a
 * call ("rings forever" until someone restarts the getty).
 *
 * A line configured `dtr-by-close` (a tgetty sim line) has a modem that takes the last
 * close of the line as the DTR drop, as HUPCL makes it on a serial port: the getty hangs
 * up by closing the line, and nothing is sent that could reach a caller still connected.
 */
import type { Clock } from '../core/clock.js';
import { showBytes } from '../core/bytes.js';
import type { Line } from '../line/line.js';
import type { Logger } from '../log/logger.js';

/**
 * Before `+++` the modem must have had nothing from us for its guard time (S12, 1 s by
 * default). Half a second more: the modem times the gap from when IT took our last byte,
 * which can lag our write (a loaded modem or simulator, a USB adapter's buffering).
 */
const GUARD_BEFORE_MS = 1_500;
/**
 * After `+++` the modem goes to command mode and says OK once its guard time has passed
 * with nothing more from us. We wait for that OK instead of a fixed time: a byte sent
 * while the modem's guard timer still runs cancels the escape, and `ATH0` then goes to
 * the caller as data (seen in the soak under load: the line stayed in the call until the
 * re-initialisation gave up). Without an OK (result codes off) ATH0 goes out at the end.
 */
const ESCAPE_OK_MS = 3_000;
const OK_TIMEOUT_MS = 3_000;
/** A failed escape is tried once more; each try costs at most GUARD_BEFORE + ESCAPE_OK + OK_TIMEOUT. */
const ESCAPE_TRIES = 2;

/** Resolve true as soon as `re` matches what the line sends from now on, false after `ms`. */
function expectReply(line: Line, clock: Clock, re: RegExp, ms: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    let seen = '';
    const onData = (b: Buffer): void => {
      seen += b.toString('latin1');
      if (seen.length > 256) seen = seen.slice(-256); // a babbling line must not grow this
      if (re.test(seen)) finish(true);
    };
    const t = clock.setTimeout(() => finish(false), ms);
    const finish = (v: boolean): void => {
      t.cancel();
      line.off('data', onData);
      resolve(v);
    };
    line.on('data', onData);
  });
}

const OK_RE = /(^|[\r\n])OK[\r\n]/;
/** After `+++`: OK, or NO CARRIER when the call ended by itself meanwhile; either way in command mode. */
const COMMAND_MODE_RE = /(^|[\r\n])(OK|NO CARRIER)[\r\n]/;

/**
 * After the close that hangs a dtr-by-close line up: time for the modem to see it before
 * the line is opened again (an open that comes first hides the close from the pty master).
 */
export const CLOSE_SETTLE_MS = 50;

export interface HangupOptions {
  clock: Clock;
  log: Logger;
  dtrMs?: number;
  /** The modem hangs up when the line closes (dtr-by-close): on a line without DTR, closing is the hang-up. */
  dtrByClose?: boolean;
  /**
   * The modem is in command mode already (after a fax call: class 2 has no data mode to
   * escape from, and after +FHNG it is on-hook). ATH0 first; the escape only if no OK comes.
   * The escape's guard times would cost 4.5 s for nothing: "+++" in command mode is no escape.
   */
  commandMode?: boolean;
}

/** ATH0 to a modem in command mode: true once it says OK. What it said before is dropped first (a late OK is no answer). */
async function athInCommandMode(line: Line, clock: Clock): Promise<boolean> {
  line.resume();
  try {
    line.flushInput();
    const confirmed = expectReply(line, clock, OK_RE, OK_TIMEOUT_MS);
    await line.write('\rATH0\r');
    return await confirmed;
  } finally {
    line.pause();
  }
}

export async function hangupModem(line: Line, opts: HangupOptions): Promise<'dtr' | 'close' | 'ath' | 'failed'> {
  const { clock, log } = opts;
  const dropped = await line.toggleDtr(opts.dtrMs ?? 500);
  const status = line.getModemStatus();
  if (dropped && status !== undefined && !status.dcd) {
    log.mesg('hung up by dropping DTR');
    return 'dtr';
  }
  if (!dropped && opts.dtrByClose === true) {
    // The caller closes the line: that close is the hang-up (the session's close already was one).
    log.mesg('no DTR on this line, dtr-by-close: hanging up by closing the line');
    return 'close';
  }
  if (opts.commandMode === true && (await athInCommandMode(line, clock))) {
    log.mesg('hung up with ATH0 (the modem was in command mode)');
    return 'ath';
  }
  log.mesg(dropped ? 'carrier still up after dropping DTR: escape and ATH0' : 'no DTR on this line: escape and ATH0 to hang up');
  line.resume();
  try {
    for (let attempt = 1; attempt <= ESCAPE_TRIES; attempt++) {
      const before = await line.waitQuiet(GUARD_BEFORE_MS);
      if (before.discarded.length > 0) log.noise(`before +++: ${showBytes(before.discarded)}`);
      const escaped = expectReply(line, clock, COMMAND_MODE_RE, ESCAPE_OK_MS);
      await line.write('+++');
      if (!(await escaped)) log.noise('no OK after +++ (escape failed, or result codes are off): sending ATH0 anyway');
      const confirmed = expectReply(line, clock, OK_RE, OK_TIMEOUT_MS);
      // A CR first ends whatever the modem may have buffered in command mode.
      await line.write('\rATH0\r');
      if (await confirmed) {
        log.mesg(attempt === 1 ? 'hung up with ATH0' : `hung up with ATH0 (escape try ${attempt})`);
        return 'ath';
      }
      if (attempt < ESCAPE_TRIES) log.mesg('modem did not confirm ATH0: escaping again');
    }
  } finally {
    line.pause();
  }
  log.warn('modem did not confirm ATH0: the re-initialisation will reset it');
  return 'failed';
}

/**
 * After a call whose line was handed away: open the line again (CLOCAL on, so the open
 * never waits for carrier), hang up, close. Never throws: a line that cannot even be
 * opened is left to the next initialisation.
 */
export async function hangupAfterCall(openLine: () => Line, opts: HangupOptions & { speed: number }): Promise<void> {
  let line: Line | undefined;
  let how: Awaited<ReturnType<typeof hangupModem>> | undefined;
  try {
    line = openLine();
    line.applyMode({ mode: 'idle-raw', speed: opts.speed, clocal: true });
    how = await hangupModem(line, opts);
  } catch (err) {
    opts.log.warn('hang-up after the call failed', { err });
  } finally {
    line?.close();
  }
  if (how === 'close') await new Promise<void>((res) => opts.clock.setTimeout(res, CLOSE_SETTLE_MS));
}
