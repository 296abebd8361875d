/**
 * `tgetty sim`: a bank of virtual modems for people (BBS sysops, demos), like tcpser:
 * lines DIR/ttySIM0..N-1, and optionally telnet callers dialling in on a TCP port.
 */
import { TgettyError } from '../core/errors.js';
import type { AbuseOptions } from './abuse.js';
import { createBank, type SimBank } from './index.js';

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
}

function splitSpec(spec: string, what: string): [string, string] {
  const k = spec.indexOf(':');
  if (k <= 0 || k === spec.length - 1) throw new TgettyError('CLI_USAGE', `${what} wants NUMBER:${what === '--fax-machine' ? 'DIR' : 'FILE[,FILE...]'}, got '${spec}'`, { input: spec });
  return [spec.slice(0, k), spec.slice(k + 1)];
}

export async function simCommand(opts: SimCommandOptions): Promise<SimBank> {
  const log = opts.log ?? ((l: string) => process.stdout.write(`${l}\n`));
  const bank = await createBank({
    lines: opts.lines,
    dir: opts.dir,
    ...(opts.personality !== undefined ? { personality: opts.personality } : {}),
    fax: opts.fax === true,
    transcripts: opts.transcripts === true,
    ...(opts.numbersBase !== undefined ? { numbersBase: opts.numbersBase } : {}),
    // Call progress on the console, not every byte (that is what transcripts are for).
    onNote: (line, text) => {
      if (!text.startsWith('command ')) log(`${line}: ${text}`);
    },
  });
  const p = bank.line(0).modem.personality;
  log(`tgetty sim: ${bank.lines.length} line(s), ${p.description}${opts.fax === true ? ', class 2 and 2.0 fax' : ''}`);
  for (const l of bank.banner()) log(`  ${l}`);
  try {
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
