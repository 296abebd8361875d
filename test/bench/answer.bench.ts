// Benchmark (not a test): answer latency of tgetty and of Debian's real mgetty on the
// same simulated line, in one run.
//   1. RING -> ATA: the time from the RING bytes written to the pty master to the `ATA\r`
//      bytes read back. Each sample is a fresh getty (the call then fails with NO CARRIER,
//      the getty exits 1). mgetty waits 50 ms before every chat send (its design).
//   2. CONNECT -> program: the caller sends an LCP Configure-Request 50 ms after CONNECT
//      and retransmits every 3 s as pppd does; measured from the CONNECT line to the first
//      output of the /AutoPPP/ program (a recorder that prints REC-RAN). mgetty throws the
//      early frame away (Q10) and only sees a retransmission.
//   3. The name path: the caller waits for the login prompt and types a name; measured from
//      the CONNECT line, and from the name's CR, to the first output of the login.config
//      program (/bin/echo, so the figure is the hand-off and the exec, not a script's work).
// Timestamps are the simulator transcript's, taken from performance.now() (sub-ms).
// Run: npm run bench -- answer   (node dist/test/bench/answer.bench.js [--calls N] [--ppp-calls N] [--name-calls N] [--name-utmp TEXT] [--only ring|ppp|name])
// It prints numbers and PASS/OVER against the budgets; it never fails on a budget.
import { lcpConfigureRequest } from '../../src/login/ppp.js';
import { compatUnavailable, runScenario, type CompatRecord, type Getty, type Scenario } from '../helpers/compat.js';
import { fineClock, quantile } from '../helpers/bench.js';

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? Math.floor(v) : dflt;
}

/** The system clock with sub-millisecond `now()`, so transcript times resolve 1 µs. */

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

/** The name path: CONNECT and the name's CR (to the getty) to the program's first output (from the line). */
function namePath(r: CompatRecord): { connect: number; cr: number } | undefined {
  let connectAt: number | undefined;
  let crAt: number | undefined;
  let fromDte = '';
  for (const e of r.transcript) {
    const text = e.bytes.toString('latin1');
    if (e.dir === '>' && connectAt === undefined && /CONNECT/.test(text)) connectAt = e.t;
    if (e.dir === '>' && connectAt !== undefined && crAt === undefined && /login:/.test(fromDte) && text.includes('\r')) crAt = e.t;
    if (e.dir === '<' && connectAt !== undefined) {
      fromDte += text;
      if (crAt !== undefined && /REC-RAN/.test(fromDte)) return { connect: e.t - connectAt, cr: e.t - crAt };
    }
  }
  return undefined;
}


interface Stats {
  n: number;
  failed: number;
  median: number;
  p99: number;
  min: number;
  max: number;
}

async function samples<K extends string>(getty: Getty, s: Scenario, n: number, measure: (r: CompatRecord) => Record<K, number> | undefined): Promise<Record<K, Stats> | undefined> {
  const values: Partial<Record<K, number[]>> = {};
  let failed = 0;
  for (let i = 0; i < n; i++) {
    try {
      const r = await runScenario(getty, { ...s, name: `${s.name} #${i + 1}` }, { clock: fineClock });
      const v = measure(r);
      if (v === undefined) failed++;
      else for (const k of Object.keys(v) as K[]) (values[k] ??= []).push(v[k]);
    } catch (err) {
      failed++;
      console.error(`${getty} ${s.name} #${i + 1}: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
    }
  }
  const keys = Object.keys(values) as K[];
  if (keys.length === 0) return undefined;
  const out = {} as Record<K, Stats>;
  for (const k of keys) {
    const v = (values[k] ?? []).sort((a, b) => a - b);
    out[k] = { n: v.length, failed, median: quantile(v, 0.5), p99: quantile(v, 0.99), min: v[0] ?? NaN, max: v.at(-1) ?? NaN };
  }
  return out;
}

async function sample(getty: Getty, s: Scenario, n: number, measure: (r: CompatRecord) => number | undefined): Promise<Stats> {
  const r = await samples(getty, s, n, (rec) => {
    const v = measure(rec);
    return v === undefined ? undefined : { v };
  });
  return r?.v ?? { n: 0, failed: n, median: NaN, p99: NaN, min: NaN, max: NaN };
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

// --only ring|ppp|name (repeatable): run those parts only.
const only = process.argv.flatMap((a, i) => (process.argv[i - 1] === '--only' ? [a] : []));
const part = (p: string): boolean => only.length === 0 || only.includes(p);
const calls = arg('calls', 20);
const pppCalls = arg('ppp-calls', 5);
const nameCalls = arg('name-calls', 7);
// --name-utmp TEXT: the login.config utmp column of the name path (default `-`, as for
// /bin/login, which writes its own record: tgetty's hand-off then keeps the sh gate, so the
// record carries the pid first). With a text, tgetty writes USER_PROCESS and execs the
// program directly (docs/handoff.md).
const nameUtmpAt = process.argv.indexOf('--name-utmp');
const nameUtmp = nameUtmpAt >= 0 ? (process.argv[nameUtmpAt + 1] ?? '-') : '-';

if (part('ring')) {
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
}

if (part('ppp')) {
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
}

if (part('name')) {
  console.log(`\n### The name path: CONNECT -> program and the name's CR -> program (${nameCalls} calls per getty)\n`);
  console.log(`The caller waits for \`login:\` and types \`bench\` and CR in one write; the program is \`/bin/echo REC-RAN\` (its first output is the exec), login.config utmp column \`${nameUtmp}\`.\n`);
  console.log('| getty | measure | samples | median | p99 | min | max | budget |');
  console.log('|---|---|---|---|---|---|---|---|');
  const name: Scenario = {
    name: 'name-path',
    args: ['-D'],
    config: BASE,
    loginConfig: `* - ${nameUtmp} /bin/echo REC-RAN @\n`,
    call: { cidFormat: 'none', connect: '33600/ARQ' },
    caller: [{ waitFor: /login:/ }, { send: 'bench\r' }, { waitFor: /REC-RAN/ }],
    end: 'program',
  };
  const nameStats: Partial<Record<Getty, Record<'connect' | 'cr', Stats>>> = {};
  for (const g of gettys) {
    const st = await samples(g, name, nameCalls, namePath);
    if (st === undefined) {
      console.log(`| ${g} | — | 0 (+${nameCalls} failed) | n/a | n/a | n/a | n/a | — |`);
      continue;
    }
    nameStats[g] = st;
}
for (const [k, label] of [['cr', 'CR -> program'], ['connect', 'CONNECT -> program']] as const) {
  for (const g of gettys) {
    const st = nameStats[g]?.[k];
    if (st === undefined) continue;
    // The budget: tgetty's name path no slower than real mgetty's in the same run.
    const m = nameStats.mgetty?.[k];
    const verdict = g === 'tgetty' && m !== undefined ? `${st.median <= m.median ? 'PASS' : 'OVER'} (median <= mgetty's ${m.median.toFixed(2)} ms)` : '—';
    console.log(`| ${g} | ${label} | ${st.n}${st.failed > 0 ? ` (+${st.failed} failed)` : ''} | ${ms(st.median)} | ${ms(st.p99)} | ${ms(st.min)} | ${ms(st.max)} | ${verdict} |`);
  }
}
}
