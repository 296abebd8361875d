/**
 * Mail notices (mgetty's `notify` keyword: a received fax; faxrunq: a job sent or given
 * up), through the system's sendmail-compatible program (`/usr/sbin/sendmail`, which
 * Postfix, Exim, msmtp-mta and nullmailer all provide), run without a shell:
 *   <program> -i -- <address>
 * with the message on stdin. The far end chooses the sender id, so every header value is
 * cut at the first line break and cleared of control characters (no header can be
 * added), and the body's control characters are shown as `?`. An address must look like
 * one (no blanks, no leading `-`), or nothing is sent. composeMail and validAddress are
 * pure; sendMail resolves with what happened and never throws.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants as fsc } from 'node:fs';

export const DEFAULT_MAIL_PROGRAM = '/usr/sbin/sendmail';

export interface MailMessage {
  to: string;
  subject: string;
  body: string;
  /** Extra headers (X-Fax-Sender...), values cleaned as the others. */
  headers?: Record<string, string>;
}

/** A user name (`root`, `faxadmin`) or user@domain; never an option, never two words. */
export function validAddress(a: string): boolean {
  return /^[A-Za-z0-9._%+=-]+(@[A-Za-z0-9.-]+)?$/.test(a) && !a.startsWith('-') && a.length <= 254;
}

/** A header value: one line, printable, at most 200 characters. */
export function headerValue(v: string): string {
  return v.split(/[\r\n]/)[0].replace(/[\x00-\x1f\x7f]/g, '?').slice(0, 200);
}

function bodyText(s: string): string {
  return s.replace(/\r\n?/g, '\n').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '?');
}

export function composeMail(m: MailMessage, date: Date = new Date()): string {
  const extra = Object.entries(m.headers ?? {})
    .filter(([k]) => /^X-[A-Za-z0-9-]+$/.test(k))
    .map(([k, v]) => `${k}: ${headerValue(v)}\n`)
    .join('');
  return (
    `To: ${headerValue(m.to)}\n` +
    `Subject: ${headerValue(m.subject)}\n` +
    `Date: ${date.toUTCString().replace('GMT', '+0000')}\n` +
    'MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\nAuto-Submitted: auto-generated\n' +
    extra +
    `\n${bodyText(m.body)}${m.body.endsWith('\n') ? '' : '\n'}`
  );
}

export type MailResult =
  | { sent: true }
  /** No mailer there (not installed): the caller logs it plainly. */
  | { sent: false; reason: 'no-mailer'; detail: string }
  | { sent: false; reason: 'bad-address' | 'failed'; detail: string };

export interface MailOptions {
  program: string;
  env: Record<string, string>;
  timeoutMs?: number;
}

export function sendMail(m: MailMessage, o: MailOptions): Promise<MailResult> {
  if (!validAddress(m.to)) return Promise.resolve({ sent: false, reason: 'bad-address', detail: `'${headerValue(m.to)}' is not a mail address` });
  try {
    accessSync(o.program, fsc.X_OK);
  } catch {
    return Promise.resolve({ sent: false, reason: 'no-mailer', detail: `${o.program} is not there (install a mail transfer agent, or set mail-program)` });
  }
  return new Promise((resolve) => {
    let stderr = '';
    let done = false;
    const finish = (r: MailResult): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    const child = spawn(o.program, ['-i', '--', m.to], { env: o.env, stdio: ['pipe', 'ignore', 'pipe'], detached: true });
    const timer = setTimeout(() => {
      if (child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      finish({ sent: false, reason: 'failed', detail: `${o.program} still running after ${(o.timeoutMs ?? 30_000) / 1000} s: killed` });
    }, o.timeoutMs ?? 30_000);
    child.stderr.on('data', (b: Buffer) => {
      if (stderr.length < 2000) stderr += b.toString('utf8');
    });
    child.on('error', (err) => finish({ sent: false, reason: 'failed', detail: `cannot run ${o.program}: ${err.message}` }));
    child.on('exit', (code, signal) => {
      if (code === 0) finish({ sent: true });
      else finish({ sent: false, reason: 'failed', detail: `${o.program} exited ${code ?? signal}${stderr !== '' ? `: ${stderr.trim().split('\n')[0]}` : ''}` });
    });
    // A mailer that exits before reading all of stdin gives EPIPE: its exit code tells.
    child.stdin.on('error', () => undefined);
    child.stdin.end(composeMail(m));
  });
}
