/**
 * The fax set-up after the init chat: ask the modem which classes it has (AT+FCLASS=?),
 * choose one with modem-type, and send the class's set-up commands (src/fax/class2/init.ts).
 * A modem without class 2 / 2.0, or one that refuses a set-up command, leaves the line
 * answering data calls only, with the reason in the log (mgetty: "no class 2/2.0
 * faxmodem, no faxing available").
 */
import { chooseClass, faxInitCommands, type FaxClass } from '../fax/class2/init.js';
import type { Cancel } from './cancel.js';
import type { LineIo } from './line-io.js';
import { exchange } from './modem-io.js';
import type { FaxLineSettings } from './settings.js';

/** The class the line now answers faxes in, or undefined (data only). */
export async function faxInit(io: LineIo, fax: FaxLineSettings, signal: Cancel): Promise<FaxClass | undefined> {
  const probe = await exchange(io, 'AT+FCLASS=?', signal);
  const reply = probe.ok ? probe.lines.find((l) => /\d/.test(l) && !/^AT/i.test(l)) : undefined;
  const cls = chooseClass(fax.modemType, reply);
  if (cls === undefined) {
    io.log.mesg(`no class 2/2.0 fax modem (AT+FCLASS=? said ${probe.ok ? `'${reply ?? ''}'` : probe.error}): data calls only`);
    return undefined;
  }
  for (const cmd of faxInitCommands(cls, { faxId: fax.faxId, maxSpeed: fax.maxSpeed, faxOnly: fax.faxOnly, pollServer: fax.serverFile !== undefined })) {
    const r = await exchange(io, cmd, signal);
    if (!r.ok) {
      io.log.warn(`fax set-up: ${cmd} got ${r.error}: data calls only`);
      // Leave the modem in data mode: a half set-up fax class would answer data callers as fax.
      await exchange(io, 'AT+FCLASS=0', signal);
      return undefined;
    }
  }
  io.log.mesg(`fax: class ${cls}, station id '${fax.faxId}'`);
  return cls;
}
