/**
 * The environment handed to login/pppd (spec §7.4). Pure.
 *
 * mgetty passes its own (init's) environment plus the call's variables. tgetty is a
 * long-lived daemon, so the call variables are first removed from the base: a child
 * must never see the data of another call (or of the shell that started the daemon).
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

/** Variables owned by the call: removed from the base, then set from `call`. */
export const CALL_ENV_NAMES = [
  'CALLER_ID', 'CALLER_NAME', 'CALL_DATE', 'CALL_TIME', 'CALLED_ID', 'CONNECT', 'DEVICE', 'TTYPROMPT',
] as const;

/** A NUL cannot pass execve; caller-ID text is untrusted, so drop it rather than fail the call. */
function clean(s: string): string {
  return s.replace(/\0/g, '');
}

/**
 * The complete environment for the child: `base` (normally process.env) without the call
 * variables, plus CALLER_ID (or `none`), CALLER_NAME / CALL_DATE / CALL_TIME / CALLED_ID
 * when non-empty, CONNECT and DEVICE always, TERM when `term` is non-empty (else the
 * base's TERM stays, as with mgetty), TTYPROMPT (the expanded prompt) in ttyprompt mode.
 */
export function loginEnv(base: Readonly<Record<string, string | undefined>>, call: CallEnv, term?: string): Record<string, string> {
  const drop = new Set<string>(CALL_ENV_NAMES);
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined && !drop.has(k)) env[k] = v;
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
