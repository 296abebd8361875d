/**
 * The base of every child's environment: the cnd-/cid-program hooks (session/hooks.ts)
 * and the login.config program (login/env.ts adds the call's variables). Pure.
 *
 * mgetty passes its own (init's) environment plus the call's variables. tgetty is a
 * long-lived daemon started by systemd or a shell, so its environment holds things no
 * child should see (NODE_OPTIONS, LD_LIBRARY_PATH, MALLOC_ARENA_MAX, secrets, HOME=/root).
 * As login(1) and agetty do, a child's environment is therefore built from an allow-list:
 * - PATH: a fixed safe default (never the daemon's);
 * - TZ and LANG, when the daemon has them: they describe the machine (the admin's time
 *   zone and language), not the daemon, and keep a program's timestamps and messages
 *   in line with the daemon's own;
 * - HOME, USER, LOGNAME, SHELL from the passwd entry of the user the program runs as,
 *   when it runs as a login.config user (or a hook as cnd-program-user). A program run
 *   as root without a user column (normally /bin/login) gets none of them: login(1)
 *   sets them for the user who logs in, as it does after agetty;
 * - the call's variables (CALLER_ID ... TTYPROMPT), built fresh for each call, so a
 *   child never sees the data of another call;
 * - TERM only when the `term` keyword sets it.
 */

/** Variables owned by the call (the only ones a hook's call data may set). */
export const CALL_ENV_NAMES = [
  'CALLER_ID', 'CALLER_NAME', 'CALL_DATE', 'CALL_TIME', 'CALLED_ID', 'CONNECT', 'DEVICE', 'TTYPROMPT',
] as const;

/** Variables of the daemon's own environment a child may inherit (see the header). */
export const INHERITED_ENV_NAMES = ['TZ', 'LANG'] as const;

/** PATH of every child: the system directories only (no `.`, nothing writable by users). */
export const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The passwd fields a child's HOME/USER/LOGNAME/SHELL come from. */
export interface EnvUser {
  name: string;
  dir: string;
  shell: string;
}

/** What a child's environment is built from, apart from the call's data. */
export interface ChildEnvInput {
  /** The daemon's environment: only INHERITED_ENV_NAMES are taken from it. */
  inherit?: Readonly<Record<string, string | undefined>>;
  /** The user the program runs as (its passwd entry); undefined = root without a user column. */
  user?: EnvUser;
}

/** A NUL cannot pass execve; caller-ID text is untrusted, so drop it rather than fail the call. */
export function clean(s: string): string {
  return s.replace(/\0/g, '');
}

/** PATH, TZ/LANG and the user's HOME/USER/LOGNAME/SHELL: the base of every child's environment. */
export function childEnv(input: ChildEnvInput = {}): Record<string, string> {
  const env: Record<string, string> = { PATH: SAFE_PATH };
  for (const k of INHERITED_ENV_NAMES) {
    const v = input.inherit?.[k];
    if (v !== undefined && v !== '') env[k] = clean(v);
  }
  const u = input.user;
  if (u !== undefined) {
    env.HOME = clean(u.dir !== '' ? u.dir : '/');
    env.USER = clean(u.name);
    env.LOGNAME = clean(u.name);
    env.SHELL = clean(u.shell !== '' ? u.shell : '/bin/sh');
  }
  return env;
}

/**
 * A hook's environment: childEnv plus the call variables the runner passes (names
 * outside CALL_ENV_NAMES are ignored, so nothing else can slip in this way).
 */
export function hookEnv(input: ChildEnvInput, call: Readonly<Record<string, string>>): Record<string, string> {
  const env = childEnv(input);
  const allowed = new Set<string>(CALL_ENV_NAMES);
  for (const [k, v] of Object.entries(call)) if (allowed.has(k)) env[k] = clean(v);
  return env;
}
