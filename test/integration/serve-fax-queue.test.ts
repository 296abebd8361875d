// `tgetty serve --fax-queue DIR --fax-sender PROGRAM` as a user runs it: a job queued with
// `tgetty fax queue` before the daemon starts is sent on the line once it is idle, the
// job is done in `tgetty fax list`, and SIGTERM stops the daemon cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBank } from '../../src/sim/index.js';
import { startChild } from '../helpers/child.js';
import { waitFor } from '../helpers/leaks.js';

const skip = process.getuid?.() === 0 ? undefined : 'needs root (login.config owned by root, as in production)';
const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');

test('serve --fax-queue: a queued job goes out on the idle line with the sender given; fax list shows it done', { skip }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-serve-faxq-'));
  const d = { sim: join(root, 'sim'), etc: join(root, 'etc'), lock: join(root, 'lock'), log: join(root, 'log'), run: join(root, 'run') };
  for (const x of Object.values(d)) mkdirSync(x);
  writeFileSync(join(root, 'utmp'), '');
  writeFileSync(join(root, 'wtmp'), '');
  writeFileSync(join(d.etc, 'mgetty.config'), 'toggle-dtr no\nnotify\n');
  writeFileSync(join(d.etc, 'login.config'), '* - - /bin/true\n');
  chmodSync(join(d.etc, 'login.config'), 0o600);
  const argv = join(root, 'argv');
  const sender = join(root, 'sender');
  writeFileSync(sender, `#!/bin/sh\nprintf '%s\\n' "$@" > ${argv}\nexit 0\n`);
  chmodSync(sender, 0o755);
  const q = join(root, 'outgoing');
  writeFileSync(join(root, 'a.g3'), 'G3');
  const cli = (...args: string[]): string => execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  const id = cli('fax', 'queue', '--spool-out', q, '--no-mail', '5551234', join(root, 'a.g3')).trim();
  const bank = await createBank({ lines: 1, dir: d.sim });
  const paths = ['--config-dir', d.etc, '--lock-dir', d.lock, '--log-dir', d.log, '--run-dir', d.run, '--utmp', join(root, 'utmp'), '--wtmp', join(root, 'wtmp'), '--no-records'];
  const c = startChild(process.execPath, [BIN, 'serve', ...paths, '--lines', `${d.sim}/ttySIM0`, '--fax-queue', q, '--fax-sender', sender]);
  t.after(async () => {
    await c.stop({ signal: 'SIGKILL' });
    await bank.close();
    rmSync(root, { recursive: true, force: true });
  });
  const status = (): { status: string; history: { line: string }[] } => (JSON.parse(cli('fax', 'list', '--json', '--spool-out', q)) as { status: string; history: { line: string }[] }[])[0];
  await waitFor(() => status().status === 'done', 30_000, `job ${id} done; serve said: ${c.output()}`);
  assert.deepEqual(readFileSync(argv, 'utf8').trim().split('\n').slice(0, 4), ['-r', '-l', `${d.sim}/ttySIM0`, '5551234']);
  assert.equal(status().history[0].line, `${d.sim}/ttySIM0`);
  await c.stop();
  assert.equal(await c.exited, 0, c.output());
});
