// Benchmark (not a test): fax reception through the simulator (issue 19).
//   1. Page time and the getty's CPU per page at 9600 and 14400 bps line rate: `tgetty serve`
//      on one sim line (fax-max-speed sets the rate it offers), the virtual fax machine
//      sends 1 + --pages pages, their bytes paced at the negotiated bit rate. Page time: the
//      page's first byte to the receiver's answer (MCF, which comes when tgetty asks for the
//      next page: so it includes tgetty storing the page). Line time: the page's bytes at
//      the line rate. CPU: the daemon's own scheduler time (schedstat, all threads) from
//      idle before the call to idle after it (answer, pages, PDF, TIFF, hang-up and
//      re-init), divided by the pages; and, beside it, from page 2's first byte to the last
//      page's MCF. Budget: the call's CPU a page under 5 % of the mean page's line time.
//   2. 16 lines take faxes at once: 16 virtual fax machines call the 16 lines of one daemon
//      together, --pages pages each at 14400 bps. The daemon's PSS is sampled every 250 ms;
//      every page stored must decode to the bitmap sent. Budget: no page lost.
// Run: npm run bench -- fax
//   node dist/test/bench/fax.bench.js [--pages 2] [--height 400] [--lines 16] [--rates 9600,14400] [--no-unit-env]
// Needs root (login.config owned by root, as in production). It prints PASS/OVER; it never fails on a budget.
import { readFileSync, readdirSync, rmSync, mkdtempSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitmapsEqual, type Bitmap } from '../../src/fax/codec/bitmap.js';
import { decodeG3, encodeG3 } from '../../src/fax/codec/t4.js';
import { createBank } from '../../src/sim/index.js';
import { cpuNs, pss } from '../helpers/proc-stats.js';
import { randomPage, testPage } from '../helpers/fax-pages.js';
import { startFaxServe, type FaxServe } from '../helpers/fax-serve.js';
import { shippedUnitEnvironment } from '../helpers/unit-env.js';

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

const PAGES = numArg('pages', 2);
const HEIGHT = numArg('height', 400);
const LINES = numArg('lines', 16);
const RATES = listArg('rates', [9600, 14400]);
const BUDGET_CPU_SHARE = 0.05;
// The daemon runs with the Environment= lines of contrib/systemd/tgetty.service, as shipped (--no-unit-env: node's defaults).
const UNIT_ENV = process.argv.includes('--no-unit-env') ? [] : shippedUnitEnvironment();

const config = (rate: number): string =>
  [
    'toggle-dtr no', 'dtr-by-close yes', 'init-chat "" ATQ0V1H0 OK AT OK', 'fido-send-emsi no', 'login-prompt login:',
    'rings 1', 'fax-id 49 30 5550000', 'fax-spool-in {SPOOL}', 'diskspace 1', `fax-max-speed ${rate}`, '',
  ].join('\n');

/** Pages like a typed sheet: the test page's bars and shapes, a random one in between. */
function pagesFor(seed: number): Bitmap[] {
  return Array.from({ length: PAGES }, (_, i) => (i % 2 === 0 ? testPage(1728, HEIGHT) : randomPage(seed + i, 1728, HEIGHT)));
}

const g3 = (pages: readonly Bitmap[]): { data: Uint8Array; fine: boolean; mr: boolean }[] => pages.map((b) => ({ data: encodeG3(b), fine: true, mr: false }));

function verdict(ok: boolean, budget: string): string {
  return `${ok ? 'PASS' : 'OVER'} (${budget})`;
}

/** Every page file in the spool, by sender, checked against what that sender sent. */
function checkSpool(spool: string, sent: Map<string, Bitmap[]>, only?: string): { stored: number; good: number } {
  let stored = 0;
  let good = 0;
  for (const f of readdirSync(spool).filter((n) => /\.\d\d$/.test(n) && (only === undefined || n.includes(`-${only}.`)))) {
    stored++;
    const m = /-(SENDER-\w+)\.(\d\d)$/.exec(f);
    const page = m !== null ? sent.get(m[1] ?? '')?.[Number(m[2]) - 1] : undefined;
    try {
      if (page !== undefined && bitmapsEqual(decodeG3(readFileSync(join(spool, f)), { width: 1728, strict: true }).bitmap, page)) good++;
    } catch {
      // counted as stored, not good
    }
  }
  return { stored, good };
}

/** The daemon's CPU (ns, all threads) at the virtual fax machine's page events, by event text. */
const marks = new Map<string, number>();
let markPid = 0;
function onNote(_line: string, text: string): void {
  const m = /(sending page \d+|page \d+ to \d+ confirmed)/.exec(text);
  const c = m !== null && markPid !== 0 ? cpuNs(markPid) : undefined;
  if (m !== null && c !== undefined) marks.set((m[1] ?? '').replace(/ to \d+/, ''), c.total);
}

/**
 * One call of 1 + PAGES pages at `rate` through the daemon. The daemon's CPU over the whole
 * call (idle before to idle after: answer, pages, PDF, TIFF, hang-up, re-init) divided by
 * the pages is the figure held to the budget; the CPU from page 2's first byte to the last
 * page's answer (receiving and storing those pages) is shown beside it.
 */
async function pageTime(rate: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-fax-bench-'));
  const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, onNote });
  let tg: FaxServe | undefined;
  try {
    tg = startFaxServe({ lines: [bank.line(0).path], config: config(rate), env: UNIT_ENV });
    await tg.allIdle(1, 60_000);
    const pid = tg.child.proc.pid ?? 0;
    markPid = pid;
    marks.clear();
    const pages = [testPage(1728, HEIGHT), ...pagesFor(1)];
    const data = g3(pages);
    await new Promise((r) => setTimeout(r, 1000));
    const c0 = cpuNs(pid);
    const sent = await bank.faxCall(bank.line(0).number, data, { id: 'SENDER B', paceBps: true });
    await tg.allIdle(1, 60_000, 1);
    const c1 = cpuNs(pid);
    markPid = 0;
    const good = checkSpool(tg.spool, new Map([['SENDER-B', pages]])).good;
    const n = data.length;
    const lineMs = data.map((p) => (p.data.length * 8 * 1000) / rate);
    sent.pageMs.forEach((ms, i) => {
      console.log(`| ${rate} | ${i + 1} of ${n} | ${data[i]?.data.length ?? 0} B | ${(lineMs[i] ?? 0).toFixed(0)} ms | ${ms.toFixed(0)} ms | | | |`);
    });
    const callMs = c0 !== undefined && c1 !== undefined ? (c1.total - c0.total) / 1e6 : NaN;
    const from = marks.get('sending page 2');
    const to = marks.get(`page ${n} confirmed`);
    const pagesMs = from !== undefined && to !== undefined ? (to - from) / 1e6 / (n - 1) : NaN;
    const meanLine = lineMs.reduce((a, b) => a + b, 0) / n;
    const perPage = callMs / n;
    const share = perPage / meanLine;
    console.log(
      `| ${rate} | a page | | ${meanLine.toFixed(0)} ms (mean) | | ${perPage.toFixed(1)} ms (the call: ${callMs.toFixed(0)} ms / ${n}; pages 2-${n} alone: ${pagesMs.toFixed(1)} ms each) | ${(share * 100).toFixed(2)} % | ` +
        `${verdict(share < BUDGET_CPU_SHARE, '< 5 %')}; ${good}/${n} pages good |`,
    );
  } finally {
    await tg?.stop();
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function simultaneous(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-fax-bench16-'));
  const bank = await createBank({ lines: LINES, dir: join(dir, 'lines'), fax: true });
  let tg: FaxServe | undefined;
  try {
    tg = startFaxServe({ lines: bank.lines.map((l) => l.path), config: config(14400), env: UNIT_ENV });
    await tg.allIdle(LINES, 120_000);
    const pid = tg.child.proc.pid ?? 0;
    await new Promise((r) => setTimeout(r, 2000));
    const idle = pss(pid);
    const sentPages = new Map<string, Bitmap[]>();
    let peak = idle;
    const timer = setInterval(() => {
      try {
        peak = Math.max(peak, pss(pid));
      } catch {
        // gone
      }
    }, 250);
    const t0 = performance.now();
    const c0 = cpuNs(pid);
    const results = await Promise.all(
      bank.lines.map((l, i) => {
        const pages = pagesFor(100 + i);
        sentPages.set(`SENDER-${i}`, pages);
        return bank.faxCall(l.number, g3(pages), { id: `SENDER ${i}`, paceBps: true });
      }),
    );
    const wallS = (performance.now() - t0) / 1000;
    await tg.allIdle(LINES, 120_000, 1);
    const c1 = cpuNs(pid);
    clearInterval(timer);
    const confirmed = results.reduce((n, r) => n + r.statuses.filter((s) => s === 1).length, 0);
    const check = checkSpool(tg.spool, sentPages);
    const want = LINES * PAGES;
    const cpuMs = c0 !== undefined && c1 !== undefined ? (c1.total - c0.total) / 1e6 : NaN;
    console.log(`| lines | pages sent | confirmed (MCF) | stored | decode to the sent bitmap | wall time | daemon CPU | PSS idle | PSS peak | budget |`);
    console.log(`|---|---|---|---|---|---|---|---|---|---|`);
    console.log(
      `| ${LINES} | ${want} | ${confirmed} | ${check.stored} | ${check.good} | ${wallS.toFixed(1)} s | ${cpuMs.toFixed(0)} ms (${(cpuMs / want).toFixed(1)} ms a page) | ${(idle / 1024).toFixed(1)} MB | ${(peak / 1024).toFixed(1)} MB | ${verdict(check.good === want && confirmed === want, 'no page lost')} |`,
    );
  } finally {
    await tg?.stop();
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.getuid?.() !== 0) {
  console.log('fax bench: needs root (login.config owned by root, as in production): nothing measured');
} else {
  console.log(`fax pages 1728 x ${HEIGHT} (fine), MH; daemon environment: ${UNIT_ENV.length > 0 ? 'the systemd unit\'s' : 'node defaults'}; load average at start ${loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
  console.log(`| line rate | page | G3 size | line time | page time (first byte -> MCF) | getty CPU (schedstat) | CPU a page / line time | budget |`);
  console.log(`|---|---|---|---|---|---|---|---|`);
  for (const rate of RATES) await pageTime(rate);
  console.log('');
  await simultaneous();
  console.log(`\nload average at the end ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
}
