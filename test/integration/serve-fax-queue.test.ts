// `tgetty serve --fax-queue DIR --fax-sender PROGRAM` as a user runs it: a job queued with
// `tgetty fax queue` before the daemon starts is sent on the line once it is idle, the
// job is done in `tgetty fax list`, and SIGTERM stops the daemon cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
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

test('serve --fax-queue: a job queued while it runs goes out at once; on SIGTERM it waits for the running sender, and the job is done', { skip }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-serve-faxq-'));
  const d = { sim: join(root, 'sim'), etc: join(root, 'etc'), lock: join(root, 'lock'), log: join(root, 'log'), run: join(root, 'run') };
  for (const x of Object.values(d)) mkdirSync(x);
  writeFileSync(join(root, 'utmp'), '');
  writeFileSync(join(root, 'wtmp'), '');
  writeFileSync(join(d.etc, 'mgetty.config'), 'toggle-dtr no\nnotify\n');
  writeFileSync(join(d.etc, 'login.config'), '* - - /bin/true\n');
  chmodSync(join(d.etc, 'login.config'), 0o600);
  const sender = join(root, 'sender');
  // "Sends" until the gate file is there; SIGTERM would leave a mark.
  writeFileSync(sender, `#!/bin/sh\ntrap 'touch ${root}/term; exit 15' TERM\necho $$ > ${root}/pid\nwhile [ ! -e ${root}/gate ]; do sleep 0.05; done\nexit 0\n`);
  chmodSync(sender, 0o755);
  const q = join(root, 'outgoing');
  mkdirSync(q);
  writeFileSync(join(root, 'a.g3'), 'G3');
  const cli = (...args: string[]): string => execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  const bank = await createBank({ lines: 1, dir: d.sim });
  const paths = ['--config-dir', d.etc, '--lock-dir', d.lock, '--log-dir', d.log, '--run-dir', d.run, '--utmp', join(root, 'utmp'), '--wtmp', join(root, 'wtmp'), '--no-records'];
  const c = startChild(process.execPath, [BIN, 'serve', ...paths, '--lines', `${d.sim}/ttySIM0`, '--fax-queue', q, '--fax-sender', sender]);
  t.after(async () => {
    await c.stop({ signal: 'SIGKILL' });
    const pid = existsSync(join(root, 'pid')) ? Number(readFileSync(join(root, 'pid'), 'utf8')) : 0;
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await bank.close();
    rmSync(root, { recursive: true, force: true });
  });
  const logs = (): string => readdirSync(d.log).map((f) => readFileSync(join(d.log, f), 'utf8')).join('');
  const lineState = (): string | undefined => {
    try {
      return (JSON.parse(cli('status', '--run-dir', d.run, '--json')) as { lines: { state: string }[] }).lines[0]?.state;
    } catch {
      return undefined; // the status socket is not there yet
    }
  };
  await waitFor(() => /runner started/.test(logs()) && lineState() === 'idle', 30_000, `the runner and an idle line; serve said: ${c.output()}`);
  // Queued after the start: inotify on the queue dir wakes the runner (no 60 s poll to wait for).
  const id = cli('fax', 'queue', '--spool-out', q, '--no-mail', '5551234', join(root, 'a.g3')).trim();
  await waitFor(() => existsSync(join(root, 'pid')), 10_000, `the sender to start; serve said: ${c.output()}`);
  c.proc.kill('SIGTERM');
  await waitFor(() => /waiting up to 20 s for 1 sender/.test(logs()), 10_000, `serve to wait for the sender; log: ${logs()}`);
  assert.equal(c.proc.exitCode, null, 'serve is still there while its sender sends');
  writeFileSync(join(root, 'gate'), '');
  assert.equal(await c.exited, 0, c.output());
  assert.equal(existsSync(join(root, 'term')), false, 'finished within the grace time: not signalled');
  const job = (JSON.parse(cli('fax', 'list', '--json', '--spool-out', q)) as { id: string; status: string }[]).find((j) => j.id === id);
  assert.equal(job?.status, 'done');
});
