/**
 * The settings of one line, as plain typed fields, taken from the effective
 * configuration (config layer). The runner and the login phase read these, never
 * the keyword table, so a renamed keyword breaks the build and not a call.
 */
import { DEFAULT_ANSWER_CHAT } from '../chat/script.js';
import { boolOf, chatOf, intOf, stringOf, type EffectiveConfig } from '../config/effective.js';
import { devId as toDevId } from '../core/device.js';

export interface LineSettings {
  device: string;
  devId: string;
  /** /dev/<device>, or the absolute path given on the command line. */
  path: string;
  speed: number;
  direct: boolean;
  blocking: boolean;
  portOwner: string | undefined;
  portGroup: string | undefined;
  portMode: number | undefined;
  toggleDtr: boolean;
  toggleDtrWaitMs: number;
  /** The modem hangs up when the line is closed (dtr-by-close): no +++/ATH0 on a line without DTR. */
  dtrByClose: boolean;
  openDelayMs: number;
  needDsr: boolean;
  dataOnly: boolean;
  initChat: readonly string[];
  forceInitChat: readonly string[] | undefined;
  postInitChat: readonly string[] | undefined;
  statisticsChat: readonly string[] | undefined;
  statisticsFile: string | undefined;
  getCndChat: readonly string[] | undefined;
  answerChat: readonly string[];
  answerChatTimeoutMs: number;
  modemCheckTimeS: number;
  rings: number;
  msnList: readonly string[];
  cidProgram: string | undefined;
  cndProgram: string | undefined;
  hookUser: string | undefined;
  autobauding: boolean;
  ringback: boolean;
  ringbackTimeS: number;
  ignoreCarrier: boolean;
  issueFile: string;
  promptWaitMs: number;
  loginPrompt: string;
  loginTimeS: number;
  fidoSendEmsi: boolean;
  ttypromptHack: boolean;
  loginConfFile: string;
  term: string | undefined;
  debug: number;
  nologinDir: string;
  autopppWindowMs: number;
  hangupGraceS: number;
  /** Fax reception settings; undefined = data only (data-only, modem-type data). */
  fax: FaxLineSettings | undefined;
}

/** mgetty's fax keywords as the fax reception uses them. */
export interface FaxLineSettings {
  modemType: 'auto' | 'c2.0' | 'cls2';
  faxOnly: boolean;
  faxId: string;
  maxSpeed: number;
  /** fax-spool-in, split at ':'. */
  spoolIn: string[];
  /** diskspace, KB. */
  minFreeKb: number;
  owner: string | undefined;
  group: string | undefined;
  mode: number;
  /** notify: who gets a mail about each received fax; empty = nobody. */
  notify: string;
  /** mail-program: the sendmail-compatible program for it. */
  mailProgram: string;
  /** fax-server-file: the documents for callers that poll (a list of G3 files, or one G3 file). */
  serverFile: string | undefined;
}

function faxSettings(eff: EffectiveConfig, dataOnly: boolean): FaxLineSettings | undefined {
  if (dataOnly) return undefined;
  const type = stringOf(eff, 'modem-type') ?? 'auto';
  return {
    modemType: type === 'c2.0' || type === 'cls2' ? type : 'auto',
    faxOnly: boolOf(eff, 'fax-only'),
    faxId: stringOf(eff, 'fax-id') ?? ' ',
    maxSpeed: num(eff, 'fax-max-speed', 14400),
    spoolIn: (stringOf(eff, 'fax-spool-in') ?? '/var/spool/fax/incoming:/tmp').split(':').filter((d) => d !== ''),
    minFreeKb: num(eff, 'diskspace', 1024),
    owner: stringOf(eff, 'fax-owner'),
    group: stringOf(eff, 'fax-group'),
    mode: num(eff, 'fax-mode', 0o660),
    notify: stringOf(eff, 'notify') ?? '',
    mailProgram: stringOf(eff, 'mail-program') ?? '/usr/sbin/sendmail',
    serverFile: stringOf(eff, 'fax-server-file'),
  };
}

const num = (eff: EffectiveConfig, kw: string, dflt: number): number => intOf(eff, kw) ?? dflt;

/** `path` is where to open the line (the CLI argument made absolute). */
export function lineSettings(eff: EffectiveConfig, path: string): LineSettings {
  const mode = intOf(eff, 'port-mode');
  const dataOnly = boolOf(eff, 'data-only') || stringOf(eff, 'modem-type') === 'data';
  return {
    device: eff.device,
    devId: toDevId(eff.device),
    path,
    speed: num(eff, 'speed', 38400),
    direct: boolOf(eff, 'direct'),
    blocking: boolOf(eff, 'blocking'),
    portOwner: stringOf(eff, 'port-owner'),
    portGroup: stringOf(eff, 'port-group'),
    portMode: mode,
    toggleDtr: boolOf(eff, 'toggle-dtr'),
    toggleDtrWaitMs: num(eff, 'toggle-dtr-waittime', 500),
    dtrByClose: boolOf(eff, 'dtr-by-close'),
    openDelayMs: num(eff, 'open-delay', 0),
    needDsr: boolOf(eff, 'need-dsr'),
    dataOnly,
    initChat: chatOf(eff, 'init-chat') ?? [''],
    forceInitChat: chatOf(eff, 'force-init-chat'),
    postInitChat: chatOf(eff, 'post-init-chat'),
    statisticsChat: chatOf(eff, 'statistics-chat'),
    statisticsFile: stringOf(eff, 'statistics-file'),
    getCndChat: chatOf(eff, 'get-cnd-chat'),
    answerChat: chatOf(eff, 'answer-chat') ?? DEFAULT_ANSWER_CHAT,
    answerChatTimeoutMs: num(eff, 'answer-chat-timeout', 80) * 1000,
    modemCheckTimeS: num(eff, 'modem-check-time', 3600),
    rings: num(eff, 'rings', 1),
    msnList: chatOf(eff, 'msn-list') ?? [],
    cidProgram: stringOf(eff, 'cid-program'),
    cndProgram: stringOf(eff, 'cnd-program'),
    hookUser: stringOf(eff, 'cnd-program-user'),
    autobauding: boolOf(eff, 'autobauding'),
    ringback: boolOf(eff, 'ringback'),
    ringbackTimeS: num(eff, 'ringback-time', 30),
    ignoreCarrier: boolOf(eff, 'ignore-carrier'),
    issueFile: stringOf(eff, 'issue-file') ?? '/etc/issue',
    promptWaitMs: num(eff, 'prompt-waittime', 500),
    loginPrompt: stringOf(eff, 'login-prompt') ?? '@ login: ',
    loginTimeS: num(eff, 'login-time', 240),
    fidoSendEmsi: boolOf(eff, 'fido-send-emsi'),
    ttypromptHack: boolOf(eff, 'login-env-ttyprompt-hack'),
    loginConfFile: stringOf(eff, 'login-conf-file') ?? 'login.config',
    term: stringOf(eff, 'term'),
    debug: num(eff, 'debug', 4),
    nologinDir: stringOf(eff, 'nologin-dir') ?? '/etc',
    autopppWindowMs: num(eff, 'autoppp-window', 2000),
    hangupGraceS: num(eff, 'hangup-grace', 10),
    fax: faxSettings(eff, dataOnly),
  };
}
