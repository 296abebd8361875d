/**
 * Fax set-up of a class 2 / 2.0 modem for answering, as AT commands (each answered
 * with OK). Pure: the class is chosen from the modem's AT+FCLASS=? reply and the
 * `modem-type` keyword; the commands from fax-id, fax-max-speed and fax-only.
 *
 * mgetty picks the class from a table of ATI replies; tgetty asks the modem which
 * classes it has (AT+FCLASS=?), which every class 2 modem answers.
 */

export type FaxClass = '2' | '2.0';

export type ModemType = 'auto' | 'c2.0' | 'cls2' | 'data';

/** Classes in an AT+FCLASS=? reply: `0,1,2,2.0`, `(0,1,2,2.0)`, `0-2,2.0`. */
export function parseClasses(reply: string): Set<string> {
  const out = new Set<string>();
  for (const part of reply.replace(/[()\s]/g, '').split(',')) {
    const range = /^(\d+)-(\d+)$/.exec(part);
    if (range !== null) {
      for (let i = Number(range[1]); i <= Number(range[2]) && i < 16; i++) out.add(String(i));
    } else if (/^\d+(\.\d+)?$/.test(part)) out.add(part);
  }
  return out;
}

/** The class to use, or undefined for no fax (data only). */
export function chooseClass(modemType: ModemType, reply: string | undefined): FaxClass | undefined {
  if (modemType === 'data') return undefined;
  const has = reply === undefined ? new Set<string>() : parseClasses(reply);
  if (modemType === 'c2.0') return has.has('2.0') || reply === undefined ? '2.0' : undefined;
  if (modemType === 'cls2') return has.has('2') || reply === undefined ? '2' : undefined;
  if (has.has('2.0')) return '2.0';
  if (has.has('2')) return '2';
  return undefined;
}

export interface FaxInitSettings {
  /** fax-id: the station id we send (at most 20 characters go into T.30's CSI). */
  faxId: string;
  /** fax-max-speed, bit/s. */
  maxSpeed: number;
  /** fax-only: answer as a fax machine only (no adaptive answer). */
  faxOnly: boolean;
  /** fax-server-file is set: tell the modem we have a document for callers that poll (+FLPL=1 / +FLP=1). */
  pollServer?: boolean;
}

/** The bit rate code of T.30 for a speed: 2400 -> 0 ... 14400 -> 5. */
export function bitRateCode(speed: number): number {
  return Math.max(0, Math.min(5, Math.floor(speed / 2400) - 1));
}

/** A station id inside AT+FLID="..." / AT+FLI="...": printable, no quote. */
export function quoteId(id: string): string {
  return `"${id.replace(/[^\x20-\x7e]|"/g, '').slice(0, 20)}"`;
}

/**
 * The commands, in order. The modem is left answering fax and data calls alike
 * (adaptive answer: it reports FAX / +FCON or CONNECT), unless fax-only.
 */
export function faxInitCommands(cls: FaxClass, s: FaxInitSettings): string[] {
  const caps = `1,${bitRateCode(s.maxSpeed)},0,2,0,0,0,0`;
  const aa = `AT+FAA=${s.faxOnly ? 0 : 1};+FCR=1`;
  if (cls === '2.0') {
    // +FBO=1: received pages come first bit in the top place, as G3 files have it.
    return ['AT+FCLASS=2.0', aa, 'AT+FBO=1', 'AT+FNR=1,1,1,0', `AT+FLI=${quoteId(s.faxId)}`, `AT+FCC=${caps}`, ...(s.pollServer === true ? ['AT+FLP=1'] : [])];
  }
  // Class 2 adaptive answer works from class 0, and class 2 modems take their +F
  // settings there (as mgetty sets them); fax-only stays in class 2.
  return ['AT+FCLASS=2', ...(s.faxOnly ? [] : ['AT+FCLASS=0']), aa, 'AT+FBOR=0', `AT+FLID=${quoteId(s.faxId)}`, `AT+FDCC=${caps}`, ...(s.pollServer === true ? ['AT+FLPL=1'] : [])];
}
