/**
 * The environment handed to login/pppd and to the cnd-/cid-program hooks (spec §7.4). Pure.
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

export interface CallEnv {
  /** Device name, e.g. `ttyS0` (always set). */
  device: string;
  /** Connect string (text after CONNECT); always set, possibly empty. */
  connect?: string;
  /** Caller ID; empty/undefined -> `none`, as mgetty. */
  callerId?: string;
  callerName?: string;
  /** MMDD and HHMM of the call, from the caller ID block. */
  callDate?: string;
  callTime?: string;
  calledId?: string;
  /** ttyprompt mode (login-env-ttyprompt-hack): the expanded prompt, put in TTYPROMPT. */
  ttyPrompt?: string;
}

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
function clean(s: string): string {
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

/**
 * The complete environment for the login.config program: childEnv(input), plus
 * CALLER_ID (or `none`), CALLER_NAME / CALL_DATE / CALL_TIME / CALLED_ID when
 * non-empty, CONNECT and DEVICE always, TERM when `term` is non-empty, TTYPROMPT (the
 * expanded prompt) in ttyprompt mode.
 */
export function loginEnv(input: ChildEnvInput, call: CallEnv, term?: string): Record<string, string> {
  const env = childEnv(input);
  const opt = (name: string, v: string | undefined): void => {
    if (v !== undefined && v !== '') env[name] = clean(v);
  };
  env.CALLER_ID = call.callerId !== undefined && call.callerId !== '' ? clean(call.callerId) : 'none';
  opt('CALLER_NAME', call.callerName);
  opt('CALL_DATE', call.callDate);
  opt('CALL_TIME', call.callTime);
  opt('CALLED_ID', call.calledId);
  env.CONNECT = clean(call.connect ?? '');
  env.DEVICE = clean(call.device.startsWith('/dev/') ? call.device.slice(5) : call.device);
  opt('TERM', term);
  if (call.ttyPrompt !== undefined) env.TTYPROMPT = clean(call.ttyPrompt);
  return env;
}
