/**
 * Hang the modem up after a call. DTR is dropped where the line has modem control lines;
 * where it has none (a pty) or the carrier is still up afterwards, the modem is taken
 * back to command mode with the escape sequence (guard time, `+++`, guard time) and told
 * `ATH0`. mgetty relies on HUPCL alone, so a modem whose DTR cannot be seen stays in a
 * call ("rings forever" until someone restarts the getty).
 */
import type { Clock } from '../core/clock.js';
import { showBytes } from '../core/bytes.js';
import type { Line } from '../line/line.js';
import type { Logger } from '../log/logger.js';

/** S12's default guard time is 1 s; a little more to be sure. */
const GUARD_MS = 1_100;
const OK_TIMEOUT_MS = 3_000;

export async function hangupModem(line: Line, opts: { clock: Clock; log: Logger; dtrMs?: number }): Promise<'dtr' | 'ath' | 'failed'> {
  const { clock, log } = opts;
  const dropped = await line.toggleDtr(opts.dtrMs ?? 500);
  const status = line.getModemStatus();
  if (dropped && status !== undefined && !status.dcd) {
    log.mesg('hung up by dropping DTR');
    return 'dtr';
  }
  log.mesg(dropped ? 'carrier still up after dropping DTR: escape and ATH0' : 'no DTR on this line: escape and ATH0 to hang up');
  line.resume();
  await line.waitQuiet(GUARD_MS);
  await line.write('+++');
  const discarded = await line.waitQuiet(GUARD_MS);
  if (discarded.discarded.length > 0) log.noise(`after +++: ${showBytes(discarded.discarded)}`);
  const ok = await new Promise<boolean>((resolve) => {
    let seen = '';
    const onData = (b: Buffer): void => {
      seen += b.toString('latin1');
      if (/(^|[\r\n])OK[\r\n]/.test(seen)) finish(true);
    };
    const t = clock.setTimeout(() => finish(false), OK_TIMEOUT_MS);
    const finish = (v: boolean): void => {
      t.cancel();
      line.off('data', onData);
      resolve(v);
    };
    line.on('data', onData);
    // A CR first ends whatever the modem may have buffered in command mode.
    void line.write('\rATH0\r').catch(() => finish(false));
  });
  line.pause();
  if (!ok) {
    log.warn('modem did not confirm ATH0: the re-initialisation will reset it');
    return 'failed';
  }
  log.mesg('hung up with ATH0');
  return 'ath';
}

/**
 * After a call whose line was handed away: open the line again (CLOCAL on, so the open
 * never waits for carrier), hang up, close. Never throws: a line that cannot even be
 * opened is left to the next initialisation.
 */
export async function hangupAfterCall(openLine: () => Line, opts: { clock: Clock; log: Logger; speed: number; dtrMs?: number }): Promise<void> {
  let line: Line | undefined;
  try {
    line = openLine();
    line.applyMode({ mode: 'idle-raw', speed: opts.speed, clocal: true });
    await hangupModem(line, opts);
  } catch (err) {
    opts.log.warn('hang-up after the call failed', { err });
  } finally {
    line?.close();
  }
}
