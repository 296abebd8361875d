// The web status page in a real browser (headless Chromium over the DevTools pipe): two
// `tgetty serve` daemons as a pool (A shows B as a peer, plus a peer that answers garbage
// and one that is not there), a call through the simulator appears on A's page within 1 s
// without a reload, a faulty line shows its fault, and no JavaScript error, console error
// or CSP violation happens. TGETTY_WEB_SCREENSHOT=FILE saves a screenshot (docs/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBank, type SimBank } from '../../src/sim/index.js';
import { startChild, type Child } from '../helpers/child.js';
import { waitFor } from '../helpers/leaks.js';
import { chromiumUnavailable, launchChromium } from '../helpers/cdp.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');
const skip = process.getuid?.() !== 0 ? 'needs root (login.config owned by root, as in production)' : chromiumUnavailable();

interface Host {
  name: string;
  bank: SimBank;
  child: Child;
  url: string;
}

async function startHost(root: string, name: string, lines: number, extra: string[], missingLine = false): Promise<Host> {
  const base = join(root, name);
  const d = { sim: join(base, 'sim'), etc: join(base, 'etc'), lock: join(base, 'lock'), log: join(base, 'log'), run: join(base, 'run') };
  for (const x of Object.values(d)) mkdirSync(x, { recursive: true });
  writeFileSync(join(base, 'utmp'), '');
  writeFileSync(join(base, 'wtmp'), '');
  // rings 2: the caller ID block comes after the first RING, so the page can show the caller.
  writeFileSync(join(d.etc, 'mgetty.config'), 'toggle-dtr no\nfido-send-emsi no\nlogin-prompt login:\nrings 2\n');
  writeFileSync(join(d.etc, 'hi.sh'), '#!/bin/sh\necho "hi $1"\nsleep 1.5\nexit 0\n');
  chmodSync(join(d.etc, 'hi.sh'), 0o755);
  writeFileSync(join(d.etc, 'login.config'), `* - - ${d.etc}/hi.sh @\n`);
  chmodSync(join(d.etc, 'login.config'), 0o600);
  const bank = await createBank({ lines, dir: d.sim });
  const paths = ['--config-dir', d.etc, '--lock-dir', d.lock, '--log-dir', d.log, '--run-dir', d.run, '--utmp', join(base, 'utmp'), '--wtmp', join(base, 'wtmp'), '--records', join(base, 'calls.sqlite')];
  // A line whose device is missing: the fault the page must show.
  const lineList = [...Array.from({ length: lines }, (_, i) => `${d.sim}/ttySIM${i}`), ...(missingLine ? [`${d.sim}/ttySIM9`] : [])].join(',');
  const child = startChild(process.execPath, [BIN, 'serve', ...paths, '--lines', lineList, '--host-name', name, '--http', '127.0.0.1:0', ...extra], { cwd: base });
  await waitFor(() => /web status page on http:\/\/127\.0\.0\.1:\d+\//.test(child.output()), 15_000, `${name}: the page is up`);
  const url = /web status page on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(child.output())![1];
  return { name, bank, child, url };
}

test('the web status page in headless Chromium: live calls without reload, a line fault, the pool with unreachable peers, no JavaScript errors', { skip, timeout: 120_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-web-'));
  const hosts: Host[] = [];
  const garbage = http.createServer((_req, res) => res.end('this is not tgetty'));
  await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', () => r()));
  const closedPort = await new Promise<number>((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => r(p));
    });
  });
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    for (const h of hosts) {
      await h.child.stop();
      await h.bank.close();
    }
    await new Promise<void>((r) => garbage.close(() => r()));
    rmSync(root, { recursive: true, force: true });
  });

  const b = await startHost(root, 'pi-b', 1, []);
  hosts.push(b);
  const garbageUrl = `http://127.0.0.1:${(garbage.address() as net.AddressInfo).port}`;
  const closedUrl = `http://127.0.0.1:${closedPort}`;
  // A has a line whose device does not exist.
  const a = await startHost(root, 'pi-a', 1, ['--peer', b.url, '--peer', garbageUrl, '--peer', closedUrl], true);
  hosts.push(a);

  const page = await browser.newPage({ width: 1280, height: 1000 });
  await page.navigate(a.url);
  await page.evaluate('window.__loadedOnce = true');
  const q = (expr: string): Promise<unknown> => page.evaluate(`(() => { try { return ${expr}; } catch (e) { return null; } })()`);
  const text = (sel: string): Promise<string | null> => q(`document.querySelector(${JSON.stringify(sel)})?.textContent ?? null`) as Promise<string | null>;
  const until = async (what: string, cond: () => Promise<boolean>, ms: number): Promise<number> => {
    const t0 = Date.now();
    for (;;) {
      if (await cond()) return Date.now() - t0;
      if (Date.now() - t0 > ms) throw new Error(`${what}: not within ${ms} ms; page errors: ${JSON.stringify(page.errors)}; A: ${a.child.output().slice(-500)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  await until('A idle on ttySIM0', async () => (await text('section[data-host="pi-a"] tr[data-line="ttySIM0"] td.state')) === 'idle', 15_000);
  await until('B shown with its line', async () => (await text('section[data-host="pi-b"] tr[data-line="ttySIM0"] td.state')) === 'idle', 15_000);
  await until('the garbage peer shown as unreachable', async () => /bad answer: not JSON/.test((await text(`section.unreachable[data-peer="${garbageUrl}"] .reason`)) ?? ''), 10_000);
  assert.match((await text(`section.unreachable[data-peer="${closedUrl}"] .reason`)) ?? '', /connection refused/);

  // The faulty line: its last error is on the page.
  await until('the fault of ttySIM9', async () => (await q(`document.querySelector('section[data-host="pi-a"] tr[data-line="ttySIM9"]')?.dataset.state`)) === 'error', 15_000);
  assert.match((await text('section[data-host="pi-a"] tr[data-line="ttySIM9"] td.state')) ?? '', /^error \(.*ttySIM9/);
  assert.equal(await q(`document.querySelector('section[data-host="pi-a"] tr[data-line="ttySIM9"] td.error').classList.contains('err')`), true);

  // A call: RING on the page within 1 s, the caller while it runs, the call in "last calls" within 1 s of its end.
  const updatesBefore = (await q('window.tgettyUpdates')) as number;
  const call = a.bank.line(0).call({ callerId: '5551234', callerName: 'ALICE', cidFormat: 'mdmf', ringCadenceMs: 700, cidDelayMs: 100 });
  const ringShown = await until('the call shows on the line', async () => (await q(`document.querySelector('section[data-host="pi-a"] tr[data-line="ttySIM0"]').dataset.state`)) !== 'idle', 1000);
  await call.waitFor(/login:/, 10_000);
  call.write('carol\r');
  await call.waitFor(/hi carol/, 5_000);
  const greeted = Date.now();
  await until('the caller on the line', async () => (await text('section[data-host="pi-a"] tr[data-line="ttySIM0"] td.caller')) === '5551234 ALICE', 1000);
  await until('the program on the line', async () => /carol: .*hi\.sh/.test((await text('section[data-host="pi-a"] tr[data-line="ttySIM0"] td.program')) ?? ''), 1000);
  // hi.sh ends 1.5 s after its greeting; the finished call must be in "last calls" within 1 s after that.
  await until('the call in the last calls', async () => (await text('section[data-host="pi-a"] tbody tr[data-outcome="completed"] td.caller')) === '5551234 ALICE', 4000);
  const afterEnd = Date.now() - greeted - 1500;
  assert.ok(afterEnd < 1000, `the finished call showed ${afterEnd} ms after the program's end`);
  assert.equal(await q(`document.querySelectorAll('section[data-host="pi-a"] svg.latency circle').length`), 1, 'the latency chart has the call');
  assert.equal(await q(`document.querySelectorAll('section[data-host="pi-a"] svg.calls-per-hour rect.bar-ok').length`), 1, 'calls per hour has it');
  assert.ok(((await q('window.tgettyUpdates')) as number) > updatesBefore, 'the page was updated by events');
  assert.equal(await q('window.__loadedOnce'), true, 'no reload');
  assert.equal(await q(`performance.getEntriesByType('navigation').length`), 1);
  assert.equal(await q(`performance.getEntriesByType('resource').filter((r) => !r.name.startsWith(location.origin)).length`), 0, 'nothing loaded from anywhere else');
  t.diagnostic(`the call showed ${ringShown} ms after RING; the finished call ${afterEnd} ms after the program ended`);

  const shot = process.env.TGETTY_WEB_SCREENSHOT;
  if (shot !== undefined && shot !== '') writeFileSync(shot, await page.screenshot());
  assert.deepEqual(page.errors, [], 'no JavaScript errors, console errors or CSP violations');
});
