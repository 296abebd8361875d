/**
 * The one table of configuration keywords: every keyword of mgetty 1.2.1 (Debian build,
 * spec §2.3) plus the few tgetty-only ones. Parser, resolver, docs and the CLI all read
 * this table, so a keyword is described exactly once. Pure.
 */
// The default chats belong to the chat layer, already split as the config splitter would.
import { DEFAULT_ANSWER_CHAT, DEFAULT_FORCE_INIT_CHAT, DEFAULT_INIT_CHAT } from '../chat/script.js';
import { parseRecordsTarget, redactUrl } from '../core/records-url.js';

export type KeywordType = 'int' | 'string' | 'bool' | 'chat' | 'flow';
export type KeywordUnit = 'ms' | 's' | 'bps' | 'KB' | 'mode';
/** 'data' = used (data calls, and the fax reception's keywords); 'fax' = fax keywords accepted, not used yet (sending, polling, mail); 'unused' = no effect, as in mgetty. */
export type KeywordCategory = 'data' | 'fax' | 'unused';
export type KeywordOrigin = 'mgetty' | 'tgetty';
/** Flow control as mgetty names it: RTS/CTS, XON/XOFF, both, none. */
export type FlowValue = 'hard' | 'soft' | 'both' | 'none';
/** A typed value: int -> number, bool -> boolean, string/flow -> string, chat -> list of elements. */
export type ConfigValue = number | boolean | string | readonly string[];

/** Result of a post-processing rule: the value to use and, if it changed or is invalid, why. */
export interface PostResult {
  value: ConfigValue;
  /** Set when the value was adjusted (a note for the effective view). */
  adjusted?: string;
  /** Set when the value is invalid (mgetty exits; tgetty reports an error). */
  invalid?: string;
}

export interface KeywordDef {
  readonly name: string;
  readonly type: KeywordType;
  readonly unit?: KeywordUnit;
  /** Default of the Debian build (the drop-in target); undefined = unset. Chats are already split. */
  readonly default: ConfigValue | undefined;
  /** Upstream (policy.h) default where it differs from Debian's, as text; informational only. */
  readonly upstreamDefault?: string;
  /** Human description of bounds / post-processing, for docs. */
  readonly bounds?: string;
  /** Post-processing applied to the final value (any source), see spec §2.2. */
  readonly post?: (value: ConfigValue, all: (kw: string) => ConfigValue | undefined) => PostResult;
  /** Command-line flag setting the same value, if any. */
  readonly cli?: string;
  readonly meaning: string;
  readonly category: KeywordCategory;
  readonly origin: KeywordOrigin;
  /** 'daemon' = one value for the whole `tgetty serve`: only the global section sets it, a port section's line is ignored. */
  readonly scope?: 'daemon';
  /** How a value is shown (config check, diagnostics): hides a secret such as a URL's password. */
  readonly redact?: (value: string) => string;
}

/** Port speeds the Linux build of mgetty accepts (spec §0). */
export const SPEED_TABLE: readonly number[] = [
  50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800,
];

export function isValidSpeed(n: number): boolean {
  return SPEED_TABLE.includes(n);
}

const speedPost = (v: ConfigValue): PostResult =>
  typeof v === 'number' && !isValidSpeed(v)
    ? { value: v, invalid: `${v} is not a supported port speed (one of ${SPEED_TABLE.join(' ')})` }
    : { value: v };

function kw(def: Omit<KeywordDef, 'origin' | 'category'> & Partial<Pick<KeywordDef, 'origin' | 'category'>>): KeywordDef {
  return { origin: 'mgetty', category: 'data', ...def };
}

export const KEYWORDS: readonly KeywordDef[] = [
  // ---- mgetty 1.2.1 (Debian build), in the order of spec §2.3 ----
  kw({
    name: 'speed', type: 'int', unit: 'bps', default: 38400, cli: '-s', post: speedPost,
    bounds: 'must be one of the speed table (50 ... 460800), else fatal',
    meaning: 'Serial port speed set when the line is opened; also the speed restored before login runs.',
  }),
  kw({
    name: 'switchbd', type: 'int', unit: 'bps', default: 0, category: 'fax',
    bounds: 'non-zero must be in the speed table (unless data-only), else fatal',
    post: (v, all) =>
      typeof v === 'number' && v !== 0 && !isValidSpeed(v) && all('data-only') !== true
        ? { value: v, invalid: `${v} is not a supported port speed for fax reception` }
        : { value: v },
    meaning: 'Port speed to switch to when a fax reception starts (some old Rockwell modems need 19200); 0 = keep.',
  }),
  kw({
    name: 'direct', type: 'bool', default: false, cli: '-r',
    meaning: 'Null-modem line: no modem dialogue, no RING; any incoming byte starts the login sequence.',
  }),
  kw({
    name: 'blocking', type: 'bool', default: false, cli: '-b',
    meaning: 'Open the device in blocking mode (waits for carrier in open); no idle wait, no login timeout.',
  }),
  kw({
    name: 'port-owner', type: 'string', default: 'root', upstreamDefault: 'uucp',
    meaning: 'User (name or number) the device is chowned to at start-up.',
  }),
  kw({
    name: 'port-group', type: 'string', default: 'dialout', upstreamDefault: 'modem',
    meaning: "Group (name or number) for the device; unset = the owner's primary group.",
  }),
  kw({
    name: 'port-mode', type: 'int', unit: 'mode', default: 0o660,
    bounds: 'C integer: write 0660 for octal, 660 is decimal',
    meaning: 'File mode of the device while waiting for calls (it becomes 0600 before login runs).',
  }),
  kw({ name: 'toggle-dtr', type: 'bool', default: true, meaning: 'Drop DTR once at start-up to reset the modem.' }),
  kw({ name: 'toggle-dtr-waittime', type: 'int', unit: 'ms', default: 500, meaning: 'How long DTR is held low for that reset.' }),
  kw({
    name: 'open-delay', type: 'int', unit: 'ms', default: undefined,
    meaning: 'Extra pause after opening the device (and the DTR reset) before input is flushed and the modem initialised.',
  }),
  kw({
    name: 'need-dsr', type: 'bool', default: false,
    meaning: 'If initialisation fails and neither DSR nor CTS is up, wait (in 60 s steps) until one comes up.',
  }),
  kw({ name: 'data-only', type: 'bool', default: false, cli: '-D', meaning: 'Do not initialise the modem for fax.' }),
  kw({ name: 'fax-only', type: 'bool', default: false, cli: '-F', category: 'data', meaning: 'Refuse data calls; answer as a fax machine only.' }),
  kw({
    name: 'modem-type', type: 'string', default: 'auto', cli: '-C', category: 'data',
    bounds: 'auto, cls2, c2.0, data (others are treated as auto)',
    meaning: 'Fax class selection; data = no fax initialisation.',
  }),
  kw({
    name: 'modem-quirks', type: 'int', default: undefined, category: 'fax',
    meaning: 'Bit mask of workarounds for fax modems with buggy class 2 firmware.',
  }),
  kw({
    name: 'init-chat', type: 'chat', default: DEFAULT_INIT_CHAT, cli: '-m',
    upstreamDefault: '"" \\dATQ0V1H0 OK ATS0=0Q0&D3&C1 OK',
    meaning: 'Expect/send script that initialises the modem (20 s per expect; ERROR, BUSY, NO CARRIER abort).',
  }),
  kw({
    name: 'force-init-chat', type: 'chat', default: DEFAULT_FORCE_INIT_CHAT,
    meaning: 'Script used once when init-chat timed out, to get a modem out of data mode (DLE ETX, +++, ATQ0V1H0).',
  }),
  kw({ name: 'post-init-chat', type: 'chat', default: undefined, meaning: 'Script run after initialisation is complete; 10 s per expect; its result is ignored.' }),
  kw({ name: 'data-flow', type: 'flow', default: 'hard', category: 'unused', meaning: 'Flow control for data calls. Has no effect: RTS/CTS is always used.' }),
  kw({ name: 'fax-send-flow', type: 'flow', default: 'both', category: 'unused', meaning: 'Flow control while sending faxes (a sendfax keyword). Has no effect here.' }),
  kw({ name: 'fax-rec-flow', type: 'flow', default: 'both', category: 'unused', meaning: 'Flow control while receiving faxes. Has no effect.' }),
  kw({
    name: 'modem-check-time', type: 'int', unit: 's', default: 3600,
    bounds: '0..899 become 900; negative = never check',
    post: (v) =>
      typeof v === 'number' && v >= 0 && v < 900 ? { value: 900, adjusted: `${v} raised to the minimum of 900` } : { value: v },
    meaning: 'Idle time after which the modem is probed with AT to see that it still answers.',
  }),
  kw({
    name: 'rings', type: 'int', default: 1, cli: '-n',
    bounds: '0 becomes 1; negative = answer on the first activity without waiting for RING',
    post: (v) => (v === 0 ? { value: 1, adjusted: '0 raised to 1' } : { value: v }),
    meaning: 'Number of RINGs to wait for before answering.',
  }),
  kw({
    name: 'msn-list', type: 'chat', default: undefined,
    meaning: 'ISDN: list of called numbers; the position of the first one matching the end of the called number becomes the distinctive-ring number.',
  }),
  kw({ name: 'get-cnd-chat', type: 'chat', default: undefined, meaning: 'Script run just before caller screening at answer time (e.g. to ask an ISDN adapter for the caller ID); result ignored.' }),
  kw({ name: 'cid-program', type: 'string', default: undefined, meaning: 'Program run once per call while counting RINGs; exit status 10+n sets the number of RINGs to wait for to n.' }),
  kw({ name: 'cnd-program', type: 'string', default: undefined, meaning: 'Program run before answering; exit status 1 rejects the call.' }),
  kw({ name: 'answer-chat', type: 'chat', default: DEFAULT_ANSWER_CHAT, meaning: 'Expect/send script that answers the call (send ATA, wait for the whole CONNECT line).' }),
  kw({ name: 'answer-chat-timeout', type: 'int', unit: 's', default: 80, meaning: 'Timeout for each expect of answer-chat.' }),
  kw({
    name: 'autobauding', type: 'bool', default: false, cli: '-a',
    meaning: 'After CONNECT, set the port speed to the number the modem reported (none = 300).',
  }),
  kw({ name: 'ringback', type: 'bool', default: false, cli: '-R', meaning: 'Ring-twice mode: answer only a second call that comes within ringback-time of the first.' }),
  kw({
    name: 'ringback-time', type: 'int', unit: 's', default: 30, cli: '-R',
    bounds: 'values below 30 become 30',
    post: (v) => (typeof v === 'number' && v < 30 ? { value: 30, adjusted: `${v} raised to the minimum of 30` } : { value: v }),
    meaning: 'Window in which the second call of ring-twice mode must arrive.',
  }),
  kw({ name: 'ignore-carrier', type: 'bool', default: false, meaning: 'Keep CLOCAL after CONNECT: loss of carrier is not noticed (for modems with a broken DCD line).' }),
  kw({ name: 'issue-file', type: 'string', default: '/etc/issue', cli: '-i', meaning: 'Text printed before the login prompt (a file name, or literal text forms, see the issue-file docs).' }),
  kw({ name: 'prompt-waittime', type: 'int', unit: 'ms', default: 500, meaning: 'Pause after the connection has settled, before the issue text and prompt are sent.' }),
  kw({
    name: 'login-prompt', type: 'string', default: '@ login: ', cli: '-p', upstreamDefault: '@!login: ',
    meaning: 'Login prompt with escapes (@ = host name, \\D date, ...). From the file a trailing space cannot be written.',
  }),
  kw({
    name: 'login-time', type: 'int', unit: 's', default: 240,
    meaning: 'Time allowed for typing the login name; 0 = unlimited. mgetty only enforces it on the next keystroke.',
  }),
  kw({ name: 'fido-send-emsi', type: 'bool', default: true, meaning: 'Send the FidoNet EMSI request before each login prompt.' }),
  kw({
    name: 'login-env-ttyprompt-hack', type: 'bool', default: false,
    meaning: 'Do not read a name: print the prompt, pass it in TTYPROMPT and run login without a user name.',
  }),
  kw({ name: 'login-conf-file', type: 'string', default: 'login.config', meaning: 'The login dispatcher file; a relative name is looked up in the config directory.' }),
  kw({
    name: 'fax-id', type: 'string', default: ' ', cli: '-I', category: 'data', upstreamDefault: '49 115 xxxxxxxx',
    meaning: 'Local fax station id (at most 40 characters are used).',
  }),
  kw({ name: 'fax-min-speed', type: 'int', unit: 'bps', default: 0, category: 'unused', meaning: 'Minimum fax speed (a sendfax keyword). Has no effect here.' }),
  kw({ name: 'fax-max-speed', type: 'int', unit: 'bps', default: 14400, category: 'data', meaning: 'Highest fax speed offered to the modem.' }),
  kw({ name: 'fax-server-file', type: 'string', default: undefined, cli: '-S', category: 'data', meaning: 'What a caller that polls gets: a text file listing G3 files (one a line, # comments), or one G3 file. The modem is told there is a document (+FLPL=1 / +FLP=1).' }),
  kw({ name: 'diskspace', type: 'int', unit: 'KB', default: 1024, cli: '-k', category: 'data', meaning: 'Minimum free space in the fax spool directory.' }),
  kw({
    name: 'notify', type: 'string', default: 'root', category: 'data', upstreamDefault: 'faxadmin',
    meaning: 'Mail recipient for received faxes (a notice with the sender id, pages and files, through mail-program); empty = no mail.',
  }),
  kw({ name: 'fax-owner', type: 'string', default: 'root', category: 'data', upstreamDefault: 'uucp', meaning: 'Owner of received fax files.' }),
  kw({ name: 'fax-group', type: 'string', default: 'fax', category: 'data', upstreamDefault: '(unset)', meaning: 'Group of received fax files.' }),
  kw({ name: 'fax-mode', type: 'int', unit: 'mode', default: 0o660, category: 'data', meaning: 'File mode of received fax files.' }),
  kw({
    name: 'fax-spool-in', type: 'string', default: '/var/spool/fax/incoming:/tmp', category: 'data',
    meaning: 'Colon-separated list of directories for incoming faxes; the first usable one wins.',
  }),
  kw({
    name: 'debug', type: 'int', default: 4, cli: '-x', bounds: '0..9; above 9 logs as 9, below 0 as 0',
    // mgetty compares each message's level with this number, so 12 logs what 9 does: say so.
    post: (v) =>
      typeof v === 'number' && v > 9
        ? { value: 9, adjusted: `${v} is above the highest level 9 (everything), 9 is used` }
        : typeof v === 'number' && v < 0
          ? { value: 0, adjusted: `${v} is below the lowest level 0, 0 is used` }
          : { value: v },
    meaning: 'Log level: 0 = nothing, 9 = everything.',
  }),
  kw({
    name: 'statistics-chat', type: 'chat', default: undefined,
    meaning: 'Script run right after init-chat; every response line is logged (or written to statistics-file).',
  }),
  kw({ name: 'statistics-file', type: 'string', default: undefined, meaning: 'File that receives the statistics-chat output instead of the log.' }),
  kw({ name: 'gettydefs', type: 'string', default: 'n', cli: '(2nd argument)', category: 'unused', meaning: 'gettydefs tag. Has no effect: gettydefs support is not built in.' }),
  kw({ name: 'term', type: 'string', default: undefined, meaning: 'If set, TERM=<value> is put into the environment of the login program.' }),

  // ---- tgetty-only ----
  kw({
    name: 'autoppp-window', type: 'int', unit: 'ms', default: 2000, origin: 'tgetty',
    meaning: 'How long after CONNECT incoming bytes are checked for a PPP frame (AutoPPP detection).',
  }),
  kw({
    name: 'nologin-dir', type: 'string', default: '/etc', origin: 'tgetty',
    meaning: 'Directory searched for nologin.<DevID>; while that file exists, calls are not answered.',
  }),
  kw({
    name: 'hangup-grace', type: 'int', unit: 's', default: 10, origin: 'tgetty',
    meaning: 'After carrier loss, how long a session may take to exit after SIGHUP before it gets SIGKILL. The same grace applies at line start to processes that the session of an earlier, crashed getty left on the tty.',
  }),
  kw({
    name: 'typed-special-names', type: 'bool', default: true, origin: 'tgetty',
    meaning: 'Whether a caller may reach the /AutoPPP/ and /FIDO/ lines of login.config by typing those names (mgetty: yes). no = those lines only serve detected PPP or Fido calls.',
  }),
  kw({
    name: 'dtr-by-close', type: 'bool', default: false, origin: 'tgetty',
    meaning: 'The modem takes the getty closing the line as a DTR drop (a tgetty sim line: a pty has no DTR, the simulator watches the last close of the pty instead). After a call the getty then hangs up by closing the line, as HUPCL does on a serial port, instead of +++ and ATH0 (5 s).',
  }),
  kw({
    name: 'cnd-program-user', type: 'string', default: undefined, origin: 'tgetty',
    meaning: 'Run cnd-program and cid-program as this user instead of root; unset = root, as mgetty does.',
  }),
  kw({
    name: 'mail-program', type: 'string', default: '/usr/sbin/sendmail', origin: 'tgetty',
    meaning: 'The sendmail-compatible program that mails the notify notice of a received fax (run as PROGRAM -i -- ADDRESS, no shell, the message on stdin). If it is not there, the log says so and no mail goes.',
  }),
  kw({
    name: 'records-url', type: 'string', default: undefined, origin: 'tgetty', scope: 'daemon',
    bounds: 'a file path (SQLite) or a postgresql:// (postgres://) URL; any other scheme is an error',
    redact: redactUrl,
    post: (v) => {
      try {
        parseRecordsTarget(String(v), 'the value');
        return { value: v };
      } catch (err) {
        return { value: v, invalid: err instanceof Error ? err.message : String(err) };
      }
    },
    meaning:
      'Daemon-wide (global section only): where `tgetty serve` and `tgetty calls` keep the call records, an SQLite file or a postgresql://user@host/db URL (docs/call-records.md). `--records` wins over TGETTY_RECORDS, which wins over this keyword; unset = the default file. A password in the URL is shown as ***; keep the file mode 0600 or 0640 then, or use TGETTY_RECORDS. Read at start: a change needs a restart.',
  }),
];

const BY_NAME = new Map(KEYWORDS.map((k) => [k.name, k]));

/** Look a keyword up (case-sensitive, like mgetty). */
export function keywordDef(name: string): KeywordDef | undefined {
  return BY_NAME.get(name);
}

/** Whether tgetty acts on the keyword (fax and no-effect keywords are accepted but not used). */
export function isUsed(def: KeywordDef): boolean {
  return def.category === 'data';
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment), so that a
 * swapped pair like `inti-chat` counts as one edit.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = [];
  for (let i = 0; i <= a.length; i++) d.push([i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2][j - 2] + 1);
      d[i][j] = v;
    }
  }
  return d[a.length][b.length];
}

/** The closest known keyword to a misspelt one, if any is close enough to be a plausible typo. */
export function suggestKeyword(name: string): string | undefined {
  const lower = name.toLowerCase();
  // A case slip is the likeliest mistake (mgetty keywords are case-sensitive).
  const exactCi = KEYWORDS.find((k) => k.name === lower);
  if (exactCi !== undefined) return exactCi.name;
  const limit = lower.length <= 4 ? 1 : lower.length <= 8 ? 2 : 3;
  let best: { name: string; d: number } | undefined;
  for (const k of KEYWORDS) {
    // The distance is at least the length difference: skip the O(n*m) table (a 1 MB junk word took 80 s).
    if (Math.abs(lower.length - k.name.length) > limit) continue;
    const d = editDistance(lower, k.name);
    if (d <= limit && (best === undefined || d < best.d)) best = { name: k.name, d };
  }
  return best?.name;
}
