/**
 * mgetty.config as mgetty 1.2.1 reads it (spec §2.1, §2.2, §6.1): physical -> logical lines,
 * comment lines, whitespace folding, case-sensitive keywords, `port` sections matched with `?`,
 * C-style value typing. Bad input never throws: it becomes a Diagnostic with file:line. Pure.
 */
import type { Diagnostic } from './diagnostics.js';
import { KEYWORDS, keywordDef, suggestKeyword, isUsed } from './keywords.js';
import type { ConfigValue, FlowValue, KeywordDef } from './keywords.js';

export interface LogicalLine {
  /** The folded text: runs of blanks -> one space, no leading/trailing blanks. */
  text: string;
  /** 1-based number of the first physical line. */
  line: number;
}

/** Blanks as C isspace() sees them, minus the newline that separates lines. */
const BLANKS = /[ \t\r\f\v]+/g;

/**
 * Split a file into logical lines the way mgetty's reader does: a trailing backslash joins the
 * next physical line (before comment detection, so `# x \` comments out the next line too),
 * blanks are folded everywhere (also inside quotes), `#` lines and empty lines are dropped.
 */
export function readLogicalLines(text: string): LogicalLine[] {
  const phys = text.split('\n');
  // A final newline does not start another line.
  if (phys.length > 0 && phys[phys.length - 1] === '') phys.pop();
  const out: LogicalLine[] = [];
  for (let i = 0; i < phys.length; ) {
    const start = i;
    let joined = '';
    for (;;) {
      const p = phys[i++];
      if (p.endsWith('\\') && i < phys.length) {
        joined += p.slice(0, -1);
        continue;
      }
      // A backslash on the very last line has nothing to join; drop it like mgetty does.
      joined += p.endsWith('\\') ? p.slice(0, -1) : p;
      break;
    }
    const folded = joined.replace(BLANKS, ' ').trim();
    if (folded === '' || folded.startsWith('#')) continue;
    out.push({ text: folded, line: start + 1 });
  }
  return out;
}

/** Number of physical lines (for range checks of diagnostics). */
export function physicalLineCount(text: string): number {
  if (text === '') return 0;
  const n = text.split('\n').length;
  return text.endsWith('\n') ? n - 1 : n;
}

// ---------------------------------------------------------------------------------------------
// Value typing (spec §2.2)

/**
 * C `strtol(s, &end, 0)` restricted the way mgetty restricts it: the text must start with a
 * digit or `-digit`. Returns the value and the unparsed rest, or undefined if not a number.
 */
export function parseCInt(s: string): { value: number; rest: string } | undefined {
  const m = /^(-?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(s);
  if (m === null) return undefined;
  const sign = m[1] === '-' ? -1 : 1;
  const body = m[2];
  let value: number;
  if (/^0[xX]/.test(body)) value = parseInt(body.slice(2), 16);
  else if (body.startsWith('0')) value = body.length > 1 ? parseInt(body.slice(1), 8) : 0;
  else value = parseInt(body, 10);
  // strtol saturates at LONG_MAX/LONG_MIN; keep numbers exact by saturating at the safe range.
  if (!Number.isSafeInteger(value)) value = Number.MAX_SAFE_INTEGER;
  return { value: sign * value === 0 ? 0 : sign * value, rest: s.slice(m[0].length) };
}

/** mgetty's bool: true iff empty, or starting with y/Y/t/T, or with lowercase `on` (Q2). */
export function parseBool(s: string): boolean {
  return s === '' || /^[yYtT]/.test(s) || s.startsWith('on');
}

/** mgetty's flow keyword values; undefined = not recognised. */
export function parseFlow(s: string): FlowValue | undefined {
  if (s.startsWith('rts') || s.startsWith('hard')) return 'hard';
  if (s.startsWith('xon') || s.startsWith('soft')) return 'soft';
  if (s === 'both') return 'both';
  if (s === 'none') return 'none';
  return undefined;
}

/**
 * Split a chat value into elements (spec §6.1). `"` toggles quoting and is removed, a space
 * outside quotes ends an element (so `""` is an empty element and, for unfolded input, two
 * spaces make an empty element: Q7). `\r \n \t \\ \"` are resolved; every other backslash pair
 * (including backslash-space, which therefore does not split) is kept for the send stage.
 */
function splitChatCore(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      const n = s[i + 1];
      if (n === undefined) {
        cur += c;
        continue;
      }
      i++;
      if (n === 'r') cur += '\r';
      else if (n === 'n') cur += '\n';
      else if (n === 't') cur += '\t';
      else if (n === '\\') cur += '\\';
      else if (n === '"') cur += '"';
      else cur += c + n;
    } else if (c === '"') {
      quoted = !quoted;
    } else if (c === ' ' && !quoted) {
      out.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  out.push(cur);
  return out;
}

/** Split a (folded) config chat value. An empty value is one empty expect. */
export function splitChat(value: string): string[] {
  return splitChatCore(value);
}

/**
 * Split the argument of `-m` (Q7): every single space separates, with no folding, so two
 * spaces give an empty element. Quotes and escapes as in a config chat.
 */
export function splitChatArg(arg: string): string[] {
  return splitChatCore(arg);
}

/**
 * Write chat elements back in config syntax (for docs and `config check`): the inverse of
 * splitChat for printable text plus CR/LF/TAB. Other control bytes are shown as `[xx]`
 * (display only: mgetty.config cannot express them except as raw bytes).
 */
export function formatChat(elements: readonly string[]): string {
  return elements.map(formatChatElement).join(' ');
}

function formatChatElement(e: string): string {
  if (e === '') return '""';
  let out = '';
  let quote = false;
  for (let i = 0; i < e.length; i++) {
    const c = e[i];
    const code = c.charCodeAt(0);
    if (c === '\\') {
      const n = e[i + 1];
      // Double a backslash the splitter would otherwise pair with what we write next (r, n, t,
      // a backslash, a quote, an escaped control char) or that ends the element.
      out += n === undefined || 'rnt\\"\r\n\t'.includes(n) ? '\\\\' : '\\';
    } else if (c === '\r') out += '\\r';
    else if (c === '\n') out += '\\n';
    else if (c === '\t') out += '\\t';
    else if (c === '"') out += '\\"';
    else if (c === ' ') {
      quote = true;
      out += c;
    } else if (code < 0x20 || code === 0x7f) out += `[${code.toString(16).padStart(2, '0')}]`;
    else out += c;
  }
  return quote ? `"${out}"` : out;
}

export const EXPECTED: Record<KeywordDef['type'], string> = {
  int: 'expected an integer (decimal, 0octal or 0xhex)',
  bool: 'a yes/no value',
  string: 'any text',
  chat: 'an expect/send list',
  flow: 'expected rts/hard, xon/soft, both or none',
};

export type TypedValue =
  | { ok: true; value: ConfigValue; note?: string }
  | { ok: false; expected: string };

/**
 * Type a raw (folded) value for a keyword. Used for config lines and, by the CLI, for option
 * arguments so both sources follow the same rules. `note` flags accepted-but-suspicious input.
 */
export function typeValue(def: KeywordDef, raw: string): TypedValue {
  switch (def.type) {
    case 'int': {
      const r = parseCInt(raw);
      if (r === undefined) return { ok: false, expected: EXPECTED.int };
      if (r.rest !== '') return { ok: true, value: r.value, note: `trailing text '${r.rest}' ignored, value is ${r.value}` };
      if (def.unit === 'mode' && r.value !== 0 && !raw.startsWith('0') && !raw.startsWith('-0')) {
        return {
          ok: true,
          value: r.value,
          note: `${raw} is read as decimal (octal 0${r.value.toString(8)}); a file mode needs a leading zero, e.g. 0${raw}`,
        };
      }
      return { ok: true, value: r.value };
    }
    case 'bool': {
      const v = parseBool(raw);
      // Q2: `1`, `On`, `enable` are false for mgetty, which surprises people; say so.
      if (!v && !/^(n|N|f|F|off|0)/.test(raw)) {
        return { ok: true, value: v, note: `'${raw}' counts as false (only empty, y..., t... or on... are true); write yes or no` };
      }
      return { ok: true, value: v };
    }
    case 'string':
      return { ok: true, value: raw };
    case 'chat':
      return { ok: true, value: splitChat(raw) };
    case 'flow': {
      const f = parseFlow(raw);
      return f === undefined ? { ok: false, expected: EXPECTED.flow } : { ok: true, value: f };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Sections and the whole file

/**
 * mgetty's port pattern match: `?` on either side matches one character, anything else must be
 * equal; surplus characters of the longer string must all be `?`. No `*`.
 */
export function portMatches(pattern: string, device: string): boolean {
  const n = Math.max(pattern.length, device.length);
  for (let i = 0; i < n; i++) {
    const a = pattern[i];
    const b = device[i];
    if (a === '?' || b === '?') continue;
    if (a !== b) return false;
  }
  return true;
}

export interface Assignment {
  keyword: string;
  def: KeywordDef;
  /** The folded value text as written. */
  raw: string;
  /** Typed value; undefined when the value was bad (mgetty keeps the previous value). */
  value: ConfigValue | undefined;
  file: string;
  line: number;
  /** Pattern of the `port` section, undefined in the global section. */
  section: string | undefined;
}

export interface ConfigSection {
  /** undefined = the global section. */
  pattern: string | undefined;
  file: string;
  /** Line of the `port` line (0 for the global section). */
  line: number;
  assignments: Assignment[];
}

export interface ParsedConfig {
  file: string;
  /** sections[0] is the global section; the others in file order. */
  sections: ConfigSection[];
  diagnostics: Diagnostic[];
  /** Physical lines in the file. */
  lineCount: number;
}

const PORT = 'port';
/** Longest expect string the chat engine can match (half its 500-byte buffer). */
export const MAX_EXPECT_LENGTH = 250;

/** Parse mgetty.config text. `file` is only used to locate diagnostics. */
export function parseMgettyConfig(text: string, file: string): ParsedConfig {
  const global: ConfigSection = { pattern: undefined, file, line: 0, assignments: [] };
  const sections: ConfigSection[] = [global];
  const diagnostics: Diagnostic[] = [];
  let cur = global;

  for (const { text: ln, line } of readLogicalLines(text)) {
    const sp = ln.indexOf(' ');
    const key = sp < 0 ? ln : ln.slice(0, sp);
    const raw = sp < 0 ? '' : ln.slice(sp + 1);
    const at = { file, line, ...(cur.pattern !== undefined ? { section: cur.pattern } : {}) };

    if (key === PORT) {
      cur = { pattern: raw, file, line, assignments: [] };
      sections.push(cur);
      if (raw === '') {
        diagnostics.push({
          ...at, section: raw, severity: 'error', code: 'CONFIG_MALFORMED_LINE', kind: 'malformed',
          message: "'port' line without a device pattern: the lines up to the next 'port' line apply to no device",
          hint: 'write e.g. port ttyS0',
        });
      } else if (raw.includes(' ')) {
        diagnostics.push({
          ...at, section: raw, severity: 'warning', code: 'CONFIG_MALFORMED_LINE', kind: 'suspicious',
          message: `port pattern '${raw}' contains a space, so it can match no device`,
          hint: 'use one port line per device, or ? as a wildcard',
        });
      }
      continue;
    }

    const def = keywordDef(key);
    if (def === undefined) {
      const s = key.toLowerCase() === PORT ? PORT : suggestKeyword(key);
      diagnostics.push({
        ...at, severity: 'error', code: 'CONFIG_UNKNOWN_KEYWORD', kind: 'unknown-keyword',
        message: `unknown keyword '${key}', line ignored`,
        ...(s !== undefined ? { hint: `did you mean '${s}'?${s.toLowerCase() === key.toLowerCase() ? ' keywords are case-sensitive' : ''}` } : {}),
      });
      continue;
    }

    const typed = typeValue(def, raw);
    if (!typed.ok) {
      diagnostics.push({
        ...at, severity: 'error', code: 'CONFIG_BAD_VALUE', kind: 'bad-value',
        message: `bad value '${raw}' for '${key}': ${typed.expected}; the line is ignored and the previous value stays`,
      });
    } else if (typed.note !== undefined) {
      diagnostics.push({ ...at, severity: 'warning', code: 'CONFIG_BAD_VALUE', kind: 'suspicious', message: `${key}: ${typed.note}` });
    }
    if (typed.ok && def.type === 'chat' && Array.isArray(typed.value)) {
      // The chat engine keeps 500 received bytes and drops the older half when full (spec §6.2).
      const long = (typed.value as readonly string[]).find((el, i) => i % 2 === 0 && el.length > MAX_EXPECT_LENGTH);
      if (long !== undefined) {
        diagnostics.push({
          ...at, severity: 'warning', code: 'CONFIG_BAD_VALUE', kind: 'suspicious',
          message: `${key}: an expect string of ${long.length} characters can never match (at most ${MAX_EXPECT_LENGTH} are compared)`,
        });
      }
    }
    if (!isUsed(def)) {
      diagnostics.push({
        ...at, severity: 'warning', code: 'CONFIG_NOT_USED', kind: 'not-used',
        message:
          def.category === 'fax'
            ? `'${key}' is a fax keyword: accepted, but not used by tgetty yet`
            : `'${key}' is accepted for compatibility but has no effect (as in mgetty)`,
      });
    }
    if (def.scope === 'daemon' && cur.pattern !== undefined) {
      diagnostics.push({
        ...at, severity: 'warning', code: 'CONFIG_NOT_USED', kind: 'suspicious',
        message: `'${key}' is a daemon-wide setting: a port section cannot set it, line ignored`,
        hint: "move it above the first 'port' line",
      });
      continue;
    }
    cur.assignments.push({ keyword: key, def, raw, value: typed.ok ? typed.value : undefined, file, line, section: cur.pattern });
  }

  return { file, sections, diagnostics, lineCount: physicalLineCount(text) };
}

/**
 * A daemon-wide setting (a keyword with scope 'daemon') from the global section: the last
 * line that set it with a good value, or undefined. Port sections cannot set these.
 */
export function daemonSetting(parsed: ParsedConfig | undefined, keyword: string): Assignment | undefined {
  const global = parsed?.sections[0];
  if (global === undefined) return undefined;
  let found: Assignment | undefined;
  for (const a of global.assignments) if (a.keyword === keyword && a.value !== undefined) found = a;
  return found;
}

/** All keyword names of mgetty.config plus the section keyword (for completion / suggestions). */
export function allKeywordNames(): string[] {
  return [...KEYWORDS.map((k) => k.name), PORT];
}
