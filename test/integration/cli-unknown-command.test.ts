// `tgetty statsu` (a typo) or a line whose device does not exist: a clear message before
// anything is created: no log file, no pid file, no lock. mgetty's `tgetty ttyS0` with a
// device that exists keeps working (see tgetty-answer.test.ts for whole calls).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createBank } from '../../src/sim/index.js';
import { editDistance, missingLine } from '../../src/cli/main.js';
import { startTgetty } from '../helpers/tgetty-run.js';
import { tempSystem } from '../helpers/temp-system.js';
import { waitFor } from '../helpers/leaks.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

test('a mistyped subcommand: "unknown command or no such line" with a did-you-mean, exit 2, nothing created', (t) => {
  const sys = tempSystem('tgetty-cli-unknown-');
  t.after(() => rmSync(sys.root, { recursive: true, force: true }));
  writeFileSync(join(sys.etc, 'mgetty.config'), 'toggle-dtr no\n');
  const before = files(sys.root);
  for (const [arg, want, code] of [
    ['statsu', /^tgetty: unknown command or no such line 'statsu' \(did you mean 'tgetty status'\?\)\n$/, 2],
    ['relaod', /^tgetty: unknown command or no such line 'relaod' \(did you mean 'tgetty reload'\?\)\n$/, 2],
    ['ttyQ77', /^tgetty: unknown command or no such line 'ttyQ77': no such device \/dev\/ttyQ77 \(tgetty --help lists the commands\)\n$/, 30],
    ['/dev/ttyQ77', /no such device \/dev\/ttyQ77/, 30],
    [join(sys.root, 'gone'), /no such device .*\/gone/, 30],
  ] as const) {
    const r = spawnSync(process.execPath, [BIN, ...sys.args, arg], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, code, `${arg}: ${r.stderr}`);
    assert.match(r.stderr, want, arg);
    assert.equal(r.stdout, '', arg);
  }
  assert.deepEqual(files(sys.root), before, 'no log, pid or lock file');
});

test('an existing device is still a line: `tgetty <path>` answers as mgetty would', async (t) => {
  const bank = await createBank({ lines: 1, dir: tempSystem('tgetty-cli-line-').sim });
  const run = startTgetty({ tty: bank.line(0).path, config: 'toggle-dtr no\n' });
  t.after(async () => {
    await run.stop();
    await bank.close();
  });
  await waitFor(() => /waiting\.\.\./.test(run.logText('ttySIM0')) || run.proc.exitCode !== null, 20_000, 'the line to be initialised');
  assert.equal(run.proc.exitCode, null, run.stderr());
  assert.doesNotMatch(run.stderr(), /unknown command/);
});

test('did-you-mean: near subcommands only', () => {
  assert.equal(editDistance('statsu', 'status'), 1);
  assert.equal(editDistance('', 'abc'), 3);
  const cmds = ['config', 'sim', 'demo', 'serve', 'status', 'reload', 'calls', 'version', 'help'];
  const no = (): boolean => false;
  assert.match(missingLine('stauts', cmds, no)?.message ?? '', /did you mean 'tgetty status'/);
  assert.match(missingLine('serv', cmds, no)?.message ?? '', /did you mean 'tgetty serve'/);
  assert.match(missingLine('cal', cmds, no)?.message ?? '', /did you mean 'tgetty calls'/);
  assert.equal(missingLine('ttyS0', cmds, no)?.code, 30);
  assert.equal(missingLine('ttyS0', cmds, (p) => p === '/dev/ttyS0'), undefined);
  assert.equal(missingLine('/dev/ttyUSB0', cmds, (p) => p === '/dev/ttyUSB0'), undefined);
  assert.equal(missingLine('pts/3', cmds, (p) => p === '/dev/pts/3'), undefined);
  assert.match(missingLine('a\x1bb', cmds, no)?.message ?? '', /'a\\x1bb'/);
});
