/**
 * `tgetty sim`: a bank of virtual modems for people (BBS sysops, demos), like tcpser:
 * lines DIR/ttySIM0..N-1, and optionally telnet callers dialling in on a TCP port.
 */
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
  log(`tgetty sim: ${bank.lines.length} line(s), ${p.description}${opts.fax === true ? ', class 2.0 fax' : ''}`);
  for (const l of bank.banner()) log(`  ${l}`);
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
