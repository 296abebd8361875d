// Fault injection, files around the line: a full or unwritable log, an unwritable utmp,
// a missing login program, a config replaced by a broken one and reloaded. The daemon
// runs in this process on simulated lines; after each case the line must answer a normal
// call again and nothing may be left behind (fds, children, locks, utmp records).
// See docs/fault-injection.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { daemonRig, waitFor } from '../helpers/leaks.js';

const skip = process.getuid?.() === 0 ? undefined : 'needs root (login.config must be owned by root)';

/** Everything written to process.stderr while `fn` runs (the loggers' fallback). */
async function capturingStderr(fn: (text: () => string) => Promise<void>): Promise<void> {
  let text = '';
  const orig = Object.getOwnPropertyDescriptor(process.stderr, 'write');
  const passOn = process.stderr.write.bind(process.stderr);
  Object.defineProperty(process.stderr, 'write', {
    configurable: true,
    writable: true,
    value: (chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
      text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
      return Reflect.apply(passOn, process.stderr, [chunk, ...rest]) as boolean;
    },
  });
  try {
    await fn(() => text);
  } finally {
    if (orig !== undefined) Object.defineProperty(process.stderr, 'write', orig);
    else delete (process.stderr as { write?: unknown }).write;
  }
}

test('log file refused (a symlink planted in the log dir: ELOOP) or not writable (EISDIR): the logger falls back to stderr and the lines keep answering', { skip }, async (t) => {
  await capturingStderr(async (stderr) => {
    const r = await daemonRig(t, {
      lines: 2,
      setup: (p) => {
        // A symlink where the file should be (this used to be the way to get ENOSPC from
        // /dev/full): log files are opened O_NOFOLLOW, so it is refused (issue 15). ENOSPC on
        // write is covered by src/log/logger.test.ts with /dev/full named explicitly.
        symlinkSync('/dev/full', join(p.log, 'ttySIM0.log'));
        // A directory where the file should be: it cannot even be opened.
        mkdirSync(join(p.log, 'ttySIM1.log'));
      },
    });
    await waitFor(() => /cannot open log file .*ttySIM0\.log: ELOOP; logging to stderr/.test(stderr()), 20_000, 'the ELOOP warning on stderr');
    await waitFor(() => /cannot open log file .*ttySIM1\.log: EISDIR; logging to stderr/.test(stderr()), 20_000, 'the EISDIR warning on stderr');
    // The entries themselves are on stderr.
    await waitFor(() => /IM0 {2}waiting\.\.\./.test(stderr()) && /IM1 {2}waiting\.\.\./.test(stderr()), 20_000, 'log entries on stderr');
    await r.inService(0);
    await r.inService(1);
    assert.match(stderr(), /##### data dev=ttySIM0/);
    await r.finish();
  });
});

test('utmp cannot be written: clear error, the call goes on without records, the line answers again', { skip }, async (t) => {
  const r = await daemonRig(t, {
    setup: (p) => {
      rmSync(p.utmp);
      mkdirSync(p.utmp);
    },
  });
  await r.inService(0);
  assert.match(r.logText(0), /utmp: cannot write type=6 for pts\/\d+ to .*utmp/);
  assert.match(r.logText(0), /utmp: cannot write type=8 /);
  await r.inService(0);
  await r.finish();
});

test('the login program is missing: the caller is told, the call is refused, the line answers the next call', { skip }, async (t) => {
  const r = await daemonRig(t, { loginEntries: 'ghost - - /nonexistent/ghost-login\n' });
  await r.waitState(0, 'idle', 20_000);
  const call = r.bank.line(0).call({ cidFormat: 'none' });
  await call.waitFor(/login:/, 10_000);
  call.write('ghost\r');
  await call.waitFor(/cannot execute '\/nonexistent\/ghost-login': No such file or directory/, 10_000);
  await r.waitLog(0, /cannot execute '\/nonexistent\/ghost-login'/, 5_000);
  await waitFor(() => r.events.some((e) => e.type === 'call-end'), 10_000, 'call-end');
  const end = r.events.find((e) => e.type === 'call-end');
  assert.equal(end?.type === 'call-end' && end.outcome, 'refused');
  await r.inService(0);
  await r.finish();
});

test('the config is replaced by a broken one and reloaded: rejected with the reason, the old config stays, calls go on', { skip }, async (t) => {
  const r = await daemonRig(t, { lines: 2 });
  await r.waitState(0, 'idle', 20_000);
  await r.waitState(1, 'idle', 20_000);
  // Line 1 is in a call (at the prompt) during the reload.
  const call = r.bank.line(1).call({ cidFormat: 'none' });
  await call.waitFor(/login:/, 10_000);
  r.writeConfig('toggle-dtr no\nspeed 12345\nlogin-prompt BROKEN:\nport ttySIM0\nport ttySIM1\n');
  const res = await r.daemon.reload();
  assert.equal(res.ok, false);
  assert.match(res.errors.join('\n'), /12345/);
  assert.match(r.daemonLog.join(''), /reload rejected, keeping the running configuration: .*12345/s);
  assert.match(r.daemon.status().lastReloadError ?? '', /12345/);
  call.write('during\r');
  await call.waitFor(/REC login during on ttySIM1/, 10_000);
  // Both lines answer with the old settings (the old prompt).
  await r.inService(0);
  await r.inService(1);
  assert.doesNotMatch(r.bank.line(0).toDte.all + r.bank.line(1).toDte.all, /BROKEN/);
  await r.finish();
});
