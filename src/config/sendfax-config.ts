/**
 * sendfax.config, as mgetty's sendfax reads it (info mgetty, "runtime-sendfax"): one
 * `keyword value` a line, `#` comments, global settings first, then `port <tty>` sections
 * that override them for that line. Pure: text in, settings for a port out, with
 * diagnostics for unknown keywords and bad values (never an exception).
 */

export interface SendfaxConfig {
  faxDevices: string[];
  modemInit: string | undefined;
  modemHandshake: string | undefined;
  modemType: 'auto' | 'cls2' | 'c2.0';
  maxTries: number;
  maxTriesContinue: boolean;
  speed: number;
  dialPrefix: string;
  faxId: string;
  pollDir: string;
  normalRes: boolean;
  faxMaxSpeed: number;
  verbose: boolean;
  debug: number;
  pageHeader: string | undefined;
  ignoreCarrier: boolean;
  openDelayMs: number;
  resetAfterFail: string | undefined;
}

/** mgetty's compiled-in defaults as Debian builds them (policy.h): 3 tries, go on, ATD, 38400. */
export const SENDFAX_DEFAULTS: SendfaxConfig = {
  faxDevices: [],
  modemInit: undefined,
  modemHandshake: undefined,
  modemType: 'auto',
  maxTries: 3,
  maxTriesContinue: true,
  speed: 38400,
  dialPrefix: 'ATD',
  faxId: '',
  pollDir: '.',
  normalRes: false,
  faxMaxSpeed: 14400,
  verbose: false,
  debug: 4,
  pageHeader: undefined,
  ignoreCarrier: true,
  openDelayMs: 0,
  resetAfterFail: undefined,
};

export interface SendfaxDiagnostic {
  line: number;
  message: string;
}

type Kind = 'string' | 'int' | 'bool' | 'type' | 'list';

const KEYWORDS: Record<string, [keyof SendfaxConfig, Kind]> = {
  'fax-devices': ['faxDevices', 'list'],
  'modem-init': ['modemInit', 'string'],
  'modem-handshake': ['modemHandshake', 'string'],
  'modem-type': ['modemType', 'type'],
  'max-tries': ['maxTries', 'int'],
  'max-tries-continue': ['maxTriesContinue', 'bool'],
  speed: ['speed', 'int'],
  'dial-prefix': ['dialPrefix', 'string'],
  'fax-id': ['faxId', 'string'],
  'poll-dir': ['pollDir', 'string'],
  'normal-res': ['normalRes', 'bool'],
  'fax-max-speed': ['faxMaxSpeed', 'int'],
  verbose: ['verbose', 'bool'],
  debug: ['debug', 'int'],
  'page-header': ['pageHeader', 'string'],
  'ignore-carrier': ['ignoreCarrier', 'bool'],
  'open-delay': ['openDelayMs', 'int'],
  'reset-after-fail': ['resetAfterFail', 'string'],
};

/** Keywords sendfax knows that tgetty reads and does not use (said once in the log). */
const IGNORED = new Set(['modem-quirks', 'switchbd', 'fax-min-speed']);

function parseBool(v: string): boolean | undefined {
  if (/^(y|yes|true|on|1)$/i.test(v)) return true;
  if (/^(n|no|false|off|0)$/i.test(v)) return false;
  return undefined;
}

function typed(kind: Kind, v: string): { ok: true; value: SendfaxConfig[keyof SendfaxConfig] } | { ok: false; expected: string } {
  switch (kind) {
    case 'string':
      return { ok: true, value: v };
    case 'list':
      return { ok: true, value: v.split(':').map((x) => x.trim()).filter((x) => x !== '') };
    case 'int':
      return /^\d+$/.test(v) ? { ok: true, value: Number(v) } : { ok: false, expected: 'a whole number' };
    case 'bool': {
      const b = parseBool(v);
      return b === undefined ? { ok: false, expected: 'yes or no' } : { ok: true, value: b };
    }
    case 'type':
      return v === 'auto' || v === 'cls2' || v === 'c2.0' ? { ok: true, value: v } : { ok: false, expected: 'auto, cls2 or c2.0' };
  }
}

/** The settings for `port` (a device name such as ttyS0; undefined = the global part only). */
export function resolveSendfaxConfig(text: string, port: string | undefined): { config: SendfaxConfig; diagnostics: SendfaxDiagnostic[]; ignored: string[] } {
  const config: SendfaxConfig = { ...SENDFAX_DEFAULTS, faxDevices: [] };
  const diagnostics: SendfaxDiagnostic[] = [];
  const ignored: string[] = [];
  let section: string | undefined;
  text.split('\n').forEach((raw, i) => {
    const lineNo = i + 1;
    const line = raw.replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^(\S+)\s*(.*)$/.exec(line);
    const kw = (m?.[1] ?? '').toLowerCase();
    const value = (m?.[2] ?? '').trim();
    if (kw === 'port') {
      section = value.replace(/^\/dev\//, '');
      return;
    }
    // Only the global part and our port's section count.
    if (section !== undefined && section !== port) return;
    if (IGNORED.has(kw)) {
      ignored.push(kw);
      return;
    }
    const def = KEYWORDS[kw];
    if (def === undefined) {
      diagnostics.push({ line: lineNo, message: `unknown keyword '${kw}'` });
      return;
    }
    if (def[0] === 'faxDevices' && section !== undefined) return; // ignored in a port section, as sendfax does
    const t = typed(def[1], value);
    if (!t.ok) {
      diagnostics.push({ line: lineNo, message: `${kw}: bad value '${value}' (${t.expected})` });
      return;
    }
    (config as unknown as Record<string, unknown>)[def[0]] = t.value;
  });
  return { config, diagnostics, ignored };
}
