/**
 * What a chat value will really do, for `config check`: the mistakes that make a chat
 * wait for something the modem never sends, or send something nobody meant. mgetty
 * accepts all of these silently. Pure; the chat engine itself is in src/chat.
 */
import type { Diagnostic } from './diagnostics.js';
import type { Assignment, ParsedConfig } from './mgetty-config.js';
import { formatChat } from './mgetty-config.js';
import type { EffectiveConfig } from './effective.js';

export interface ChatProblem {
  severity: 'error' | 'warning';
  message: string;
  hint?: string;
}

/** Chat keywords whose elements are expect/send pairs (msn-list is a plain list). */
export const CHAT_SCRIPT_KEYWORDS: readonly string[] = [
  'init-chat', 'force-init-chat', 'post-init-chat', 'answer-chat', 'get-cnd-chat', 'statistics-chat',
];

/** Lines a modem sends on its own; as a send string they are a sign of a shifted chat. */
const RESPONSES = new Set(['OK', 'CONNECT', 'ERROR', 'NO CARRIER', 'BUSY', 'RING', 'NO DIALTONE', 'NO DIAL TONE', 'NO ANSWER']);

/** An AT command, perhaps after the send escapes `\d` (pause) and `\p`. */
function looksLikeCommand(el: string): boolean {
  return /^(?:\\[dp])*at/i.test(el);
}

function timeoutText(keyword: string): string {
  switch (keyword) {
    case 'init-chat':
    case 'force-init-chat':
      return 'times out after 20 s';
    case 'post-init-chat':
    case 'get-cnd-chat':
      return 'times out after 10 s';
    case 'answer-chat':
      return 'times out after answer-chat-timeout';
    default:
      return 'times out';
  }
}

/** An element for a message: printable, control bytes as in config syntax. */
function show(el: string): string {
  const f = formatChat([el]);
  return f.startsWith('"') && f.endsWith('"') && f.length > 1 ? f.slice(1, -1) : f;
}

function shorten(s: string, max = 60): string {
  return s.length <= max ? s : `${s.slice(0, max - 3)}...`;
}

/**
 * Where an unclosed `"` opens in a (folded) chat value, as the splitter reads quotes:
 * a backslash escapes the next character. undefined when every quote is closed.
 */
export function unclosedQuoteAt(raw: string): number | undefined {
  let open: number | undefined;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === '\\') i++;
    else if (c === '"') open = open === undefined ? i : undefined;
  }
  return open;
}

/**
 * Problems of one chat value: `raw` is the text as written (folded), `elements` its split.
 * Elements alternate expect, send, expect, ... starting with an expect (spec §6.2).
 */
export function lintChat(keyword: string, raw: string, elements: readonly string[]): ChatProblem[] {
  const out: ChatProblem[] = [];
  const quote = unclosedQuoteAt(raw);
  if (quote !== undefined) {
    const idx = elements.length - 1;
    const el = elements[idx] ?? '';
    const what =
      idx % 2 === 1
        ? `so '${show(el)}' is sent to the modem as one command line`
        : `so the chat waits for the modem to send '${show(el)}' as one string`;
    out.push({
      severity: 'error',
      message: `${keyword}: unterminated quote: everything from the " before '${shorten(raw.slice(quote + 1), 24)}' to the end of the line is one element, ${what}`,
      hint: 'close the quote, or remove it',
    });
  }
  if (!CHAT_SCRIPT_KEYWORDS.includes(keyword)) return out;

  const first = elements[0] ?? '';
  if (first !== '' && looksLikeCommand(first)) {
    out.push({
      severity: 'error',
      message: `${keyword} waits for '${show(first)}' from the modem before sending anything (a chat starts with an expect string), and the modem sends nothing unasked, so it ${timeoutText(keyword)}`,
      hint: `did you mean \`${shorten(formatChat(['', ...elements]))}\`?`,
    });
    // Everything after it is shifted by one: reporting each pair again says nothing new.
    return out;
  }
  for (let i = 2; i < elements.length; i += 2) {
    const expect = elements[i] ?? '';
    const send = elements[i - 1] ?? '';
    if (looksLikeCommand(expect) && RESPONSES.has(send.trim())) {
      out.push({
        severity: 'warning',
        message: `${keyword}: element ${i} '${show(send)}' is sent to the modem and element ${i + 1} '${show(expect)}' is waited for; expect and send strings alternate, so one element is missing or doubled before it`,
      });
      break;
    }
  }
  return out;
}

/**
 * Chat problems of every chat assignment that applies to the port (the global section
 * and the matching port sections, as resolvePort reads them), located by file:line,
 * and of chats given on the command line.
 */
export function lintChats(parsed: ParsedConfig | undefined, eff: EffectiveConfig): Diagnostic[] {
  const matched = new Set(eff.matchedSections.map((s) => `${s.pattern}\0${s.line}`));
  const out: Diagnostic[] = [];
  // `-m` on the command line (an inittab line) is a chat too; its quotes are already gone.
  for (const e of eff.entries.values()) {
    if (e.source.kind !== 'command line' || e.def.type !== 'chat' || !Array.isArray(e.value)) continue;
    for (const p of lintChat(e.keyword, '', e.value as readonly string[])) {
      out.push({ severity: p.severity, code: 'CLI_USAGE', kind: 'broken-chat', file: '<command line>', line: 0, message: p.message, ...(p.hint !== undefined ? { hint: p.hint } : {}) });
    }
  }
  if (parsed === undefined) return out;
  for (const sec of parsed.sections) {
    if (sec.pattern !== undefined && !matched.has(`${sec.pattern}\0${sec.line}`)) continue;
    for (const a of sec.assignments) out.push(...assignmentProblems(a));
  }
  return out;
}

function assignmentProblems(a: Assignment): Diagnostic[] {
  if (a.def.type !== 'chat' || !Array.isArray(a.value)) return [];
  return lintChat(a.keyword, a.raw, a.value as readonly string[]).map((p) => ({
    severity: p.severity,
    code: 'CONFIG_BAD_VALUE',
    kind: 'broken-chat',
    file: a.file,
    line: a.line,
    message: p.message,
    ...(p.hint !== undefined ? { hint: p.hint } : {}),
    ...(a.section !== undefined ? { section: a.section } : {}),
  }));
}
