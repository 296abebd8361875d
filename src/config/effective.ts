/**
 * The effective configuration of one port: for every keyword its value and where the value
 * came from. Precedence (spec §1, §2.1, Q25): command line > later matching `port` section >
 * earlier matching section > global section > default. Post-processing (§2.2) runs on the
 * final values. Also the device-name vocabulary of spec §0. Pure.
 */
import type { Diagnostic } from './diagnostics.js';
import { hasErrors } from './diagnostics.js';
import { KEYWORDS, keywordDef, isUsed } from './keywords.js';
import type { ConfigValue, FlowValue, KeywordDef } from './keywords.js';
import { portMatches, formatChat } from './mgetty-config.js';
import type { ParsedConfig, ConfigSection } from './mgetty-config.js';
import { TgettyError } from '../core/errors.js';

// ---------------------------------------------------------------------------------------------
// Resolution

export type ValueSource =
  | { kind: 'default' }
  | { kind: 'global'; file: string; line: number }
  | { kind: 'port'; pattern: string; file: string; line: number }
  | { kind: 'command line' };

export interface EffectiveEntry {
  keyword: string;
  def: KeywordDef;
  /** Final value after post-processing; undefined = unset. */
  value: ConfigValue | undefined;
  source: ValueSource;
  /** The text as written in the file, when it came from a file. */
  raw?: string;
  /** Why post-processing changed the value, if it did. */
  adjusted?: string;
  /** Why the value is invalid: the line does not start with it (mgetty exits too). */
  invalid?: string;
}

export interface EffectiveConfig {
  device: string;
  entries: ReadonlyMap<string, EffectiveEntry>;
  /** Patterns (with line) of the `port` sections that matched, in file order. */
  matchedSections: { pattern: string; file: string; line: number }[];
  /** Parse diagnostics of the global and matching sections, then resolution diagnostics. */
  diagnostics: Diagnostic[];
}

/** Values set on the command line, already typed (use typeValue from mgetty-config for raw text). */
export type CliOverrides = Readonly<Record<string, ConfigValue>>;

export function sourceText(s: ValueSource): string {
  switch (s.kind) {
    case 'default':
      return 'default';
    case 'command line':
      return 'command line';
    case 'global':
      return `global (${s.file}:${s.line})`;
    case 'port':
      return `port ${s.pattern} (${s.file}:${s.line})`;
  }
}

/**
 * Compute the effective configuration of `device`. `parsed` may be undefined (no config file).
 * Never throws for bad input: invalid values end up as error diagnostics (mgetty would exit 2
 * for a bad speed; the caller decides, see hasErrors()).
 */
export function resolvePort(parsed: ParsedConfig | undefined, device: string, cli: CliOverrides = {}): EffectiveConfig {
  const entries = new Map<string, EffectiveEntry>();
  for (const def of KEYWORDS) entries.set(def.name, { keyword: def.name, def, value: def.default, source: { kind: 'default' } });

  const diagnostics: Diagnostic[] = [];
  const matched: ConfigSection[] = [];
  if (parsed !== undefined) {
    const applicable = parsed.sections.filter((s) => s.pattern === undefined || portMatches(s.pattern, device));
    // mgetty skips lines of non-matching sections without validating them; report only the rest.
    const patterns = new Set(applicable.map((s) => s.pattern));
    diagnostics.push(...parsed.diagnostics.filter((d) => d.section === undefined || patterns.has(d.section)));

    for (const sec of applicable) {
      if (sec.pattern !== undefined) matched.push(sec);
      for (const a of sec.assignments) {
        // Q25: a keyword set on the command line ignores config lines; a bad value keeps the old one.
        if (Object.hasOwn(cli, a.keyword) || a.value === undefined) continue;
        entries.set(a.keyword, {
          keyword: a.keyword,
          def: a.def,
          value: a.value,
          raw: a.raw,
          source:
            sec.pattern === undefined
              ? { kind: 'global', file: a.file, line: a.line }
              : { kind: 'port', pattern: sec.pattern, file: a.file, line: a.line },
        });
      }
    }
  }

  for (const [name, value] of Object.entries(cli)) {
    const def = keywordDef(name);
    if (def === undefined) {
      // A programming error in the CLI layer, not user input.
      throw new TgettyError('INTERNAL', `resolvePort: unknown keyword '${name}' in command-line overrides`, { input: name });
    }
    entries.set(name, { keyword: name, def, value, source: { kind: 'command line' } });
  }

  const get = (kw: string): ConfigValue | undefined => entries.get(kw)?.value;
  for (const e of entries.values()) {
    if (e.def.post === undefined || e.value === undefined) continue;
    const r = e.def.post(e.value, get);
    const where = locate(e.source);
    if (r.invalid !== undefined) {
      e.invalid = r.invalid;
      diagnostics.push({
        severity: 'error',
        code: e.source.kind === 'command line' && e.keyword === 'speed' ? 'CLI_BAD_SPEED' : 'CONFIG_OUT_OF_RANGE',
        kind: 'out-of-range',
        ...where,
        message: `${e.keyword}: ${r.invalid}; ${e.def.scope === 'daemon' ? 'tgetty serve does not start' : 'the line does not start'} with this value`,
      });
    }
    if (r.adjusted !== undefined) {
      e.adjusted = r.adjusted;
      e.value = r.value;
      diagnostics.push({ severity: 'warning', code: 'CONFIG_OUT_OF_RANGE', kind: 'adjusted', ...where, message: `${e.keyword}: ${r.adjusted}` });
    }
  }

  return {
    device,
    entries,
    matchedSections: matched.map((s) => ({ pattern: s.pattern!, file: s.file, line: s.line })),
    diagnostics,
  };
}

function locate(s: ValueSource): { file: string; line: number } {
  if (s.kind === 'global' || s.kind === 'port') return { file: s.file, line: s.line };
  return { file: s.kind === 'command line' ? '<command line>' : '<default>', line: 0 };
}

export function effectiveHasErrors(eff: EffectiveConfig): boolean {
  return hasErrors(eff.diagnostics);
}

// ---------------------------------------------------------------------------------------------
// Typed accessors (throw INTERNAL on a wrong keyword/type: that is a programming error)

function entry(eff: EffectiveConfig, kw: string, type: KeywordDef['type']): EffectiveEntry {
  const e = eff.entries.get(kw);
  if (e === undefined) throw new TgettyError('INTERNAL', `unknown config keyword '${kw}'`, { input: kw });
  if (e.def.type !== type) throw new TgettyError('INTERNAL', `config keyword '${kw}' is ${e.def.type}, not ${type}`, { input: kw });
  return e;
}

export function intOf(eff: EffectiveConfig, kw: string): number | undefined {
  return entry(eff, kw, 'int').value as number | undefined;
}
export function boolOf(eff: EffectiveConfig, kw: string): boolean {
  return entry(eff, kw, 'bool').value === true;
}
export function stringOf(eff: EffectiveConfig, kw: string): string | undefined {
  return entry(eff, kw, 'string').value as string | undefined;
}
export function chatOf(eff: EffectiveConfig, kw: string): readonly string[] | undefined {
  return entry(eff, kw, 'chat').value as readonly string[] | undefined;
}
export function flowOf(eff: EffectiveConfig, kw: string): FlowValue | undefined {
  return entry(eff, kw, 'flow').value as FlowValue | undefined;
}

// ---------------------------------------------------------------------------------------------
// Presentation

/** A value as text: chats as a quoted list, modes in octal, unset as `(unset)`. */
export function formatValue(def: KeywordDef, v: ConfigValue | undefined): string {
  if (v === undefined) return '(unset)';
  if (Array.isArray(v)) return formatChat(v as readonly string[]);
  if (typeof v === 'number' && def.unit === 'mode') return `0${v.toString(8)}`;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'string') {
    const shown = def.redact !== undefined ? def.redact(v) : v;
    return shown === '' || /^\s|\s$/.test(shown) ? JSON.stringify(shown) : shown;
  }
  return String(v);
}

export interface EffectiveRow {
  /** `T` = tgetty-only keyword, `-` = accepted but not used by tgetty, `*` = adjusted, `!` = invalid. */
  mark: string;
  keyword: string;
  /** The value that is used; for an invalid value what happens instead. */
  value: string;
  source: string;
}

export const EFFECTIVE_MARKERS = 'markers: T = tgetty-only, - = not used by tgetty (yet), * = adjusted, ! = invalid';

/** The rows of the effective-settings table, in keyword-table order. */
export function effectiveRows(eff: EffectiveConfig): EffectiveRow[] {
  const rows: EffectiveRow[] = [];
  for (const e of eff.entries.values()) {
    const mark =
      (e.def.origin === 'tgetty' ? 'T' : ' ') + (isUsed(e.def) ? ' ' : '-') + (e.invalid !== undefined ? '!' : e.adjusted !== undefined ? '*' : ' ');
    // An invalid value is not used: the line refuses to start, so say that instead of showing it as if it applied.
    const value = e.invalid !== undefined ? `none: ${formatValue(e.def, e.value)} is invalid, the line does not start` : formatValue(e.def, e.value);
    rows.push({ mark, keyword: e.keyword, value, source: sourceText(e.source) + (e.adjusted !== undefined ? ` [${e.adjusted}]` : '') });
  }
  return rows;
}

/** A plain-text table (logs, tests); `tgetty config check` prints the same rows with cli-table3. */
export function formatEffective(eff: EffectiveConfig): string {
  const rows = effectiveRows(eff);
  const w1 = Math.max(...rows.map((r) => r.keyword.length));
  const w2 = Math.min(40, Math.max(...rows.map((r) => r.value.length)));
  const lines = [`# effective configuration for ${eff.device}`, `# ${EFFECTIVE_MARKERS}`];
  for (const r of rows) lines.push(`${r.mark} ${r.keyword.padEnd(w1)}  ${r.value.padEnd(w2)}  ${r.source}`.trimEnd());
  return lines.join('\n') + '\n';
}

export interface EffectiveJSON {
  device: string;
  matchedSections: { pattern: string; file: string; line: number }[];
  values: Record<
    string,
    { value: ConfigValue | null; source: string; file?: string; line?: number; origin: 'mgetty' | 'tgetty'; used: boolean; adjusted?: string; invalid?: string }
  >;
  diagnostics: Diagnostic[];
}

/** A JSON-able form (for `tgetty config --json` and the daemon's status API). */
export function effectiveToJSON(eff: EffectiveConfig): EffectiveJSON {
  const values: EffectiveJSON['values'] = {};
  for (const e of eff.entries.values()) {
    values[e.keyword] = {
      value: e.value ?? null,
      source: e.source.kind === 'port' ? `port ${e.source.pattern}` : e.source.kind,
      ...(e.source.kind === 'global' || e.source.kind === 'port' ? { file: e.source.file, line: e.source.line } : {}),
      origin: e.def.origin,
      used: isUsed(e.def),
      ...(e.adjusted !== undefined ? { adjusted: e.adjusted } : {}),
      ...(e.invalid !== undefined ? { invalid: e.invalid } : {}),
    };
  }
  return { device: eff.device, matchedSections: eff.matchedSections, values, diagnostics: eff.diagnostics };
}
