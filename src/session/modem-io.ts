/**
 * Talking to the modem outside chat scripts: the idle check (AT -> OK) and the RING
 * wait, for the runner's `probe-modem` and `wait-ring` commands.
 */
import { showBytes } from '../core/bytes.js';
import { logField } from '../log/format.js';
import { RingWatcher } from '../modem/ring.js';
import { CommandExchange, EXCHANGE_PRE_DELAY_MS, EXCHANGE_TIMEOUT_MS, type ExchangeOutcome } from '../modem/result.js';
import type { Line } from '../line/line.js';
import type { Cancel } from './cancel.js';
import { consume, sleep, type LineIo } from './line-io.js';
import type { LineInput } from './machine.js';

/** One command and its final result line (OK, ERROR or a time-out); later bytes stay queued. */
export async function exchange(io: LineIo, command: string, signal: Cancel): Promise<ExchangeOutcome> {
  const ex = new CommandExchange(command);
  await sleep(io, EXCHANGE_PRE_DELAY_MS, signal);
  await io.requireLine().write(ex.bytes);
  const out = await consume(
    io,
    signal,
    EXCHANGE_TIMEOUT_MS,
    (chunk) => {
      const r = ex.feed(chunk);
      return r === 'pending' ? undefined : r;
    },
    () => ex.timeout(),
  );
  io.input.unshift(out.rest);
  return out;
}

export async function probeModem(io: LineIo, signal: Cancel): Promise<LineInput> {
  const out = await exchange(io, 'AT', signal);
  if (out.ok) return { type: 'chat-ok' };
  io.log.warn(`modem check: AT got ${out.error}`);
  return { type: 'chat-failed', reason: out.error === 'timeout' ? 'timeout' : 'abort', action: out.error };
}

/** Count the next RING (or take the modem line that came instead), updating the caller data. */
export function waitRing(io: LineIo, timeoutMs: number, signal: Cancel): Promise<LineInput> {
  const watcher = new RingWatcher(io.call, io.s.msnList);
  io.log.mesg("waiting for 'RING'");
  return consume<LineInput>(
    io,
    signal,
    timeoutMs,
    (chunk) => {
      const { events, rest } = watcher.feed(chunk);
      for (const ev of events) {
        if (ev.kind === 'line') {
          if (ev.updates.length > 0) io.log.mesg(`caller data: ${ev.updates.map((u) => `${u.field}=${logField(u.value)}`).join(', ')}`);
          else io.log.noise(`got: ${showBytes(ev.text)}`);
          continue;
        }
        // Keep what came after this event for the next wait.
        io.input.unshift(rest);
        if (ev.kind === 'ring') {
          io.log.mesg(`got RING${ev.distRing !== undefined && ev.distRing > 0 ? ` (distinctive ${ev.distRing})` : ''}: ${showBytes(ev.line)}`);
          if (ev.distRing !== undefined) io.call.distRing = ev.distRing;
          const caller = io.call.callerId !== 'none' || io.call.callerName !== '';
          return { type: 'ring', distRing: ev.distRing ?? 0, caller };
        }
        const action = ev.action === '+FCON' || ev.action === 'FAX' ? 'FAX' : ev.action === '+FHS:' || ev.action === '+FHNG:' ? 'ERROR' : ev.action;
        return { type: 'modem-line', action, line: ev.line };
      }
      return undefined;
    },
    () => ({ type: 'ring-timeout' }),
  );
}

/**
 * A freshly opened line, before the init chat: say what the modem lines show, reset the
 * modem by DTR if asked (toggle-dtr), raw mode at the port speed, the open delay.
 */
export async function readyOpenedLine(io: LineIo, line: Line, signal: Cancel): Promise<void> {
  const status = line.getModemStatus();
  if (status === undefined) {
    io.log.noise('no modem control lines on this device (pty?): DTR and DCD are not available');
  } else {
    if (status.dcd) io.log.warn('DCD is on before the modem was initialised: check the modem settings (AT&C1)');
    if (!status.dsr) io.log.warn('DSR is off: is the modem switched on and connected?');
  }
  if (io.s.toggleDtr) {
    io.log.mesg('lowering DTR to reset the modem');
    const ok = await line.toggleDtr(io.s.toggleDtrWaitMs);
    if (!ok) io.log.noise('DTR toggle not possible on this device');
  }
  line.applyMode({ mode: 'idle-raw', speed: io.s.speed, clocal: true });
  if (io.s.openDelayMs > 0) await sleep(io, io.s.openDelayMs, signal);
}
