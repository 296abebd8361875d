/**
 * System test: the shipped shell completions work in a real bash (and parse in zsh when
 * it is installed). The scripts are generated (src/cli/completion.ts); this checks what
 * a user gets at the prompt.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('../../../contrib/completion/', import.meta.url));
const has = (prog: string): boolean => spawnSync('sh', ['-c', `command -v ${prog}`]).status === 0;

/** COMPREPLY for the words typed so far (the last one is being completed). */
function complete(...words: string[]): string[] {
  const script = [
    `source ${JSON.stringify(`${dir}tgetty.bash`)}`,
    'COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))',
    '_tgetty',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const r = spawnSync('bash', ['-c', script, 'bash', ...words], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split('\n').filter((l) => l !== '');
}

test('bash: subcommands, their options, option values and lines complete', { skip: has('bash') ? false : 'bash is not installed' }, () => {
  assert.deepEqual(complete('tgetty', 'se'), ['serve', 'sendfax']);
  assert.deepEqual(complete('tgetty', 'serve', '--metrics-'), ['--metrics-port', '--metrics-host', '--metrics-allow-remote']);
  assert.deepEqual(complete('tgetty', 'config', ''), ['check']);
  assert.deepEqual(complete('tgetty', 'config', 'check', '--po'), ['--port']);
  // An option's value is not taken as a subcommand.
  assert.deepEqual(complete('tgetty', '-x', '3', 'st'), ['status']);
  assert.deepEqual(complete('tgetty', 'serve', '--metrics-port', ''), []);
  // Paths: directories for --*-dir, files for --records.
  assert.ok(complete('tgetty', 'serve', '--config-dir', '/et').includes('/etc'));
  assert.ok(complete('tgetty', 'calls', '--records', '/etc/host').includes('/etc/hostname'));
  // mgetty mode: nothing but options after the line.
  assert.deepEqual(complete('tgetty', 'ttyS3', ''), []);
  assert.ok(complete('tgetty', 'ttyS3', '--lo').includes('--lock-dir'));
});

test('zsh: _tgetty parses', { skip: has('zsh') ? false : 'zsh is not installed' }, () => {
  const r = spawnSync('zsh', ['-n', `${dir}_tgetty`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  // Loaded through compinit as a user's shell would, the function is defined under its name.
  const load = spawnSync('zsh', ['-f', '-c', `fpath=(${JSON.stringify(dir)} $fpath); autoload -Uz compinit; compinit -u -D; autoload -Uz _tgetty; print -r -- \${_comps[tgetty]}`], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(load.status, 0, load.stderr);
  assert.equal(load.stdout.trim(), '_tgetty');
});
