/**
 * A fax call after the modem reported it (+FCON, +FCO, FAX): the reception into the spool
 * (receive-call.ts), the notify program as mgetty runs it, and the audit line. The
 * caller (src/login/after-connect.ts) hangs up and frees the lock afterwards, as for a
 * data call.
 *
 * The notify program gets mgetty's arguments, `<hangup code> <sender id> <pages> <file>...`,
 * but as argv words with no shell in between: mgetty builds a shell command line from the
 * sender id, which the far end chooses.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants as fsc } from 'node:fs';
import type { Clock } from '../core/clock.js';
import type { Line } from '../line/line.js';
import type { Logger } from '../log/logger.js';
import { logField } from '../log/format.js';
import { getgrnam, getpwnam } from '../os/passwd.js';
import type { FaxClass } from './class2/init.js';
import { BIT_RATES } from './class2/responses.js';
import { DEFAULT_MAIL_PROGRAM, sendMail, type MailMessage } from './mail.js';
import { receiveFaxCall, type FaxCallOutcome } from './receive-call.js';
import { serverDocument, servePoll } from './poll-serve.js';

export interface FaxReceiveSettings {
  spoolIn: readonly string[];
  minFreeKb: number;
  owner: string | undefined;
  group: string | undefined;
  mode: number;
  /** notify: mail a notice of each received fax to this address; empty or undefined = no mail. */
  notify?: string;
  /** mail-program (default /usr/sbin/sendmail). */
  mailProgram?: string;
  /** fax-server-file: what a caller that polls gets; with the station id and speed to send it with. */
  serverFile?: string | undefined;
  faxId?: string;
  maxSpeed?: number;
}

export interface FaxCallOptions {
  line: Line;
  cls: FaxClass;
  device: string;
  clock: Clock;
  log: Logger;
  fax: FaxReceiveSettings;
  leftover: Uint8Array;
  callerId: string;
  callerName: string;
  /** The notify program (mgetty: /etc/mgetty/new_fax) and its environment; skipped when it is not executable. */
  notify?: { program: string; env: Record<string, string> };
}

/**
 * A received fax as the call records, metrics and `tgetty faxes` keep it. `end` is the
 * reception's end (`complete`, `modem-hangup`, `timeout`, `carrier-lost`, `modem-error`,
 * `too-large`) or `spool-failed` when our side could not store it; anything but
 * `complete` means the fax broke off (the pages that arrived are kept).
 */
export interface FaxSummary {
  pages: number;
  senderId: string;
  /** Line rate in bit/s from the negotiated parameters; null when the modem said none. */
  speed: number | null;
  resolution: 'normal' | 'fine' | null;
  /** As the notify program gets it: the modem's +FHNG/+FHS code, -1 for our side's failures. */
  hangupCode: number;
  /** The page files, then the PDF and the TIFF (full paths). */
  files: string[];
  end: string;
}

/** The summary of a reception (pure). */
export function faxSummaryOf(o: FaxCallOutcome): FaxSummary {
  const params = o.result.params ?? o.result.pages[0]?.params;
  const br = params !== undefined ? BIT_RATES[params.br] : undefined;
  return {
    pages: o.pageFiles.length,
    senderId: o.result.remoteId,
    speed: br ?? null,
    resolution: params === undefined ? null : params.vr === 1 ? 'fine' : 'normal',
    hangupCode: notifyCode(o),
    files: [...o.pageFiles, ...(o.pdf !== undefined ? [o.pdf] : []), ...(o.tiff !== undefined ? [o.tiff] : [])],
    end: o.error !== undefined && o.result.end === 'complete' ? 'spool-failed' : o.result.end,
  };
}

/** What the call records and single-line mode's exit code get. */
export interface FaxCallResult {
  outcome: FaxCallOutcome;
  summary: FaxSummary;
  /** 0 when every page arrived and was stored. */
  exitCode: number;
  ok: boolean;
}

/** The hang-up code for the notify program: the modem's, or -1 for our side's failures (spool, time-out). */
export function notifyCode(o: FaxCallOutcome): number {
  if (o.error !== undefined) return -1;
  if (o.result.hangupCode !== undefined) return o.result.hangupCode;
  return o.result.end === 'complete' ? 0 : -1;
}

function owner(fax: FaxReceiveSettings, log: Logger): { uid: number; gid: number } | undefined {
  if (fax.owner === undefined && fax.group === undefined) return undefined;
  const pw = fax.owner !== undefined ? getpwnam(fax.owner) : undefined;
  const gr = fax.group !== undefined ? getgrnam(fax.group) : undefined;
  if (fax.owner !== undefined && pw === undefined) log.warn(`fax-owner ${logField(fax.owner)} is not a user: files stay root's`);
  if (fax.group !== undefined && gr === undefined) log.warn(`fax-group ${logField(fax.group)} is not a group`);
  return { uid: pw?.uid ?? process.getuid?.() ?? 0, gid: gr?.gid ?? pw?.gid ?? process.getgid?.() ?? 0 };
}

async function runNotify(program: string, args: string[], env: Record<string, string>, log: Logger): Promise<void> {
  try {
    accessSync(program, fsc.X_OK);
  } catch {
    log.noise(`fax notify program ${program} not there: not run`);
    return;
  }
  await new Promise<void>((resolve) => {
    const child = spawn(program, args, { env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    const timer = setTimeout(() => {
      log.warn(`fax notify program ${program} still running after 60 s: killing it`);
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }, 60_000);
    child.stderr.on('data', (b: Buffer) => log.noise(`${program}: ${b.toString('utf8').trimEnd()}`));
    child.on('error', (err) => {
      log.error(`cannot run the fax notify program ${program}`, { err });
      clearTimeout(timer);
      resolve();
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The text of the notify mail (pure). Every field from the far end is escaped by composeMail. */
export function noticeMessage(to: string, s: FaxSummary, device: string, callerId: string): MailMessage {
  const from = s.senderId.trim() !== '' ? s.senderId.trim() : 'an unknown sender';
  const broke = s.end === 'complete' ? '' : `, broke off (${s.end})`;
  return {
    to,
    subject: `fax from ${from}: ${s.pages} page${s.pages === 1 ? '' : 's'}${broke}`,
    body:
      `A fax came in on ${device}.\n\n` +
      `Sender id:   ${s.senderId !== '' ? s.senderId : '-'}\n` +
      `Caller id:   ${callerId !== '' ? callerId : '-'}\n` +
      `Pages:       ${s.pages}\n` +
      `Resolution:  ${s.resolution ?? '-'}, ${s.speed !== null ? `${s.speed} bit/s` : 'speed not reported'}\n` +
      `End:         ${s.end} (hang-up code ${s.hangupCode})\n\n` +
      `Files:\n${s.files.map((f) => `  ${f}`).join('\n')}\n`,
    headers: { 'X-Fax-Sender-Id': s.senderId, 'X-Fax-Pages': String(s.pages) },
  };
}

async function mailNotice(o: FaxCallOptions, s: FaxSummary): Promise<void> {
  const to = o.fax.notify ?? '';
  const program = o.fax.mailProgram ?? DEFAULT_MAIL_PROGRAM;
  const r = await sendMail(noticeMessage(to, s, o.device, o.callerId), { program, env: o.notify?.env ?? { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  if (r.sent) o.log.mesg(`fax notice mailed to ${logField(to)}`);
  else if (r.reason === 'no-mailer') o.log.warn(`fax notice NOT mailed to ${logField(to)}: ${r.detail}`);
  else o.log.error(`fax notice to ${logField(to)} failed: ${r.detail}`);
}

interface ServedPoll {
  /** The poller's id (+FCIG/+FPI), or the caller's when it gave none. */
  poller: string;
  sent: number;
  hangupCode: number;
  end: 'polled' | 'poll-failed';
  files: string[];
  params: FaxCallOutcome['result']['params'];
}

/** Send the fax-server-file's document to the caller that polled, and say so in the audit line. */
async function serveDocument(o: FaxCallOptions, outcome: FaxCallOutcome): Promise<ServedPoll> {
  const r = outcome.result;
  const poller = r.pollerId ?? r.remoteId;
  const doc = o.fax.serverFile !== undefined ? serverDocument(o.fax.serverFile) : { problem: 'no fax-server-file' };
  const served: ServedPoll = { poller, sent: 0, hangupCode: -1, end: 'poll-failed', files: [], params: r.pollerCaps };
  if ('problem' in doc) {
    // As mgetty: nothing to send, the call is hung up (the caller's poll fails); pages it sent first are kept.
    o.log.error(`fax poll from ${logField(poller)}: nothing to send: ${doc.problem}`);
  } else {
    served.files = doc.files;
    o.log.mesg(`fax poll from ${logField(poller)}: sending ${doc.pages.length} page(s)`);
    const res = await servePoll({ line: o.line, clock: o.clock, log: o.log, cls: o.cls, faxId: o.fax.faxId ?? ' ', maxSpeed: o.fax.maxSpeed ?? 14400, pages: doc.pages });
    served.sent = res.pages.length;
    served.hangupCode = res.hangupCode ?? (res.exitCode === 0 ? 0 : -1);
    served.end = res.exitCode === 0 ? 'polled' : 'poll-failed';
    served.params = res.params ?? served.params;
    if (res.exitCode !== 0) o.log.warn(`fax poll from ${logField(poller)}: ${res.reason}`);
  }
  o.log.audit(`fax poll dev=${o.device}, pid=${process.pid}, caller=${logField(o.callerId)}, name=${logField(o.callerName)}, id=${logField(poller)}, +FHNG=${served.hangupCode}, pages sent=${served.sent}, end=${served.end}`);
  return served;
}

/** The caller polled (fax-server-file) and sent nothing: no notify program, no mail, nothing came in. */
async function servePolled(o: FaxCallOptions, outcome: FaxCallOutcome): Promise<FaxCallResult> {
  const s = await serveDocument(o, outcome);
  const br = s.params !== undefined ? BIT_RATES[s.params.br] : undefined;
  const summary: FaxSummary = {
    pages: s.sent,
    senderId: s.poller,
    speed: br ?? null,
    resolution: s.params === undefined ? null : s.params.vr === 1 ? 'fine' : 'normal',
    hangupCode: s.hangupCode,
    files: s.files,
    end: s.end,
  };
  return { outcome, summary, exitCode: 0, ok: s.end === 'polled' };
}

export async function runFaxCall(o: FaxCallOptions): Promise<FaxCallResult> {
  o.log.mesg(`fax call (class ${o.cls}): receiving`);
  const ids = owner(o.fax, o.log);
  const outcome = await receiveFaxCall({
    line: o.line,
    clock: o.clock,
    log: o.log,
    device: o.device,
    // +FBOR=0 (class 2) and +FBO=1 (class 2.0): pages arrive first bit on top, as G3 files have it.
    lsbFirst: false,
    leftover: o.leftover,
    spool: { dirs: o.fax.spoolIn, minFreeKb: o.fax.minFreeKb, mode: o.fax.mode, ...(ids !== undefined ? { owner: ids } : {}) },
  });
  if (outcome.result.end === 'polled' && outcome.result.pages.length === 0) return servePolled(o, outcome);
  if (outcome.result.end === 'polled') {
    // Pages, the last with EOM, then a poll (sendfax -p NUMBER FILE): the document goes
    // first, while the caller waits; the pages are a complete fax (each had its MCF) and
    // get the notify program and the mail afterwards, as mgetty does it.
    await serveDocument(o, outcome);
    outcome.result.end = 'complete';
    outcome.result.hangupCode = 0;
  }
  const r = outcome.result;
  const code = notifyCode(outcome);
  // pages= counts the pages stored; when our side failed (no spool dir, disk full) the end
  // says so, with how the call itself ended and how many pages came.
  const end = outcome.error !== undefined
    ? `spool-failed, call=${r.end}, received=${r.pages.length}, error=${logField(outcome.error.message)}`
    : `${r.end}${r.partialPage ? ' (a page broke off)' : ''}`;
  o.log.audit(
    `fax dev=${o.device}, pid=${process.pid}, caller=${logField(o.callerId)}, name=${logField(o.callerName)}, id=${logField(r.remoteId)}, ` +
      `+FHNG=${r.hangupCode ?? -1}, pages=${outcome.pageFiles.length}, end=${end}`,
  );
  if (outcome.pdf !== undefined) o.log.mesg(`fax stored: ${outcome.pageFiles.length} page(s), ${outcome.pdf}`);
  if (o.notify !== undefined && outcome.pageFiles.length > 0) {
    await runNotify(o.notify.program, [String(code), r.remoteId, String(outcome.pageFiles.length), ...outcome.pageFiles], o.notify.env, o.log);
  }
  const summary = faxSummaryOf(outcome);
  if (o.fax.notify !== undefined && o.fax.notify !== '') await mailNotice(o, summary);
  const ok = code === 0 && outcome.error === undefined;
  return { outcome, summary, exitCode: 0, ok };
}
