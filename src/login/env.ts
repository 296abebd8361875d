/**
 * The environment handed to login/pppd (spec §7.4). Pure. The allow-list it is built on
 * (PATH, TZ/LANG, the run-as user's HOME/USER/LOGNAME/SHELL) is session/child-env.ts,
 * shared with the cnd-/cid-program hooks; see there for why.
 */
import { childEnv, clean, type ChildEnvInput } from '../session/child-env.js';

export { CALL_ENV_NAMES, INHERITED_ENV_NAMES, SAFE_PATH, childEnv, hookEnv, type ChildEnvInput, type EnvUser } from '../session/child-env.js';

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

/** CALLER_ID (or `none`) and CONNECT as the program's environment has them; the LOGIN_PROCESS host is made of them too. */
export function callIdentity(call: { callerId?: string; connect?: string }): { CALLER_ID: string; CONNECT: string } {
  return { CALLER_ID: call.callerId !== undefined && call.callerId !== '' ? clean(call.callerId) : 'none', CONNECT: clean(call.connect ?? '') };
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
  const id = callIdentity(call);
  env.CALLER_ID = id.CALLER_ID;
  opt('CALLER_NAME', call.callerName);
  opt('CALL_DATE', call.callDate);
  opt('CALL_TIME', call.callTime);
  opt('CALLED_ID', call.calledId);
  env.CONNECT = id.CONNECT;
  env.DEVICE = clean(call.device.startsWith('/dev/') ? call.device.slice(5) : call.device);
  opt('TERM', term);
  if (call.ttyPrompt !== undefined) env.TTYPROMPT = clean(call.ttyPrompt);
  return env;
}
