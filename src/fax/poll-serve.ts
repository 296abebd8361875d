/**
 * Serving a poll (mgetty's `fax-server-file`): a caller that polls gets our document. The
 * file is a text file listing G3 files, one a line (`#` comments), or, as mgetty also
 * takes it, one G3 file itself. The pages go out with the FaxSender from AT+FDT on (the
 * call is ours already), in the class the line answered in.
 */
import type { Clock } from '../core/clock.js';
import { toTgettyError } from '../core/errors.js';
import type { Line } from '../line/line.js';
import { readSmallFile } from '../os/safe-open.js';
import type { FaxClass } from './class2/init.js';
import { DEFAULT_SEND_LIMITS, FaxSender, type SendCommand, type SendPage, type SendResult } from './class2/send.js';
import { driveOnLine } from './drive.js';
import type { FaxLog } from './receive-call.js';

const MAX_PAGE_BYTES = 8 << 20;

/** A list of files (text) or a G3 file: text is printable ASCII and line ends only (pure). */
export function isFileList(data: Uint8Array): boolean {
  return data.length > 0 && data.every((b) => b === 0x0a || b === 0x0d || b === 0x09 || (b >= 0x20 && b < 0x7f));
}

/** The documents of the server file: the pages and their files, or why there are none. */
export function serverDocument(file: string): { pages: SendPage[]; files: string[] } | { problem: string } {
  const r = readSmallFile(file, MAX_PAGE_BYTES);
  if (!r.ok) return { problem: `${file}: ${'refused' in r ? r.refused : 'no such file'}` };
  if (!isFileList(r.data)) return { pages: [{ data: r.data }], files: [file] };
  const names = Buffer.from(r.data).toString('latin1').split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  const pages: SendPage[] = [];
  for (const name of names) {
    const p = readSmallFile(name, MAX_PAGE_BYTES);
    if (!p.ok) return { problem: `${name} (listed in ${file}): ${'refused' in p ? p.refused : 'no such file'}` };
    pages.push({ data: p.data });
  }
  if (pages.length === 0) return { problem: `${file} lists no files` };
  return { pages, files: names };
}

export interface ServePollOptions {
  line: Line;
  clock: Clock;
  log: FaxLog;
  cls: FaxClass;
  faxId: string;
  maxSpeed: number;
  pages: readonly SendPage[];
}

/** Send the pages to the poller. Errors never escape: the result says how it went. */
export function servePoll(o: ServePollOptions): Promise<SendResult> {
  const tx = new FaxSender(
    { modemType: o.cls === '2.0' ? 'c2.0' : 'cls2', faxId: o.faxId, maxSpeed: o.maxSpeed, normal: false, dialPrefix: 'ATD', phone: '', extraCommands: [], maxTries: 3, maxTriesContinue: true },
    o.pages,
    DEFAULT_SEND_LIMITS,
    // The getty set class 2.0 up with +FBO=1 (for receiving): a G3 file goes out as it is.
    { cls: o.cls, asIs: o.cls === '2.0' },
  );
  return driveOnLine<SendCommand, SendResult>({
    line: o.line,
    clock: o.clock,
    machine: tx,
    begin: (run) => run(tx.start()),
    writeFailed: (e, run) => {
      o.log.warn(`fax poll: write failed: ${toTgettyError(e).message}`);
      run(tx.carrierLost());
    },
    other: (c) => {
      if (c.type === 'page') o.log.mesg(`fax poll: page ${c.page.index} sent (status ${c.page.status})`);
      else if (c.type === 'log') o.log[c.level](c.text);
    },
  });
}
