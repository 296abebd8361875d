/**
 * The call's outside programs and rules: cid-program (when the machine says so),
 * caller screening (get-cnd-chat, dialin.config, cnd-program), for the runner's
 * `cid-program` and `screen` commands.
 */
import { applyMesg } from '../modem/callerid.js';
import type { Cancel } from './cancel.js';
import { runChat } from './chat-exec.js';
import type { LineIo } from './line-io.js';
import type { LineInput } from './machine.js';

/** A caller-screening verdict (dialin.config). */
export interface ScreenVerdict {
  allowed: boolean;
  why: string;
}

/** Result of a hook program (cnd-program, cid-program): its exit status, or undefined if it could not run. */
export type HookRunner = (program: string, args: string[], env: Record<string, string>, user: string | undefined) => Promise<number | undefined>;

export interface HookDeps {
  screen?: (callerId: string) => ScreenVerdict;
  runHook?: HookRunner;
}

function hookArgs(io: LineIo): { args: string[]; env: Record<string, string> } {
  const c = io.call;
  const env: Record<string, string> = { CONNECT: c.connect, DEVICE: io.s.device };
  if (c.callerId !== '') env.CALLER_ID = c.callerId;
  if (c.callDate !== '') env.CALL_DATE = c.callDate;
  if (c.callTime !== '') env.CALL_TIME = c.callTime;
  if (c.callerName !== '') env.CALLER_NAME = c.callerName;
  if (c.calledNr !== '') env.CALLED_ID = c.calledNr;
  return { args: [io.s.device, c.callerId, c.callerName, String(c.distRing), c.calledNr], env };
}

/** Run cid-program (the machine says when: once a call, see machine.ts cidDue). */
export async function cidProgram(io: LineIo, deps: HookDeps): Promise<LineInput> {
  const prog = io.s.cidProgram;
  if (prog === undefined || deps.runHook === undefined) return { type: 'cid-done' };
  const { args, env } = hookArgs(io);
  const status = await deps.runHook(prog, args, env, io.s.hookUser);
  io.log.mesg(`cid-program ${prog} exited with ${status ?? 'failure'}`);
  if (status !== undefined && status > 10) {
    io.log.mesg(`cid-program: wait for ${status - 10} RINGs`);
    return { type: 'cid-done', wanted: status - 10 };
  }
  return { type: 'cid-done' };
}

export async function screen(io: LineIo, deps: HookDeps, signal: Cancel): Promise<LineInput> {
  if (io.s.getCndChat !== undefined) await runChat(io, 'get-cnd', signal);
  applyMesg(io.call);
  const verdict = deps.screen?.(io.call.callerId) ?? { allowed: true, why: 'no dialin.config rules' };
  if (!verdict.allowed) return { type: 'screened', allowed: false, why: verdict.why };
  const prog = io.s.cndProgram;
  if (prog !== undefined && deps.runHook !== undefined) {
    const { args, env } = hookArgs(io);
    const status = await deps.runHook(prog, args, env, io.s.hookUser);
    io.log.mesg(`cnd-program ${prog} exited with ${status ?? 'failure'}`);
    if (status === 1) return { type: 'screened', allowed: false, why: `cnd-program ${prog} said no` };
  }
  return { type: 'screened', allowed: true, why: verdict.why };
}
