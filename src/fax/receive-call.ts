/**
 * A fax reception on a line, start to end: the FaxReceiver machine driven by the
 * line's bytes and a clock, each page stored as it completes (mgetty's G3 files), and
 * at the end the fax's PDF and TIFF written beside them. The caller runs the notify
 * program and writes the records with the outcome. Errors never escape: a broken call
 * or a full disk gives an outcome that says what happened, with what was kept.
 */
import type { Clock } from '../core/clock.js';
import { TgettyError, toTgettyError } from '../core/errors.js';
import type { Line } from '../line/line.js';
import { driveOnLine } from './drive.js';
import { FaxReceiver, DEFAULT_RECEIVE_LIMITS, type ReceiveCommand, type ReceiveLimits, type ReceiveResult } from './class2/receive.js';
import { PAGE_WIDTHS } from './class2/responses.js';
import { pageFromG3, type FaxPage } from './page.js';
import { writePdf } from './pdf.js';
import { FaxSpoolWriter, pickSpoolDir, type SpoolOptions } from './spool.js';
import { writeTiffF } from './tiff.js';

export interface FaxLog {
  mesg(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  noise(msg: string): void;
}

export interface FaxCallOptions {
  line: Line;
  clock: Clock;
  log: FaxLog;
  spool: SpoolOptions;
  /** Device name for the file names (ttyS1). */
  device: string;
  /** The page data's bit order as the modem delivers it (class 2 with +FBOR=0: LSB first). */
  lsbFirst: boolean;
  /** Bytes already read after the fax connection report. */
  leftover?: Uint8Array;
  limits?: ReceiveLimits;
}

export interface FaxCallOutcome {
  result: ReceiveResult;
  /** The spool directory used; undefined when none was usable (the fax is refused). */
  dir: string | undefined;
  /** Page files written, in order (full paths). */
  pageFiles: string[];
  pdf: string | undefined;
  tiff: string | undefined;
  /** Pages as decoded (lines, bad lines), for records and metrics. */
  pages: FaxPage[];
  /** What went wrong on our side (spool), if anything. */
  error: TgettyError | undefined;
}

function dcsFormat(p: ReceiveResult['pages'][number], lsbFirst: boolean): { width: number; twoD: boolean; fine: boolean; lsbFirst: boolean } {
  const wd = p.params?.wd ?? 0;
  return { width: PAGE_WIDTHS[wd] ?? 1728, twoD: (p.params?.df ?? 0) === 1, fine: (p.params?.vr ?? 0) === 1, lsbFirst };
}

/** Run a reception. Resolves when the modem is done (the caller hangs up). */
export async function receiveFaxCall(o: FaxCallOptions): Promise<FaxCallOutcome> {
  const picked = pickSpoolDir(o.spool);
  for (const s of picked.skipped) o.log.warn(`fax spool ${s.dir} not used: ${s.reason}`);
  const callTime = o.clock.now();
  let writer: FaxSpoolWriter | undefined;
  let error: TgettyError | undefined;
  const pageFiles: string[] = [];
  if (picked.dir === undefined) {
    error = new TgettyError('FAX_SPOOL_FAILED', `no usable fax spool directory (${o.spool.dirs.join(':')})`);
    o.log.error(error.message);
  }
  const rx = new FaxReceiver(o.limits ?? DEFAULT_RECEIVE_LIMITS);
  const storePage = (index: number, data: Uint8Array, params: ReceiveResult['params']): void => {
    o.log.mesg(`fax page ${index}: ${data.length} bytes${params !== undefined ? `, ${params.vr === 1 ? 'fine' : 'normal'}` : ''}`);
    if (picked.dir === undefined || error !== undefined) return;
    try {
      writer ??= FaxSpoolWriter.open(picked.dir, { fine: (params?.vr ?? 0) === 1, time: callTime, device: o.device, senderId: rx.remoteId }, o.spool);
      pageFiles.push(writer.writePage(index, data).path);
    } catch (e) {
      // A page that is not all on disk gets no page name; later pages are not stored.
      error = toTgettyError(e, 'FAX_SPOOL_FAILED');
      o.log.error(`fax page ${index} not stored: ${error.message}`);
    }
  };
  const result = await driveOnLine<ReceiveCommand, ReceiveResult>({
    line: o.line,
    clock: o.clock,
    machine: rx,
    begin: (run) => {
      run(rx.start());
      if (o.leftover !== undefined && o.leftover.length > 0) run(rx.feed(o.leftover));
    },
    writeFailed: (e) => o.log.noise(`fax: write failed: ${toTgettyError(e).message}`),
    other: (c) => {
      if (c.type === 'page') storePage(c.index, c.page.data, c.page.params);
    },
  });
  const kept = result.pages.slice(0, pageFiles.length);
  const pages: FaxPage[] = [];
  for (const p of kept) {
    try {
      pages.push(pageFromG3(p.data, dcsFormat(p, o.lsbFirst)));
    } catch (e) {
      o.log.warn(`fax page could not be decoded for the PDF: ${toTgettyError(e).message}`);
    }
  }
  let pdf: string | undefined;
  let tiff: string | undefined;
  // No PDF/TIFF for a fax the spool could not take whole: it would stand for the fax with
  // pages missing that did arrive (and a full disk would not take it either).
  if (error !== undefined && writer !== undefined) o.log.warn(`fax PDF/TIFF not written: ${pageFiles.length} of ${result.pages.length} page(s) stored`);
  else if (writer !== undefined && pages.length > 0 && pages.length === kept.length) {
    const title = `Fax from ${result.remoteId !== '' ? result.remoteId : 'an unknown sender'}`;
    try {
      pdf = writer.writePdf(writePdf(pages, { title, producer: 'tgetty' })).path;
      tiff = writer.writeTiff(writeTiffF(pages, { description: result.remoteId, software: 'tgetty' })).path;
    } catch (e) {
      error ??= toTgettyError(e, 'FAX_SPOOL_FAILED');
      o.log.error(`fax PDF/TIFF not written: ${toTgettyError(e).message}`);
    }
  }
  return { result, dir: picked.dir, pageFiles, pdf, tiff, pages, error };
}
