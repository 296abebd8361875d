/**
 * A telnet caller who comes before any getty has initialised the line (the second after
 * `npm run demo` starts) rings until the getty is ready and answers, instead of getting
 * NO CARRIER when the getty's init chat (ATQ0V1H0, AT) reaches the ringing modem. Real
 * TCP caller, real `tgetty serve` started only after the caller is ringing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBank } from '../../src/sim/index.js';
import { startChild } from '../helpers/child.js';

const skip = process.getuid?.() === 0 ? undefined : 'needs root (login.config owned by root, as in production)';
const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('a caller before the getty is up rings on and is answered, no NO CARRIER', { skip, timeout: 60_000 }, async () => {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-early-'));
  const d = { sim: join(root, 'sim'), etc: join(root, 'etc'), lock: join(root, 'lock'), log: join(root, 'log'), run: join(root, 'run') };
  for (const x of Object.values(d)) mkdirSync(x);
  writeFileSync(join(root, 'utmp'), '');
  writeFileSync(join(root, 'wtmp'), '');
  writeFileSync(join(d.etc, 'mgetty.config'), 'toggle-dtr no\nrings 1\nfido-send-emsi no\nlogin-prompt early login:\n');
  writeFileSync(join(d.etc, 'login.config'), '* - - /bin/true @\n');
  chmodSync(join(d.etc, 'login.config'), 0o600);
  const bank = await createBank({ lines: 1, dir: d.sim });
  const addr = await bank.listen({ port: 0, host: '127.0.0.1', raw: true, ring: { ringCadenceMs: 1500, maxRings: 20, cidFormat: 'none' } });
  let seen = '';
  const sock = net.connect({ host: '127.0.0.1', port: addr.port });
  sock.on('data', (b: Buffer) => (seen += b.toString('latin1')));
  sock.on('error', () => undefined);
  const child = startChild(process.execPath, [BIN, 'serve', '--config-dir', d.etc, '--lock-dir', d.lock, '--log-dir', d.log, '--run-dir', d.run,
    '--utmp', join(root, 'utmp'), '--wtmp', join(root, 'wtmp'), '--no-records', '--lines', bank.line(0).path]);
  try {
    for (let t = 0; t < 5000 && !/RINGING/.test(seen); t += 50) await sleep(50);
    assert.match(seen, /RINGING/, 'the caller hears the ringing');
    // Only now does the getty start on the line, while the call rings.
    for (let t = 0; t < 30_000 && !/early login:/.test(seen) && !/NO CARRIER/.test(seen); t += 100) await sleep(100);
    assert.doesNotMatch(seen, /NO CARRIER/);
    assert.match(seen, /early login:/, `the getty answered; the caller saw ${JSON.stringify(seen)}\n${child.output()}`);
  } finally {
    sock.destroy();
    await child.stop({ signal: 'SIGKILL' });
    await bank.close();
    rmSync(root, { recursive: true, force: true });
  }
});
