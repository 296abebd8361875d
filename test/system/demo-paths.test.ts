/**
 * System test: `tgetty demo` run by root with no path options must keep everything in its
 * own demo dir. Run in a private mount namespace with empty tmpfs over /var/lib, /var/log
 * and /run, so the machine's real call records, logs and status socket are neither
 * touched nor able to hide a write: whatever appears in them came from the demo.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { waitFor } from '../helpers/leaks.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');
/** A port the kernel picked as free (the demo takes a fixed --port, not 0). */
function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

const skip = process.getuid?.() !== 0 ? 'needs root (mount namespace)' : !existsSync('/usr/bin/unshare') ? 'unshare not installed' : undefined;

test('the demo as root with no path options writes nothing under /var/lib, /var/log or /run; it prints where everything is', { skip, timeout: 90_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-demo-paths-'));
  const tmp = join(root, 'tmp');
  mkdirSync(tmp);
  const go = join(root, 'GO');
  const script = [
    'set -e',
    'for d in /var/lib /var/log /run; do mount -t tmpfs -o mode=755 tgetty-demo-test "$d"; done',
    `'${process.execPath}' '${BIN}' demo --lines 1 --port ${await freePort()} &`,
    'pid=$!',
    `while [ ! -e '${go}' ] && kill -0 $pid 2>/dev/null; do sleep 0.1; done`,
    'echo "DURING: $(find /var/lib /var/log /run -mindepth 1 | tr "\\n" " ")"',
    'kill -INT $pid; wait $pid && echo "EXIT 0" || echo "EXIT $?"',
    'echo "AFTER: $(find /var/lib /var/log /run -mindepth 1 | tr "\\n" " ")"',
  ].join('\n');
  // A clean environment: no XDG dirs, the temp dir in our root.
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: join(root, 'home'), TMPDIR: tmp, LANG: 'C.UTF-8' };
  const sh = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c', script], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  sh.stdout.on('data', (b: Buffer) => (out += b.toString()));
  sh.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const done = new Promise((res) => sh.on('exit', res));
  t.after(async () => {
    writeFileSync(go, '');
    const k = setTimeout(() => sh.kill('SIGKILL'), 15_000);
    await done;
    clearTimeout(k);
    rmSync(root, { recursive: true, force: true });
  });
  await waitFor(() => /The tgetty demo is ready/.test(out) || /EXIT/.test(out), 45_000, `the demo banner\n${out}`);
  assert.match(out, /The tgetty demo is ready/, out);
  const dir = /everything the demo writes is in (\S+) \(removed when the demo stops/.exec(out)?.[1] ?? '';
  assert.ok(dir.startsWith(`${tmp}/tgetty-demo-`), out);
  // The exact commands to reach this demo, with its own paths.
  assert.match(out, new RegExp(`tgetty\\.mjs status --run-dir ${dir}/run\\s*$`, 'm'));
  assert.match(out, new RegExp(`tgetty\\.mjs calls --records ${dir}/calls\\.sqlite\\s*$`, 'm'));
  assert.match(out, new RegExp(`Logs: +${dir}/log/ttySIM0\\.log`));
  assert.ok(existsSync(join(dir, 'calls.sqlite')), 'the records are in the demo dir');
  assert.ok(existsSync(join(dir, 'run', 'tgetty.sock')), 'the status socket is in the demo dir');
  writeFileSync(go, '');
  await done;
  assert.match(out, /^DURING: *$/m, out);
  assert.match(out, /^EXIT 0$/m, out);
  assert.match(out, /^AFTER: *$/m, out);
  assert.equal(existsSync(dir), false, 'the temp demo dir is removed');
});
