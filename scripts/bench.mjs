#!/usr/bin/env node
// `npm run bench [-- NAME ...]`: runs the compiled benchmarks (dist/test/bench/*.bench.js)
// one after the other, so they do not disturb each other's numbers. With names, only
// the benchmarks whose file name contains one of them run (e.g. `npm run bench -- sim`).
// Benchmarks print markdown tables; they are measurements, never pass/fail tests.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const dir = 'dist/test/bench';
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.bench.js')).sort() : [];
const chosen = wanted.length === 0 ? files : files.filter((f) => wanted.some((w) => f.includes(w)));
if (chosen.length === 0) {
  console.error(`bench: nothing to run (found: ${files.join(', ') || 'none'})`);
  process.exit(1);
}
let failed = 0;
for (const f of chosen) {
  console.log(`\n## ${f.replace(/\.bench\.js$/, '')}\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(dir, f), ...process.argv.slice(2)], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
