// Benchmark (not a test): answer latency of tgetty and of Debian's real mgetty on the
// same simulated line, in one run.
//   1. RING -> ATA: the time from the RING bytes written to the pty master to the `ATA\r`
//      bytes read back. Each sample is a fresh getty (the call then fails with NO CARRIER,
//      the getty exits 1). mgetty waits 50 ms before every chat send (its design).
//   2. CONNECT -> program: the caller sends an LCP Configure-Request 50 ms after CONNECT
//      and retransmits every 3 s as pppd does; measured from the CONNECT line to the first
//      output of the /AutoPPP/ program (a recorder that prints REC-RAN). mgetty throws the
//      early frame away (Q10) and only sees a retransmission.
// Timestamps are the simulator transcript's, taken from performance.now() (sub-ms).
// Run: npm run bench -- answer   (node dist/test/bench/answer.bench.js [--calls N] [--ppp-calls N])
// It prints numbers and PASS/OVER against the budgets; it never fails on a budget.
import type { Clock } from '../../src/core/clock.js';
import { systemClock } from '../../src/core/clock.js';
import { lcpConfigureRequest } from '../../src/login/ppp.js';
import { compatUnavailable, runScenario, type CompatRecord, type Getty, type Scenario } from '../helpers/compat.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : dflt;
}

/** The system clock with sub-millisecond `now()`, so transcript times resolve 1 µs. */
const fineClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  monotonic: () => performance.now(),
  setTimeout: (fn, ms) => systemClock.setTimeout(fn, ms),
};

const BASE = 'port ttySIM0\n  toggle-dtr n\n';
const RING_BUDGET_MS = 5;
const PPP_BUDGET_MS = 150;

/** Time of the last RING before ATA, and of the ATA itself. */
function ringToAta(r: CompatRecord): number | undefined {
  let ringAt: number | undefined;
  let fromDte = '';
  for (const e of r.transcript) {
    const text = e.bytes.toString('latin1');
    if (e.dir === '>' && /(^|\n)RING/.test(text)) ringAt = e.t;
    if (e.dir === '<') {
      fromDte += text;
      if (/ATA\r/.test(fromDte)) return ringAt === undefined ? undefined : e.t - ringAt;
    }
  }
  return undefined;
}

/** From the CONNECT line (to the getty) to the program's first output (from the line). */
function connectToProgram(r: CompatRecord): number | undefined {
  let connectAt: number | undefined;
  let fromDte = '';
  for (const e of r.transcript) {
    const text = e.bytes.toString('latin1');
    if (e.dir === '>' && connectAt === undefined && /CONNECT/.test(text)) connectAt = e.t;
    if (e.dir === '<' && connectAt !== undefined) {
      fromDte += text;
      if (/REC-RAN/.test(fromDte)) return e.t - connectAt;
    }
  }
  return undefined;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  // Nearest rank: with few samples p99 is the maximum, which is what it should say.
  const i = Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1);
  return sorted[Math.max(0, i)] ?? NaN;
}

interface Stats {
  n: number;
  failed: number;
  median: number;
  p99: number;
  min: number;
  max: number;
}

async function sample(getty: Getty, s: Scenario, n: number, measure: (r: CompatRecord) => number | undefined): Promise<Stats> {
  const values: number[] = [];
  let failed = 0;
  for (let i = 0; i < n; i++) {
    try {
      const r = await runScenario(getty, { ...s, name: `${s.name} #${i + 1}` }, { clock: fineClock });
      const v = measure(r);
      if (v === undefined) failed++;
      else values.push(v);
    } catch (err) {
      failed++;
      console.error(`${getty} ${s.name} #${i + 1}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  values.sort((a, b) => a - b);
  return { n: values.length, failed, median: quantile(values, 0.5), p99: quantile(values, 0.99), min: values[0] ?? NaN, max: values.at(-1) ?? NaN };
}

const ms = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(2)} ms` : 'n/a');

function row(label: string, st: Stats, budget: number | undefined, budgetOn: 'median' | 'p99'): string {
  const verdict = budget === undefined ? '—' : `${st[budgetOn] <= budget ? 'PASS' : 'OVER'} (${budgetOn} <= ${budget} ms)`;
  return `| ${label} | ${st.n}${st.failed > 0 ? ` (+${st.failed} failed)` : ''} | ${ms(st.median)} | ${ms(st.p99)} | ${ms(st.min)} | ${ms(st.max)} | ${verdict} |`;
}

const why = compatUnavailable();
const gettys: Getty[] = why === undefined ? ['tgetty', 'mgetty'] : ['tgetty'];
if (why !== undefined) console.log(`(mgetty not measured: ${why})\n`);
// tgetty's login.config must be root-owned; without root neither getty can be measured here.
if (process.getuid?.() !== 0) {
  console.log('answer bench: needs root (login.config must be owned by root); nothing measured');
  process.exit(0);
}

const calls = arg('calls', 20);
const pppCalls = arg('ppp-calls', 5);

console.log(`### RING -> ATA (${calls} calls per getty, one RING each, rings 1)\n`);
console.log('| getty | samples | median | p99 | min | max | budget |');
console.log('|---|---|---|---|---|---|---|');
const answer: Scenario = {
  name: 'ring-ata',
  // The default log level (4) for both gettys: the budget is about a line in service, and
  // -x 6 writes a debug line per state change synchronously before the answer goes out.
  args: ['-D'],
  config: BASE,
  // NO CARRIER right after ATA: the getty exits 1 at once, and the next sample starts fresh.
  call: { cidFormat: 'none', outcome: 'no-carrier', answerDelayMs: 50 },
  end: 'exit',
};
for (const g of gettys) {
  const st = await sample(g, answer, calls, ringToAta);
  console.log(row(g, st, g === 'tgetty' ? RING_BUDGET_MS : undefined, 'median'));
}
console.log('\nBoth gettys at the default log level (-x 4). mgetty sleeps 50 ms before each chat send (its design), so its RING -> ATA is about 50 ms.\n');

console.log(`### CONNECT -> PPP program running (${pppCalls} calls per getty; LCP 50 ms after CONNECT, retransmitted every 3 s)\n`);
console.log('| getty | samples | median | p99 | min | max | budget |');
console.log('|---|---|---|---|---|---|---|');
const frame = lcpConfigureRequest({ magic: 0x12345678 });
const ppp: Scenario = {
  name: 'connect-ppp',
  config: BASE,
  loginConfig: '/AutoPPP/ - a_ppp /bin/sh {REC} ppp @\n* - - /bin/sh {REC} login @\n',
  call: { cidFormat: 'none', connect: '33600/ARQ' },
  caller: [{ delayMs: 50 }, { sendEvery: frame, everyMs: 3000, until: /REC-RAN/, maxMs: 12_000 }],
  end: 'program',
};
for (const g of gettys) {
  const st = await sample(g, ppp, pppCalls, connectToProgram);
  console.log(row(g, st, g === 'tgetty' ? PPP_BUDGET_MS : undefined, 'median'));
}
console.log('\nmgetty discards bytes in its 0.3 s post-CONNECT wait (Q10), so it starts pppd on the first retransmission (about 3 s).');
