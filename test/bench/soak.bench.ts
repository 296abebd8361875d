// Soak (a measurement, not a test): `tgetty serve` in a child process on 16 simulated
// lines (the modem bank runs in THIS process), 1,000 calls with random faults from a
// seeded PRNG, at most one call per line at a time, every line busy. Before and after, the
// daemon's open fds, its children and zombies, the lock files, the utmp records still
// LOGIN/USER, and its RSS and PSS are measured; the table shows the budgets of the issue
// "Hardening" (0 leaks; RSS growth <= 5 MB) with PASS/OVER. It never fails on a budget.
//
// Run: npm run bench -- soak
//   node dist/test/bench/soak.bench.js [--calls 1000] [--lines 16] [--seed 1] [--settle 40]
//     [--checkpoints 300,1000] [--no-probe] [--heap-snapshots DIR] [--sim-stall MS] [--smaps DIR]
//     [--no-unit-env] [--daemon-env 'K=V "K2=V W"'] [--daemon-node-flags '--flag --flag2']
//
// The daemon's environment: by default the bench applies the `Environment=` lines of
//   contrib/systemd/tgetty.service (the shipped unit) to the daemon's env, so "as shipped"
//   means the V8 and glibc settings the unit gives the daemon (NODE_OPTIONS,
//   MALLOC_ARENA_MAX). The rest of the env is the bench's own (systemd would start from a
//   clean one; none of the rest sizes memory). --no-unit-env: raw node/glibc defaults.
//   --daemon-env: more assignments, systemd syntax (space-separated, a quoted assignment
//   may hold spaces), applied after the unit's, so they override it (`K=` sets K empty, as
//   in systemd: `NODE_OPTIONS=` turns the unit's node options off).
//   --daemon-node-flags: node options put on the daemon's command line (before the script).
//   The env applied is printed in the result's first line.
// --checkpoints: also stop at these call counts (every line idle), settle and measure:
//   the memory curve, to tell growth per call from a plateau.
// By default test/helpers/mem-probe is preloaded into the daemon (node --expose-gc): at
//   each measurement it runs a full GC and reports V8 heap, malloc totals and handles, so
//   RSS growth splits into JS heap / native (malloc, SQLite) / code, and the RSS budget is
//   judged on memory the daemon retains, not on garbage V8 has not collected yet (V8 keeps
//   garbage and committed pages by its own heuristics; see docs/benchmarks.md, soak).
//   --no-probe: measure the daemon exactly as shipped (no preload, no forced GC); the
//   budget then uses the lowest RSS of the settle window. TGETTY_MEMPROBE_GC=0 keeps the
//   probe but without the GC (to watch V8's own heap sizing).
// --smaps DIR: save the daemon's /proc/PID/smaps at each point as smaps-<calls>.txt.
// --heap-snapshots DIR: with the probe, also write a heap snapshot at each measurement.
// --sim-stall MS: block this process (the simulated modems) for MS ms every second: a
//   loaded modem side, which takes our bytes late (timing-sensitive paths: the +++ escape).
//
// The memory baseline is taken after a warm-up (the first 5% of the calls, at least 32):
// V8 compiles and sizes its heap during the first calls, which is not growth per call.
// The growth from the cold start is printed too.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { createBank, type SimBank, type SimLine } from '../../src/sim/index.js';
import type { ModemFaults } from '../../src/sim/modem.js';
import { queryDaemon } from '../../src/daemon/status-server.js';
import type { HeapTrimStats, LineStatus } from '../../src/daemon/events.js';
import { childrenOf, liveUtmp, lockFiles, lockTemplates, openFds } from '../helpers/leaks.js';
import { mem, rssBreakdown, type RssBreakdown } from '../helpers/proc-stats.js';
import { systemTreeAt } from '../helpers/temp-system.js';
import type { ProbeSample } from '../helpers/mem-probe.js';
import { parseEnvAssignments, shippedUnitEnvironment } from '../helpers/unit-env.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');
const PROBE = resolve(import.meta.dirname, '../helpers/mem-probe.js');

function numArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

function strArg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const CALLS = Math.floor(numArg('calls', 1000));
const LINES = Math.floor(numArg('lines', 16));
const SEED = Math.floor(numArg('seed', 1));
/**
 * Longer than the daemon's heap-trim interval (30 s, src/daemon/heap-trim.ts): the full GC
 * and malloc_trim that follow the last calls fall inside the window, as they would on a
 * line that has gone quiet, whatever the phase of the trim when the calls stopped.
 */
const SETTLE_S = numArg('settle', 40);
const WARMUP = Math.min(CALLS, Math.max(32, Math.ceil(CALLS * 0.05)));
const BUDGET = { rssGrowthKb: 5 * 1024 };
const SNAPSHOT_DIR = strArg('heap-snapshots');
/** The probe is on unless --no-probe: the budget is judged on what the daemon RETAINS (after a full GC). */
const HEAP_STATS = !process.argv.includes('--no-probe') || SNAPSHOT_DIR !== undefined;
const SIM_STALL_MS = numArg('sim-stall', 0);
/** --smaps DIR: copy the daemon's /proc/PID/smaps at each point (read from outside: no probe needed). */
const SMAPS_DIR = strArg('smaps');

const UNIT_ENV_OFF = process.argv.includes('--no-unit-env');
const UNIT_ENV = UNIT_ENV_OFF ? [] : shippedUnitEnvironment();
const EXTRA_ENV = parseEnvAssignments(strArg('daemon-env') ?? '');
/** The env the daemon gets on top of the bench's: the unit's (unless --no-unit-env), then --daemon-env. */
const DAEMON_ENV: [string, string][] = [...UNIT_ENV, ...EXTRA_ENV];
const DAEMON_NODE_FLAGS = (strArg('daemon-node-flags') ?? '').split(/\s+/).filter((f) => f !== '');

const CHECKPOINTS = (strArg('checkpoints') ?? '')
  .split(',')
  .map((x) => Math.floor(Number(x)))
  .filter((x) => Number.isFinite(x) && x > WARMUP && x < CALLS)
  .sort((a, b) => a - b);

const t0 = performance.now();
function progress(msg: string): void {
  // Progress on stderr, so stdout stays the markdown tables.
  process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(5)} s] ${msg}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** mulberry32: a small seeded PRNG, so a run can be repeated exactly (--seed). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------- the calls

type Kind = 'login' | 'no-carrier' | 'busy' | 'hangup-prompt' | 'hangup-session' | 'garbage' | 'garbage-burst' | 'split' | 'stray-crlf';
/** Relative weights: mostly calls that reach the prompt; the idle garbage burst costs a 10 s RING time-out. */
const KINDS: [Kind, number][] = [
  ['login', 4],
  ['no-carrier', 2],
  ['busy', 2],
  ['hangup-prompt', 2],
  ['hangup-session', 2],
  ['garbage', 2],
  ['garbage-burst', 1],
  ['split', 2],
  ['stray-crlf', 2],
];

function pick(rand: () => number): Kind {
  const total = KINDS.reduce((s, [, w]) => s + w, 0);
  let x = rand() * total;
  for (const [k, w] of KINDS) {
    x -= w;
    if (x < 0) return k;
  }
  return 'login';
}

const FAULTS: Partial<Record<Kind, ModemFaults>> = {
  garbage: { garbageBeforeResults: 24 },
  split: { splitResults: true, splitDelayMs: 2 },
  'stray-crlf': { strayCrLf: true },
};

interface Tally {
  ok: number;
  failed: number;
  errors: string[];
}

const tally = new Map<Kind, Tally>(KINDS.map(([k]) => [k, { ok: 0, failed: 0, errors: [] }]));
/** The end of the line's log when a call failed (first few), printed on stderr after the tables. */
const failureLogs: string[] = [];

/** One call of `kind` on `line`. Throws if the call did not go as that kind should. */
async function oneCall(line: SimLine, n: number, kind: Kind): Promise<void> {
  line.setFaults(FAULTS[kind] ?? {});
  if (kind === 'garbage-burst') {
    // Junk with no RING in it while idle: the line wakes, gives up after the RING time-out.
    line.modem.injectGarbage(200);
    return;
  }
  const outcome = kind === 'no-carrier' ? 'no-carrier' : kind === 'busy' ? 'busy' : 'connect';
  const call = line.call({ cidFormat: 'none', outcome, answerDelayMs: 200 });
  try {
    if (outcome !== 'connect') {
      const why = await Promise.race([call.ended, sleep(20_000).then(() => 'timeout')]);
      if (why !== outcome) throw new Error(`expected ${outcome}, call ended: ${why}`);
      return;
    }
    await call.waitFor(/login:/, 20_000);
    if (kind === 'hangup-prompt') {
      call.hangup();
      return;
    }
    if (kind === 'hangup-session') {
      call.write('sleeper\r');
      await call.waitFor(/SLEEPING/, 10_000);
      call.hangup();
      return;
    }
    call.write(`u${n}\r`);
    await call.waitFor(new RegExp(`REC login u${n} on ${line.name}`), 10_000);
    const why = await Promise.race([call.ended, sleep(20_000).then(() => 'timeout')]);
    if (why === 'timeout') throw new Error('the getty did not hang up after the program exited');
  } finally {
    call.hangup();
  }
}

// ---------------------------------------------------------------- the daemon

interface Serve {
  proc: ChildProcess;
  paths: { etc: string; lock: string; log: string; run: string; utmp: string; wtmp: string; records: string };
  /** The probe's output (one JSON line per sample), when the probe is loaded. */
  probeOut?: string;
  output(): string;
}

const REC = '#!/bin/sh\necho "REC $* on $DEVICE"\nexit 0\n';
const SLEEPER = '#!/bin/sh\necho "SLEEPING $$"\nexec sleep 60\n';

function startServe(root: string, lines: string[]): Serve {
  const tree = systemTreeAt(root);
  const p = { ...tree, records: join(root, 'calls.sqlite') };
  writeFileSync(join(p.etc, 'mgetty.config'), 'toggle-dtr no\nfido-send-emsi no\nlogin-prompt login:\nissue-file Line \\P\nhangup-grace 2\n');
  writeFileSync(join(p.etc, 'rec.sh'), REC);
  chmodSync(join(p.etc, 'rec.sh'), 0o755);
  writeFileSync(join(p.etc, 'sleeper.sh'), SLEEPER);
  chmodSync(join(p.etc, 'sleeper.sh'), 0o755);
  // Root-owned 0600, as mgetty (and tgetty, drop-in) require.
  writeFileSync(join(p.etc, 'login.config'), `sleeper - - ${p.etc}/sleeper.sh\n* - - ${p.etc}/rec.sh login @\n`);
  chmodSync(join(p.etc, 'login.config'), 0o600);
  // $TGETTY_MEMPROBE_OUT keeps the raw samples after the run (the temp tree is removed).
  const probeOut = HEAP_STATS ? (process.env.TGETTY_MEMPROBE_OUT ?? join(root, 'memprobe.jsonl')) : undefined;
  const nodeFlags = probeOut !== undefined ? ['--expose-gc', '--import', PROBE] : [];
  const args = [
    ...nodeFlags, ...DAEMON_NODE_FLAGS, BIN, 'serve', '--lines', lines.join(','), '--records', p.records, ...tree.args,
  ];
  const env = { ...process.env };
  for (const [k, v] of DAEMON_ENV) env[k] = v;
  if (probeOut !== undefined) {
    env.TGETTY_MEMPROBE_OUT = probeOut;
    if (SNAPSHOT_DIR !== undefined) {
      mkdirSync(SNAPSHOT_DIR, { recursive: true });
      env.TGETTY_MEMPROBE_SNAPSHOTS = resolve(SNAPSHOT_DIR);
    }
  }
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  const keep = (b: Buffer): void => {
    if (out.length < 64 * 1024) out += b.toString();
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return { proc, paths: p, ...(probeOut !== undefined ? { probeOut } : {}), output: () => out };
}

/** How the daemon hung the modems up, counted from the line logs (messages of src/session/hangup.ts). */
function hangupCounts(s: Serve, lines: string[]): Record<string, number> {
  const c: Record<string, number> = { 'ATH0 confirmed': 0, 'on the second escape': 0, 'ATH0 not confirmed': 0 };
  for (const l of lines) {
    let text = '';
    try {
      text = readFileSync(join(s.paths.log, `${l}.log`), 'utf8');
    } catch {
      continue;
    }
    for (const m of text.matchAll(/hung up with ATH0( \(escape try \d+\))?|did not confirm ATH0: the re-initialisation/g)) {
      if (m[0].startsWith('did not')) c['ATH0 not confirmed']++;
      else if (m[1] !== undefined) c['on the second escape']++;
      else c['ATH0 confirmed']++;
    }
  }
  return c;
}

function logTail(s: Serve, line: string, n: number): string {
  try {
    return readFileSync(join(s.paths.log, `${line}.log`), 'utf8').split('\n').slice(-n - 1).join('\n');
  } catch (err) {
    return `(no log: ${err instanceof Error ? err.message : String(err)})`;
  }
}

async function stopChild(proc: ChildProcess, graceMs = 10_000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

/** The daemon's line states, polled from its status socket (one poller for all workers). */
class StatusPoller {
  lines = new Map<string, LineStatus>();
  /** Lines seen resting (out of service after repeated failures) at any time. */
  readonly rested = new Set<string>();
  /** The daemon's heap-trim figures, as of the last poll. */
  heapTrim: HeapTrimStats | undefined;
  private stopped = false;
  private readonly done: Promise<void>;

  constructor(private readonly s: Serve) {
    this.done = this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      if (this.s.proc.exitCode !== null) throw new Error(`tgetty serve exited (${this.s.proc.exitCode}): ${this.s.output()}`);
      try {
        const r = await queryDaemon(this.s.paths.run, { cmd: 'status' }, 5000);
        if (r.ok && 'status' in r) {
          this.lines = new Map(r.status.lines.map((l) => [l.line, l]));
          if (r.status.heapTrim !== undefined) this.heapTrim = r.status.heapTrim;
          for (const l of r.status.lines) if (l.state === 'resting') this.rested.add(l.line);
        }
      } catch {
        // Not up yet, or busy: try again.
      }
      await sleep(100);
    }
  }

  /** Idle, and idle since after `after` (ms since the epoch): the state is not from before the call. */
  async idle(line: string, after: number, ms: number): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      const l = this.lines.get(line);
      if (l !== undefined && l.state === 'idle' && l.since > after) return;
      if (Date.now() > end) throw new Error(`${line} not idle after ${ms} ms (is ${l?.state ?? '?'})`);
      await sleep(50);
    }
  }

  allIdle(): boolean {
    return this.lines.size > 0 && [...this.lines.values()].every((l) => l.state === 'idle');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.done.catch(() => undefined);
  }
}

// ---------------------------------------------------------------- measurements

interface Measure {
  fds: number;
  children: number;
  zombies: number;
  locks: number;
  utmp: number;
  rssKb: number;
  pssKb: number;
}

function measure(pid: number, s: Serve): Measure {
  const kids = childrenOf(pid);
  const m = mem(pid);
  return {
    fds: openFds(pid).count,
    children: kids.filter((k) => k.state !== 'Z').length,
    zombies: kids.filter((k) => k.state === 'Z').length,
    locks: lockFiles(s.paths.lock).length,
    utmp: liveUtmp(s.paths.utmp).length,
    rssKb: m.rss,
    pssKb: m.pss,
  };
}

/**
 * Wait until every line is idle, then measure over the settle window. RSS moves by
 * several MB with the garbage collector's timing (the daemon cannot be told to collect),
 * so memory is the LOWEST sample of the window (sampled every 250 ms): what the process
 * holds once V8's memory reducer has run, comparable run to run.
 */
async function settledMeasure(poller: StatusPoller, pid: number, s: Serve, what: string): Promise<Measure> {
  // Longer than a rest (300 s): a line that rested still comes back before we measure.
  const end = Date.now() + 400_000;
  while (!poller.allIdle()) {
    if (Date.now() > end) {
      progress(`not every line idle for ${what}: measuring anyway`);
      break;
    }
    await sleep(200);
  }
  let low = measure(pid, s);
  const stop = Date.now() + SETTLE_S * 1000;
  while (Date.now() < stop) {
    await sleep(250);
    const m = mem(pid);
    low = { ...low, rssKb: Math.min(low.rssKb, m.rss), pssKb: Math.min(low.pssKb, m.pss) };
  }
  // Leak counts are read at the end of the window, when everything has settled.
  const last = measure(pid, s);
  return { ...last, rssKb: low.rssKb, pssKb: low.pssKb };
}

/** One point of the memory curve: after `calls` calls, every line idle, settled. */
interface Point {
  calls: number;
  m: Measure;
  /** Where the RSS is, sampled at the end of the settle window (before the probe's GC). */
  where: RssBreakdown;
  probe?: ProbeSample;
}

/** Ask the preloaded probe for one sample (SIGUSR2) and wait for its line. */
async function probeSample(s: Serve, pid: number): Promise<ProbeSample | undefined> {
  const file = s.probeOut;
  if (file === undefined) return undefined;
  const count = (): string[] => {
    try {
      return readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');
    } catch {
      return [];
    }
  };
  const have = count().length;
  process.kill(pid, 'SIGUSR2');
  // A heap snapshot of a 20 MB heap takes a few seconds on this machine.
  const end = Date.now() + 120_000;
  for (;;) {
    const lines = count();
    if (lines.length > have) return JSON.parse(lines[lines.length - 1]) as ProbeSample;
    if (Date.now() > end) throw new Error('the memory probe did not answer');
    await sleep(100);
  }
}

async function point(calls: number, m: Measure, s: Serve, pid: number): Promise<Point> {
  const where = rssBreakdown(pid);
  if (SMAPS_DIR !== undefined) {
    mkdirSync(SMAPS_DIR, { recursive: true });
    writeFileSync(join(SMAPS_DIR, `smaps-${calls}.txt`), readFileSync(`/proc/${pid}/smaps`));
  }
  const probe = await probeSample(s, pid);
  return { calls, m, where, ...(probe !== undefined ? { probe } : {}) };
}

/** What the daemon's env was given, for the result's header (the unit's part named apart). */
function daemonEnvText(): string {
  const fromUnit = UNIT_ENV_OFF ? 'unit env off' : `unit ${UNIT_ENV.map(([k, v]) => `${k}=${v}`).join(' ') || '(none)'}`;
  const extra = EXTRA_ENV.map(([k, v]) => `${k}=${v}`).join(' ');
  const inherited = ['NODE_OPTIONS', 'MALLOC_ARENA_MAX'].filter((k) => process.env[k] !== undefined && !DAEMON_ENV.some(([d]) => d === k));
  return `${fromUnit}${extra !== '' ? `, --daemon-env ${extra}` : ''}${inherited.length > 0 ? `, inherited ${inherited.map((k) => `${k}=${process.env[k] ?? ''}`).join(' ')}` : ''}`;
}

const MB = (bytes: number): string => (bytes / 1048576).toFixed(1);
const MBk = (kb: number): string => (kb / 1024).toFixed(1);

function printCurve(points: Point[]): void {
  console.log('\nMemory curve (MB; RSS/PSS = lowest sample of the settle window; brk/anon/file = RSS by mapping kind at its end):\n');
  const probe = points.some((p) => p.probe !== undefined);
  const head = ['calls', 'RSS', 'PSS', 'brk (malloc main arena)', 'anon', 'file'];
  if (probe) head.push('heap used after GC', 'heap total', 'external', 'malloc in use', 'malloc free', 'mmapped', 'RSS after GC', 'after malloc_trim', 'handles');
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const p of points) {
    const row = [String(p.calls), MBk(p.m.rssKb), MBk(p.m.pssKb), MBk(p.where.brk), `${MBk(p.where.anon)} (${p.where.anonMappings} maps)`, MBk(p.where.file)];
    if (p.probe !== undefined) {
      const a = p.probe.after;
      const handles = Object.entries(p.probe.handles).map(([k, v]) => `${k} ${v}`).join(', ');
      const ma = p.probe.malloc;
      row.push(MB(a.heapUsed), MB(a.heapTotal), MB(a.external), ma !== undefined ? MB(ma.inUse) : '?', ma !== undefined ? MB(ma.free) : '?', ma !== undefined ? MB(ma.mmapped) : '?', MBk(p.probe.rssKb), p.probe.trimmed !== undefined ? MBk(p.probe.trimmed.rssKb) : '', handles);
    } else if (probe) {
      row.push('', '', '', '', '', '', '', '', '');
    }
    console.log(`| ${row.join(' | ')} |`);
  }
  const snaps = points.map((p) => p.probe?.snapshot).filter((x): x is string => x !== undefined);
  if (snaps.length > 0) console.log(`\nHeap snapshots: ${snaps.join(', ')}`);
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-soak-'));
  let bank: SimBank | undefined;
  let serve: Serve | undefined;
  let poller: StatusPoller | undefined;
  let stall: ReturnType<typeof setInterval> | undefined;
  const stopOnSignal = (): void => {
    // Ctrl-C: stop our child by its pid; the finally block cleans the rest.
    serve?.proc.kill('SIGTERM');
  };
  process.on('SIGINT', stopOnSignal);
  try {
    bank = await createBank({ lines: LINES, dir: join(root, 'sim') });
    serve = startServe(join(root, 'tgetty'), bank.lines.map((l) => l.path));
    const pid = serve.proc.pid;
    if (pid === undefined) throw new Error('tgetty serve did not start');
    poller = new StatusPoller(serve);
    const pol = poller;
    progress(`tgetty serve pid ${pid} on ${LINES} lines; waiting for every line to be idle`);
    const cold = await settledMeasure(pol, pid, serve, 'the start');
    const curve: Point[] = [await point(0, cold, serve, pid)];

    if (SIM_STALL_MS > 0) {
      stall = setInterval(() => {
        const end = performance.now() + SIM_STALL_MS;
        while (performance.now() < end) {
          // Busy on purpose: the modems' timers and pty reads wait behind this.
        }
      }, 1000);
    }
    const rand = prng(SEED);
    const plan = Array.from({ length: CALLS }, () => pick(rand));
    let next = 0;
    let done = 0;
    const b = bank;
    const s = serve;
    /** Calls plan[next..limit) on every line at once, one call per line at a time. */
    const runUntil = (limit: number): Promise<void[]> =>
      Promise.all(b.lines.map(async (line) => {
        for (;;) {
          const n = next++;
          if (n >= limit) {
            next = limit;
            return;
          }
          const kind = plan[n] ?? 'login';
          const t = tally.get(kind) as Tally;
          const startedAt = Date.now();
          try {
            await oneCall(line, n, kind);
            await pol.idle(line.name, startedAt, 60_000);
            t.ok++;
          } catch (err) {
            t.failed++;
            const what = `${line.name} call ${n}: ${err instanceof Error ? err.message : String(err)}`;
            if (t.errors.length < 3) t.errors.push(what);
            if (failureLogs.length < 6) failureLogs.push(`---- ${what}\n${logTail(s, line.name, 40)}`);
            // Whatever happened, wait for the line to come back before its next call.
            await pol.idle(line.name, startedAt, 120_000).catch(() => undefined);
          }
          done++;
          if (done % 100 === 0) progress(`${done}/${CALLS} calls`);
        }
      }));
    await runUntil(WARMUP);
    progress(`warm-up (${WARMUP} calls) done; settling for the baseline`);
    const base = await settledMeasure(pol, pid, serve, 'the baseline');
    curve.push(await point(WARMUP, base, serve, pid));
    for (const c of CHECKPOINTS) {
      await runUntil(c);
      progress(`checkpoint: ${c} calls made; settling`);
      curve.push(await point(c, await settledMeasure(pol, pid, serve, `checkpoint ${c}`), serve, pid));
    }
    await runUntil(CALLS);
    progress(`all ${CALLS} calls made; settling`);
    const after = await settledMeasure(pol, pid, serve, 'the end');
    curve.push(await point(CALLS, after, serve, pid));
    const elapsedS = (performance.now() - t0) / 1000;
    clearInterval(stall);

    const hangups = hangupCounts(serve, b.lines.map((l) => l.name));
    let records = 'n/a';
    const rested = [...pol.rested];
    await pol.stop();
    poller = undefined;
    await stopChild(serve.proc);
    const locksAfterStop = lockFiles(serve.paths.lock).length + lockTemplates(serve.paths.lock).length;
    try {
      const db = new Database(serve.paths.records, { readonly: true });
      const row = db.prepare('SELECT count(*) AS n, sum(ended_at IS NULL) AS open FROM calls').get() as { n: number; open: number | null };
      db.close();
      records = `${row.n} rows, ${row.open ?? 0} without an end`;
    } catch (err) {
      records = `cannot read: ${err instanceof Error ? err.message : String(err)}`;
    }

    const verdict = (ok: boolean): string => (ok ? 'PASS' : 'OVER');
    console.log(`Soak: ${CALLS} calls over ${LINES} lines, seed ${SEED}, ${elapsedS.toFixed(0)} s, node ${process.version}${SIM_STALL_MS > 0 ? `, modem side stalled ${SIM_STALL_MS} ms every second` : ''}`);
    console.log(`Daemon: ${HEAP_STATS ? 'with the memory probe' : 'no probe (as shipped)'}; env ${daemonEnvText()}${DAEMON_NODE_FLAGS.length > 0 ? `; node flags ${DAEMON_NODE_FLAGS.join(' ')}` : ''}\n`);
    console.log('| measure | cold start | after warm-up | after the soak | growth | budget | verdict |');
    console.log('|---|---|---|---|---|---|---|');
    const row = (name: string, key: keyof Measure, budget: string, ok: boolean | undefined, unit = ''): void => {
      console.log(`| ${name} | ${cold[key]}${unit} | ${base[key]}${unit} | ${after[key]}${unit} | ${after[key] - base[key]}${unit} | ${budget} | ${ok === undefined ? '' : verdict(ok)} |`);
    };
    row('daemon open fds', 'fds', '0 leaked', after.fds <= base.fds);
    row('children (sessions) left', 'children', '0', after.children === 0);
    row('zombies', 'zombies', '0', after.zombies === 0);
    row('lock files', 'locks', '0', after.locks === 0);
    row('utmp LOGIN/USER records', 'utmp', '0', after.utmp === 0);
    const c0 = curve[0];
    const c1 = curve[1];
    const cN = curve[curve.length - 1];
    const probed = c0?.probe !== undefined && c1?.probe !== undefined && cN?.probe !== undefined;
    const gcd = probed && c0.probe?.gc === true;
    const budget = '<= 5120 kB growth';
    const kbRow = (name: string, f: (p: Point) => number, judged: boolean): void => {
      if (c0 === undefined || c1 === undefined || cN === undefined) return;
      const grow = f(cN) - f(c1);
      const v = judged ? verdict(grow <= BUDGET.rssGrowthKb) : '';
      console.log(`| ${name} | ${f(c0)} | ${f(c1)} | ${f(cN)} | ${grow} | ${judged ? budget : '(reported)'} | ${v} |`);
    };
    const kb = (bytes: number): number => Math.round(bytes / 1024);
    if (probed) {
      kbRow(gcd ? 'RSS after a full GC (kB)' : 'RSS at the probe, no GC (kB)', (p) => p.probe?.rssKb ?? 0, gcd);
      kbRow(gcd ? 'JS heap used after GC (kB)' : 'JS heap used (kB)', (p) => kb(p.probe?.after.heapUsed ?? 0), false);
      kbRow('JS heap committed (kB)', (p) => kb(p.probe?.after.heapTotal ?? 0), false);
      kbRow('malloc in use (kB)', (p) => kb(p.probe?.malloc?.inUse ?? 0), false);
      kbRow('malloc free, held by glibc (kB)', (p) => kb(p.probe?.malloc?.free ?? 0), false);
    }
    row('RSS, lowest in the settle window (kB)', 'rssKb', gcd ? '(reported)' : budget, gcd ? undefined : after.rssKb - base.rssKb <= BUDGET.rssGrowthKb);
    row('PSS, lowest in the settle window (kB)', 'pssKb', '(reported)', undefined);
    console.log(`| lock files after SIGTERM | | | ${locksAfterStop} | | 0 | ${verdict(locksAfterStop === 0)} |`);
    console.log(`| lines that rested (out of service) | | | ${rested.length} | | 0 | ${verdict(rested.length === 0)} |`);
    console.log(`\nRSS growth from the cold start: ${after.rssKb - cold.rssKb} kB. Call records: ${records}.`);
    console.log(`Hang-ups by escape (from the line logs): ${Object.entries(hangups).map(([k, v]) => `${k} ${v}`).join(', ')}.`);
    const ht = pol.heapTrim;
    console.log(ht === undefined
      ? 'Heap trims: not reported by the daemon.\n'
      : `Heap trims (full GC + malloc_trim): ${ht.trims}, ${ht.deferred} deferred for a ringing line; last ${ht.lastMs.toFixed(1)} ms, longest ${ht.maxMs.toFixed(1)} ms, mean ${(ht.trims > 0 ? ht.totalMs / ht.trims : 0).toFixed(1)} ms; of that the V8 collection: longest ${ht.collectMaxMs.toFixed(1)} ms, mean ${(ht.trims > 0 ? ht.collectTotalMs / ht.trims : 0).toFixed(1)} ms.\n`);
    console.log('| kind | calls | as expected | failed | first failures |');
    console.log('|---|---|---|---|---|');
    for (const [k] of KINDS) {
      const t = tally.get(k) as Tally;
      console.log(`| ${k} | ${t.ok + t.failed} | ${t.ok} | ${t.failed} | ${t.errors.join('; ').replaceAll('|', '/')} |`);
    }
    printCurve(curve);
    if (failureLogs.length > 0) process.stderr.write(`\nThe daemon's log of the line when a call failed:\n${failureLogs.join('\n')}\n`);
  } finally {
    clearInterval(stall);
    process.off('SIGINT', stopOnSignal);
    await poller?.stop();
    if (serve !== undefined) await stopChild(serve.proc);
    await bank?.close();
    rmSync(root, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(`soak: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
