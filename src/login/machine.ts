/**
 * The login stage after CONNECT (spec §5.12–§5.14) as a pure transition function, as
 * src/session/machine.ts is for the call up to CONNECT: no I/O, no timers. Bytes from the
 * line (already run through the PPP detector or the name reader by the runner), time-outs,
 * the hand-off's result and hang-ups arrive as inputs, each with the monotonic time it
 * happened; what to do leaves as commands that src/login/runner.ts carries out.
 *
 * The route: the post-CONNECT wait (mgetty's 0.3 s quiet-wait, then prompt-waittime,
 * both inside the autoppp window; a PPP frame there goes straight to /AutoPPP/), then
 * ttyprompt mode (the prompt goes into TTYPROMPT, no name is read) or the name loop:
 * issue, prompt, the name. ^U/^C re-prompt (the login timer runs on), an empty line
 * prints issue and prompt again (timer restarts), ^\ and ^D quit, `NO CARRIER`/`ERROR`
 * typed as a name is a misconfigured modem talking, the login time running out drops
 * the caller with a word first (Q1).
 */
import { showBytes } from '../core/bytes.js';
import { logField } from '../log/format.js';
import type { NameResult } from './logname.js';

/** How the login phase ended. */
export type LoginOutcome = 'completed' | 'login-timeout' | 'hangup' | 'refused' | 'quit' | 'modem-error' | 'failed';

/** What the hand-off (login.config entry, user, environment, utmp, spawn) is asked to start. */
export type HandOffRequest = Extract<NameResult, { kind: 'name' | 'autoppp' | 'fido' }>;

export interface SessionEnd {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type LoginState =
  | { name: 'start' }
  /** The post-CONNECT wait; `phase` quiet = mgetty's 0.3 s, prompt = prompt-waittime. */
  | { name: 'pre-wait'; phase: 'quiet' | 'prompt'; windowEnd: number }
  /** Issue and prompt are being printed; the login timer starts once the prompt is out. */
  | { name: 'prompting' }
  | { name: 'reading-name'; deadline: number | undefined }
  | { name: 'handing-off'; loginName: string }
  | { name: 'ended'; exitCode: number; outcome: LoginOutcome; loginName?: string; program?: string; exit?: SessionEnd };

export type LoginStateName = LoginState['name'];

export type LoginInput =
  | { type: 'start'; at: number }
  /** Bytes seen by a `wait-input` with parse 'ppp': `ppp` = a PPP frame started in them. */
  | { type: 'bytes'; at: number; ppp: boolean; bytes: Uint8Array }
  /** Bytes fed to the name reader (echo already written): its result, if it has one. */
  | { type: 'name-bytes'; at: number; result?: NameResult }
  /** A `wait-input` ran out (or its deadline had passed already). */
  | { type: 'timeout'; at: number }
  /** The prompt after the issue is out (outcome of `write-prompt` when it comes last). */
  | { type: 'prompted'; at: number }
  /** The line hung up, or a write found it gone. */
  | { type: 'hangup'; at: number }
  /** A command failed for another reason (a bug, an unexpected errno). */
  | { type: 'failed'; at: number; error: unknown }
  /** The hand-off's results. */
  | { type: 'refused'; at: number; loginName: string; program: string }
  | { type: 'exec-failed'; at: number; loginName: string; program: string }
  | { type: 'session-ended'; at: number; loginName: string; program: string; exit: SessionEnd };

/**
 * What the runner must do, in order, awaiting each; the outcome of the LAST command of a
 * transition is the next input (commands without an outcome never come last, except in
 * the end state).
 */
export type LoginCommand =
  | { cmd: 'set-speed'; baud: number } // autobauding: the port speed from the CONNECT text
  /**
   * Wait for bytes -> bytes | name-bytes | timeout | hangup. `parse` says what the runner
   * feeds them to. Waits until `until` (monotonic ms, undefined = for ever); with
   * `quietMs`, at most that long from now (a quiet-wait restarts per chunk).
   */
  | { cmd: 'wait-input'; parse: 'ppp' | 'name'; until: number | undefined; quietMs?: number }
  | { cmd: 'set-clocal'; on: boolean }
  | { cmd: 'load-login-config' } // the generation's login.config (FIDO detection, the hand-off)
  | { cmd: 'apply-mode'; mode: 'sane' | 'idle-raw' }
  | { cmd: 'print-issue' } // the issue file (text, file or !cmd)
  | { cmd: 'drain' }
  /** The prompt; `ttyPrompt`: remember its text for TTYPROMPT. Outcome: prompted. */
  | { cmd: 'write-prompt'; emsi: boolean; ttyPrompt?: boolean }
  | { cmd: 'write'; text: string }
  /** Stop reading the line and close it (the getty's fds; the hang-up comes after). */
  | { cmd: 'close' }
  /** Pick the login.config entry and start it -> refused | exec-failed | session-ended. */
  | { cmd: 'hand-off'; request: HandOffRequest; ttyPrompt: boolean }
  /** An audit line; the runner appends `dev=..., pid=..., caller=...`. */
  | { cmd: 'audit'; text: string }
  | { cmd: 'log'; level: 'error' | 'warn' | 'mesg' | 'noise'; text: string; err?: unknown };

export interface LoginTransition {
  state: LoginState;
  commands: LoginCommand[];
}

/** The settings the machine needs (src/session/settings.ts has them all). */
export interface LoginMachineConfig {
  connect: string;
  autobauding: boolean;
  ignoreCarrier: boolean;
  autopppWindowMs: number;
  promptWaitMs: number;
  loginTimeS: number;
  fidoSendEmsi: boolean;
  ttypromptHack: boolean;
}

/** mgetty's quiet-wait after CONNECT (swallows the rest of the CONNECT line, MNP junk). */
export const POST_CONNECT_QUIET_MS = 300;

const end = (exitCode: number, outcome: LoginOutcome, commands: LoginCommand[], extra: Partial<Extract<LoginState, { name: 'ended' }>> = {}): LoginTransition => ({
  state: { name: 'ended', exitCode, outcome, ...extra },
  commands,
});

/** The first transition, at CONNECT time `at`. */
export function initial(cfg: LoginMachineConfig, at: number): LoginTransition {
  const commands: LoginCommand[] = [];
  if (cfg.autobauding) {
    const m = /^(\d+)/.exec(cfg.connect);
    commands.push({ cmd: 'set-speed', baud: m !== null ? Number(m[1]) : 300 });
  }
  // Q10: mgetty throws these bytes away; we look for PPP in them.
  const windowEnd = at + Math.max(cfg.autopppWindowMs, POST_CONNECT_QUIET_MS);
  commands.push({ cmd: 'wait-input', parse: 'ppp', until: windowEnd, quietMs: POST_CONNECT_QUIET_MS });
  return { state: { name: 'pre-wait', phase: 'quiet', windowEnd }, commands };
}

export function transition(state: LoginState, input: LoginInput, cfg: LoginMachineConfig): LoginTransition {
  if (input.type === 'hangup') {
    return end(10, 'hangup', [{ cmd: 'audit', text: 'failed: got hangup, exiting;' }, { cmd: 'close' }]);
  }
  if (input.type === 'failed') {
    return end(1, 'failed', [{ cmd: 'log', level: 'error', text: 'login phase failed', err: input.error }, { cmd: 'close' }]);
  }
  switch (state.name) {
    case 'start':
      if (input.type === 'start') return initial(cfg, input.at);
      break;
    case 'pre-wait':
      return preWait(state, input, cfg);
    case 'prompting':
      if (input.type === 'prompted') return waitName(cfg.loginTimeS > 0 ? input.at + cfg.loginTimeS * 1000 : undefined);
      break;
    case 'reading-name':
      return readingName(state, input, cfg);
    case 'handing-off':
      return handedOff(input);
    case 'ended':
      return { state, commands: [] };
  }
  return unexpected(state, input);
}

function unexpected(state: LoginState, input: LoginInput): LoginTransition {
  return end(1, 'failed', [{ cmd: 'log', level: 'error', text: `login machine: unexpected input ${input.type} in state ${state.name}` }, { cmd: 'close' }]);
}

function preWait(state: Extract<LoginState, { name: 'pre-wait' }>, input: LoginInput, cfg: LoginMachineConfig): LoginTransition {
  if (input.type === 'bytes') {
    if (input.ppp) {
      const t = afterPreWait(state, cfg);
      return { state: { name: 'handing-off', loginName: '/AutoPPP/' }, commands: [...t, ...autoppp()] };
    }
    const noise: LoginCommand = { cmd: 'log', level: 'noise', text: `after CONNECT: ${showBytes(input.bytes)}` };
    if (input.at >= state.windowEnd) return withFirst(noise, phaseOver(state, cfg));
    return { state, commands: [noise, { cmd: 'wait-input', parse: 'ppp', until: state.windowEnd, quietMs: quietOf(state, cfg) }] };
  }
  if (input.type === 'timeout') return phaseOver(state, cfg);
  return unexpected(state, input);
}

const quietOf = (state: Extract<LoginState, { name: 'pre-wait' }>, cfg: LoginMachineConfig): number => (state.phase === 'quiet' ? POST_CONNECT_QUIET_MS : cfg.promptWaitMs);

function withFirst(c: LoginCommand, t: LoginTransition): LoginTransition {
  return { state: t.state, commands: [c, ...t.commands] };
}

/** Commands at the end of the quiet phase (whether or not PPP was seen): the carrier counts from now. */
function afterPreWait(state: Extract<LoginState, { name: 'pre-wait' }>, cfg: LoginMachineConfig): LoginCommand[] {
  if (state.phase !== 'quiet') return [];
  return cfg.ignoreCarrier ? [{ cmd: 'log', level: 'warn', text: 'carrier signal is ignored (ignore-carrier)' }] : [{ cmd: 'set-clocal', on: false }];
}

function autoppp(): LoginCommand[] {
  return [
    { cmd: 'log', level: 'mesg', text: 'PPP frame seen before the prompt: AutoPPP' },
    { cmd: 'load-login-config' },
    { cmd: 'hand-off', request: { kind: 'autoppp' }, ttyPrompt: false },
  ];
}

function phaseOver(state: Extract<LoginState, { name: 'pre-wait' }>, cfg: LoginMachineConfig): LoginTransition {
  const first = afterPreWait(state, cfg);
  if (state.phase === 'quiet' && cfg.promptWaitMs > 0) {
    return {
      state: { ...state, phase: 'prompt' },
      commands: [...first, { cmd: 'wait-input', parse: 'ppp', until: state.windowEnd, quietMs: cfg.promptWaitMs }],
    };
  }
  if (cfg.ttypromptHack) {
    return {
      state: { name: 'handing-off', loginName: '' },
      commands: [
        ...first,
        { cmd: 'write-prompt', emsi: false, ttyPrompt: true },
        { cmd: 'load-login-config' },
        { cmd: 'hand-off', request: { kind: 'name', name: '', endedWith: 'cr', upperOnly: false }, ttyPrompt: true },
      ],
    };
  }
  // The name loop. login.config first: a /FIDO/ line decides whether handshakes are names.
  return { state: { name: 'prompting' }, commands: [...first, { cmd: 'load-login-config' }, ...issueAndPrompt(cfg)] };
}

function issueAndPrompt(cfg: LoginMachineConfig): LoginCommand[] {
  return [
    { cmd: 'apply-mode', mode: 'sane' },
    { cmd: 'print-issue' },
    { cmd: 'drain' },
    { cmd: 'apply-mode', mode: 'idle-raw' },
    { cmd: 'write-prompt', emsi: cfg.fidoSendEmsi },
  ];
}

function waitName(deadline: number | undefined): LoginTransition {
  return { state: { name: 'reading-name', deadline }, commands: [{ cmd: 'wait-input', parse: 'name', until: deadline }] };
}

function readingName(state: Extract<LoginState, { name: 'reading-name' }>, input: LoginInput, cfg: LoginMachineConfig): LoginTransition {
  if (input.type === 'timeout') {
    // Q1: mgetty never drops a silent caller; we do, with a word first.
    return end(0, 'login-timeout', [
      { cmd: 'log', level: 'mesg', text: `login time (${cfg.loginTimeS} s) ran out` },
      { cmd: 'audit', text: 'failed: login time out,' },
      { cmd: 'write', text: `\r\n\r\nLogin timed out after ${cfg.loginTimeS} seconds. Goodbye.\r\n` },
      { cmd: 'drain' },
      { cmd: 'close' },
    ]);
  }
  if (input.type !== 'name-bytes') return unexpected(state, input);
  const res = input.result;
  if (res === undefined) return waitName(state.deadline);
  switch (res.kind) {
    case 'restart':
      return { state, commands: [{ cmd: 'write-prompt', emsi: cfg.fidoSendEmsi && res.emsi }, { cmd: 'wait-input', parse: 'name', until: state.deadline }] };
    case 'empty':
      return { state: { name: 'prompting' }, commands: issueAndPrompt(cfg) };
    case 'quit':
      return end(0, 'quit', [{ cmd: 'log', level: 'mesg', text: res.key === 'quit' ? 'got ^\\ at the prompt: exiting' : 'got ^D at the prompt: exiting' }, { cmd: 'close' }]);
    case 'modem-error':
      return end(0, 'modem-error', [{ cmd: 'audit', text: `failed: got modem error ${logField(res.text)},` }, { cmd: 'close' }]);
    default:
      return {
        state: { name: 'handing-off', loginName: res.kind === 'name' ? res.name : res.kind === 'fido' ? res.packet : '/AutoPPP/' },
        commands: [{ cmd: 'hand-off', request: res, ttyPrompt: false }],
      };
  }
}

function handedOff(input: LoginInput): LoginTransition {
  switch (input.type) {
    case 'refused':
      return end(1, 'refused', [], { loginName: input.loginName, program: input.program });
    case 'exec-failed':
      return end(255, 'refused', [], { loginName: input.loginName, program: input.program });
    case 'session-ended': {
      const ex = input.exit;
      const info = { loginName: input.loginName, program: input.program, exit: ex };
      // The program's own status is the exit code (mgetty execs it); a hangup's SIGHUP is 10.
      const code = ex.code !== null ? ex.code : ex.signal === 'SIGHUP' ? 10 : 1;
      const how = ex.code !== null ? `exit ${ex.code}` : `signal ${ex.signal ?? '?'}`;
      return end(code, 'completed', [{ cmd: 'log', level: 'mesg', text: `session of ${logField(input.loginName)} ended: ${how}` }], info);
    }
    default:
      return unexpected({ name: 'handing-off', loginName: '' }, input);
  }
}
