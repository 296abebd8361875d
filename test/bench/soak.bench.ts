// Soak (a measurement, not a test): `tgetty serve` in a child process on 16 simulated
// lines (the modem bank runs in THIS process), 1,000 calls with random faults from a
// seeded PRNG, at most one call per line at a time, every line busy. Before and after, the
// daemon's open fds, its children and zombies, the lock files, the utmp records still
// LOGIN/USER, and its RSS and PSS are measured; the table shows the budgets of the issue
// "Hardening" (0 leaks; RSS growth <= 5 MB) with PASS/OVER. It never fails on a budget.
//
// Run: npm run bench -- soak
//   node dist/test/bench/soak.bench.js [--calls 1000] [--lines 16] [--seed 1] [--settle 15]
//
// The memory baseline is taken after a warm-up (the first 5% of the calls, at least 32):
// V8 compiles and sizes its heap during the first calls, which is not growth per call.
// The growth from the cold start is printed too.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { createBank, type SimBank, type SimLine } from '../../src/sim/index.js';
import type { ModemFaults } from '../../src/sim/modem.js';
import { queryDaemon } from '../../src/daemon/status-server.js';
import type { LineStatus } from '../../src/daemon/events.js';
import { childrenOf, liveUtmp, lockFiles, openFds } from '../helpers/leaks.js';
import { mem } from '../helpers/proc-stats.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');

function numArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

const CALLS = Math.floor(numArg('calls', 1000));
const LINES = Math.floor(numArg('lines', 16));
const SEED = Math.floor(numArg('seed', 1));
const SETTLE_S = numArg('settle', 15);
const WARMUP = Math.min(CALLS, Math.max(32, Math.ceil(CALLS * 0.05)));
const BUDGET = { rssGrowthKb: 5 * 1024 };

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
  output(): string;
}

const REC = '#!/bin/sh\necho "REC $* on $DEVICE"\nexit 0\n';
const SLEEPER = '#!/bin/sh\necho "SLEEPING $$"\nexec sleep 60\n';

function startServe(root: string, lines: string[]): Serve {
  const p = {
    etc: join(root, 'etc'),
    lock: join(root, 'lock'),
    log: join(root, 'log'),
    run: join(root, 'run'),
    utmp: join(root, 'utmp'),
    wtmp: join(root, 'wtmp'),
    records: join(root, 'calls.sqlite'),
  };
  for (const d of [p.etc, p.lock, p.log, p.run]) mkdirSync(d, { recursive: true });
  writeFileSync(p.utmp, '');
  writeFileSync(p.wtmp, '');
  writeFileSync(join(p.etc, 'mgetty.config'), 'toggle-dtr no\nfido-send-emsi no\nlogin-prompt login:\nissue-file Line \\P\nhangup-grace 2\n');
  writeFileSync(join(p.etc, 'rec.sh'), REC);
  chmodSync(join(p.etc, 'rec.sh'), 0o755);
  writeFileSync(join(p.etc, 'sleeper.sh'), SLEEPER);
  chmodSync(join(p.etc, 'sleeper.sh'), 0o755);
  // Root-owned 0600, as mgetty (and tgetty, drop-in) require.
  writeFileSync(join(p.etc, 'login.config'), `sleeper - - ${p.etc}/sleeper.sh\n* - - ${p.etc}/rec.sh login @\n`);
  chmodSync(join(p.etc, 'login.config'), 0o600);
  const args = [
    BIN, 'serve', '--lines', lines.join(','), '--records', p.records,
    '--config-dir', p.etc, '--lock-dir', p.lock, '--log-dir', p.log, '--run-dir', p.run,
    '--utmp', p.utmp, '--wtmp', p.wtmp,
  ];
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer): void => {
    if (out.length < 64 * 1024) out += b.toString();
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return { proc, paths: p, output: () => out };
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

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-soak-'));
  let bank: SimBank | undefined;
  let serve: Serve | undefined;
  let poller: StatusPoller | undefined;
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

    const rand = prng(SEED);
    const plan = Array.from({ length: CALLS }, () => pick(rand));
    let next = 0;
    let done = 0;
    const b = bank;
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
            if (t.errors.length < 3) t.errors.push(`${line.name} call ${n}: ${err instanceof Error ? err.message : String(err)}`);
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
    await runUntil(CALLS);
    progress(`all ${CALLS} calls made; settling`);
    const after = await settledMeasure(pol, pid, serve, 'the end');
    const elapsedS = (performance.now() - t0) / 1000;

    let records = 'n/a';
    const rested = [...pol.rested];
    await pol.stop();
    poller = undefined;
    await stopChild(serve.proc);
    const locksAfterStop = lockFiles(serve.paths.lock).length;
    try {
      const db = new Database(serve.paths.records, { readonly: true });
      const row = db.prepare('SELECT count(*) AS n, sum(ended_at IS NULL) AS open FROM calls').get() as { n: number; open: number | null };
      db.close();
      records = `${row.n} rows, ${row.open ?? 0} without an end`;
    } catch (err) {
      records = `cannot read: ${err instanceof Error ? err.message : String(err)}`;
    }

    const verdict = (ok: boolean): string => (ok ? 'PASS' : 'OVER');
    console.log(`Soak: ${CALLS} calls over ${LINES} lines, seed ${SEED}, ${elapsedS.toFixed(0)} s, node ${process.version}\n`);
    console.log('| measure | cold start | after warm-up | after the soak | growth | budget | verdict |');
    console.log('|---|---|---|---|---|---|---|');
    const row = (name: string, key: keyof Measure, budget: string, ok: boolean, unit = ''): void => {
      console.log(`| ${name} | ${cold[key]}${unit} | ${base[key]}${unit} | ${after[key]}${unit} | ${after[key] - base[key]}${unit} | ${budget} | ${verdict(ok)} |`);
    };
    row('daemon open fds', 'fds', '0 leaked', after.fds <= base.fds);
    row('children (sessions) left', 'children', '0', after.children === 0);
    row('zombies', 'zombies', '0', after.zombies === 0);
    row('lock files', 'locks', '0', after.locks === 0);
    row('utmp LOGIN/USER records', 'utmp', '0', after.utmp === 0);
    row('RSS (kB)', 'rssKb', '<= 5120 kB growth', after.rssKb - base.rssKb <= BUDGET.rssGrowthKb);
    row('PSS (kB)', 'pssKb', '(reported)', true);
    console.log(`| lock files after SIGTERM | | | ${locksAfterStop} | | 0 | ${verdict(locksAfterStop === 0)} |`);
    console.log(`| lines that rested (out of service) | | | ${rested.length} | | 0 | ${verdict(rested.length === 0)} |`);
    console.log(`\nRSS growth from the cold start: ${after.rssKb - cold.rssKb} kB. Call records: ${records}.\n`);
    console.log('| kind | calls | as expected | failed | first failures |');
    console.log('|---|---|---|---|---|');
    for (const [k] of KINDS) {
      const t = tally.get(k) as Tally;
      console.log(`| ${k} | ${t.ok + t.failed} | ${t.ok} | ${t.failed} | ${t.errors.join('; ').replaceAll('|', '/')} |`);
    }
  } finally {
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
