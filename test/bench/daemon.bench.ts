// Benchmark (not a test): one `tgetty serve` daemon for many lines, side by side with N
// real mgetty processes (one per line, as inittab would run them), in one run.
//   1. Idle memory and CPU at 1, 64 and 256 lines. Memory is PSS: the daemon's, and the
//      SUM over the N mgetty processes (a sum of RSS would count the shared libc N times).
//      CPU is utime + stime over an idle window, as ticks per minute.
//   2. RING -> ATA with 64 simultaneous calls: all 64 lines ring at once; p50/p99 over
//      the calls, from the simulator's transcript (sub-millisecond timestamps).
// For part 1 the modems are a small Python OK-modem bank (test/bench/ok-modem.py) in its own
// process: it shares no pages with the daemon, where a Node simulator would share the node
// binary (PSS splits shared pages, so the daemon would look smaller than it is alone). The
// daemon's memory is also shown as "PSS alone": the node binary and native addons counted
// in full, as if it were the only Node process on the machine (this bench is Node too, and
// so is other work on a shared machine); the budgets are judged on that figure (issue 21).
// `--node-sim` uses `tgetty sim` as before. For part 2 the simulator runs in this process
// (its transcripts give the timestamps).
// mgetty runs inside ONE private mount namespace (`unshare -m`) with temp dirs over every
// place it writes, so it needs root; without root or mgetty only tgetty is measured.
// Run: npm run bench -- daemon
//   node dist/test/bench/daemon.bench.js [--sizes 1,64,256] [--seconds 60] [--settle 30]
//        [--calls 64] [--rounds 5] [--warmup 10] [--no-mgetty] [--no-idle] [--no-floor]
//        [--daemon-node-args "--cpu-prof --cpu-prof-dir=DIR"] [--daemon-out FILE] [--no-unit-env] [--node-sim] [--no-ring]
//        [--smaps DIR] [--after-calls S]
//   --no-idle skips part 1 (only RING -> ATA is measured), --no-ring skips part 2.
//   The daemon gets the Environment= lines of contrib/systemd/tgetty.service (as shipped:
//   its V8 and glibc memory settings); --no-unit-env runs it with node's defaults.
//   The getty CPU of a burst is exact (schedstat, all threads and the main thread), not ticks.
//   --warmup: tgetty answers this many rounds before the measured ones (a daemon in
//   service is warm); the first of them is reported as the cold start.
//   Each round also shows the harness's own share: how long this process took to ring
//   every line, and its longest event-loop stall until the last ATA (a stall delays the
//   stamps of every ATA read after it).
//   A bare answerer (ATA on RING, nothing else) gets a row of its own: the harness's own
//   latency, the floor under any getty's numbers (--no-floor skips it).
// It prints PASS/OVER against the budgets; it never fails on a budget.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createBank, type SimBank, type SimLine } from '../../src/sim/index.js';
import { queryDaemon } from '../../src/daemon/status-server.js';
import type { DaemonStatus, HeapTrimStats } from '../../src/daemon/events.js';
import { mgettyUnavailable, MGETTY, prepareMgettyNamespace } from '../helpers/mgetty-ns.js';
import { shippedUnitEnvironment } from '../helpers/unit-env.js';
import { alive, cpuNs, cpuTicks, cpuTicksSum, memSum, pssAlone, TICKS_PER_SECOND, type MemKb } from '../helpers/proc-stats.js';
import { fineClock, quantile } from '../helpers/bench.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');

function numArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

function listArg(name: string, dflt: number[]): number[] {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = (process.argv[i + 1] ?? '').split(',').map(Number).filter((x) => Number.isInteger(x) && x > 0);
  return v.length > 0 ? v : dflt;
}

const sizes = process.argv.includes('--no-idle') ? [] : listArg('sizes', [1, 64, 256]);
const idleSeconds = numArg('seconds', 60);
// After start-up V8 shrinks its heap with a few GCs once the process goes quiet (its
// memory reducer); with 256 lines they came 20-30 s after start, after 15 quiet s. A
// one-off, not an idle cost: the window starts once the gettys used no CPU for `--settle`
// seconds in a row (at most MAX_SETTLE_S); the time and ticks spent settling are printed.
const settleSeconds = numArg('settle', 30);
const MAX_SETTLE_S = 90;
const callCount = Math.floor(numArg('calls', 64));
const rounds = Math.floor(numArg('rounds', 5));
/** `--after-calls S`: after the rounds, PSS alone of the daemon S seconds after its lines are idle again (0: not measured). */
const afterCallsS = numArg('after-calls', 0);
/**
 * Rounds tgetty answers before the measured ones: a daemon in service has answered calls
 * before, and its JavaScript is compiled by then (the first rounds after a start run in
 * V8's interpreter and baseline tiers, several times slower). The first of them is shown
 * as the cold start, not judged.
 */
const warmup = Math.max(0, Math.floor(numArg('warmup', 10)));
const why = process.argv.includes('--no-mgetty') ? 'not wanted (--no-mgetty)' : mgettyUnavailable();
const withMgetty = why === undefined;

// Budgets from the issue "One daemon for many lines", RING -> ATA and PSS as issue 21 has them
// (PSS with tgetty the only Node process: the "PSS alone" column).
const BUDGET = { pss64Mb: 50, pss256Mb: 60, perLineKb: 50, idleTicksPerMin: 0, ringP50Ms: 5, ringP99Ms: 10 };

const t0 = performance.now();
function progress(msg: string): void {
  // Progress on stderr, so stdout stays the markdown tables.
  process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${msg}\n`);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitUntil(cond: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!(await cond())) {
    if (performance.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(200);
  }
}

/** The system clock with sub-millisecond `now()`, so transcript times resolve 1 µs. */

// ---------------------------------------------------------------- process bookkeeping

/** Every child this bench started and has not reaped yet: the finally block ends them. */
const children = new Set<ChildProcess>();

function track(proc: ChildProcess): ChildProcess {
  children.add(proc);
  proc.on('exit', () => children.delete(proc));
  return proc;
}

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((r) => proc.once('exit', () => r()));
}

/** SIGTERM, then SIGKILL after a grace: only this child, by its pid. */
async function stopChild(proc: ChildProcess, graceMs = 5000): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited(proc);
  clearTimeout(t);
}

// ---------------------------------------------------------------- the pieces

interface Sim {
  proc: ChildProcess;
  paths: string[];
}

/** `tgetty sim --lines n` in its own process; resolves when every line is published. */
async function startSim(n: number, dir: string): Promise<Sim> {
  const proc = track(spawn(process.execPath, [BIN, 'sim', '--lines', String(n), '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  proc.stdout?.on('data', (b: Buffer) => {
    // Keep only the start (the banner); call notes are not needed.
    if (out.length < 1 << 20) out += b.toString();
  });
  proc.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const last = `ttySIM${n - 1}  number`;
  await waitUntil(() => {
    if (proc.exitCode !== null) throw new Error(`tgetty sim exited: ${out}`);
    return out.includes(last);
  }, 30_000, `the sim's ${n} lines`);
  return { proc, paths: Array.from({ length: n }, (_, i) => join(dir, `ttySIM${i}`)) };
}

/** The Python OK-modem bank (test/bench/ok-modem.py, not compiled: read from the source tree). */
const OK_MODEM = resolve(import.meta.dirname, '../../../test/bench/ok-modem.py');
const nodeSim = process.argv.includes('--node-sim');

/** N OK-modems on ptys in a Python process; resolves when DIR/ttySIM0 ... are linked. */
async function startOkModem(n: number, dir: string): Promise<Sim> {
  const proc = track(spawn('python3', [OK_MODEM, dir, String(n)], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  proc.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  await waitUntil(() => {
    if (proc.exitCode !== null) throw new Error(`ok-modem.py exited: ${out}`);
    return out.includes(`ready ${n}`);
  }, 30_000, `the OK-modem's ${n} lines`);
  return { proc, paths: Array.from({ length: n }, (_, i) => join(dir, `ttySIM${i}`)) };
}

/** The modems of the idle part: Python OK-modems, or `tgetty sim` with --node-sim. */
function idleModems(n: number, dir: string): Promise<Sim> {
  return nodeSim ? startSim(n, dir) : startOkModem(n, dir);
}

interface Serve {
  proc: ChildProcess;
  runDir: string;
  output(): string;
}

/** Lock dirs made on tmpfs, removed at the end. */
const tmpfsDirs: string[] = [];

/**
 * The lock dir on tmpfs, as /run/lock (= /var/lock) is on a Debian system; creating a
 * lock costs about 3x more on this VM's ext4 /tmp. Undefined when /dev/shm is missing.
 */
function tmpfsLockDir(): string | undefined {
  if (!existsSync('/dev/shm')) return undefined;
  const d = mkdtempSync('/dev/shm/tgetty-bench-lock-');
  tmpfsDirs.push(d);
  return d;
}

/** Extra node flags for the daemon only, e.g. `--daemon-node-args "--cpu-prof --cpu-prof-dir=/tmp/p"` to profile it. */
const daemonNodeArgs = (() => {
  const i = process.argv.indexOf('--daemon-node-args');
  return i >= 0 ? (process.argv[i + 1] ?? '').split(' ').filter((a) => a !== '') : [];
})();

/** `--daemon-cpus 1`: run the daemon on these CPUs only (taskset), e.g. apart from this process (`taskset -c 0 node ...`). */
const daemonCpus = (() => {
  const i = process.argv.indexOf('--daemon-cpus');
  return i >= 0 ? process.argv[i + 1] : undefined;
})();

// The daemon runs "as shipped": with the Environment= lines of the shipped unit (its V8 and
// glibc memory settings), unless --no-unit-env.
const UNIT_ENV = process.argv.includes('--no-unit-env') ? [] : shippedUnitEnvironment();

/** `tgetty serve --lines ...` with every system path in `root`. */
function startServe(root: string, lines: string[]): Serve {
  const p = { etc: join(root, 'etc'), lock: tmpfsLockDir() ?? join(root, 'lock'), log: join(root, 'log'), run: join(root, 'run') };
  for (const d of Object.values(p)) mkdirSync(d, { recursive: true });
  writeFileSync(join(root, 'utmp'), '');
  writeFileSync(join(root, 'wtmp'), '');
  writeFileSync(join(p.etc, 'mgetty.config'), 'toggle-dtr no\n');
  // Root-owned 0600, as mgetty (and tgetty, drop-in) require; no call reaches a program here.
  writeFileSync(join(p.etc, 'login.config'), '* - - /bin/login @\n');
  chmodSync(join(p.etc, 'login.config'), 0o600);
  const args = [
    BIN, 'serve', '--lines', lines.join(','), '--no-records',
    '--config-dir', p.etc, '--lock-dir', p.lock, '--log-dir', p.log, '--run-dir', p.run,
    '--utmp', join(root, 'utmp'), '--wtmp', join(root, 'wtmp'),
  ];
  const env = { ...process.env, ...Object.fromEntries(UNIT_ENV) };
  const proc = track(
    daemonCpus === undefined
      ? spawn(process.execPath, [...daemonNodeArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env })
      : spawn('taskset', ['-c', daemonCpus, process.execPath, ...daemonNodeArgs, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env }),
  );
  let out = '';
  const keep = (b: Buffer): void => {
    if (out.length < 64 * 1024) out += b.toString();
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const i = process.argv.indexOf('--daemon-out');
  const file = i >= 0 ? process.argv[i + 1] : undefined;
  if (file !== undefined) {
    const sink = createWriteStream(file);
    proc.stdout?.pipe(sink);
    proc.stderr?.pipe(sink);
  }
  return { proc, runDir: p.run, output: () => out };
}

/** The daemon's status (as `status --json` shows it), or undefined while its socket is not up or busy. */
async function daemonStatus(s: Serve): Promise<DaemonStatus | undefined> {
  try {
    const r = await queryDaemon(s.runDir, { cmd: 'status' }, 5000);
    return r.ok && 'status' in r ? r.status : undefined;
  } catch {
    return undefined;
  }
}

/** The daemon's heap-trim figures, or undefined if it did not say. */
async function heapTrims(s: Serve): Promise<HeapTrimStats | undefined> {
  return (await daemonStatus(s))?.heapTrim;
}

/** Lines of the daemon in state `idle` (0 while its status socket is not up yet). */
async function idleLines(s: Serve): Promise<number> {
  if (s.proc.exitCode !== null) throw new Error(`tgetty serve exited (${s.proc.exitCode}): ${s.output()}`);
  return (await daemonStatus(s))?.lines.filter((l) => l.state === 'idle').length ?? 0;
}


/** Groups not stopped yet: a signal to the bench stops them (mgetty does not get our SIGINT). */
const groups = new Set<MgettyGroup>();

interface MgettyGroup {
  /** The namespace's shell (unshare execs bash): the parent of every mgetty. */
  shell: ChildProcess;
  pids: number[];
  root: string;
  /** How many of the N logs say `waiting...` (mgetty reached its idle wait). */
  waiting(): number;
  stop(): Promise<void>;
}

/**
 * N real mgettys (`mgetty -D ttySIMi`) in ONE private mount namespace: a shell sets up
 * the private /dev (the N lines as symlinks to the sim's), /etc/mgetty, /var/log/mgetty,
 * /run and wtmp on temp dirs, starts the N mgettys in the background, prints their pids
 * and waits. The same set-up as test/helpers/mgetty-ns.ts, for N lines at once.
 */
async function startMgettys(lines: string[]): Promise<MgettyGroup> {
  const { root, log, setup } = prepareMgettyNamespace({
    config: 'toggle-dtr n\n',
    loginConfig: '* - - /bin/login @\n',
    devices: lines.map((target, i) => [`ttySIM${i}`, target] as const),
  });
  const script = [
    ...setup,
    'set +e',
    // Closing the namespace's pipe to us must not matter to mgetty: its stdio is /dev/null.
    ...lines.map((_, i) => `${MGETTY} -D ttySIM${i} </dev/null >/dev/null 2>&1 &\necho "PID ${i} $!"`),
    'echo STARTED',
    'wait',
  ].join('\n');
  writeFileSync(join(root, 'start.sh'), script);
  const shell = track(spawn('unshare', ['-m', '--propagation', 'private', 'bash', join(root, 'start.sh')], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  shell.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  shell.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const pids: number[] = [];
  let stopped = false;
  const group: MgettyGroup = {
    shell,
    pids,
    root,
    waiting: () => {
      let n = 0;
      for (let i = 0; i < lines.length; i++) {
        const f = join(log, `mg_ttySIM${i}.log`);
        if (existsSync(f) && readFileSync(f, 'latin1').includes('waiting...')) n++;
      }
      return n;
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      // Only our mgettys: pids the namespace shell printed, still named mgetty.
      const ours = (): number[] => pids.filter((p) => alive(p) && readComm(p) === 'mgetty');
      for (const p of ours()) killQuietly(p, 'SIGTERM');
      try {
        await waitUntil(() => ours().length === 0, 5000, 'mgetty to exit');
      } catch {
        for (const p of ours()) killQuietly(p, 'SIGKILL');
      }
      await stopChild(shell, 3000);
      rmSync(root, { recursive: true, force: true });
      groups.delete(group);
    },
  };
  groups.add(group);
  try {
    await waitUntil(() => {
      if (shell.exitCode !== null) throw new Error(`mgetty namespace shell exited: ${out}`);
      return out.includes('STARTED');
    }, 30_000, 'the mgetty namespace');
    for (const m of out.matchAll(/^PID (\d+) (\d+)$/gm)) pids.push(Number(m[2]));
    if (pids.length !== lines.length) throw new Error(`expected ${lines.length} mgetty pids, got ${pids.length}`);
  } catch (err) {
    await group.stop();
    throw err;
  }
  return group;
}

function readComm(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function killQuietly(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

// ---------------------------------------------------------------- part 1: idle

interface IdleResult {
  n: number;
  procs: number;
  mem: MemKb;
  /** PSS as if the getty were the only Node process (proc-stats pssAlone), kB; tgetty only. */
  alone?: number;
  ticks: number;
  seconds: number;
  startS: number;
  /** CPU ticks from "all idle" to the start of the window. */
  settleTicks: number;
  /** Seconds from "all idle" to the start of the window. */
  settleS: number;
  /** False if the gettys never stayed quiet for `--settle` s within MAX_SETTLE_S. */
  settled: boolean;
}

const smapsDir = (() => {
  const i = process.argv.indexOf('--smaps');
  return i >= 0 ? process.argv[i + 1] : undefined;
})();

/** Let the gettys settle, then read their memory and their CPU over the idle window. */
async function measureIdle(pids: () => number[], n: number, startS: number, node = false): Promise<IdleResult> {
  const s0 = cpuTicksSum(pids());
  const st0 = performance.now();
  let last = s0;
  let quietSince = st0;
  let settled = false;
  for (;;) {
    await sleep(1000);
    const now = performance.now();
    const c = cpuTicksSum(pids());
    if (c !== last) {
      last = c;
      quietSince = now;
    }
    if (now - quietSince >= settleSeconds * 1000) {
      settled = true;
      break;
    }
    if (now - st0 >= MAX_SETTLE_S * 1000) break;
  }
  const settleS = (performance.now() - st0) / 1000;
  const c0 = cpuTicksSum(pids());
  const w0 = performance.now();
  await sleep(idleSeconds * 1000);
  const ticks = cpuTicksSum(pids()) - c0;
  const seconds = (performance.now() - w0) / 1000;
  // Memory at the end of the idle window: what the gettys keep while nothing happens.
  const alone = node ? pids().reduce((a, p) => a + pssAlone(p), 0) : undefined;
  // `--smaps DIR`: the daemon's smaps at that moment, to split "PSS alone" by mapping.
  if (node && smapsDir !== undefined) for (const p of pids()) writeFileSync(join(smapsDir, `smaps-${n}-${p}.txt`), readFileSync(`/proc/${p}/smaps`));
  return { n, procs: pids().length, mem: memSum(pids()), ...(alone !== undefined ? { alone } : {}), ticks, seconds, startS, settleTicks: c0 - s0, settleS, settled };
}

async function idleTgetty(n: number, root: string): Promise<IdleResult> {
  const sim = await idleModems(n, join(root, 'sim'));
  let serve: Serve | undefined;
  try {
    const s0 = performance.now();
    serve = startServe(join(root, 'tgetty'), sim.paths);
    const sv = serve;
    await waitUntil(async () => (await idleLines(sv)) === n, 120_000, `tgetty: ${n} lines idle`);
    const startS = (performance.now() - s0) / 1000;
    progress(`tgetty: ${n} line(s) idle after ${startS.toFixed(1)} s; settling, then measuring ${idleSeconds} s`);
    const pid = sv.proc.pid;
    if (pid === undefined) throw new Error('tgetty serve has no pid');
    const r = await measureIdle(() => [pid], n, startS, true);
    const still = await idleLines(sv);
    if (still !== n) progress(`tgetty: only ${still} of ${n} lines idle at the end of the window`);
    return r;
  } finally {
    if (serve !== undefined) await stopChild(serve.proc);
    await stopChild(sim.proc);
    rmSync(root, { recursive: true, force: true });
  }
}

async function idleMgetty(n: number, root: string): Promise<IdleResult> {
  const sim = await idleModems(n, join(root, 'sim'));
  let group: MgettyGroup | undefined;
  try {
    const s0 = performance.now();
    group = await startMgettys(sim.paths);
    const g = group;
    await waitUntil(() => g.waiting() === n, 180_000, `mgetty: ${n} processes waiting`);
    const startS = (performance.now() - s0) / 1000;
    progress(`mgetty: ${n} process(es) waiting after ${startS.toFixed(1)} s; settling, then measuring ${idleSeconds} s`);
    const r = await measureIdle(() => g.pids.filter(alive), n, startS);
    if (r.procs !== n) progress(`mgetty: only ${r.procs} of ${n} processes alive at the end of the window`);
    return r;
  } finally {
    await group?.stop();
    await stopChild(sim.proc);
    rmSync(root, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- part 2: RING -> ATA

/** RING -> ATA of one line's call, from the transcript entries after `from`. */
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

interface RoundResult {
  values: number[];
  failed: number;
  /** CPU ticks the getty process(es) used from the rings to the last ATA. */
  ticks: number;
  /** Getty processes that exited before the last ATA (their ticks are not in `ticks`). */
  gone: number;
  /** The same CPU time exactly, in ms (schedstat): all threads, and the main threads alone. Undefined without schedstat. */
  cpuMs?: { total: number; main: number };
  /** The harness's share: how long this process took to ring all lines (the simulator's call loop). */
  ringLoopMs: number;
  /** The longest event-loop stall of this process (the simulator, which stamps the bytes) from the rings to the last ATA. */
  simStallMs: number;
}

/** Ring `n` lines at once; the modem answers ATA with NO CARRIER, so each getty's call ends at once. */
async function ringAll(bank: SimBank, n: number, pids: number[]): Promise<RoundResult> {
  const lines = bank.lines.slice(0, n);
  const marks = lines.map((l) => l.transcript.entries.length);
  const answered = lines.map((l) => l.waitForDte(/ATA\r/, 20_000).then(() => true, () => false));
  // The simulator runs in this process: a GC here during the burst would delay reading the
  // ATAs and be counted against the getty. Collect before the rings (npm run bench passes --expose-gc).
  (globalThis as { gc?: () => void }).gc?.();
  await sleep(50);
  const c0 = new Map(pids.map((p) => [p, cpuTicks(p)]));
  const n0 = new Map(pids.map((p) => [p, cpuNs(p)]));
  // A stall of this process delays the stamps of every ATA read after it: shown per round,
  // so a round the harness spoiled can be told from one the getty was slow in.
  const stall = monitorEventLoopDelay({ resolution: 1 });
  stall.enable();
  const l0 = performance.now();
  // NO CARRIER comes 2 s after ATA, so every getty (mgetty exits then) is still alive when the last ATA is read.
  for (const l of lines) l.call({ cidFormat: 'none', outcome: 'no-carrier', answerDelayMs: 2000 });
  const ringLoopMs = performance.now() - l0;
  const ok = await Promise.all(answered);
  stall.disable();
  // The histogram is in ns and includes the 1 ms sampling interval itself.
  const simStallMs = Math.max(0, stall.max / 1e6 - 1);
  let ticks = 0;
  let gone = 0;
  let cpuMs: { total: number; main: number } | undefined = { total: 0, main: 0 };
  for (const [p, t] of c0) {
    if (!alive(p)) {
      gone++;
      continue;
    }
    ticks += cpuTicks(p) - t;
    const a = n0.get(p);
    const b = cpuNs(p);
    if (a === undefined || b === undefined || cpuMs === undefined) cpuMs = undefined;
    else {
      cpuMs.total += (b.total - a.total) / 1e6;
      cpuMs.main += (b.main - a.main) / 1e6;
    }
  }
  const values: number[] = [];
  let failed = 0;
  lines.forEach((l, i) => {
    const v = ok[i] === true ? ringToAta(l, marks[i] ?? 0) : undefined;
    if (v === undefined) failed++;
    else values.push(v);
  });
  return { values, failed, ticks, gone, ringLoopMs, simStallMs, ...(cpuMs !== undefined ? { cpuMs } : {}) };
}

/** Wait until no sim line has a call left (the modem is back to idle after NO CARRIER). */
async function callsOver(bank: SimBank, n: number): Promise<void> {
  await waitUntil(() => bank.lines.slice(0, n).every((l) => l.modem.available), 20_000, 'the calls to end');
}

async function ringTgetty(bank: SimBank, root: string): Promise<{ measured: RoundResult[]; warmup: RoundResult[] }> {
  const n = bank.lines.length;
  const serve = startServe(join(root, 'tgetty'), bank.lines.map((l) => l.path));
  try {
    const out: RoundResult[] = [];
    const cold: RoundResult[] = [];
    for (let r = 0; r < warmup + rounds; r++) {
      await waitUntil(async () => (await idleLines(serve)) === n, 120_000, `tgetty: ${n} lines idle`);
      await sleep(r < warmup ? 500 : 2000);
      const pid = serve.proc.pid;
      if (pid === undefined) throw new Error('tgetty serve has no pid');
      const trims0 = await heapTrims(serve);
      const res = await ringAll(bank, n, [pid]);
      const what = r < warmup ? `warm-up round ${r + 1}/${warmup}` : `round ${r - warmup + 1}/${rounds}`;
      const cpu = res.cpuMs !== undefined ? `, CPU ${msf(res.cpuMs.total)} (main ${msf(res.cpuMs.main)})` : '';
      (r < warmup ? cold : out).push(res);
      await callsOver(bank, n);
      // The heap trim's collection pauses the daemon: say whether one ran in this round
      // (from the rings to the end of the calls) and whether it had to wait for the ATAs.
      const trims1 = await heapTrims(serve);
      const trim = trims0 !== undefined && trims1 !== undefined
        ? `, heap trims +${trims1.trims - trims0.trims} (deferred +${trims1.deferred - trims0.deferred}, longest so far ${msf(trims1.maxMs)})`
        : '';
      progress(`tgetty: ${what}: ${res.values.length} answered, ${res.failed} failed, p99 ${msf(quantile([...res.values].sort((x, y) => x - y), 0.99))}${cpu}${trim}`);
    }
    if (afterCallsS > 0) {
      // `--after-calls S`: the daemon's idle memory after it has answered (TurboFan on, the
      // last heap trim done), beside the idle part's figure before any call.
      await waitUntil(async () => (await idleLines(serve)) === n, 120_000, `tgetty: ${n} lines idle`);
      await sleep(afterCallsS * 1000);
      const pid = serve.proc.pid;
      if (pid !== undefined) {
        const m = memSum([pid]);
        progress(`tgetty: idle ${afterCallsS} s after the last calls: PSS alone ${mb(pssAlone(pid))}, PSS ${mb(m.pss)}, RSS ${mb(m.rss)}`);
        if (smapsDir !== undefined) writeFileSync(join(smapsDir, `smaps-after-calls-${pid}.txt`), readFileSync(`/proc/${pid}/smaps`));
      }
    }
    return { measured: out, warmup: cold };
  } finally {
    await stopChild(serve.proc);
  }
}

/** The harness's own floor: a bare answerer (test/bench/bare-answerer.ts) that writes ATA on RING and nothing else. */
async function ringFloor(bank: SimBank): Promise<RoundResult[]> {
  const n = bank.lines.length;
  const proc = track(spawn(process.execPath, [resolve(import.meta.dirname, 'bare-answerer.js'), ...bank.lines.map((l) => l.path)], { stdio: ['ignore', 'pipe', 'inherit'] }));
  try {
    let ready = false;
    proc.stdout?.on('data', () => (ready = true));
    await waitUntil(() => ready, 10_000, 'the bare answerer');
    const out: RoundResult[] = [];
    for (let r = 0; r < rounds; r++) {
      await sleep(2000);
      const pid = proc.pid;
      if (pid === undefined) throw new Error('the bare answerer has no pid');
      const res = await ringAll(bank, n, [pid]);
      progress(`floor: round ${r + 1}/${rounds}: ${res.values.length} answered, ${res.failed} failed`);
      out.push(res);
      await callsOver(bank, n);
    }
    return out;
  } finally {
    await stopChild(proc);
  }
}

/** mgetty answers one call per process, so every round starts N fresh mgettys (as init would respawn them). */
async function ringMgetty(bank: SimBank): Promise<RoundResult[]> {
  const n = bank.lines.length;
  const out: RoundResult[] = [];
  for (let r = 0; r < rounds; r++) {
    const group = await startMgettys(bank.lines.map((l) => l.path));
    try {
      await waitUntil(() => group.waiting() === n, 180_000, `mgetty: ${n} processes waiting`);
      await sleep(2000);
      const res = await ringAll(bank, n, group.pids);
      progress(`mgetty: round ${r + 1}/${rounds}: ${res.values.length} answered, ${res.failed} failed`);
      out.push(res);
      await callsOver(bank, n);
    } finally {
      await group.stop();
    }
  }
  return out;
}

// ---------------------------------------------------------------- report


const mb = (kb: number): string => `${(kb / 1024).toFixed(1)} MB`;
const msf = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)} ms` : 'n/a');
const verdict = (ok: boolean, budget: string): string => `${ok ? 'PASS' : 'OVER'} (${budget})`;
const perMin = (r: IdleResult): number => (r.ticks * 60) / r.seconds;

/** Judged on PSS alone (tgetty the only Node process); on PSS where that is not known. */
function pssBudget(r: IdleResult): string {
  const kb = r.alone ?? r.mem.pss;
  if (r.n === 64) return verdict(kb <= BUDGET.pss64Mb * 1024, `<= ${BUDGET.pss64Mb} MB`);
  if (r.n === 256) return verdict(kb <= BUDGET.pss256Mb * 1024, `<= ${BUDGET.pss256Mb} MB`);
  return '—';
}

function idleTable(label: string, rs: IdleResult[], budgets: boolean): void {
  console.log(`\n### Idle, ${label}\n`);
  console.log(`| lines | processes | start → all idle | PSS alone | PSS | USS (private) | RSS (sum) | PSS budget | settling | CPU idle | CPU budget |`);
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rs) {
    const cpu = `${r.ticks} ticks in ${r.seconds.toFixed(1)} s = ${perMin(r).toFixed(1)} ticks/min`;
    const cpuBudget = budgets ? verdict(perMin(r) <= BUDGET.idleTicksPerMin, `${BUDGET.idleTicksPerMin} ticks/min`) : '—';
    console.log(`| ${r.n} | ${r.procs} | ${r.startS.toFixed(1)} s | ${r.alone !== undefined ? mb(r.alone) : '—'} | ${mb(r.mem.pss)} | ${mb(r.mem.uss)} | ${mb(r.mem.rss)} | ${budgets ? pssBudget(r) : '—'} | ${r.settleTicks} ticks in ${r.settleS.toFixed(0)} s${r.settled ? '' : ' (never quiet)'} | ${cpu} | ${cpuBudget} |`);
  }
  const a = rs.find((r) => r.n === 64);
  const b = rs.find((r) => r.n === 256);
  if (a !== undefined && b !== undefined) {
    const per = ((b.alone ?? b.mem.pss) - (a.alone ?? a.mem.pss)) / 192;
    const bud = budgets ? `: ${verdict(per <= BUDGET.perLineKb, `<= ${BUDGET.perLineKb} KB`)}` : '';
    console.log(`\nPSS${a.alone !== undefined ? ' alone' : ''} per additional line, (PSS(256) − PSS(64)) / 192: **${per.toFixed(1)} KB**${bud}`);
  }
}

function ringTable(rows: [string, RoundResult[]][]): void {
  console.log(`\n### RING → ATA, ${callCount} simultaneous calls, ${rounds} round(s)\n`);
  console.log('| getty | round | answered | min | p50 | p99 | max | getty CPU, rings → last ATA | harness: ring loop, longest sim stall | budget |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const [label, rs] of rows) {
    const all: number[] = [];
    rs.forEach((r, i) => {
      const v = [...r.values].sort((x, y) => x - y);
      all.push(...v);
      const failed = r.failed > 0 ? ` (+${r.failed} failed)` : '';
      const bud = label === 'tgetty' ? verdict(quantile(v, 0.5) <= BUDGET.ringP50Ms && quantile(v, 0.99) <= BUDGET.ringP99Ms && r.failed === 0, `p50 <= ${BUDGET.ringP50Ms} ms, p99 <= ${BUDGET.ringP99Ms} ms`) : '—';
      const exact = r.cpuMs !== undefined ? `${msf(r.cpuMs.total)} (main thread ${msf(r.cpuMs.main)})` : `${r.ticks} ticks = ${r.ticks * (1000 / TICKS_PER_SECOND)} ms`;
      const cpu = `${exact}${r.gone > 0 ? ` (${r.gone} exited, not counted)` : ''}`;
      const harness = `${msf(r.ringLoopMs)}, ${msf(r.simStallMs)}`;
      console.log(`| ${label} | ${i + 1} | ${v.length}${failed} | ${msf(v[0] ?? NaN)} | ${msf(quantile(v, 0.5))} | ${msf(quantile(v, 0.99))} | ${msf(v.at(-1) ?? NaN)} | ${cpu} | ${harness} | ${bud} |`);
    });
    all.sort((x, y) => x - y);
    const ticks = rs.reduce((a, r) => a + r.ticks, 0);
    const exact = rs.every((r) => r.cpuMs !== undefined) ? `${msf(rs.reduce((a, r) => a + (r.cpuMs?.total ?? 0), 0))} (main thread ${msf(rs.reduce((a, r) => a + (r.cpuMs?.main ?? 0), 0))})` : `${ticks} ticks`;
    if (rs.length > 1) console.log(`| ${label} | all | ${all.length} | ${msf(all[0] ?? NaN)} | ${msf(quantile(all, 0.5))} | ${msf(quantile(all, 0.99))} | ${msf(all.at(-1) ?? NaN)} | ${exact} | | |`);
  }
}

// ---------------------------------------------------------------- main

if (process.getuid?.() !== 0) {
  // login.config must be root-owned for tgetty too, and mgetty needs a mount namespace.
  console.log('daemon bench: needs root; nothing measured');
  process.exit(0);
}
if (!withMgetty) console.log(`(mgetty not measured: ${why})\n`);
const load0 = loadavg();
console.log(`Idle window ${idleSeconds} s, after the gettys used no CPU for ${settleSeconds} s in a row (at most ${MAX_SETTLE_S} s); CLK_TCK = ${TICKS_PER_SECOND}. Load average at start: ${load0.map((x) => x.toFixed(2)).join(' ')}.`);

const work = mkdtempSync(join(tmpdir(), 'tgetty-daemon-bench-'));
let bank: SimBank | undefined;

async function cleanUp(): Promise<void> {
  await bank?.close();
  await Promise.all([...groups].map((g) => g.stop()));
  await Promise.all([...children].map((c) => stopChild(c)));
  rmSync(work, { recursive: true, force: true });
  for (const d of tmpfsDirs) rmSync(d, { recursive: true, force: true });
}

// Background jobs of the namespace shell ignore SIGINT, so Ctrl-C must not leave mgettys behind.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    progress(`${sig}: cleaning up`);
    void cleanUp().finally(() => process.exit(130));
  });
}
try {
  const tg: IdleResult[] = [];
  const mg: IdleResult[] = [];
  for (const n of sizes) {
    progress(`idle, ${n} line(s): tgetty serve`);
    tg.push(await idleTgetty(n, join(work, `t${n}`)));
    if (withMgetty) {
      progress(`idle, ${n} line(s): ${n} mgetty process(es)`);
      mg.push(await idleMgetty(n, join(work, `m${n}`)));
    }
  }
  if (tg.length > 0) idleTable('tgetty serve (one process)', tg, true);
  if (withMgetty && mg.length > 0) idleTable('mgetty -D (one process per line, sums over the processes)', mg, false);

  if (process.argv.includes('--no-ring')) {
    await cleanUp();
    process.exit(0);
  }
  progress(`RING -> ATA: ${callCount} lines, sim in this process`);
  bank = await createBank({ lines: callCount, dir: join(work, 'ring-sim'), clock: fineClock, stampFirst: true });
  const tgRing = await ringTgetty(bank, join(work, 'ring'));
  const ringRows: [string, RoundResult[]][] = [];
  if (tgRing.warmup[0] !== undefined) ringRows.push(['tgetty, cold: first round after the start (not judged)', [tgRing.warmup[0]]]);
  ringRows.push(['tgetty', tgRing.measured]);
  if (withMgetty) ringRows.push(['mgetty', await ringMgetty(bank)]);
  if (!process.argv.includes('--no-floor')) ringRows.push(['bare answerer (harness floor)', await ringFloor(bank)]);
  ringTable(ringRows);
  console.log('\nmgetty sleeps 50 ms before every chat send (its design), so its RING → ATA starts at 50 ms.');
  const load1 = loadavg();
  console.log(`\nLoad average at the end: ${load1.map((x) => x.toFixed(2)).join(' ')}; total run ${((performance.now() - t0) / 1000).toFixed(0)} s.`);
} finally {
  await cleanUp();
}
