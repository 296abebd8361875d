/**
 * The Hayes command set as handler sets: basic commands (E Q V X H Z I O A D and the
 * accepted-but-unmodelled ones), S-registers, `&` commands, and the extended `+G...` and
 * caller-ID commands. Each personality's tables (personality.ts) decide what is accepted.
 */
import { factoryProfile } from './profile.js';
import type { AtCommand, AtContext, AtHandler, HandlerSet, Outcome } from './registry.js';

const ok = (b: boolean): Outcome => (b ? 'ok' : 'error');

/** A switch E/Q/V: 0 or 1. */
function flag(key: 'echo' | 'quiet' | 'verbose'): AtHandler {
  return (c, ctx) => {
    const v = c.num ?? 0;
    if (v > 1) return 'error';
    ctx.profile[key] = v === 1;
    return 'ok';
  };
}

/** Accepted with a value up to `max`, not modelled (speaker, volume, ...). */
const upTo = (max: number): AtHandler => (c) => ok((c.num ?? 0) <= max);

const hangup: AtHandler = (c, ctx) => {
  const v = c.num ?? 0;
  if (v > 1) return 'error';
  ctx.calls.hangup(v === 1);
  return 'ok';
};

const reset: AtHandler = (c, ctx) => {
  if ((c.num ?? 0) > 1) return 'error';
  ctx.calls.hangup(false);
  ctx.loadProfile(ctx.savedProfile);
  return 'ok';
};

const info: AtHandler = (c, ctx) => {
  const text = ctx.personality.info[c.num ?? 0];
  if (text === undefined) return 'error';
  for (const l of text) ctx.info(l);
  return 'ok';
};

export const BASIC_COMMANDS: HandlerSet = {
  A: (_c, ctx) => {
    ctx.calls.answer();
    return 'done';
  },
  D: (c, ctx) => {
    ctx.calls.dial(c.arg);
    return 'done';
  },
  O: (_c, ctx) => {
    if (!ctx.calls.online()) ctx.result('NO CARRIER');
    return 'done';
  },
  E: flag('echo'),
  Q: flag('quiet'),
  V: flag('verbose'),
  X: (c, ctx) => {
    const v = c.num ?? 0;
    if (v > 7) return 'error';
    ctx.profile.x = v;
    return 'ok';
  },
  ...Object.fromEntries(['L', 'M', 'B', 'N', 'W', 'Y', 'C', 'F'].map((l) => [l, upTo(3)])),
  T: upTo(0),
  P: upTo(0),
  H: hangup,
  Z: reset,
  I: info,
};

export const S_REGISTERS: HandlerSet = {
  S: (c: AtCommand, ctx: AtContext) => {
    const reg = c.num ?? 0;
    if (reg > ctx.personality.maxSRegister) return 'error';
    if (c.op === 'read') {
      ctx.info(String(ctx.profile.s[reg] ?? 0).padStart(3, '0'));
      return 'ok';
    }
    if (c.value > 255) return 'error';
    ctx.profile.s[reg] = c.value;
    return 'ok';
  },
};

export const AMPERSAND_COMMANDS: HandlerSet = {
  '&F': (c, ctx) => {
    const v = c.num ?? 0;
    if (!ctx.personality.factoryProfiles.includes(v)) return 'error';
    const p = factoryProfile();
    p.amp.F = v;
    ctx.loadProfile(p);
    return 'ok';
  },
  '&W': (c, ctx) => {
    if ((c.num ?? 0) > 1) return 'error';
    ctx.saveProfile();
    return 'ok';
  },
  '&V': (_c, ctx) => {
    if (ctx.personality.ampersand.V === undefined) return 'next';
    const p = ctx.profile;
    ctx.info(`E${p.echo ? 1 : 0} Q${p.quiet ? 1 : 0} V${p.verbose ? 1 : 0} X${p.x}`);
    ctx.info([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12].map((r) => `S${String(r).padStart(2, '0')}:${String(p.s[r] ?? 0).padStart(3, '0')}`).join(' '));
    return 'ok';
  },
  // Any other &<letter>: the personality's table says which values it takes.
  '&': (c, ctx) => {
    const letter = c.name.slice(1);
    const max = ctx.personality.ampersand[letter];
    const v = c.num ?? 0;
    if (max === undefined || v > max) return 'error';
    ctx.profile.amp[letter] = v;
    return 'ok';
  },
};

const identity: AtHandler = (c, ctx) => {
  if (c.op !== 'exec') return 'error';
  const p = ctx.personality;
  ctx.info(c.name === '+GMI' ? p.gmi : c.name === '+GMM' ? p.gmm : p.gmr);
  return 'ok';
};

/** Caller-ID reporting switches (`+VCID`, `#CID`, ... as the personality names them). */
const callerId: AtHandler = (c, ctx) => {
  const values = ctx.personality.cidCommands[c.name];
  if (values === undefined) return 'next';
  if (c.op === 'test') ctx.info(`(${values.join(',')})`);
  else if (c.op === 'read') ctx.info(String(ctx.profile.cid));
  else if (c.op === 'set') {
    const v = Number(c.arg);
    if (c.arg === '' || !values.includes(v)) return 'error';
    ctx.profile.cid = v;
  } else return 'error';
  return 'ok';
};

/** Extended commands the personality accepts without modelling them. */
const accepted: AtHandler = (c, ctx) => ok(ctx.personality.acceptedExtended.includes(c.name));

export const EXTENDED_COMMANDS: HandlerSet = {
  '+GMI': identity,
  '+GMM': identity,
  '+GMR': identity,
  '+': accepted,
  '#': accepted,
};

/** Registered after EXTENDED_COMMANDS, so it is asked first for `+...` and `#...`. */
export const CALLER_ID_COMMANDS: HandlerSet = { '+': callerId, '#': callerId };

/** The modem's own command set, in registration order. */
export const HAYES_SETS: readonly HandlerSet[] = [BASIC_COMMANDS, S_REGISTERS, AMPERSAND_COMMANDS, EXTENDED_COMMANDS, CALLER_ID_COMMANDS];
