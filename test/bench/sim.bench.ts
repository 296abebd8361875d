// Benchmark (not a test): 256 simulated lines in one process. Idle CPU must be ~0
// because nothing polls (every line waits in epoll); memory is reported as RSS and PSS.
// Run: npm run bench -- sim   (or node dist/test/bench/sim.bench.js [--seconds N] [--lines N])
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBank } from '../../src/sim/index.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

/** utime + stime of this process, in clock ticks (fields 14 and 15 of /proc/self/stat). */
function cpuTicks(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

function memKb(): { rss: number; pss: number } {
  const rollup = readFileSync('/proc/self/smaps_rollup', 'utf8');
  const field = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(rollup)?.[1] ?? NaN);
  return { rss: field('Rss'), pss: field('Pss') };
}

const gc = (globalThis as { gc?: () => void }).gc;
const lines = arg('lines', 256);
const seconds = arg('seconds', 10);
const dir = mkdtempSync(join(tmpdir(), 'tgetty-sim-bench-'));

gc?.();
const before = memKb();
const t0 = performance.now();
const bank = await createBank({ lines, dir });
const setupMs = performance.now() - t0;
try {
  await new Promise((r) => setTimeout(r, 500));
  gc?.();
  const after = memKb();
  const fds = readdirSync('/proc/self/fd').length;
  const c0 = cpuTicks();
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const idleTicks = cpuTicks() - c0;
  const wallS = (performance.now() - w0) / 1000;
  // CLK_TCK is 100 on Linux: one tick = 10 ms.
  const idleMs = idleTicks * 10;
  console.log(`| metric | value |`);
  console.log(`|---|---|`);
  console.log(`| lines | ${lines} |`);
  console.log(`| set-up time | ${setupMs.toFixed(0)} ms |`);
  console.log(`| open fds | ${fds} |`);
  console.log(`| RSS before / after | ${(before.rss / 1024).toFixed(1)} MB / ${(after.rss / 1024).toFixed(1)} MB |`);
  console.log(`| PSS before / after | ${(before.pss / 1024).toFixed(1)} MB / ${(after.pss / 1024).toFixed(1)} MB |`);
  console.log(`| memory per line (PSS) | ${(((after.pss - before.pss) * 1024) / lines / 1024).toFixed(1)} KB |`);
  console.log(`| idle CPU over ${wallS.toFixed(1)} s | ${idleTicks} ticks = ${idleMs} ms (${((idleMs / (wallS * 1000)) * 100).toFixed(2)} %) |`);
} finally {
  await bank.close();
  rmSync(dir, { recursive: true, force: true });
}
