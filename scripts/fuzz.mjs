#!/usr/bin/env node
// Long fuzz run of every parser: runs each compiled *.fuzz.test.js with FUZZ_RUNS generated
// inputs per main property (default 10^6), one file per process, --jobs files at a time, and
// prints the time per file. Build first (npm run build). See docs/fuzzing.md.
//
//   node scripts/fuzz.mjs [--runs N] [--jobs J] [--grep SUBSTRING] [--bytes N] [--seed S]
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';

const args = process.argv.slice(2);
function opt(name, fallback) {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const v = args[i + 1];
  if (v === undefined) usage(`${name} needs a value`);
  return v;
}
function usage(msg) {
  console.error(`fuzz: ${msg}\nusage: node scripts/fuzz.mjs [--runs N] [--jobs J] [--grep SUBSTRING] [--bytes N] [--seed S]`);
  process.exit(2);
}
function positive(name, v) {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 1) usage(`${name} must be a positive integer, got '${v}'`);
  return n;
}
if (args.includes('--help') || args.includes('-h')) usage('long fuzz run of the parsers');

const runs = positive('--runs', opt('--runs', '1000000'));
const jobs = positive('--jobs', opt('--jobs', String(Math.max(1, cpus().length))));
const grep = opt('--grep', undefined);
const bytes = opt('--bytes', undefined);
const seed = opt('--seed', undefined);

function walk(dir, out) {
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else if (name.endsWith('.fuzz.test.js')) out.push(p);
  }
  return out;
}

let files = walk('dist/src', []).sort();
if (grep !== undefined) files = files.filter((f) => f.includes(grep));
if (files.length === 0) {
  console.error('fuzz: no *.fuzz.test.js under dist/src (did the build run?)');
  process.exit(1);
}

const env = { ...process.env, FUZZ_RUNS: String(runs) };
if (bytes !== undefined) env.FUZZ_BYTES = String(positive('--bytes', bytes));
if (seed !== undefined) env.FUZZ_SEED = seed;

console.log(`fuzz: ${files.length} files, FUZZ_RUNS=${runs}, ${jobs} at a time`);
const t0 = performance.now();
const results = [];
const children = new Set();

function runOne(file) {
  return new Promise((resolve) => {
    const start = performance.now();
    // --expose-gc makes the bounded-memory checks measure the heap after a real collection.
    const child = spawn(process.execPath, ['--expose-gc', '--test', '--test-reporter=tap', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code, signal) => {
      children.delete(child);
      const secs = (performance.now() - start) / 1000;
      const pass = Number(/^# pass (\d+)/m.exec(out)?.[1] ?? 0);
      const fail = Number(/^# fail (\d+)/m.exec(out)?.[1] ?? 0);
      const ok = code === 0 && fail === 0;
      const r = { file, secs, pass, fail, ok, out, code, signal };
      results.push(r);
      console.log(`${ok ? 'ok  ' : 'FAIL'} ${secs.toFixed(1).padStart(7)} s  ${pass} passed, ${fail} failed  ${file}`);
      if (!ok) console.log(out.split('\n').filter((l) => !/^\s+at /.test(l)).join('\n'));
      resolve(r);
    });
  });
}

// Ctrl-C ends the children this script started (and only those).
process.on('SIGINT', () => {
  for (const c of children) c.kill('SIGTERM');
  process.exit(130);
});

const queue = [...files];
await Promise.all(
  Array.from({ length: Math.min(jobs, queue.length) }, async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) await runOne(f);
  }),
);

const wall = (performance.now() - t0) / 1000;
const failed = results.filter((r) => !r.ok);
console.log(`\nfuzz: ${results.length - failed.length}/${results.length} files passed in ${wall.toFixed(1)} s wall clock (FUZZ_RUNS=${runs})`);
for (const r of [...results].sort((a, b) => b.secs - a.secs)) console.log(`  ${r.secs.toFixed(1).padStart(7)} s  ${r.file}`);
process.exit(failed.length === 0 ? 0 : 1);
