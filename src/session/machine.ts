/**
 * The per-line call machine, from start-up to CONNECT (spec §5.1–§5.11), as a pure
 * transition function: no I/O, no timers. Time-outs, RINGs, chat results, lock
 * changes and signals arrive as inputs; what to do next leaves as commands that the
 * runner (src/session/runner.ts) carries out and turns into the next input.
 *
 * The states are mgetty's (WAITING, CHECK_MODEM, RESET, WAIT_FOR_RINGS, ANSWER,
 * DIALOUT, NOLOGIN) plus the start-up steps made explicit. Where mgetty exits so
 * that init respawns it, the machine ends with that exit code; the daemon maps an
 * end to a restart of the line instead.
 */

import type { LineSettings } from './settings.js';

export type ChatName = 'init' | 'force-init' | 'statistics' | 'post-init' | 'answer' | 'get-cnd';

export type LineState =
  | { name: 'starting' }
  // recovery: re-initialising a modem that failed the idle check (ends with exit 30, not 1).
  | { name: 'init'; attempt: 1 | 2; forced: boolean; recovery?: true }
  | { name: 'force-init'; recovery?: true }
  | { name: 'wait-dsr' }
  | { name: 'post-init'; step: 'statistics' | 'post-init' }
  | { name: 'idle' }
  | { name: 'dialout'; ownerPid: number; ownerCmd: string }
  | { name: 'check-modem'; attempt: 1 | 2 }
  | { name: 'reset' }
  // virtual: SIGUSR1 came during this call, so every RING wait succeeds at once (mgetty's
  // virtual RING); cidDone: cid-program ran for this call (it runs once a call).
  | { name: 'ringing'; rings: number; wanted: number; ringback: 'off' | 'first-call' | 'waiting-recall'; virtual?: true; cidDone?: true }
  | { name: 'nologin'; rings: number; virtual?: true }
  | { name: 'screening' }
  | { name: 'answering' }
  | { name: 'connected'; connect: string; autoAnswered: boolean; fax?: true }
  | { name: 'nologin-refuse' }
  | { name: 'ended'; exitCode: number; reason: string; keepLock: boolean; kind: EndKind };

/**
 * Why the line ended, for the daemon's call records, metrics and restart decisions.
 * `reason` is log text and may be reworded; this is what code branches on.
 */
export type EndKind =
  | 'reload' // SIGUSR2 while idle (exit 0)
  | 'signal' // SIGTERM, SIGINT, SIGQUIT, SIGHUP (exit 10)
  | 'hangup' // the line hung up (exit 10)
  | 'open-failed' // the line could not be opened (exit 30)
  | 'init-failed' // the init chat failed, also after force-init (exit 1)
  | 'modem-dead' // the idle modem check failed and re-initialising did not help (exit 30)
  | 'answer-timeout' // the answer chat timed out (exit 1)
  | 'answer-failed' // the answer chat failed: NO CARRIER, BUSY, ERROR, ... (exit 1)
  | 'fax' // a fax call: fax reception is not supported (exit 0)
  | 'junk' // activity on the line but no RING (exit 0)
  | 'modem-said' // an unexpected modem result while waiting for RING or refusing a call (exit 20)
  | 'nologin'; // a call was refused because the nologin file is present (exit 20)

// A Record, so that adding a kind without listing it here fails to compile.
const END_KIND_SET: Record<EndKind, true> = {
  reload: true, signal: true, hangup: true, 'open-failed': true, 'init-failed': true, 'modem-dead': true,
  'answer-timeout': true, 'answer-failed': true, fax: true, junk: true, 'modem-said': true, nologin: true,
};
export const END_KINDS: readonly EndKind[] = Object.keys(END_KIND_SET) as EndKind[];

export type StateName = LineState['name'];

/** Everything the runner can tell the machine. */
export type LineInput =
  | { type: 'opened' }
  | { type: 'open-failed'; message: string }
  | { type: 'lock-held'; ownerPid: number; ownerCmd: string }
  | { type: 'lock-free' }
  | { type: 'chat-ok'; connect?: string }
  | { type: 'chat-failed'; reason: 'timeout' | 'abort' | 'error'; action?: string; fax?: boolean }
  | { type: 'dsr-cts'; up: boolean }
  | { type: 'activity' }
  | { type: 'virtual-ring' }
  | { type: 'check-due' }
  | { type: 'quiet-done' }
  // caller: caller data (a caller ID or name) is known after this RING.
  | { type: 'ring'; distRing: number; caller?: boolean }
  | { type: 'ring-timeout' }
  | { type: 'modem-line'; action: 'CONNECT' | 'NO CARRIER' | 'BUSY' | 'ERROR' | 'FAX'; line: string }
  | { type: 'cid-done'; wanted?: number }
  | { type: 'screened'; allowed: boolean; why: string }
  | { type: 'signal'; signal: 'SIGTERM' | 'SIGINT' | 'SIGQUIT' | 'SIGHUP' | 'SIGUSR2' }
  | { type: 'hangup' };

/**
 * What the runner must do. The runner performs a transition's commands in order,
 * awaiting each, and feeds the outcome of the LAST command back as the next input;
 * commands such as log, audit and unlock have no outcome and never come last, except
 * in the end states 'connected' and 'ended'.
 */
export type Command =
  | { cmd: 'open' } // lock check + lock + chown/chmod + open + DTR + termios -> opened | open-failed | lock-held
  | { cmd: 'lock' } // -> lock-free (we hold it now) | lock-held
  | { cmd: 'unlock' }
  | { cmd: 'watch-lock' } // dial-out: wait until the foreign lock is gone -> lock-free
  | { cmd: 'release-line' } // close our fds so the dial-out program has the port to itself
  | { cmd: 'chat'; chat: ChatName } // -> chat-ok | chat-failed
  | { cmd: 'check-dsr' } // -> dsr-cts
  | { cmd: 'sleep-dsr' } // 60 s, then -> dsr-cts
  | { cmd: 'fax-init' } // only when fax is enabled; runs inside post-init
  | { cmd: 'quiet'; ms: number } // discard input until silent for ms -> quiet-done
  | { cmd: 'wait-activity'; checkAfterS: number } // -> activity | virtual-ring | check-due | lock-held
  | { cmd: 'probe-modem' } // AT -> OK: chat-ok | chat-failed
  | { cmd: 'wait-ring'; timeoutMs: number } // -> ring | ring-timeout | modem-line | virtual-ring
  | { cmd: 'virtual-ring' } // the RING wait of a call that got SIGUSR1: succeeds at once -> virtual-ring
  | { cmd: 'cid-program'; rings: number } // runs cid-program (the machine decides when) -> cid-done (wanted = new ring count, if it said so)
  | { cmd: 'screen' } // get-cnd-chat, dialin.config, cnd-program -> screened
  | { cmd: 'reset-call' } // forget caller id etc.
  | { cmd: 'send-nologin-refusal' } // the "Sorry, no login allowed" text, then 5 s -> chat-ok
  | { cmd: 'audit'; text: string }
  | { cmd: 'log'; level: 'error' | 'warn' | 'mesg' | 'noise'; text: string };

/** The phase of the line as its users see it (the daemon's status), one per state. */
export type LinePhase = 'starting' | 'initializing' | 'idle' | 'dialout' | 'ringing' | 'answering' | 'connected';

/**
 * What a transition means for the call records, the status and the restart policy.
 * Events are facts, not actions: they have no outcome and are delivered even when an
 * outside input cuts the transition's commands short.
 */
export type MachineEvent =
  /** The line entered another phase (given only when it changes). */
  | { event: 'phase'; phase: LinePhase }
  /** The init chat succeeded (or a direct line opened): the modem is ready. */
  | { event: 'modem-ready' }
  /** Activity on the idle line: a call begins. */
  | { event: 'call-start' }
  /** A RING came with caller data known (the data itself is the runner's call data). */
  | { event: 'call-caller' }
  /** The call ended before it was answered and the line goes back to idle. */
  | { event: 'call-end'; outcome: 'missed' | 'denied' | 'refused' }
  /** The line ends; afterAnswer: straight from the answer chat (NO CARRIER, BUSY, a caller who hung up). */
  | { event: 'ended'; afterAnswer: boolean };

export interface Transition {
  state: LineState;
  commands: Command[];
  /** Set by transition() when the step means something to the outside (see MachineEvent). */
  events?: MachineEvent[];
}

/** The settings the machine needs (already resolved and post-processed by the config layer). */
export interface MachineConfig {
  direct: boolean;
  /** The `rings` setting as configured: 0 is taken as 1, negative answers on the first activity (Q12). */
  rings: number;
  /** A cid-program is configured (and hooks can run). */
  cidProgram: boolean;
  ringback: boolean;
  ringbackTimeS: number;
  modemCheckTimeS: number; // < 0: never
  needDsr: boolean;
  forceInitChat: boolean;
  statisticsChat: boolean;
  postInitChat: boolean;
  faxInit: boolean;
}

/**
 * What the machine knows of the world besides the input: facts that can change at any
 * moment and that the runner looks up before each transition (the nologin file).
 * Passed with every input, so transition() is a pure function of its arguments.
 */
export interface LineSnapshot {
  /** The nologin file (mgetty's NOLOGIN) is present: calls are refused. */
  nologin: boolean;
}

/** The machine's config from a line's settings; `canRunHooks`: a hook runner is there. */
export function machineConfigOf(s: LineSettings, canRunHooks: boolean): MachineConfig {
  return {
    direct: s.direct,
    rings: s.rings,
    cidProgram: s.cidProgram !== undefined && canRunHooks,
    ringback: s.ringback,
    ringbackTimeS: s.ringbackTimeS,
    modemCheckTimeS: s.modemCheckTimeS,
    needDsr: s.needDsr,
    forceInitChat: s.forceInitChat !== undefined && s.forceInitChat.length > 0,
    statisticsChat: s.statisticsChat !== undefined,
    postInitChat: s.postInitChat !== undefined,
    // Fax set-up runs after the init chat unless the line is data only.
    faxInit: s.fax !== undefined,
  };
}

/** mgetty's inter-RING timeout while counting (spec §5.5). */
export const RING_TIMEOUT_MS = 10_000;
/** Ringback: the first call's RINGs are counted with this inter-RING timeout. */
export const RINGBACK_FIRST_TIMEOUT_MS = 17_000;
/** Quiet-waits of spec §5.7. */
export const QUIET_AFTER_OPEN_MS = 100;
export const QUIET_RESET_MS = 300;
export const QUIET_DENIED_MS = 8_000;

/** A fax call: received when the line was set up for fax, else (data only) ended as mgetty does. */
function faxCall(cfg: MachineConfig, autoAnswered: boolean): Transition {
  if (!cfg.faxInit) return end('fax', 0, 'fax call on a data-only line: not received');
  return { state: { name: 'connected', connect: 'FAX', autoAnswered, fax: true }, commands: [] };
}

/** How many RINGs to wait for: `rings 0` would never answer, mgetty takes it as 1. */
const wantedRings = (cfg: MachineConfig): number => (cfg.rings === 0 ? 1 : cfg.rings);

/** Wait for the next RING, or, once SIGUSR1 came in this call, take it as come. */
function waitRing(virtual: true | undefined, timeoutMs: number): Command[] {
  if (virtual) return [{ cmd: 'log', level: 'mesg', text: 'virtual RING (SIGUSR1)' }, { cmd: 'virtual-ring' }];
  return [{ cmd: 'wait-ring', timeoutMs }];
}

/** A copy of `o` with the flag `key` set when `on` (absent otherwise, so states compare as before). */
function flag<T extends object, K extends string>(o: T, key: K, on: boolean | undefined): T {
  return on === true ? { ...o, [key]: true } : o;
}

/**
 * cid-program runs once a call, before the call is answered, as soon as caller data is
 * known or at the second RING (mgetty's condition).
 */
function cidDue(cfg: MachineConfig, state: Extract<LineState, { name: 'ringing' }>, rings: number, caller: boolean): boolean {
  return cfg.cidProgram && state.cidDone !== true && (caller || rings >= 2);
}

const end = (kind: EndKind, exitCode: number, reason: string, keepLock = false): Transition => ({
  state: { name: 'ended', exitCode, reason, keepLock, kind },
  commands: keepLock ? [] : [{ cmd: 'unlock' }],
});

/** The first transition: nothing has happened yet. */
export function initial(): Transition {
  return { state: { name: 'starting' }, commands: [{ cmd: 'open' }] };
}

/** Enter the idle wait (mgetty's WAITING). */
function toIdle(cfg: MachineConfig): Transition {
  return {
    state: { name: 'idle' },
    commands: [{ cmd: 'log', level: 'mesg', text: 'waiting...' }, { cmd: 'wait-activity', checkAfterS: cfg.direct ? -1 : cfg.modemCheckTimeS }],
  };
}

/** Steps after a successful init chat: statistics, fax, post-init, then RESET into idle. */
function afterInit(cfg: MachineConfig): Transition {
  if (cfg.statisticsChat) return { state: { name: 'post-init', step: 'statistics' }, commands: [{ cmd: 'chat', chat: 'statistics' }] };
  return postInitStep(cfg);
}

function postInitStep(cfg: MachineConfig): Transition {
  const commands: Command[] = [];
  if (cfg.faxInit) commands.push({ cmd: 'fax-init' });
  if (cfg.postInitChat) {
    commands.push({ cmd: 'chat', chat: 'post-init' });
    return { state: { name: 'post-init', step: 'post-init' }, commands };
  }
  commands.push({ cmd: 'quiet', ms: QUIET_RESET_MS });
  return { state: { name: 'reset' }, commands };
}

function startRinging(cfg: MachineConfig, rings: number, virtual: true | undefined): Transition {
  if (cfg.direct) return { state: { name: 'connected', connect: 'DIRECT', autoAnswered: false }, commands: [] };
  const ringback = cfg.ringback ? 'first-call' : 'off';
  const wanted = wantedRings(cfg);
  // mgetty (Q12): a negative ring count answers on the first activity without a RING.
  if (rings >= wanted) return { state: { name: 'screening' }, commands: [{ cmd: 'screen' }] };
  return {
    state: flag({ name: 'ringing', rings, wanted, ringback }, 'virtual', virtual),
    commands: waitRing(virtual, ringback === 'first-call' ? RINGBACK_FIRST_TIMEOUT_MS : RING_TIMEOUT_MS),
  };
}

/** Signals that end the line wherever it is (mgetty's "goodbye" handler, exit 10). */
function onSignal(state: LineState, signal: string): Transition | undefined {
  if (signal === 'SIGUSR2') {
    // Exit if idle (used to reload the config), ignore while a call is in progress.
    if (state.name === 'answering' || state.name === 'connected') {
      return { state, commands: [{ cmd: 'log', level: 'mesg', text: 'got SIGUSR2 while off-hook: ignored' }] };
    }
    return { ...end('reload', 0, 'SIGUSR2'), commands: [{ cmd: 'audit', text: 'exit: got signal USR2' }, { cmd: 'unlock' }] };
  }
  if (signal === 'SIGHUP' && (state.name === 'idle' || state.name === 'starting' || state.name === 'init' || state.name === 'dialout')) {
    // Ignored at start-up and while idle (Q28): there is no call to lose.
    return { state, commands: [] };
  }
  const t = end('signal', 10, `signal ${signal}`);
  return { ...t, commands: [{ cmd: 'audit', text: `failed: got signal ${signal}, exiting` }, ...t.commands] };
}

export function transition(state: LineState, input: LineInput, cfg: MachineConfig, now: LineSnapshot): Transition {
  const t = step(state, input, cfg, now);
  const events = eventsOf(state, input, t.state);
  return events.length > 0 ? { ...t, events } : t;
}

/** The phase of each state; reset and ended have none (the line is between phases). */
export function phaseOf(state: LineState): LinePhase | undefined {
  switch (state.name) {
    case 'starting':
      return 'starting';
    case 'init':
    case 'force-init':
    case 'wait-dsr':
    case 'post-init':
      return 'initializing';
    case 'idle':
    case 'check-modem':
      return 'idle';
    case 'dialout':
      return 'dialout';
    case 'ringing':
    case 'nologin':
    case 'nologin-refuse':
    case 'screening':
      return 'ringing';
    case 'answering':
      return 'answering';
    case 'connected':
      return 'connected';
    case 'reset':
    case 'ended':
      return undefined;
    default: {
      const never: never = state;
      return never;
    }
  }
}

const IN_CALL: ReadonlySet<StateName> = new Set<StateName>(['ringing', 'nologin', 'nologin-refuse', 'screening', 'answering']);

/** The events of one step, in the order the outside must see them. */
function eventsOf(from: LineState, input: LineInput, to: LineState): MachineEvent[] {
  const out: MachineEvent[] = [];
  if (from.name === 'idle' && to.name === 'ringing') out.push({ event: 'call-start' });
  if ((from.name === 'starting' || from.name === 'init' || from.name === 'force-init') && (to.name === 'reset' || to.name === 'post-init')) {
    out.push({ event: 'modem-ready' });
  }
  if (input.type === 'ring' && input.caller === true) out.push({ event: 'call-caller' });
  if (to.name === 'ended') out.push({ event: 'ended', afterAnswer: from.name === 'answering' });
  if (IN_CALL.has(from.name) && to.name === 'reset') {
    out.push({ event: 'call-end', outcome: from.name === 'screening' ? 'denied' : from.name === 'nologin' ? 'refused' : 'missed' });
  }
  const phase = phaseOf(to);
  if (phase !== undefined && phase !== phaseOf(from)) out.push({ event: 'phase', phase });
  return out;
}

/** Start-up: open, init chats, DSR wait. */
function startUp(state: Extract<LineState, { name: 'starting' | 'init' | 'wait-dsr' | 'force-init' | 'post-init' }>, input: LineInput, cfg: MachineConfig): Transition | undefined {
  switch (state.name) {
    case 'starting':
      if (input.type === 'opened') {
        if (cfg.direct) return { state: { name: 'reset' }, commands: [{ cmd: 'quiet', ms: QUIET_RESET_MS }] };
        return { state: { name: 'init', attempt: 1, forced: false }, commands: [{ cmd: 'chat', chat: 'init' }] };
      }
      if (input.type === 'lock-held') return toDialout(input.ownerPid, input.ownerCmd);
      if (input.type === 'open-failed') {
        return {
          ...end('open-failed', 30, `cannot open the line: ${input.message}`),
          commands: [{ cmd: 'log', level: 'error', text: `cannot get terminal line: ${input.message}` }, { cmd: 'unlock' }],
        };
      }
      break;

    case 'init':
      if (input.type === 'chat-ok') return afterInit(cfg);
      if (input.type === 'chat-failed') {
        if (state.attempt === 1 && cfg.needDsr) return { state: { name: 'wait-dsr' }, commands: [{ cmd: 'check-dsr' }] };
        return initFailed(state, input.reason, cfg);
      }
      break;

    case 'wait-dsr':
      if (input.type === 'dsr-cts') {
        if (!input.up) return { state, commands: [{ cmd: 'log', level: 'warn', text: 'neither DSR nor CTS is up, waiting 60 s' }, { cmd: 'sleep-dsr' }] };
        // DSR/CTS came (back): carry on with the force-init logic as after a time-out.
        return initFailed({ name: 'init', attempt: 1, forced: false }, 'timeout', cfg);
      }
      break;

    case 'force-init':
      if (input.type === 'chat-ok' || (input.type === 'chat-failed' && input.reason !== 'timeout')) {
        return {
          state: { name: 'init', attempt: 2, forced: true, ...(state.recovery ? { recovery: true as const } : {}) },
          commands: [{ cmd: 'quiet', ms: QUIET_RESET_MS }, { cmd: 'chat', chat: 'init' }],
        };
      }
      if (input.type === 'chat-failed') return initGiveUp(state.recovery === true);
      break;

    case 'post-init':
      if (state.step === 'statistics' && (input.type === 'chat-ok' || input.type === 'chat-failed')) return postInitStep(cfg);
      if (state.step === 'post-init' && (input.type === 'chat-ok' || input.type === 'chat-failed')) {
        // post-init errors are ignored, as in mgetty.
        return { state: { name: 'reset' }, commands: [{ cmd: 'quiet', ms: QUIET_RESET_MS }] };
      }
      break;

  }
  return undefined;
}

/** Between calls: reset, idle, the modem check, a dial-out program. */
function idleSide(state: Extract<LineState, { name: 'reset' | 'idle' | 'check-modem' | 'dialout' }>, input: LineInput, cfg: MachineConfig): Transition | undefined {
  switch (state.name) {
    case 'reset':
      if (input.type === 'quiet-done') return { ...toIdle(cfg), commands: [{ cmd: 'reset-call' }, { cmd: 'unlock' }, ...toIdle(cfg).commands] };
      break;

    case 'idle':
      if (input.type === 'check-due') return { state: { name: 'check-modem', attempt: 1 }, commands: [{ cmd: 'lock' }] };
      if (input.type === 'lock-held') return toDialout(input.ownerPid, input.ownerCmd);
      if (input.type === 'activity' || input.type === 'virtual-ring') {
        // Take the lock first: a dial-out program may be what woke us.
        const ringing: LineState = { name: 'ringing', rings: 0, wanted: wantedRings(cfg), ringback: 'off' };
        return { state: flag(ringing, 'virtual', input.type === 'virtual-ring'), commands: [{ cmd: 'lock' }] };
      }
      break;

    case 'check-modem':
      if (input.type === 'lock-held') return toDialout(input.ownerPid, input.ownerCmd);
      if (input.type === 'lock-free') return { state, commands: [{ cmd: 'probe-modem' }] };
      if (input.type === 'chat-ok') return { state: { name: 'reset' }, commands: [{ cmd: 'quiet', ms: QUIET_RESET_MS }] };
      if (input.type === 'chat-failed') {
        if (state.attempt === 1) return { state: { name: 'check-modem', attempt: 2 }, commands: [{ cmd: 'probe-modem' }] };
        // mgetty exits 30 here; we first try to bring the modem back as at start-up
        // (force-init, then init). Only if that fails too does the line end with 30.
        const log: Command = { cmd: 'log', level: 'warn', text: "modem doesn't react to AT: trying to re-initialise it" };
        if (cfg.forceInitChat) return { state: { name: 'force-init', recovery: true }, commands: [log, { cmd: 'chat', chat: 'force-init' }] };
        return { state: { name: 'init', attempt: 2, forced: false, recovery: true }, commands: [log, { cmd: 'chat', chat: 'init' }] };
      }
      break;

    case 'dialout':
      if (input.type === 'lock-free') {
        // The dial-out program is done: bring the line back with a full re-initialisation.
        return { state: { name: 'starting' }, commands: [{ cmd: 'log', level: 'mesg', text: 'dial-out finished, re-initialising the line' }, { cmd: 'open' }] };
      }
      break;

  }
  return undefined;
}

/** A call before CONNECT: refused (nologin), screened, answered. */
function inCall(state: Extract<LineState, { name: 'nologin' | 'nologin-refuse' | 'screening' | 'answering' }>, input: LineInput, cfg: MachineConfig, now: LineSnapshot): Transition | undefined {
  switch (state.name) {
    case 'nologin':
      if (input.type === 'ring') {
        // Rings counted while refused still count once the nologin file is gone (as mgetty).
        if (!now.nologin) return startRinging(cfg, state.rings + 1, state.virtual);
        return { state: { ...state, rings: state.rings + 1 }, commands: waitRing(state.virtual, RING_TIMEOUT_MS) };
      }
      if (input.type === 'virtual-ring') return startRinging(cfg, state.rings, true);
      if (input.type === 'ring-timeout') {
        return { state: { name: 'reset' }, commands: [{ cmd: 'audit', text: `rejected, rings=${state.rings}` }, { cmd: 'quiet', ms: QUIET_RESET_MS }] };
      }
      if (input.type === 'modem-line') {
        if (input.action === 'CONNECT') return { state: { name: 'nologin-refuse' }, commands: [{ cmd: 'quiet', ms: 500 }, { cmd: 'send-nologin-refusal' }] };
        return end('modem-said', 20, `unexpected '${input.line}' while refusing calls`, true);
      }
      break;

    case 'nologin-refuse':
      if (input.type === 'chat-ok' || input.type === 'chat-failed' || input.type === 'hangup') return end('nologin', 20, 'nologin file present, call refused', true);
      break;

    case 'screening':
      if (input.type === 'screened') {
        if (input.allowed) return { state: { name: 'answering' }, commands: [{ cmd: 'chat', chat: 'answer' }] };
        return { state: { name: 'reset' }, commands: [{ cmd: 'audit', text: `denied caller (${input.why})` }, { cmd: 'quiet', ms: QUIET_DENIED_MS }] };
      }
      break;

    case 'answering':
      if (input.type === 'chat-ok') return { state: { name: 'connected', connect: input.connect ?? '', autoAnswered: false }, commands: [] };
      if (input.type === 'chat-failed') {
        if (input.fax === true) return faxCall(cfg, false);
        return {
          ...end(input.reason === 'timeout' ? 'answer-timeout' : 'answer-failed', 1, `answer failed (${input.reason}${input.action !== undefined ? `: ${input.action}` : ''})`),
          commands: [{ cmd: 'audit', text: `failed ${input.reason === 'timeout' ? 'timeout' : input.action ?? input.reason}` }, { cmd: 'unlock' }],
        };
      }
      if (input.type === 'hangup') return end('hangup', 10, 'hangup while answering');
      break;

  }
  return undefined;
}

function step(state: LineState, input: LineInput, cfg: MachineConfig, now: LineSnapshot): Transition {
  if (input.type === 'signal') {
    const t = onSignal(state, input.signal);
    if (t !== undefined) return t;
  }
  switch (state.name) {
    case 'starting':
    case 'init':
    case 'wait-dsr':
    case 'force-init':
    case 'post-init':
      return startUp(state, input, cfg) ?? unexpected(state, input);
    case 'reset':
    case 'idle':
    case 'check-modem':
    case 'dialout':
      return idleSide(state, input, cfg) ?? unexpected(state, input);
    case 'ringing':
      return ringing(state, input, cfg, now);
    case 'nologin':
    case 'nologin-refuse':
    case 'screening':
    case 'answering':
      return inCall(state, input, cfg, now) ?? unexpected(state, input);
    case 'connected':
    case 'ended':
      break;

    default: {
      const never: never = state;
      return never;
    }
  }
  return unexpected(state, input);
}

function ringing(state: Extract<LineState, { name: 'ringing' }>, input: LineInput, cfg: MachineConfig, now: LineSnapshot): Transition {
  switch (input.type) {
    case 'lock-held':
      return toDialout(input.ownerPid, input.ownerCmd);
    case 'lock-free':
      // We hold the lock now: the call is ours.
      if (now.nologin) {
        return {
          state: flag({ name: 'nologin', rings: 0 }, 'virtual', state.virtual),
          commands: [{ cmd: 'log', level: 'mesg', text: 'nologin file exists: not accepting calls' }, ...waitRing(state.virtual, RING_TIMEOUT_MS)],
        };
      }
      return startRinging(cfg, 0, state.virtual);
    case 'ring':
    case 'virtual-ring': {
      // SIGUSR1 answers at once, also in the ringback loop (mgetty: every RING wait succeeds).
      if (input.type === 'virtual-ring') return { state: { name: 'screening' }, commands: [{ cmd: 'screen' }] };
      const rings = state.rings + 1;
      if (state.ringback === 'first-call') {
        return { state: { ...state, rings }, commands: waitRing(state.virtual, RINGBACK_FIRST_TIMEOUT_MS) };
      }
      if (rings >= state.wanted) return { state: { name: 'screening' }, commands: [{ cmd: 'screen' }] };
      // cid-program may change how many RINGs we wait for (exit status 10+n).
      if (cidDue(cfg, state, rings, input.caller === true)) {
        return { state: { ...state, rings, ringback: 'off', cidDone: true }, commands: [{ cmd: 'cid-program', rings }] };
      }
      return { state: { ...state, rings, ringback: 'off' }, commands: waitRing(state.virtual, RING_TIMEOUT_MS) };
    }
    case 'cid-done': {
      const wanted = input.wanted ?? state.wanted;
      if (state.rings >= wanted) return { state: { name: 'screening' }, commands: [{ cmd: 'screen' }] };
      return { state: { ...state, wanted }, commands: waitRing(state.virtual, RING_TIMEOUT_MS) };
    }
    case 'ring-timeout':
      if (state.ringback === 'first-call') {
        return {
          state: { ...state, rings: 0, ringback: 'waiting-recall' },
          commands: [
            { cmd: 'log', level: 'mesg', text: `ringback: phone stopped after ${state.rings} RINGs, waiting for re-ring` },
            ...waitRing(state.virtual, cfg.ringbackTimeS * 1000),
          ],
        };
      }
      if (state.ringback === 'waiting-recall') {
        return { state: { name: 'reset' }, commands: [{ cmd: 'audit', text: 'missed ringback!' }, { cmd: 'quiet', ms: QUIET_RESET_MS }] };
      }
      if (state.rings === 0) {
        // Woken by something that was not a RING (mgetty exits 0 here; "junk on the line").
        return {
          ...end('junk', 0, 'junk on the line'),
          commands: [
            { cmd: 'log', level: 'warn', text: 'activity on the line but no RING: junk on the line? (could be a dial-out program without proper locking)' },
            { cmd: 'unlock' },
          ],
        };
      }
      return { state: { name: 'reset' }, commands: [{ cmd: 'audit', text: `phone stopped ringing (rings=${state.rings})` }, { cmd: 'quiet', ms: QUIET_RESET_MS }] };
    case 'modem-line':
      if (input.action === 'CONNECT') {
        // The modem answered by itself (S0 > 0): mgetty keeps no CONNECT string here (Q11); we keep it.
        return { state: { name: 'connected', connect: input.line.replace(/^CONNECT\s*/, ''), autoAnswered: true }, commands: [] };
      }
      if (input.action === 'FAX') return faxCall(cfg, true);
      return { ...end('modem-said', 20, `modem said '${input.line}' while waiting for RING`, true), commands: [{ cmd: 'audit', text: `failed A_FAIL: '${input.line}' while waiting for RING` }] };
    default:
      return unexpected(state, input);
  }
}

function toDialout(ownerPid: number, ownerCmd: string): Transition {
  return {
    state: { name: 'dialout', ownerPid, ownerCmd },
    commands: [
      { cmd: 'log', level: 'mesg', text: `dialout in progress: '${ownerCmd}' (pid ${ownerPid}), staying off the line` },
      { cmd: 'release-line' },
      { cmd: 'watch-lock' },
    ],
  };
}

function initFailed(state: Extract<LineState, { name: 'init' }>, reason: 'timeout' | 'abort' | 'error', cfg: MachineConfig): Transition {
  if (state.attempt === 1 && reason === 'timeout' && cfg.forceInitChat) {
    return { state: { name: 'force-init' }, commands: [{ cmd: 'log', level: 'warn', text: 'init chat timed out, trying force-init-chat' }, { cmd: 'chat', chat: 'force-init' }] };
  }
  return initGiveUp(state.recovery === true);
}

function initGiveUp(recovery: boolean): Transition {
  if (recovery) {
    // The idle modem check failed and re-initialising did not help: mgetty's exit 30, lock left.
    return {
      ...end('modem-dead', 30, 'modem does not react', true),
      commands: [
        { cmd: 'log', level: 'error', text: "modem doesn't react, re-initialisation failed: giving up" },
        { cmd: 'audit', text: 'failed: modem does not react' },
      ],
    };
  }
  const t = end('init-failed', 1, 'modem initialisation failed');
  return { ...t, commands: [{ cmd: 'audit', text: 'failed in modem initialisation' }, ...t.commands] };
}

/** An input the state does not expect: log it and stay (never crash on odd modem behaviour). */
function unexpected(state: LineState, input: LineInput): Transition {
  if (input.type === 'hangup' && state.name !== 'ended') {
    return end('hangup', 10, `hangup in state ${state.name}`);
  }
  return { state, commands: [{ cmd: 'log', level: 'noise', text: `ignored ${input.type} in state ${state.name}` }] };
}

/** All state names, for docs and the generated diagram. */
export const STATE_NAMES: readonly StateName[] = [
  'starting', 'init', 'force-init', 'wait-dsr', 'post-init', 'idle', 'dialout', 'check-modem', 'reset',
  'ringing', 'nologin', 'nologin-refuse', 'screening', 'answering', 'connected', 'ended',
];
