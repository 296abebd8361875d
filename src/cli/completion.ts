/**
 * Shell completion for bash and zsh, generated from the commander definitions in main.ts
 * (commander has no generator of its own), so a new subcommand or option cannot be
 * forgotten: a test compares contrib/completion/ with this output. Pure: it reads the
 * command tree and returns text.
 */
import type { Command } from 'commander';

export interface OptSpec {
  /** `-x`, `--metrics-port`, or both (`-h`, `--help`). */
  readonly flags: readonly string[];
  /** The argument's name (`dir`, `file`, `port`, ...), if the option takes one. */
  readonly arg?: string;
  readonly description: string;
}

export interface CmdSpec {
  readonly name: string;
  readonly description: string;
  readonly options: readonly OptSpec[];
  readonly subcommands: readonly CmdSpec[];
  /** Takes a tty as its argument (the root command, as mgetty). */
  readonly tty: boolean;
}

const HELP: OptSpec = { flags: ['-h', '--help'], description: 'display help' };

/** The part of a commander tree that completion needs. */
export function specFromCommand(cmd: Command): CmdSpec {
  const options: OptSpec[] = cmd.options.map((o) => {
    const arg = /<([^>]+)>|\[([^\]]+)\]/.exec(o.flags);
    const flags = [o.short, o.long].filter((f): f is string => f !== undefined);
    return { flags, ...(arg !== null ? { arg: arg[1] ?? arg[2] } : {}), description: o.description };
  });
  return {
    name: cmd.name(),
    description: cmd.description(),
    options: [...options, HELP],
    subcommands: cmd.commands.map(specFromCommand),
    tty: cmd.registeredArguments.some((a) => a.name() === 'tty'),
  };
}

/** Argument names whose values are paths. */
const DIR_ARGS = new Set(['dir']);
const FILE_ARGS = new Set(['file', 'issue']);

interface Node {
  path: string;
  spec: CmdSpec;
}

function walk(spec: CmdSpec, path = ''): Node[] {
  return [{ path, spec }, ...spec.subcommands.flatMap((c) => walk(c, `${path}/${c.name}`))];
}

const GENERATED = (fn: string): string =>
  `# Generated from the command definitions in src/cli/main.ts by ${fn}() in src/cli/completion.ts.\n` +
  '# Do not edit by hand; after a build, regenerate with: node scripts/generate-docs.mjs\n';

export function renderBashCompletion(root: CmdSpec): string {
  const nodes = walk(root);
  const words = (xs: readonly string[]): string => xs.join(' ');
  const out: string[] = [];
  out.push('# bash completion for tgetty(8).');
  out.push(GENERATED('renderBashCompletion').trimEnd());
  out.push('# Install as /usr/local/share/bash-completion/completions/tgetty (or source it from ~/.bashrc).');
  out.push('');
  out.push('# Sets _tgetty_o (options), _tgetty_a (options that take a value) and _tgetty_c');
  out.push('# (subcommands) for a command path such as /config/check.');
  out.push('_tgetty_spec() {');
  out.push('  case $1 in');
  for (const n of nodes) {
    const opts = n.spec.options.flatMap((o) => o.flags);
    const argOpts = n.spec.options.filter((o) => o.arg !== undefined).flatMap((o) => o.flags);
    out.push(`    '${n.path}') _tgetty_o='${words(opts)}' _tgetty_a='${words(argOpts)}' _tgetty_c='${words(n.spec.subcommands.map((c) => c.name))}' ;;`);
  }
  out.push("    *) _tgetty_o='' _tgetty_a='' _tgetty_c='' ;;");
  out.push('  esac');
  out.push('}');
  out.push('');
  out.push('_tgetty() {');
  out.push('  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}');
  out.push('  local path="" tty="" skip="" i w');
  out.push('  local _tgetty_o _tgetty_a _tgetty_c');
  out.push('  _tgetty_spec ""');
  out.push('  # Find the subcommand path in the words before the cursor, skipping option values.');
  out.push('  for ((i = 1; i < COMP_CWORD; i++)); do');
  out.push('    w=${COMP_WORDS[i]}');
  out.push('    if [[ -n $skip ]]; then skip=""; continue; fi');
  out.push('    if [[ $w == -* ]]; then');
  out.push('      [[ " $_tgetty_a " == *" $w "* ]] && skip=1');
  out.push('    elif [[ -z $tty && " $_tgetty_c " == *" $w "* ]]; then');
  out.push('      path="$path/$w"');
  out.push('      _tgetty_spec "$path"');
  out.push('    elif [[ -z $path ]]; then');
  out.push('      tty=$w # mgetty mode: tgetty [options] ttyS3');
  out.push('    fi');
  out.push('  done');
  out.push('  if [[ " $_tgetty_a " == *" $prev "* ]]; then');
  out.push('    case $prev in');
  const dirFlags = new Set<string>();
  const fileFlags = new Set<string>();
  for (const n of nodes) {
    for (const o of n.spec.options) {
      if (o.arg !== undefined && DIR_ARGS.has(o.arg)) o.flags.forEach((f) => dirFlags.add(f));
      if (o.arg !== undefined && FILE_ARGS.has(o.arg)) o.flags.forEach((f) => fileFlags.add(f));
    }
  }
  if (dirFlags.size > 0) out.push(`      ${[...dirFlags].sort().join('|')}) COMPREPLY=($(compgen -d -- "$cur")) ;;`);
  if (fileFlags.size > 0) out.push(`      ${[...fileFlags].sort().join('|')}) COMPREPLY=($(compgen -f -- "$cur")) ;;`);
  out.push('      *) COMPREPLY=() ;;');
  out.push('    esac');
  out.push('    return 0');
  out.push('  fi');
  out.push('  if [[ $cur == -* ]]; then');
  out.push('    COMPREPLY=($(compgen -W "$_tgetty_o" -- "$cur"))');
  out.push('  elif [[ -z $path && -z $tty ]]; then');
  out.push('    # A subcommand, or a line for mgetty mode (ttyS0, ttyUSB0, ...; not the consoles tty0...).');
  out.push("    local lines; lines=$(compgen -G '/dev/tty[A-Z]*'); lines=${lines//\\/dev\\//}");
  out.push('    COMPREPLY=($(compgen -W "$_tgetty_c $lines" -- "$cur"))');
  out.push('  elif [[ -z $tty ]]; then');
  out.push('    COMPREPLY=($(compgen -W "$_tgetty_c" -- "$cur"))');
  out.push('  else');
  out.push('    COMPREPLY=() # after the line only options follow');
  out.push('  fi');
  out.push('  return 0');
  out.push('}');
  out.push('complete -F _tgetty tgetty');
  out.push('');
  return out.join('\n');
}

/** Text inside a single-quoted zsh word. */
function sq(s: string): string {
  return s.replaceAll("'", "'\\''");
}

/** An option description inside _arguments' brackets. */
function zdesc(s: string): string {
  return sq(s.replaceAll('\\', '\\\\').replaceAll('[', '\\[').replaceAll(']', '\\]').replaceAll(':', '\\:'));
}

function zshOption(o: OptSpec): string {
  let action = '';
  if (o.arg !== undefined) {
    const what = DIR_ARGS.has(o.arg) ? '_files -/' : FILE_ARGS.has(o.arg) ? '_files' : ' ';
    action = `:${o.arg}:${what}`;
  }
  if (o.flags.length === 1) return `'${o.flags[0]}[${zdesc(o.description)}]${sq(action)}'`;
  return `'(${o.flags.join(' ')})'{${o.flags.join(',')}}'[${zdesc(o.description)}]${sq(action)}'`;
}

function zfn(path: string): string {
  return `_tgetty${path.replaceAll('/', '__').replaceAll('-', '_')}`;
}

export function renderZshCompletion(root: CmdSpec): string {
  const out: string[] = [];
  out.push('#compdef tgetty');
  out.push('# zsh completion for tgetty(8).');
  out.push(GENERATED('renderZshCompletion').trimEnd());
  out.push('# Install as /usr/local/share/zsh/site-functions/_tgetty (or another directory of $fpath).');
  for (const n of walk(root).reverse()) {
    const s = n.spec;
    out.push('');
    out.push(`${zfn(n.path)}() {`);
    const opts = s.options.map((o) => `    ${zshOption(o)} \\`);
    if (s.subcommands.length === 0 && !s.tty) {
      out.push('  _arguments -S \\');
      out.push(...opts);
      out.push("    '*: :'");
      out.push('}');
      continue;
    }
    out.push('  local curcontext=$curcontext state state_descr line ret=1');
    out.push('  typeset -A opt_args');
    out.push('  _arguments -C -S \\');
    out.push(...opts);
    out.push("    '1: :->cmd' \\");
    out.push("    '*:: :->args' && ret=0");
    out.push('  case $state in');
    out.push('    cmd)');
    out.push('      local -a cmds');
    out.push(`      cmds=(${s.subcommands.map((c) => `'${sq(c.name.replaceAll(':', '\\:'))}:${sq(c.description)}'`).join(' ')})`);
    if (s.tty) {
      out.push("      _alternative 'commands:command:_describe -t commands command cmds' \\");
      out.push("        'lines:line:_path_files -W /dev -g \"tty[A-Z]*\"' && ret=0");
    } else {
      out.push('      _describe -t commands command cmds && ret=0');
    }
    out.push('      ;;');
    out.push('    args)');
    out.push('      case $words[1] in');
    for (const c of s.subcommands) out.push(`        ${c.name}) ${zfn(`${n.path}/${c.name}`)} && ret=0 ;;`);
    out.push('      esac');
    out.push('      ;;');
    out.push('  esac');
    out.push('  return ret');
    out.push('}');
  }
  out.push('');
  out.push('_tgetty "$@"');
  out.push('');
  return out.join('\n');
}
