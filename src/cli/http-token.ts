/**
 * `tgetty token FILE`: a new random token for the web status page. Only its scrypt
 * hash is stored (FILE, mode 0600, created new: an existing file is never followed or
 * overwritten); the token is printed once, for the browser (basic auth password) or a peer.
 */
import { closeSync, constants as fsc, openSync, writeSync } from 'node:fs';
import { newToken } from '../daemon/http/auth.js';

export function httpTokenCommand(o: { file: string; out: (s: string) => void; err: (s: string) => void }): number {
  const { token, hash } = newToken();
  let fd: number;
  try {
    fd = openSync(o.file, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW | fsc.O_NOCTTY, 0o600);
  } catch (err) {
    o.err(`tgetty token: cannot create ${o.file}: ${err instanceof Error ? err.message : String(err)}${(err as { code?: string }).code === 'EEXIST' ? ' (remove it first to replace the token)' : ''}\n`);
    return 1;
  }
  try {
    writeSync(fd, `${hash}\n`);
  } finally {
    closeSync(fd);
  }
  o.out(`${token}\n`);
  o.err(`tgetty token: the hash is in ${o.file}; give it to 'tgetty serve --http ADDRESS:PORT --http-auth-file ${o.file}'. The token above is shown only now: use it as the basic auth password in the browser, or as --peer-token-file on the peers.\n`);
  return 0;
}
