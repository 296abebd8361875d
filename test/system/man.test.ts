/**
 * System test: the man pages in man/ render without a single groff warning, the package
 * installs each of them ("man" in package.json), and the hand-written pages describe
 * every subcommand and option the CLI has (src/cli/main.ts), so they cannot fall behind.
 * tgetty.config.5 is generated; its drift test is src/config/docs.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { commandTree } from '../../src/cli/main.js';
import { specFromCommand, type CmdSpec } from '../../src/cli/completion.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const pages = readdirSync(`${root}man`).filter((f) => /\.[1-8]$/.test(f)).sort();
const has = (prog: string): boolean => spawnSync('sh', ['-c', `command -v ${prog}`]).status === 0;
const page = (name: string): string => readFileSync(`${root}man/${name}`, 'utf8');
/** How an option name is written in roff (dashes escaped). */
const roff = (s: string): string => s.replaceAll('-', '\\-');

test('the three pages exist and package.json installs every one', () => {
  assert.deepEqual(pages, ['tgetty-sim.1', 'tgetty.8', 'tgetty.config.5']);
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { man?: string[] };
  assert.deepEqual([...(pkg.man ?? [])].sort(), pages.map((p) => `man/${p}`));
});

for (const name of pages) {
  test(`groff -man -ww renders man/${name} without warnings`, { skip: has('groff') ? false : 'groff is not installed (apt-get install groff-base)' }, () => {
    const r = spawnSync('groff', ['-man', '-ww', '-z', `${root}man/${name}`], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0);
    assert.equal(r.stderr, '');
  });
  test(`man -l --warnings shows man/${name} without warnings`, { skip: has('man') ? false : 'man is not installed (apt-get install man-db)' }, () => {
    const r = spawnSync('man', ['-l', '--warnings', `${root}man/${name}`], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', MANPAGER: 'cat', PAGER: 'cat', MANWIDTH: '80', LANG: 'C.UTF-8' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^NAME\n/m);
  });
}

const spec = specFromCommand(commandTree());
const sub = (s: CmdSpec, n: string): CmdSpec => {
  const c = s.subcommands.find((x) => x.name === n);
  assert.ok(c, n);
  return c;
};

test('tgetty.8 describes every subcommand and every option of main.ts', () => {
  const text = page('tgetty.8');
  const check = (s: CmdSpec, where: string): void => {
    for (const o of s.options) for (const f of o.flags) assert.ok(text.includes(roff(f)), `${where}: ${f}`);
  };
  check(spec, 'tgetty');
  for (const c of spec.subcommands) {
    assert.match(text, new RegExp(`^\\.(B|BR) ${c.name}( |$)`, 'm'), `subcommand ${c.name}`);
    if (c.name !== 'sim') check(c, c.name); // sim's options: tgetty-sim(1)
    for (const cc of c.subcommands) {
      assert.ok(text.includes(`${c.name} ${cc.name}`) || text.includes(`${c.name} " " ${cc.name}`), `${c.name} ${cc.name}`);
      check(cc, `${c.name} ${cc.name}`);
    }
  }
});

test('tgetty-sim.1 describes every option of tgetty sim', () => {
  const text = page('tgetty-sim.1');
  for (const o of sub(spec, 'sim').options) {
    for (const f of o.flags) assert.ok(text.split('\n').some((l) => /^\.(B|BI|BR) /.test(l) && l.split(/[ "]+/).includes(roff(f))), f);
  }
});
