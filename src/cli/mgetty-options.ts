/**
 * mgetty's command-line options, as one table: it drives the commander definitions
 * (`tgetty --help`) and the mapping to config keywords, so the two cannot disagree.
 * Values given here beat the config file (mgetty's rule, spec Q25).
 */

export interface MgettyOption {
  /** The short flag as mgetty spells it. */
  flag: string;
  /** Argument name for --help, or undefined for a switch. */
  arg?: string;
  /** The config keyword(s) it sets; raw values are typed by the config layer like file values. */
  keywords: readonly string[];
  description: string;
}

export const MGETTY_OPTIONS: readonly MgettyOption[] = [
  { flag: '-x', arg: 'level', keywords: ['debug'], description: 'log level 0-9 (0 fatal, 2 audit, 4 default, 5 noise, 6+ everything)' },
  { flag: '-s', arg: 'speed', keywords: ['speed'], description: 'port speed in bps (must be a standard rate)' },
  { flag: '-r', keywords: ['direct'], description: 'direct line (null modem): no modem init, no RING' },
  { flag: '-b', keywords: ['blocking'], description: 'open the line in blocking mode (wait for carrier)' },
  { flag: '-p', arg: 'prompt', keywords: ['login-prompt'], description: "login prompt (kept verbatim, trailing spaces too; '@' = host name)" },
  { flag: '-n', arg: 'rings', keywords: ['rings'], description: 'number of RINGs before answering' },
  { flag: '-R', arg: 'seconds', keywords: ['ringback', 'ringback-time'], description: 'ringback ("ring twice") with this window' },
  { flag: '-i', arg: 'issue', keywords: ['issue-file'], description: 'issue file: /path, !command, or literal text' },
  { flag: '-D', keywords: ['data-only'], description: 'data only: no fax initialisation' },
  { flag: '-F', keywords: ['fax-only'], description: 'fax only: refuse data calls' },
  { flag: '-C', arg: 'mode', keywords: ['modem-type'], description: 'modem type: auto, cls2, c2.0, data' },
  { flag: '-m', arg: 'chat', keywords: ['init-chat'], description: 'init chat, expect/send pairs split at single spaces' },
  { flag: '-a', keywords: ['autobauding'], description: 'switch the port to the speed reported by CONNECT' },
  { flag: '-k', arg: 'kbytes', keywords: ['diskspace'], description: 'fax: minimum free space in the spool dir' },
  { flag: '-S', arg: 'file', keywords: ['fax-server-file'], description: 'fax: document list for polling callers' },
  { flag: '-I', arg: 'id', keywords: ['fax-id'], description: 'fax: local station id' },
];

/** Commander stores `-x` as `x`, `-R` as `R`: the attribute name is the letter. */
export function optionKey(o: MgettyOption): string {
  return o.flag.slice(1);
}

/**
 * Turn parsed CLI values into raw keyword overrides. Switches become an empty value
 * (mgetty's "keyword alone" = true); `-R n` sets ringback on and its window.
 */
export function overridesFromCli(values: Record<string, unknown>): Map<string, string> {
  const out = new Map<string, string>();
  for (const o of MGETTY_OPTIONS) {
    const v = values[optionKey(o)];
    if (v === undefined || v === false) continue;
    if (typeof v !== 'string' && typeof v !== 'number' && v !== true) continue;
    if (o.flag === '-R') {
      out.set('ringback', '');
      out.set('ringback-time', String(v));
      continue;
    }
    const kw = o.keywords[0];
    if (kw === undefined) continue;
    out.set(kw, v === true ? '' : String(v));
  }
  return out;
}
