/**
 * Modem personalities as data: what ATI says, which `&` and extended commands a model
 * accepts, and how it reports caller ID. The command interpreter (modem.ts) is shared;
 * only these tables differ, so a new model is a new table, not new code.
 */

export type CidFormat = 'mdmf' | 'mdmf-compact' | 'clip' | 'zyxel' | 'ring-number' | 'elsa' | 'none';

export interface Personality {
  /** Key used on the command line (`--personality usr`). */
  readonly name: string;
  readonly description: string;
  /** ATI<n> answers, one array element per line of information text. */
  readonly info: Readonly<Record<number, readonly string[]>>;
  /** +GMI / +GMM / +GMR answers. */
  readonly gmi: string;
  readonly gmm: string;
  readonly gmr: string;
  /** Digits accepted after &F (factory profiles). */
  readonly factoryProfiles: readonly number[];
  /** `&X<n>` commands accepted, with the highest value each takes. */
  readonly ampersand: Readonly<Record<string, number>>;
  /**
   * Extended commands (`#CID`, `+VCID`, ...) that set caller-ID reporting, with the values they
   * take. A value > 0 turns reporting on.
   */
  readonly cidCommands: Readonly<Record<string, readonly number[]>>;
  /** Other extended commands that are accepted and answered OK (settings the sim does not model). */
  readonly acceptedExtended: readonly string[];
  /** True: caller ID is only reported after the DTE enabled it with one of `cidCommands`. */
  readonly cidRequiresEnable: boolean;
  readonly defaultCidFormat: CidFormat;
  /** Text after `CONNECT ` when the call does not say otherwise. */
  readonly connect: string;
  /** Highest S register number the model has. */
  readonly maxSRegister: number;
}

const commonAmp: Record<string, number> = { C: 1, D: 3, K: 6, S: 1, Q: 6, M: 5, W: 1, V: 0, Y: 1, G: 2, L: 1, T: 8, B: 2, R: 1, E: 1 };

export const GENERIC_V92: Personality = {
  name: 'generic',
  description: 'generic V.92 data modem',
  info: {
    0: ['56000'],
    1: ['255'],
    2: ['OK'],
    3: ['V.92 Data Modem (tgetty sim)'],
    4: ['tgetty virtual modem'],
    5: ['000'],
    6: ['tgetty sim'],
    7: ['OK'],
  },
  gmi: 'tgetty',
  gmm: 'V.92 Data Modem',
  gmr: '1.0',
  factoryProfiles: [0],
  ampersand: commonAmp,
  cidCommands: { '+VCID': [0, 1, 2], '#CID': [0, 1, 2] },
  acceptedExtended: ['+MS', '+ES', '+DS', '+DR', '+ER', '+IFC', '+IPR', '+ICF', '+PCW', '+PMH', '+PQC', '+PSS', '+PIG', '+GCAP'],
  cidRequiresEnable: false,
  defaultCidFormat: 'mdmf',
  connect: '33600/ARQ/V34/LAPM/V42BIS',
  maxSRegister: 99,
};

/** Modelled on a U.S. Robotics Sportster: &F1 (hardware flow-control template), AT#CID=1. */
export const USR_SPORTSTER: Personality = {
  name: 'usr',
  description: 'U.S. Robotics Sportster 56K Faxmodem',
  info: {
    0: ['5601'],
    1: ['OK'],
    2: ['OK'],
    3: ['U.S. Robotics 56K FAX EXT V6.0.0 (tgetty sim)'],
    4: ['USRobotics Sportster 56000 Fax Settings...', '   B0  E1  F1  M1  Q0  V1  X1  Y0', '   BAUD=38400  PARITY=N  WORDLEN=8'],
    5: ['USRobotics Sportster 56000 Fax NVRAM Settings...'],
    6: ['USRobotics Sportster 56000 Fax Link Diagnostics...'],
    7: ['Configuration Profile...', 'Product type           US/Canada External'],
  },
  gmi: 'U.S. Robotics',
  gmm: 'Sportster 56K',
  gmr: '6.0.0',
  factoryProfiles: [0, 1, 2],
  ampersand: { A: 3, B: 2, C: 1, D: 2, G: 2, H: 2, I: 5, K: 3, L: 1, M: 5, N: 16, P: 1, R: 2, S: 1, T: 8, U: 16, W: 1, Y: 3, V: 0 },
  cidCommands: { '#CID': [0, 1, 2] },
  acceptedExtended: ['+MS', '+GCAP'],
  cidRequiresEnable: true,
  defaultCidFormat: 'mdmf',
  connect: '33600/ARQ/V34/LAPM/V42BIS',
  maxSRegister: 41,
};

/** Modelled on a ZyXEL 1496: reports caller ID as `CALLER NUMBER:` lines. */
export const ZYXEL_1496: Personality = {
  name: 'zyxel',
  description: 'ZyXEL U-1496 style modem',
  info: {
    0: ['1496'],
    1: ['U1496E  V 6.10 (tgetty sim)'],
    2: ['OK'],
  },
  gmi: 'ZyXEL',
  gmm: 'U-1496',
  gmr: '6.10',
  factoryProfiles: [0, 1, 2, 3],
  ampersand: { ...commonAmp, N: 60 },
  cidCommands: { '#CID': [0, 1, 2], '+VCID': [0, 1, 2] },
  acceptedExtended: ['+MS'],
  cidRequiresEnable: false,
  defaultCidFormat: 'zyxel',
  connect: '19200/ZyX/V42B',
  maxSRegister: 55,
};

export const PERSONALITIES: ReadonlyMap<string, Personality> = new Map([
  [GENERIC_V92.name, GENERIC_V92],
  ['v92', GENERIC_V92],
  [USR_SPORTSTER.name, USR_SPORTSTER],
  ['sportster', USR_SPORTSTER],
  [ZYXEL_1496.name, ZYXEL_1496],
]);

/** Look a personality up by name; undefined if unknown. */
export function findPersonality(name: string): Personality | undefined {
  return PERSONALITIES.get(name.toLowerCase());
}
