/**
 * `tgetty config check`: read the config files as a line would, report every problem
 * with file:line, and print the effective settings of a port with where each value
 * came from. Exits 1 on any error or warning, so scripts and package hooks can gate on it.
 */
import { findConfigDir, loadConfigFiles } from '../config/load.js';
import { resolvePort, formatEffective, effectiveToJSON, deviceFromArg } from '../config/effective.js';
import { formatDiagnostic, type Diagnostic } from '../config/diagnostics.js';
import type { ConfigValue } from '../config/keywords.js';
import type { SystemPaths } from './paths.js';
import type { CliIo } from './main.js';

export interface ConfigCheckOptions {
  paths: SystemPaths;
  port: string | undefined;
  json: boolean;
  overrides: Record<string, ConfigValue>;
  io: CliIo;
}

/** A missing file is mgetty's default behaviour, not a problem: it is reported but does not fail the check. */
const counts = (d: Diagnostic): boolean => d.kind !== 'missing-file';

export function configCheck(o: ConfigCheckOptions): number {
  const dir = findConfigDir(o.paths.configDir);
  const device = o.port !== undefined ? deviceFromArg(o.port) : '';
  // login-conf-file may be set per port: resolve the port first, then load with it.
  const first = loadConfigFiles(dir);
  const eff = resolvePort(first.mgetty.parsed, device, o.overrides);
  const loginConf = eff.entries.get('login-conf-file')?.value;
  const files = typeof loginConf === 'string' && loginConf !== 'login.config' ? loadConfigFiles(dir, { loginConfFile: loginConf }) : first;

  const seen = new Set<string>();
  const diags: Diagnostic[] = [];
  for (const d of [...files.diagnostics, ...eff.diagnostics]) {
    const key = formatDiagnostic(d);
    if (seen.has(key)) continue;
    seen.add(key);
    diags.push(d);
  }
  const failing = diags.filter(counts);
  const code = failing.length > 0 ? 1 : 0;

  if (o.json) {
    o.io.out(
      `${JSON.stringify(
        {
          configDir: dir,
          port: device === '' ? null : device,
          files: {
            mgetty: files.mgetty.path,
            login: { path: files.login.path, usable: files.login.usable, entries: files.login.parsed?.entries.length ?? 0 },
            dialin: { path: files.dialin.path, rules: files.dialin.parsed?.tokens.length ?? 0 },
          },
          diagnostics: diags.map((d) => ({ ...d, text: formatDiagnostic(d) })),
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
  o.io.out(`${formatEffective(eff)}\n`);
  o.io.out(failing.length === 0 ? '\nconfig check: OK\n' : `\nconfig check: ${failing.length} problem(s)\n`);
  return code;
}
