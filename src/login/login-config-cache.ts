/**
 * login.config for the calls of one config generation: read and parsed once, then reused
 * while the file is the same file with the same contents and the same owner and mode.
 * Every call costs one stat(2) instead of a read and a parse; a file that changed in any
 * way (dev, inode, size, mtime, ctime: ctime also moves on chmod/chown) is loaded again,
 * and with it the ownership/mode check of config/load.ts is made again, so an insecure
 * file is never used because an earlier version of it was fine. The daemon keeps one
 * cache per generation (a reload starts a new one); single-line mode one per process.
 */
import { statSync } from 'node:fs';
import { loadLoginConfig, resolveLoginConfFile, type LoadedLoginConfig } from '../config/load.js';
import type { LoginEntry } from '../config/login-config.js';

export interface LoginConfigSource {
  get(path: string): LoadedLoginConfig;
}

/** No cache: read the file on every call. */
export const uncachedLoginConfig: LoginConfigSource = { get: (path) => loadLoginConfig(path) };

/** The stat(2) identity a cached load stands for; undefined when it cannot be had. */
function identity(path: string): string | undefined {
  try {
    const st = statSync(path, { throwIfNoEntry: false });
    if (st === undefined) return 'missing';
    return `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.uid}:${st.gid}:${st.mode}`;
  } catch {
    return undefined; // EACCES, ENOTDIR...: no cache, the loader reports what is wrong
  }
}

export class LoginConfigCache implements LoginConfigSource {
  private readonly byPath = new Map<string, { key: string; loaded: LoadedLoginConfig }>();
  /** How many times the file was read (for tests and the status of a generation). */
  loads = 0;

  constructor(private readonly load: (path: string) => LoadedLoginConfig = loadLoginConfig) {}

  get(path: string): LoadedLoginConfig {
    // The identity is taken BEFORE the read: a change between the two shows as a new
    // identity on the next call and is read again, never the other way round.
    const key = identity(path);
    const hit = this.byPath.get(path);
    if (key !== undefined && hit !== undefined && hit.key === key) return hit.loaded;
    const loaded = this.load(path);
    this.loads++;
    if (key === undefined) this.byPath.delete(path);
    else this.byPath.set(path, { key, loaded });
    return loaded;
  }
}

/** What a log can take login.config's problems through. */
interface WarnLog {
  warn(msg: string): void;
}

/** The login.config entries for this call (its problems logged); none when it is unusable. */
export function loginConfigEntries(source: LoginConfigSource | undefined, configDir: string, loginConfFile: string | undefined, log: WarnLog): readonly LoginEntry[] {
  const conf = (source ?? uncachedLoginConfig).get(resolveLoginConfFile(configDir, loginConfFile));
  for (const d of conf.diagnostics) if (d.kind !== 'missing-file') log.warn(`${d.file}:${d.line}: ${d.message}`);
  return conf.usable && conf.parsed !== undefined ? conf.parsed.entries : [];
}

const generations = new WeakMap<object, LoginConfigCache>();

/**
 * The cache of one config generation, by the generation's identity (the daemon's loaded
 * config files object: a reload makes a new one, so a reload always reads login.config again).
 */
export function loginConfigOf(generation: object): LoginConfigCache {
  let c = generations.get(generation);
  if (c === undefined) {
    c = new LoginConfigCache();
    generations.set(generation, c);
  }
  return c;
}
