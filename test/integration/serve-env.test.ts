// `tgetty serve` takes its metrics port from TGETTY_METRICS_PORT (what the systemd unit's
// EnvironmentFile= sets), the option wins over it, and a bad value is a usage error that names it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBank } from '../../src/sim/index.js';
import { startChild } from '../helpers/child.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');

/** A port the OS just handed out (bound to 0, then closed). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('a bad TGETTY_METRICS_PORT is a usage error (exit 2) that names the variable', () => {
  const r = spawnSync(process.execPath, [BIN, 'serve', '--lines', '/nonexistent/ttyX'], {
    encoding: 'utf8',
    env: { ...process.env, TGETTY_METRICS_PORT: 'abc' },
    timeout: 20_000,
  });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /TGETTY_METRICS_PORT/);
});

test('tgetty serve serves metrics on TGETTY_METRICS_PORT; --metrics-port wins over it', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-serve-env-'));
  const d = { sim: join(root, 'sim'), etc: join(root, 'etc'), lock: join(root, 'lock'), log: join(root, 'log'), run: join(root, 'run') };
  for (const x of Object.values(d)) mkdirSync(x);
  writeFileSync(join(root, 'utmp'), '');
  writeFileSync(join(root, 'wtmp'), '');
  writeFileSync(join(d.etc, 'mgetty.config'), 'toggle-dtr no\n');
  const bank = await createBank({ lines: 1, dir: d.sim });
  t.after(async () => {
    await bank.close();
    rmSync(root, { recursive: true, force: true });
  });
  const paths = ['--config-dir', d.etc, '--lock-dir', d.lock, '--log-dir', d.log, '--run-dir', d.run, '--utmp', join(root, 'utmp'), '--wtmp', join(root, 'wtmp'), '--no-records'];
  const scrape = async (port: number): Promise<string | undefined> => {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      return res.ok ? await res.text() : undefined;
    } catch {
      return undefined;
    }
  };
  for (const [envPort, optPort] of [[await freePort(), undefined], [await freePort(), await freePort()]] as const) {
    const env: NodeJS.ProcessEnv = { ...process.env, TGETTY_METRICS_PORT: String(envPort) };
    delete env.NOTIFY_SOCKET;
    const args = [BIN, 'serve', ...paths, '--lines', `${d.sim}/ttySIM0`, ...(optPort !== undefined ? ['--metrics-port', String(optPort)] : [])];
    const c = startChild(process.execPath, args, { env });
    try {
      const want = optPort ?? envPort;
      let body: string | undefined;
      for (const end = Date.now() + 15_000; body === undefined; await new Promise((r) => setTimeout(r, 100))) {
        if (Date.now() > end) assert.fail(`no metrics on port ${want} within 15 s; output: ${c.output()}`);
        body = await scrape(want);
      }
      assert.match(body ?? '', /^tgetty_calls_total\{/m);
      if (optPort !== undefined) assert.equal(await scrape(envPort), undefined, 'the env port must not be used when the option is given');
    } finally {
      await c.stop();
    }
  }
});
