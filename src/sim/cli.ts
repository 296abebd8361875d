/**
 * `tgetty sim`: a bank of virtual modems for people (BBS sysops, demos), like tcpser:
 * lines DIR/ttySIM0..N-1, and optionally telnet callers dialling in on a TCP port.
 */
import { readFileSync } from 'node:fs';
import { TgettyError } from '../core/errors.js';
import type { AbuseOptions } from './abuse.js';
import { createBank, type SimBank } from './index.js';
import { parsePhonebook, type Phonebook } from './phonebook.js';
import { parseIp232Spec } from './ip232.js';
import type { Ip232Spec } from './ip232-line.js';
import { parseSerialSpec } from './serial-line.js';
import { startSimStatus } from './status.js';
import { bannerText, type Banners } from './switchboard.js';

export interface SimCommandOptions {
  lines: number;
  dir: string;
  telnet?: number;
  host?: string;
  raw?: boolean;
  personality?: string;
  fax?: boolean;
  transcripts?: boolean;
  numbersBase?: string;
  /** Abuse controls for the telnet port (cool-down, calls per minute, busy-out). */
  abuse?: AbuseOptions;
  log?: (line: string) => void;
  /** `NUMBER:DIR`: a virtual fax machine at NUMBER that stores the pages it is sent in DIR. */
  faxMachines?: string[];
  /** `NUMBER:FILE[,FILE...]`: a virtual fax machine calls NUMBER with these pages. */
  faxCalls?: string[];
  /** Wait this long before the --fax-call calls (the getty must be up first); default 5000 ms. */
  faxCallDelayMs?: number;
  /** The station id of the virtual fax machines. */
  faxId?: string;
  /** All lines busy: this many telnet callers wait for a line (default 0: BUSY). */
  queue?: number;
  /** A telnet caller gives up after this many rings (NO ANSWER). */
  rings?: number;
  /** Text files for telnet callers: sent on connect, when all lines are busy, when nobody answers. */
  connectBanner?: string;
  busyBanner?: string;
  noAnswerBanner?: string;
  /** Dial-out: a phone book file (NUMBER = HOST[:PORT] [telnet|raw]). */
  phonebook?: string;
  /** Dial-out CONNECT speed, bps (default 33600). */
  dialSpeed?: number;
  /** Pace dial-out data at the CONNECT speed. */
  pace?: boolean;
  /** No dial-out to TCP hosts (plain numbers still ring the bank's lines). */
  noDialout?: boolean;
  /** Serial ports, `DEV[,SPEED]`, with an emulated modem each. */
  serial?: readonly string[];
  /** UUCP lock dir for the serial ports (default /var/lock). */
  lockDir?: string;
  /** ip232 ports for emulators, `PORT[,COUNT]`, on `host`. */
  ip232?: readonly string[];
}

function splitSpec(spec: string, what: string): [string, string] {
  const k = spec.indexOf(':');
  if (k <= 0 || k === spec.length - 1) throw new TgettyError('CLI_USAGE', `${what} wants NUMBER:${what === '--fax-machine' ? 'DIR' : 'FILE[,FILE...]'}, got '${spec}'`, { input: spec });
  return [spec.slice(0, k), spec.slice(k + 1)];
}

function readPhonebook(file: string): Phonebook {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TgettyError('CLI_USAGE', `--phonebook: cannot read ${file}`, { path: file }, { cause: err });
  }
  return parsePhonebook(text, file);
}

function readBanner(option: string, file: string): string {
  try {
    return bannerText(readFileSync(file, 'latin1'));
  } catch (err) {
    throw new TgettyError('CLI_USAGE', `${option}: cannot read ${file}`, { path: file }, { cause: err });
  }
}

export function bannersFrom(opts: Pick<SimCommandOptions, 'connectBanner' | 'busyBanner' | 'noAnswerBanner'>): Partial<Banners> {
  return {
    ...(opts.connectBanner !== undefined ? { connect: readBanner('--connect-banner', opts.connectBanner) } : {}),
    ...(opts.busyBanner !== undefined ? { busy: readBanner('--busy-banner', opts.busyBanner) } : {}),
    ...(opts.noAnswerBanner !== undefined ? { noAnswer: readBanner('--no-answer-banner', opts.noAnswerBanner) } : {}),
  };
}

/** The --fax-machine numbers, and the --fax-call calls after their delay. Throws on a bad spec. */
function startFaxMachines(bank: SimBank, opts: SimCommandOptions, log: (l: string) => void): void {
  for (const spec of opts.faxMachines ?? []) {
    const [number, dir] = splitSpec(spec, '--fax-machine');
    bank.addFaxMachine({ number, dir, ...(opts.faxId !== undefined ? { id: opts.faxId } : {}) });
    log(`  fax machine: number ${number}, pages to ${dir}`);
  }
  const calls = (opts.faxCalls ?? []).map((spec) => splitSpec(spec, '--fax-call'));
  if (calls.length > 0) {
    const t = setTimeout(() => {
      for (const [number, files] of calls) {
        bank.faxCall(number, files.split(','), opts.faxId !== undefined ? { id: opts.faxId } : {}).then(
          (r) => log(`fax call to ${number}: ${r.outcome}, pages confirmed ${r.statuses.length}`),
          (err: unknown) => log(`fax call to ${number} failed: ${err instanceof Error ? err.message : String(err)}`),
        );
      }
    }, opts.faxCallDelayMs ?? 5000);
    t.unref();
  }
}

/** `--ip232 PORT[,COUNT]`s: one modem a port, all on `host`. */
function ip232Specs(specs: readonly string[], host: string): Ip232Spec[] {
  const out: Ip232Spec[] = [];
  for (const s of specs) {
    const p = parseIp232Spec(s);
    if (p === undefined) throw new TgettyError('CLI_USAGE', `--ip232 needs PORT[,COUNT] (ports 1..65535), got '${s}'`, { input: s });
    for (let k = 0; k < p.count; k++) out.push({ port: p.port + k, host });
  }
  return out;
}

export async function simCommand(opts: SimCommandOptions): Promise<SimBank> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  // Read before anything starts: a missing banner file is a usage error, not a half-started bank.
  const banners = bannersFrom(opts);
  const phonebook = opts.phonebook !== undefined ? readPhonebook(opts.phonebook) : undefined;
  const serial = (opts.serial ?? []).map(parseSerialSpec);
  const ip232 = ip232Specs(opts.ip232 ?? [], opts.host ?? '127.0.0.1');
  const bank = await createBank({
    lines: opts.lines,
    dir: opts.dir,
    ...(opts.personality !== undefined ? { personality: opts.personality } : {}),
    fax: opts.fax === true,
    transcripts: opts.transcripts === true,
    ...(opts.numbersBase !== undefined ? { numbersBase: opts.numbersBase } : {}),
    ...(serial.length > 0 ? { serial } : {}),
    ...(ip232.length > 0 ? { ip232 } : {}),
    ...(opts.lockDir !== undefined ? { lockDir: opts.lockDir } : {}),
    dialout:
      opts.noDialout === true
        ? false
        : {
          ...(phonebook !== undefined ? { phonebook } : {}),
          ...(opts.dialSpeed !== undefined ? { speed: opts.dialSpeed } : {}),
          pace: opts.pace === true,
        },
    // Call progress on the console, not every byte (that is what transcripts are for).
    onNote: (line, text) => {
      if (!text.startsWith('command ')) log(`${line}: ${text}`);
    },
  });
  try {
    const status = await startSimStatus(bank, opts.dir);
    bank.atClose(() => status.close());
  } catch (err) {
    await bank.close();
    throw err;
  }
  const p = bank.line(0).modem.personality;
  log(`tgetty sim: ${bank.lines.length} line(s), ${p.description}${opts.fax === true ? ', class 2 and 2.0 fax' : ''}`);
  for (const l of bank.banner()) log(`  ${l}`);
  log(`  status: tgetty sim status --dir ${opts.dir}`);
  if (opts.noDialout !== true) {
    const book = phonebook !== undefined ? `, phone book ${opts.phonebook ?? ''} (${phonebook.size} number(s))` : '';
    log(`  dial-out: ATD host[:port]${book}, CONNECT ${opts.dialSpeed ?? 33600}${opts.pace === true ? ', paced' : ''}`);
  }
  try {
    startFaxMachines(bank, opts, log);
  } catch (err) {
    await bank.close();
    throw err;
  }
  if (opts.telnet !== undefined) {
    try {
      const addr = await bank.listen({
        port: opts.telnet,
        host: opts.host ?? '127.0.0.1',
        raw: opts.raw === true,
        ...(opts.abuse !== undefined ? { abuse: opts.abuse } : {}),
        ...(opts.queue !== undefined ? { queue: opts.queue } : {}),
        ...(opts.rings !== undefined ? { ring: { maxRings: opts.rings } } : {}),
        banners,
        log,
      });
      log(`  ${opts.raw === true ? 'raw TCP' : 'telnet'} callers: ${addr.address}:${addr.port}`);
    } catch (err) {
      await bank.close();
      throw err;
    }
  }
  return bank;
}
