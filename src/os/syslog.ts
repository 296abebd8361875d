/** syslog(3): the audit lines go to LOG_AUTH, as mgetty's do. */
import { lib } from './ffi.js';

const c_openlog = lib.func('void openlog(const char *ident, int option, int facility)');
const c_syslog = lib.func('void syslog(int priority, const char *fmt, ...)');

export const LOG_AUTH = 4 << 3;
export const LOG_PID = 0x01;
export const LOG_ALERT = 1;
export const LOG_ERR = 3;
export const LOG_WARNING = 4;
export const LOG_NOTICE = 5;
export const LOG_INFO = 6;

let syslogIdent: Buffer | undefined;

export function openSyslog(ident: string, facility = LOG_AUTH): void {
  // openlog keeps the pointer: hold the buffer for the life of the process.
  syslogIdent = Buffer.from(`${ident}\0`, 'utf8');
  c_openlog(syslogIdent, LOG_PID, facility);
}

export function syslog(priority: number, message: string): void {
  c_syslog(priority, '%s', 'str', message);
}
