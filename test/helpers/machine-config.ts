/** The machine config the call-machine tests start from (a plain modem line, rings 1). */
import type { MachineConfig } from '../../src/session/machine.js';

export const BASE_MACHINE_CONFIG: MachineConfig = {
  direct: false,
  rings: 1,
  cidProgram: false,
  ringback: false,
  ringbackTimeS: 30,
  modemCheckTimeS: 3600,
  needDsr: false,
  forceInitChat: true,
  statisticsChat: false,
  postInitChat: false,
  faxInit: false,
};
