/**
 * Fax class selection on a data-only modem: +FCLASS answers class 0 and refuses the
 * rest, as a modem without fax does. A fax modem gets src/sim/fax's handler set instead.
 */
import type { HandlerSet } from './registry.js';

export const FAX_COMMANDS: HandlerSet = {
  '+FCLASS': (c, ctx) => {
    if (c.op === 'test') ctx.info('0');
    else if (c.op === 'read') ctx.info(ctx.profile.fclass);
    else if (c.op === 'set') {
      if (c.arg !== '0') return 'error';
      ctx.profile.fclass = c.arg;
    } else return 'error';
    return 'ok';
  },
};
