/**
 * The login machine's `hand-off` command: pick the login.config entry for the name (or
 * /AutoPPP/, /FIDO/), look up its user, build the allow-listed environment and start the
 * program as a new session on the tty (spawn.ts), with utmp records; then wait for it.
 */
import { realpathSync } from 'node:fs';
import { getpwnam } from '../os/passwd.js';
import type { LineMode } from '../line/line.js';
import { logField } from '../log/format.js';
import { matchLogin, expandArgs, utmpName, type LoginEntry } from '../config/login-config.js';
import { callIdentity, loginEnv, type EnvUser } from './env.js';
import { encodeStandby } from './standby-gate.js';
import { DEFAULT_TOOLS, directArgv, startSession, type GateRecord, type SessionUser } from './spawn.js';
import { UtmpWriter, loginHost } from './utmp.js';
import type { StandbyGate } from './standby-gate.js';
import type { HandOffRequest, LoginInput } from './machine.js';
import type { LoginPhaseOptions } from './runner.js';

/** The tty behind a line path (a simulator symlink -> pts/N), as utmp names it. */
export function realDevice(path: string): string {
  try {
    const real = realpathSync(path);
    return real.startsWith('/dev/') ? real.slice(5) : real;
  } catch {
    return path.startsWith('/dev/') ? path.slice(5) : path;
  }
}

/** The name login.config is matched against: the typed name, /AutoPPP/, or the FidoNet packet. */
export function requestName(res: HandOffRequest): string {
  return res.kind === 'name' ? res.name : res.kind === 'autoppp' ? '/AutoPPP/' : res.packet;
}

type Users = { ok: true; user?: SessionUser; envUser?: EnvUser } | { ok: false };

/** The login.config user column: its passwd entry, or a refusal (mgetty would run the program as root). */
function lookUpUser(o: LoginPhaseOptions, entry: LoginEntry): Users {
  if (entry.user === undefined) return { ok: true };
  const pw = getpwnam(entry.user);
  if (pw === undefined) {
    o.log.error(`login.config ${entry.file}:${entry.line}: unknown user '${entry.user}': refusing the call (mgetty would run the program as root)`);
    return { ok: false };
  }
  return { ok: true, user: { uid: pw.uid, gid: pw.gid, name: pw.name }, envUser: pw };
}

/** Allow-listed (login/env.ts): of the daemon's environment only TZ and LANG pass. */
function sessionEnv(o: LoginPhaseOptions, envUser: EnvUser | undefined, ttyPrompt: string): Record<string, string> {
  const { settings: s, result } = o;
  const call = result.call;
  return loginEnv(
    { inherit: process.env, ...(envUser !== undefined ? { user: envUser } : {}) },
    {
      device: s.device,
      connect: call.connect,
      callerId: call.callerId,
      callerName: call.callerName,
      callDate: call.callDate,
      callTime: call.callTime,
      calledId: call.calledNr,
      ...(ttyPrompt !== '' ? { ttyPrompt } : {}),
    },
    s.term,
  );
}

/**
 * Run the pure part of a hand-off once with a name nobody can type, so the real one runs
 * compiled code (the login stage calls this once login.config is loaded).
 */
export function warmHandOff(entries: readonly LoginEntry[]): void {
  const entry = matchLogin(entries, '\u0000', { typedSpecialNames: false });
  expandArgs(entry, { name: '\u0000', connect: '', callerId: '' });
  utmpName(entry, '\u0000');
  loginHost(undefined, undefined);
  // The environment and the gate's words, built once for nothing.
  const env = loginEnv({ inherit: {} }, { device: 'x', connect: 'x', callerId: '', callerName: 'x', callDate: 'x', callTime: 'x', calledId: 'x' }, 'x');
  encodeStandby(directArgv('/x', ['x'], undefined, DEFAULT_TOOLS).argv, env);
  logField('x y');
}

/** The LOGIN_PROCESS host of a call, as the hand-off's environment gives it (loginEnv). */
export function callHost(call: { callerId: string; connect: string }): string {
  const id = callIdentity(call);
  return loginHost(id.CALLER_ID, id.CONNECT);
}

/** What the login stage works out before the name's CR, so the hand-off after it does not. */
export interface HandOffPrep {
  /** realDevice() of the line, taken when the call connected (the path does not change within a call). */
  utmpDevice: string;
  /** The standby gate's LOGIN_PROCESS record, written at CONNECT (runner.ts). */
  gateRecord?: GateRecord;
}

/** Hand the line over and wait for the session: refused | exec-failed | session-ended. */
export async function handOff(o: LoginPhaseOptions, res: HandOffRequest, ttyPrompt: string, entries: readonly LoginEntry[], standby?: StandbyGate, prep?: HandOffPrep): Promise<LoginInput> {
  const { settings: s, log, result, clock } = o;
  const line = result.line;
  const call = result.call;
  const name = requestName(res);
  const entry = matchLogin(entries, name, {
    autoppp: res.kind === 'autoppp',
    fido: res.kind === 'fido',
    typedSpecialNames: o.typedSpecialNames ?? true,
  });
  const argv = expandArgs(entry, { name, connect: call.connect, callerId: call.callerId });
  log.noise(`login.config: ${entry.builtin === true ? 'built-in default' : `${entry.file}:${entry.line}`} -> ${entry.program} ${logField(argv.join(' '))}`);
  const who = { loginName: name, program: entry.program };

  const users = lookUpUser(o, entry);
  if (!users.ok) {
    await standby?.cancel();
    await line.write('\r\nLogin is not possible right now. Goodbye.\r\n').catch(() => undefined);
    line.close();
    return { type: 'refused', at: clock.monotonic(), ...who };
  }
  const env = sessionEnv(o, users.envUser, ttyPrompt);
  const utmpUser = utmpName(entry, name);
  const mode: LineMode =
    res.kind === 'autoppp' || res.kind === 'fido'
      ? { mode: 'idle-raw', clocal: s.ignoreCarrier }
      : { mode: 'login', endedWith: res.endedWith, clocal: s.ignoreCarrier };
  if (s.term === undefined && line.getModemStatus()?.dcd === false) log.warn('starting login while DCD is low!');
  const started = await startSession({
    line,
    mode,
    program: entry.program,
    argv,
    env,
    ...(users.user !== undefined ? { user: users.user } : {}),
    utmp: {
      writer: new UtmpWriter({ utmpFile: o.paths.utmp, wtmpFile: o.paths.wtmp, clock, log }),
      loginRecord: utmpUser === undefined,
      ...(utmpUser !== undefined ? { userRecord: utmpUser } : {}),
    },
    portMode: { during: 0o600 },
    ...(standby !== undefined ? { standby } : {}),
    ...(prep?.gateRecord !== undefined ? { gateRecord: prep.gateRecord } : {}),
    loginName: name,
    utmpDevice: prep?.utmpDevice ?? realDevice(s.path),
    auditDevice: s.device,
    log,
  });
  if (!started.ok) {
    log.error(`cannot execute '${entry.program}'`, { err: started.error });
    if (started.error.context.released !== true) {
      if (started.lineText !== '') await line.write(started.lineText).catch(() => undefined);
      line.close();
    }
    return { type: 'exec-failed', at: clock.monotonic(), ...who };
  }
  o.onSession?.(started.session, who);
  const exit = await started.session.exited;
  return { type: 'session-ended', at: clock.monotonic(), ...who, exit };
}
