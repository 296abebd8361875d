/**
 * System test: what `npm pack` ships. The tarball must hold what the README's install steps
 * use (contrib/, man pages, completions) and the runtime, and no tests. Every example in
 * the shipped files names the binary by one path, /usr/local/bin/tgetty.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const npm = spawnSync('sh', ['-c', 'command -v npm']).status === 0;

function packed(): string[] {
  // --ignore-scripts: no build inside the test (dist/ is already built, the test runs from it).
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { files: { path: string }[] }[];
  return (out[0]?.files ?? []).map((f) => f.path).sort();
}

test('npm pack ships contrib/, the man pages and the runtime, and no tests', { skip: npm ? false : 'npm is not installed' }, () => {
  const files = packed();
  for (const f of [
    'bin/tgetty.mjs',
    'dist/src/cli/main.js',
    'contrib/systemd/tgetty.service',
    'contrib/systemd/tgetty@.service',
    'contrib/udev/99-tgetty-modem.rules',
    'contrib/inittab.example',
    'contrib/logrotate/tgetty',
    'contrib/completion/tgetty.bash',
    'contrib/completion/_tgetty',
    'man/tgetty.8',
    'man/tgetty.config.5',
    'man/tgetty-sim.1',
    'docs/operations.md',
    'README.md',
    'LICENSE',
    'package.json',
  ]) {
    assert.ok(files.includes(f), `missing ${f}`);
  }
  assert.deepEqual(files.filter((f) => /\.test\./.test(f)), [], 'no test files');
  assert.deepEqual(files.filter((f) => f.startsWith('dist/test/') || f.startsWith('test/') || f.startsWith('src/') || f.startsWith('scripts/')), []);
  assert.deepEqual(files.filter((f) => /(^|\/)(chunks|diagram)\./.test(f)), [], 'no test helpers (memory-line ships: the simulator runs on it)');
  // Every file of contrib/ and man/ in the checkout is shipped.
  const walk = (d: string): string[] => readdirSync(join(root, d)).flatMap((n) => (statSync(join(root, d, n)).isDirectory() ? walk(`${d}/${n}`) : [`${d}/${n}`]));
  for (const f of [...walk('contrib'), ...walk('man')]) assert.ok(files.includes(f), `not shipped: ${f}`);
});

test('every relative import of a shipped module resolves to a shipped file', { skip: npm ? false : 'npm is not installed' }, () => {
  const files = new Set(packed());
  for (const f of files) {
    if (!f.endsWith('.js') && !f.endsWith('.mjs')) continue;
    const text = readFileSync(join(root, f), 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const target = normalize(join(dirname(f), m[1] ?? ''));
      assert.ok(files.has(target), `${f} imports ${m[1]}, which is not in the package`);
    }
  }
});

test('one path for the binary in every example: /usr/local/bin/tgetty', () => {
  const walk = (d: string): string[] => readdirSync(join(root, d)).flatMap((n) => (statSync(join(root, d, n)).isDirectory() ? walk(`${d}/${n}`) : [`${d}/${n}`]));
  const files = [...walk('contrib'), ...walk('docs'), ...walk('man'), 'README.md'];
  const bad: string[] = [];
  let uses = 0;
  for (const f of files) {
    readFileSync(join(root, f), 'utf8').split('\n').forEach((line, i) => {
      for (const m of line.matchAll(/(?:\/[\w.+-]+)*\/s?bin\/tgetty(?![\w.@-])/g)) {
        if (m[0] === '/usr/local/bin/tgetty') uses++;
        else bad.push(`${f}:${i + 1}: ${m[0]}`);
      }
    });
  }
  assert.deepEqual(bad, []);
  assert.ok(uses >= 4, 'the units, the inittab example and the docs name /usr/local/bin/tgetty');
});
