/**
 * Fax class selection and the class 2.0 set-up commands, as a handler set of its own.
 * Today the simulator only accepts what mgetty's fax set-up sends (spec §10); the fax
 * modem of issue 19 replaces this set (src/sim/fax/) without touching the interpreter.
 */
import type { HandlerSet } from './registry.js';

/** Fax class 2.0 commands mgetty's fax set-up sends (spec §10). */
const FAX20_COMMANDS = new Set(['+FAA', '+FCR', '+FBO', '+FNR', '+FLI', '+FCC', '+FMS', '+FLP', '+FLO', '+FIS', '+FPS', '+FIE', '+FCT', '+FPI', '+FHS', '+FNS', '+FCQ', '+FBU', '+FAP', '+FRQ', '+FEA']);

export const FAX_COMMANDS: HandlerSet = {
  '+FCLASS': (c, ctx) => {
    const classes = ctx.fax ? ['0', '2.0'] : ['0'];
    if (c.op === 'test') ctx.info(classes.join(','));
    else if (c.op === 'read') ctx.info(ctx.profile.fclass);
    else if (c.op === 'set') {
      if (!classes.includes(c.arg)) return 'error';
      ctx.profile.fclass = c.arg;
    } else return 'error';
    return 'ok';
  },
  '+F': (c, ctx) => {
    if (!ctx.fax || !FAX20_COMMANDS.has(c.name)) return 'next';
    // Class 2.0 commands only make sense after AT+FCLASS=2.0, as on real modems.
    return ctx.profile.fclass === '2.0' ? 'ok' : 'error';
  },
};
