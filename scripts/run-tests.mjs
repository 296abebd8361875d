#!/usr/bin/env node
// Runs every compiled test file with node's built-in runner.
// Unit tests (next to the sources) and the test/ suites run as separate files, so
// node runs them in parallel (--test-concurrency); suites that need root, a Debian
// package or a real program skip themselves with a one-line reason.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { cpus } from 'node:os';

const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const grep = args.includes('--grep') ? args[args.indexOf('--grep') + 1] : undefined;

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

let files = [];
if (only !== 'system') files = files.concat(walk('dist/src', []));
if (only !== 'unit') files = files.concat(walk('dist/test', []));
if (grep) files = files.filter((f) => f.includes(grep));
files.sort();
if (files.length === 0) {
  console.error('run-tests: no test files found (did the build run?)');
  process.exit(1);
}
const concurrency = Math.max(2, cpus().length);
const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
