/**
 * The web page's access check: a secret token, stored only as an scrypt hash
 * (`scrypt$N$r$p$salt$hash`, base64url) in a file root owns (`--http-auth-file`). A client
 * sends the token as `Authorization: Bearer TOKEN` (peers, scripts) or as the password of
 * HTTP basic auth (a browser asks for it; the user name is ignored). Verified hashes are
 * remembered by a digest of the header, so a page's requests do not each pay for scrypt.
 */
import { createHash, randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';
import { closeSync, constants as fsc, fstatSync, openSync, readSync } from 'node:fs';
import { TgettyError } from '../../core/errors.js';

const N = 16384;
const R = 8;
const P = 1;
const KEYLEN = 32;

/** A new random token (printed once to the admin) and the line to store for it. */
export function newToken(): { token: string; hash: string } {
  const token = randomBytes(24).toString('base64url');
  return { token, hash: hashToken(token) };
}

export function hashToken(token: string, salt: Buffer = randomBytes(16)): string {
  const key = scryptSync(token, salt, KEYLEN, { N, r: R, p: P });
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

export interface TokenCheck {
  /** true when the request's Authorization header carries the token. */
  check(authorization: string | undefined): boolean;
}

export function parseHash(line: string, where: string): TokenCheck {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(line.trim());
  if (m === null) throw new TgettyError('CONFIG_BAD_VALUE', `${where}: not a tgetty token hash (expected one line scrypt$N$r$p$salt$hash, as 'tgetty token' writes)`, { file: where });
  const [n, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (n < 1024 || n > 1 << 20 || (n & (n - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) {
    throw new TgettyError('CONFIG_BAD_VALUE', `${where}: scrypt parameters out of range`, { file: where });
  }
  const salt = Buffer.from(m[4], 'base64url');
  const want = Buffer.from(m[5], 'base64url');
  const good = new Set<string>();
  const tokenOf = (h: string): string | undefined => {
    const bearer = /^Bearer\s+(\S+)$/i.exec(h);
    if (bearer !== null) return bearer[1];
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)$/i.exec(h);
    if (basic === null) return undefined;
    const text = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = text.indexOf(':');
    return colon < 0 ? undefined : text.slice(colon + 1);
  };
  return {
    check(authorization) {
      if (authorization === undefined || authorization.length > 1024) return false;
      const digest = createHash('sha256').update(authorization).digest('base64');
      if (good.has(digest)) return true;
      const token = tokenOf(authorization);
      if (token === undefined || token === '') return false;
      const got = scryptSync(token, salt, want.length, { N: n, r, p, maxmem: 256 * n * r + 1024 * 1024 });
      if (!timingSafeEqual(got, want)) return false;
      if (good.size > 1000) good.clear();
      good.add(digest);
      return true;
    },
  };
}

/**
 * Read the hash file: no symlink followed, a regular file, not writable by others (else
 * anyone could put their own hash there). Only the first line counts.
 */
export function loadTokenFile(file: string): TokenCheck {
  let fd: number;
  try {
    fd = openSync(file, fsc.O_RDONLY | fsc.O_NOFOLLOW | fsc.O_NONBLOCK | fsc.O_NOCTTY);
  } catch (err) {
    throw new TgettyError('CONFIG_UNREADABLE', `cannot read the http auth file ${file}: ${err instanceof Error ? err.message : String(err)}`, { file }, { cause: err });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new TgettyError('CONFIG_INSECURE', `the http auth file ${file} is not a regular file`, { file });
    if ((st.mode & 0o022) !== 0) throw new TgettyError('CONFIG_INSECURE', `the http auth file ${file} is writable by group or others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 it`, { file });
    if (st.size > 4096) throw new TgettyError('CONFIG_BAD_VALUE', `the http auth file ${file} is too big for a token hash`, { file });
    const buf = Buffer.alloc(Number(st.size));
    const n = st.size > 0 ? readSync(fd, buf, 0, buf.length, 0) : 0;
    return parseHash(buf.subarray(0, n).toString('utf8').split('\n')[0], file);
  } finally {
    closeSync(fd);
  }
}
