/**
 * `tgetty config check`: read the config files as a line would, report every problem
 * with file:line, and print the effective settings of a port with where each value
 * came from. Exit codes as linters have them: 0 with warnings only, 1 with any error,
 * and with --strict warnings count too, so scripts and package hooks can gate on it.
 *
 * Beyond what the line itself reads, the check looks at what the config names on this
 * system (users, groups, programs, files, the device); those lookups go through an
 * injectable CheckSystem so tests need not depend on the machine.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import Table from 'cli-table3';
import { findConfigDir, loadConfigFiles, type LoadedConfigFiles } from '../config/load.js';
import {
  resolvePort, effectiveRows, effectiveToJSON, EFFECTIVE_MARKERS,
  type EffectiveConfig, type EffectiveEntry, type ValueSource,
} from '../config/effective.js';
import { deviceFromArg, devicePath } from '../core/device.js';
import { lintChats } from '../config/chat-lint.js';
import { formatDiagnostic, type Diagnostic } from '../config/diagnostics.js';
import type { ConfigValue } from '../config/keywords.js';
import { parseIssueSetting } from '../login/issue.js';
import { errnoCode } from '../core/errors.js';
import type { SystemPaths } from './paths.js';
import type { CliIo } from './io.js';
import { recordsUrlDiagnostics } from './records-setting.js';

/** What the check asks the system. `undefined` from a lookup = cannot tell (no check). */
export interface CheckSystem {
  /** 'missing' when the path does not exist. */
  kind(path: string): 'dir' | 'file' | 'other' | 'missing';
  executable(path: string): boolean;
  /** undefined if the file can be read, else the reason (an errno code). */
  unreadable(path: string): string | undefined;
  userExists(name: string): boolean | undefined;
  groupExists(name: string): boolean | undefined;
}

/** getent asks NSS, as getpwnam(3) does (LDAP, sssd ... too); no shell, the name is one argv word. */
function getent(db: 'passwd' | 'group', name: string): boolean | undefined {
  const r = spawnSync('getent', [db, name], { stdio: 'ignore', timeout: 5_000 });
  if (r.status === 0) return true;
  if (r.status === 2) return false;
  return undefined;
}

export const realSystem: CheckSystem = {
  kind(path) {
    try {
      const st = statSync(path);
      return st.isDirectory() ? 'dir' : st.isFile() ? 'file' : 'other';
    } catch {
      return 'missing';
    }
  },
  executable(path) {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  },
  unreadable(path) {
    try {
      accessSync(path, constants.R_OK);
      return undefined;
    } catch (err) {
      return errnoCode(err) ?? 'unreadable';
    }
  },
  userExists: (name) => getent('passwd', name),
  groupExists: (name) => getent('group', name),
};

export interface ConfigCheckOptions {
  paths: SystemPaths;
  port: string | undefined;
  json: boolean;
  /** Warnings fail the check too. */
  strict?: boolean;
  overrides: Record<string, ConfigValue>;
  io: CliIo;
  system?: CheckSystem;
  /** Width of the effective-settings table (default: the terminal's, else 120). */
  columns?: number;
}

/** A missing file is mgetty's default behaviour, not a problem: it is reported but never fails the check. */
function fails(d: Diagnostic, strict: boolean): boolean {
  return d.kind !== 'missing-file' && (d.severity === 'error' || strict);
}

function at(s: ValueSource): { file: string; line: number } {
  if (s.kind === 'global' || s.kind === 'port') return { file: s.file, line: s.line };
  return { file: s.kind === 'command line' ? '<command line>' : '<default>', line: 0 };
}

function entryDiag(e: EffectiveEntry, severity: Diagnostic['severity'], message: string, hint?: string): Diagnostic {
  return {
    severity, code: 'CONFIG_BAD_VALUE', kind: 'not-found', ...at(e.source), message,
    ...(hint !== undefined ? { hint } : {}),
    ...(e.source.kind === 'port' ? { section: e.source.pattern } : {}),
  };
}

/** Problems of a program path a line runs: missing is a warning (it may be installed later), unusable an error. */
function programProblem(sys: CheckSystem, path: string): { severity: Diagnostic['severity']; what: string } | undefined {
  const k = sys.kind(path);
  if (k === 'missing') return { severity: 'warning', what: 'does not exist' };
  if (k !== 'file') return { severity: 'error', what: 'is not a file' };
  if (!sys.executable(path)) return { severity: 'error', what: 'is not executable' };
  return undefined;
}

/** What the configuration names on this system: users, groups, programs, files, the device, the dir. */
export function systemDiagnostics(
  sys: CheckSystem,
  o: { dir: string; explicitDir: boolean; device: string; eff: EffectiveConfig; files: LoadedConfigFiles },
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const { eff, files } = o;
  const kind = sys.kind(o.dir);
  if (o.explicitDir && kind !== 'dir') {
    out.push({
      severity: 'error', code: 'CONFIG_UNREADABLE', kind: 'not-found', file: o.dir, line: 0,
      message: kind === 'missing' ? 'the config directory does not exist: nothing was read, every value is a default' : 'the config directory is not a directory',
      hint: 'check --config-dir',
    });
  }

  const str = (kw: string): { e: EffectiveEntry; v: string } | undefined => {
    const e = eff.entries.get(kw);
    return e !== undefined && typeof e.value === 'string' && e.value !== '' ? { e, v: e.value } : undefined;
  };
  const owner = str('port-owner');
  if (owner !== undefined && !/^\d+$/.test(owner.v) && sys.userExists(owner.v) === false) {
    out.push(entryDiag(owner.e, 'error', `port-owner: there is no user '${owner.v}' on this system; the device keeps its owner`));
  }
  const group = str('port-group');
  if (group !== undefined && !/^\d+$/.test(group.v) && sys.groupExists(group.v) === false) {
    out.push(entryDiag(group.e, 'error', `port-group: there is no group '${group.v}' on this system; the device keeps its group`));
  }
  const issue = str('issue-file');
  if (issue !== undefined) {
    const s = parseIssueSetting(issue.v);
    if (s.kind === 'file') {
      const why = sys.kind(s.path) === 'missing' ? 'ENOENT' : sys.unreadable(s.path);
      if (why !== undefined) out.push(entryDiag(issue.e, 'warning', `issue-file: cannot read ${s.path} (${why}); callers get no issue text before the prompt`));
    } else if (s.kind === 'command' && s.argv[0] !== undefined) {
      const p = programProblem(sys, s.argv[0]);
      if (p !== undefined) out.push(entryDiag(issue.e, p.severity, `issue-file: the program ${s.argv[0]} ${p.what}; callers get no issue text before the prompt`));
    }
  }
  for (const kw of ['cnd-program', 'cid-program']) {
    const prog = str(kw);
    if (prog === undefined) continue;
    const p = programProblem(sys, prog.v);
    // Failing to run it answers the call (as if it said yes), so the screening is silently off.
    if (p !== undefined) out.push(entryDiag(prog.e, p.severity, `${kw}: ${prog.v} ${p.what}; calls are answered without it`));
  }

  // login.config: only when it is used (an ignored file has its own error already).
  if (files.login.usable) {
    for (const en of files.login.parsed?.entries ?? []) {
      const loc = { file: en.file, line: en.line };
      const p = programProblem(sys, en.program);
      if (p !== undefined) {
        out.push({
          severity: p.severity, code: 'CONFIG_BAD_VALUE', kind: 'not-found', ...loc,
          message: `the program ${en.program} ${p.what}: calls that reach this line (${en.pattern}) fail`,
          ...(p.what === 'does not exist' ? { hint: 'install it, or comment the line out' } : {}),
        });
      }
      if (en.user !== undefined && !/^\d+$/.test(en.user) && sys.userExists(en.user) === false) {
        out.push({
          severity: 'error', code: 'CONFIG_BAD_VALUE', kind: 'not-found', ...loc,
          message: `there is no user '${en.user}' on this system: calls that reach this line (${en.pattern}) are refused`,
        });
      }
    }
  }

  if (o.device !== '') {
    const sections = files.mgetty.parsed?.sections.filter((s) => s.pattern !== undefined) ?? [];
    if (sections.length > 0 && eff.matchedSections.length === 0) {
      const names = sections.map((s) => s.pattern).join(', ');
      out.push({
        severity: 'warning', code: 'CONFIG_BAD_VALUE', kind: 'not-found', file: files.mgetty.path, line: 0,
        message: `no port section matches ${o.device}: only the global section applies (sections: ${names.length > 80 ? `${names.slice(0, 77)}...` : names})`,
      });
    }
    const path = devicePath(o.device);
    if (sys.kind(path) === 'missing') {
      out.push({ severity: 'warning', code: 'CONFIG_UNREADABLE', kind: 'not-found', file: path, line: 0, message: 'no such device: a line started on it exits at once' });
    }
  }
  return out;
}

const BLANK_CHARS = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '  ',
};

/**
 * Wrap at blanks, and break a word longer than the column (a chat element often is):
 * cli-table3's own word wrap cuts such a word off with an ellipsis.
 */
export function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let cur = '';
  for (const word of text.split(' ')) {
    let w = word;
    if (cur !== '' && cur.length + 1 + w.length <= width) {
      cur += ` ${w}`;
      continue;
    }
    if (cur !== '') lines.push(cur);
    while (w.length > width) {
      lines.push(w.slice(0, width));
      w = w.slice(width);
    }
    cur = w;
  }
  lines.push(cur);
  return lines.join('\n');
}

/** The effective settings as an aligned table; long values (chats) wrap inside their column. */
export function effectiveTable(eff: EffectiveConfig, columns: number): string {
  const rows = effectiveRows(eff);
  const kwWidth = Math.max(...rows.map((r) => r.keyword.length));
  // marker 3, keyword, value, source; the 2-space gaps between the four columns take 6.
  const rest = Math.max(40, columns - 3 - kwWidth - 6);
  const valueWidth = Math.max(20, Math.min(Math.ceil(rest * 0.5), Math.max(...rows.map((r) => r.value.length))));
  const sourceWidth = Math.max(20, rest - valueWidth);
  const t = new Table({
    chars: BLANK_CHARS,
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    colWidths: [3, kwWidth, valueWidth, sourceWidth],
  });
  // The markers are letters (see the legend); cli-table3 would drop their padding anyway.
  for (const r of rows) t.push([r.mark.replaceAll(' ', ''), r.keyword, wrap(r.value, valueWidth), wrap(r.source, sourceWidth)]);
  const body = t
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
  return `# effective configuration for ${eff.device === '' ? '(global section)' : eff.device}\n# ${EFFECTIVE_MARKERS}\n${body}\n`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export function configCheck(o: ConfigCheckOptions): number {
  const sys = o.system ?? realSystem;
  const strict = o.strict === true;
  const explicitDir = o.paths.configDir !== undefined && o.paths.configDir !== '';
  const dir = findConfigDir(o.paths.configDir);
  const device = o.port !== undefined ? deviceFromArg(o.port) : '';
  // login-conf-file may be set per port: resolve the port first, then load with it.
  const first = loadConfigFiles(dir);
  const eff = resolvePort(first.mgetty.parsed, device, o.overrides);
  const loginConf = eff.entries.get('login-conf-file')?.value;
  const files = typeof loginConf === 'string' && loginConf !== 'login.config' ? loadConfigFiles(dir, { loginConfFile: loginConf }) : first;

  const seen = new Set<string>();
  const diags: Diagnostic[] = [];
  const fromSystem = systemDiagnostics(sys, { dir, explicitDir, device, eff, files });
  // A missing config dir explains everything after it, so it comes first.
  const all = [
    ...fromSystem.filter((d) => d.file === dir),
    ...files.diagnostics,
    ...eff.diagnostics,
    ...lintChats(files.mgetty.parsed, eff),
    ...recordsUrlDiagnostics(files.mgetty.parsed, files.mgetty.path),
    ...fromSystem.filter((d) => d.file !== dir),
  ];
  for (const d of all) {
    const key = formatDiagnostic(d);
    if (seen.has(key)) continue;
    seen.add(key);
    diags.push(d);
  }
  // Read as a compiler's output: by file (in the order first named), then by line.
  const fileOrder = [...new Set(diags.map((d) => d.file))];
  diags.sort((a, b) => fileOrder.indexOf(a.file) - fileOrder.indexOf(b.file) || a.line - b.line);
  const errors = diags.filter((d) => d.severity === 'error' && d.kind !== 'missing-file').length;
  const warnings = diags.filter((d) => d.severity === 'warning' && d.kind !== 'missing-file').length;
  const failing = diags.filter((d) => fails(d, strict)).length;
  const code = failing > 0 ? 1 : 0;

  if (o.json) {
    o.io.out(
      `${JSON.stringify(
        {
          configDir: dir,
          port: device === '' ? null : device,
          strict,
          files: {
            mgetty: files.mgetty.path,
            login: { path: files.login.path, usable: files.login.usable, entries: files.login.parsed?.entries.length ?? 0 },
            dialin: { path: files.dialin.path, rules: files.dialin.parsed?.tokens.length ?? 0 },
          },
          diagnostics: diags.map((d) => ({ ...d, text: formatDiagnostic(d) })),
          errors,
          warnings,
          effective: effectiveToJSON(eff),
          ok: code === 0,
        },
        null,
        2,
      )}\n`,
    );
    return code;
  }

  o.io.out(`config dir: ${dir}\n`);
  o.io.out(`  ${files.mgetty.path}${files.mgetty.parsed === undefined ? ' (not found: mgetty defaults apply)' : ''}\n`);
  o.io.out(
    `  ${files.login.path}${files.login.parsed === undefined ? ' (not found: every name goes to /bin/login)' : files.login.usable ? '' : ' (IGNORED: see below)'}\n`,
  );
  o.io.out(`  ${files.dialin.path}${files.dialin.parsed === undefined ? ' (not found: every caller is accepted)' : ''}\n\n`);
  if (diags.length > 0) {
    for (const d of diags) o.io.out(`${formatDiagnostic(d)}\n`);
    o.io.out('\n');
  }
  o.io.out(device === '' ? 'effective settings (global section; use --port NAME for a line):\n' : `effective settings for ${device}:\n`);
  o.io.out(effectiveTable(eff, o.columns ?? (process.stdout.columns || 120)));
  const counts = `${plural(errors, 'error')}, ${plural(warnings, 'warning')}`;
  o.io.out(
    code === 0
      ? `\nconfig check: OK (${counts}${warnings > 0 ? '; warnings do not fail the check without --strict' : ''})\n`
      : `\nconfig check: FAILED (${counts}${strict && warnings > 0 ? '; --strict: warnings count' : ''})\n`,
  );
  return code;
}
