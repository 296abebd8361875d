// Benchmark (not a test): does the records backend, or the web page open in a browser,
// cost answer latency? Three `tgetty serve` daemons, 64 simulated lines each, run side by
// side on one machine:
//   sqlite    --records FILE (the embedded default)
//   pg        --records postgresql://... (a throwaway cluster on this machine, fsync on)
//   pg+page   the same, plus --http with headless Chromium showing the page (SSE)
// Each round rings the 64 lines of ONE daemon at once (as daemon.bench.ts part 2) and
// measures RING -> ATA from the simulator's transcripts; the daemons take turns round by
// round (the order rotates), so all three see the same machine. The others are idle
// meanwhile (an idle daemon uses no CPU). For the PostgreSQL daemons it also measures the
// lag from each call's end to the COMMIT of its row (pg_xact_commit_timestamp, so the
// poll of the bench is not counted). `--rows N` then sends N more short answered calls
// (CONNECT, the login prompt, the caller hangs up) through both PostgreSQL daemons, 128 at a
// time, and measures the lag of each under that sustained load.
// Run: npm run bench -- records-ring
//   node --expose-gc dist/test/bench/records-ring.bench.js [--rounds 8] [--warmup 10] [--rows 0]
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBank, type SimBank, type SimLine } from '../../src/sim/index.js';
import { queryDaemon } from '../../src/daemon/status-server.js';
import type { DaemonStatus } from '../../src/daemon/events.js';
import { startChild, type Child } from '../helpers/child.js';
import { pgUnavailable, startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';
import { chromiumUnavailable, launchChromium, type Browser, type Page } from '../helpers/cdp.js';
import { cpuNs } from '../helpers/proc-stats.js';
import { shippedUnitEnvironment } from '../helpers/unit-env.js';
import { fineClock, quantile } from '../helpers/bench.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');
const LINES = 64;

function numArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v >= 0 ? v : dflt;
}
const rounds = Math.floor(numArg('rounds', 8));
const warmup = Math.floor(numArg('warmup', 10));
const extraRows = Math.floor(numArg('rows', 0));

const t0 = performance.now();
const progress = (msg: string): void => void process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitUntil(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!(await cond())) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(100);
  }
}


type VariantName = 'sqlite' | 'pg' | 'pg+page';

interface Daemon {
  name: VariantName;
  /** Host name in the records (the pg rows are told apart by it). */
  host: string;
  child: Child;
  run: string;
  lines: SimLine[];
  url?: string;
  /** PostgreSQL: the highest row id already measured. */
  seenId: number;
}

const tmpfsDirs: string[] = [];
function lockDir(root: string): string {
  if (!existsSync('/dev/shm')) return join(root, 'lock');
  const d = mkdtempSync('/dev/shm/tgetty-bench-lock-');
  tmpfsDirs.push(d);
  return d;
}

function startDaemon(root: string, name: VariantName, lines: SimLine[], pgUrl: string): Daemon {
  const d = { etc: join(root, 'etc'), lock: lockDir(root), log: join(root, 'log'), run: join(root, 'run') };
  for (const x of Object.values(d)) mkdirSync(x, { recursive: true });
  writeFileSync(join(root, 'utmp'), '');
  writeFileSync(join(root, 'wtmp'), '');
  // dtr-by-close: a virtual line hangs up by closing, so a line is ready again at once after a call.
  writeFileSync(join(d.etc, 'mgetty.config'), 'toggle-dtr no\ndtr-by-close yes\n');
  writeFileSync(join(d.etc, 'login.config'), '* - - /bin/login @\n');
  chmodSync(join(d.etc, 'login.config'), 0o600);
  const host = name.replace('+', '-');
  const records = name === 'sqlite' ? ['--records', join(root, 'calls.sqlite')] : ['--records', pgUrl, '--records-spool', join(root, 'spool.sqlite')];
  const page = name === 'pg+page' ? ['--http', '127.0.0.1:0'] : [];
  const args = [
    BIN, 'serve', '--lines', lines.map((l) => l.path).join(','), '--host-name', host, ...records, ...page,
    '--config-dir', d.etc, '--lock-dir', d.lock, '--log-dir', d.log, '--run-dir', d.run, '--utmp', join(root, 'utmp'), '--wtmp', join(root, 'wtmp'),
  ];
  const child = startChild(process.execPath, args, { env: { ...process.env, ...Object.fromEntries(shippedUnitEnvironment()) }, maxOutput: 64 * 1024 });
  return { name, host, child, run: d.run, lines, seenId: 0 };
}

async function status(d: Daemon): Promise<DaemonStatus | undefined> {
  if (d.child.proc.exitCode !== null) throw new Error(`${d.name} exited: ${d.child.output()}`);
  try {
    const r = await queryDaemon(d.run, { cmd: 'status' }, 5000);
    return r.ok && 'status' in r ? r.status : undefined;
  } catch {
    return undefined;
  }
}
const allIdle = async (d: Daemon): Promise<boolean> => (await status(d))?.lines.every((l) => l.state === 'idle') === true;

function ringToAta(line: SimLine, from: number): number | undefined {
  let ringAt: number | undefined;
  let fromDte = '';
  const entries = line.transcript.entries;
  for (let i = from; i < entries.length; i++) {
    const e = entries[i];
    if (e === undefined) continue;
    const text = e.bytes.toString('latin1');
    if (e.dir === '>' && ringAt === undefined && /(^|\n)RING/.test(text)) ringAt = e.t;
    if (e.dir === '<' && ringAt !== undefined) {
      fromDte += text;
      if (fromDte.includes('ATA\r')) return e.t - ringAt;
    }
  }
  return undefined;
}

interface Round {
  values: number[];
  failed: number;
  /** The daemon's CPU from the rings to the last ATA: all threads, and the main thread. */
  cpuMs?: { total: number; main: number };
}

/** Ring every line of `d` at once; NO CARRIER `answerDelayMs` after each ATA ends the call. */
async function ring(d: Daemon, answerDelayMs: number): Promise<Round> {
  const marks = d.lines.map((l) => l.transcript.entries.length);
  const answered = d.lines.map((l) => l.waitForDte(/ATA\r/, 20_000).then(() => true, () => false));
  (globalThis as { gc?: () => void }).gc?.();
  await sleep(50);
  const pid = d.child.proc.pid!;
  const c0 = cpuNs(pid);
  for (const l of d.lines) l.call({ cidFormat: 'none', outcome: 'no-carrier', answerDelayMs });
  const ok = await Promise.all(answered);
  const c1 = cpuNs(pid);
  const values: number[] = [];
  let failed = 0;
  d.lines.forEach((l, i) => {
    const v = ok[i] === true ? ringToAta(l, marks[i] ?? 0) : undefined;
    if (v === undefined) failed++;
    else values.push(v);
  });
  await waitUntil(() => d.lines.every((l) => l.modem.available), 20_000, `${d.name}: the calls to end`);
  return { values, failed, ...(c0 !== undefined && c1 !== undefined ? { cpuMs: { total: (c1.total - c0.total) / 1e6, main: (c1.main - c0.main) / 1e6 } } : {}) };
}

/** Short answered calls on every line of `d`: CONNECT, the login prompt, then the caller hangs up. */
async function shortCalls(d: Daemon): Promise<void> {
  await Promise.all(
    d.lines.map(async (l) => {
      const c = l.call({ cidFormat: 'none', answerDelayMs: 50 });
      await c.waitFor(/login:/, 20_000);
      c.hangup();
      await c.ended;
    }),
  );
}

/** The lag (ms) from each new finished call's end to the commit of its row; waits until `expect` new rows have their end. */
async function lags(cluster: PgCluster, d: Daemon, expect: number): Promise<number[]> {
  const done = (): number => Number(cluster.psql(`SELECT COUNT(*) FROM calls WHERE host = '${d.host}' AND id > ${d.seenId} AND outcome IS NOT NULL`).trim());
  await waitUntil(() => done() >= expect, 30_000, `${d.name}: ${expect} rows in PostgreSQL`);
  const out = cluster
    .psql(`SELECT id, extract(epoch FROM pg_xact_commit_timestamp(xmin)) * 1000 - ended_at FROM calls WHERE host = '${d.host}' AND id > ${d.seenId} AND outcome IS NOT NULL ORDER BY id`)
    .trim()
    .split('\n')
    .map((r) => r.split('|').map(Number));
  d.seenId = Math.max(d.seenId, ...out.map((r) => r[0]));
  return out.map((r) => r[1]);
}

const ms = (v: number, digits = 2): string => (Number.isFinite(v) ? `${v.toFixed(digits)} ms` : 'n/a');
const median = (xs: number[]): number => quantile([...xs].sort((a, b) => a - b), 0.5);

// ---------------------------------------------------------------- main

const why = process.getuid?.() !== 0 ? 'needs root (login.config owned by root)' : (pgUnavailable() ?? chromiumUnavailable());
if (why !== undefined) {
  console.log(`records-ring bench: ${why}; nothing measured`);
  process.exit(0);
}
const work = mkdtempSync(join(tmpdir(), 'tgetty-records-ring-'));
let cluster: PgCluster | undefined;
let bank: SimBank | undefined;
let browser: Browser | undefined;
const daemons: Daemon[] = [];
const load0 = loadavg();
// Ctrl-C or SIGTERM: stop only what this bench started (the finally block below).
let stopping: (() => void) | undefined;
const stopped = new Promise<void>((r) => (stopping = r));
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => stopping?.());
try {
  await Promise.race([bench(), stopped.then(() => progress('stopped by a signal'))]);
} finally {
  await browser?.close();
  for (const d of daemons) await d.child.stop({ graceMs: 5000 });
  await bank?.close();
  await cluster?.destroy();
  rmSync(work, { recursive: true, force: true });
  for (const d of tmpfsDirs) rmSync(d, { recursive: true, force: true });
}
process.exit(0);

async function bench(): Promise<void> {
  cluster = await startPgCluster({ settings: { track_commit_timestamp: 'on', fsync: 'on' } });
  bank = await createBank({ lines: 3 * LINES, dir: join(work, 'sim'), clock: fineClock, stampFirst: true });
  const names: VariantName[] = ['sqlite', 'pg', 'pg+page'];
  names.forEach((n, i) => daemons.push(startDaemon(join(work, n.replace('+', '-')), n, bank!.lines.slice(i * LINES, (i + 1) * LINES), cluster!.url())));
  for (const d of daemons) await waitUntil(() => allIdle(d), 120_000, `${d.name}: ${LINES} lines idle`);
  for (const d of daemons.filter((x) => x.name !== 'sqlite')) await waitUntil(async () => (await status(d))?.records?.connected === true, 30_000, `${d.name} connected`);
  const pageDaemon = daemons.find((d) => d.name === 'pg+page')!;
  await waitUntil(() => /web status page on http:\/\/127\.0\.0\.1:\d+\//.test(pageDaemon.child.output()), 15_000, 'the page');
  const url = /web status page on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(pageDaemon.child.output())![1];
  browser = await launchChromium();
  const page: Page = await browser.newPage({ width: 1280, height: 1000 });
  await page.navigate(url);
  await waitUntil(async () => (await page.evaluate<number>(`document.querySelectorAll('section[data-host="pg-page"] tr[data-line]').length`)) >= LINES, 15_000, 'the page shows the lines');
  const updates0 = await page.evaluate<number>('window.tgettyUpdates');
  progress(`3 daemons x ${LINES} lines idle; the page open in Chromium (${url}); ${warmup} warm-up and ${rounds} measured rounds each`);

  const results = new Map<VariantName, Round[]>(names.map((n) => [n, []]));
  const lagMs = new Map<VariantName, number[]>(names.map((n) => [n, []]));
  for (let r = 0; r < warmup + rounds; r++) {
    // Rotate the order so no daemon always goes first after the pause.
    for (let k = 0; k < daemons.length; k++) {
      const d = daemons[(r + k) % daemons.length];
      await waitUntil(() => allIdle(d), 60_000, `${d.name} idle`);
      await sleep(r < warmup ? 300 : 1500);
      const res = await ring(d, 2000);
      if (d.name !== 'sqlite') {
        const l = await lags(cluster, d, LINES);
        if (r >= warmup) lagMs.get(d.name)!.push(...l);
      }
      if (r >= warmup) results.get(d.name)!.push(res);
      const p99 = quantile([...res.values].sort((a, b) => a - b), 0.99);
      progress(`${r < warmup ? 'warm-up' : 'round'} ${r < warmup ? r + 1 : r - warmup + 1}: ${d.name}: ${res.values.length} answered${res.failed > 0 ? `, ${res.failed} FAILED` : ''}, p99 ${ms(p99)}${res.cpuMs !== undefined ? `, CPU ${ms(res.cpuMs.total, 1)} (main ${ms(res.cpuMs.main, 1)})` : ''}`);
    }
  }
  const updates1 = await page.evaluate<number>('window.tgettyUpdates');

  console.log(`\n### RING → ATA, ${LINES} simultaneous calls, ${rounds} rounds per daemon (taking turns), after ${warmup} warm-up rounds\n`);
  console.log('| daemon | calls | failed | p50 | p99 over all calls | p99 per round: median (min–max) | main-thread CPU per burst: median | all threads: median |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const n of names) {
    const rs = results.get(n)!;
    const all = rs.flatMap((x) => x.values).sort((a, b) => a - b);
    const per = rs.map((x) => quantile([...x.values].sort((a, b) => a - b), 0.99));
    const main = rs.filter((x) => x.cpuMs !== undefined).map((x) => x.cpuMs!.main);
    const total = rs.filter((x) => x.cpuMs !== undefined).map((x) => x.cpuMs!.total);
    console.log(`| ${n} | ${all.length} | ${rs.reduce((a, x) => a + x.failed, 0)} | ${ms(quantile(all, 0.5))} | **${ms(quantile(all, 0.99))}** | ${ms(median(per))} (${ms(Math.min(...per))}–${ms(Math.max(...per))}) | ${ms(median(main), 1)} | ${ms(median(total), 1)} |`);
  }
  console.log(`\nThe page: ${updates1 - updates0} SSE updates during the rounds, ${page.errors.length} JavaScript errors${page.errors.length > 0 ? `: ${page.errors.slice(0, 3).join('; ')}` : ''}.`);

  const lagRows: [string, number[]][] = [];
  for (const n of names.filter((x) => x !== 'sqlite')) lagRows.push([`${n}, the measured rounds`, lagMs.get(n)!]);
  if (extraRows > 0) {
    // Both PostgreSQL daemons at once: 128 calls per burst into the one database.
    const pgs = daemons.filter((x) => x.name !== 'sqlite');
    const l: number[] = [];
    const w0 = performance.now();
    progress(`${extraRows} more calls through ${pgs.map((d) => d.name).join(' and ')} (${pgs.length * LINES} at a time), each CONNECT, the login prompt, the caller hangs up`);
    for (let sent = 0, burst = 0; sent < extraRows; sent += pgs.length * LINES, burst++) {
      const b0 = performance.now();
      for (const d of pgs) await waitUntil(() => allIdle(d), 60_000, `${d.name} idle`);
      const b1 = performance.now();
      await Promise.all(pgs.map((d) => shortCalls(d)));
      const b2 = performance.now();
      for (const d of pgs) l.push(...(await lags(cluster, d, LINES)));
      if (burst % 10 === 0) progress(`${sent + pgs.length * LINES} of ${extraRows} (this burst: ${((b1 - b0) / 1000).toFixed(1)} s until idle, ${((b2 - b1) / 1000).toFixed(1)} s ringing, ${((performance.now() - b2) / 1000).toFixed(1)} s until the rows were in)`);
    }
    lagRows.push([`pg and pg+page together, ${l.length} calls in ${((performance.now() - w0) / 1000).toFixed(0)} s (${pgs.length * LINES} at a time, back to back)`, l]);
  }
  console.log(`\n### Call end → row committed in PostgreSQL (pg_xact_commit_timestamp − ended_at)\n`);
  console.log('| daemon | rows | p50 | p99 | max | budget |');
  console.log('|---|---|---|---|---|---|');
  for (const [label, xs] of lagRows) {
    const s = [...xs].sort((a, b) => a - b);
    console.log(`| ${label} | ${s.length} | ${ms(quantile(s, 0.5), 0)} | ${ms(quantile(s, 0.99), 0)} | ${ms(s.at(-1) ?? NaN, 0)} | ${quantile(s, 0.99) < 1000 ? 'PASS' : 'OVER'} (p99 < 1 s) |`);
  }
  console.log(`\nRows in PostgreSQL: ${cluster.psql('SELECT COUNT(*) FROM calls').trim()}. Load average at start ${load0.map((x) => x.toFixed(2)).join(' ')}, at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}; total ${((performance.now() - t0) / 1000).toFixed(0)} s.`);
}
