/**
 * Security review, issue 15 item 4: after `kill -9` of the daemon mid-call, the restarted
 * daemon takes the line back. The session left behind is the worst case: a reader that
 * ignores SIGHUP (only SIGKILL ends it) with a second reader that dies of SIGHUP in its
 * session, plus a process in a session of its own that holds the tty without reading it
 * (it could read the next caller's typing). The caller hangs up and the modem goes back to
 * command mode without a line hang-up (as a real modem does on a serial port that stays
 * the same device: the simulator's line hang-up is delayed for this), so the orphans sit
 * on the very tty the restarted daemon initialises.
 *
 * The real binary (`tgetty serve`) against the simulator in this process, every path in
 * a temp dir. Every process the test (or its daemon's session) started is ended by pid.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createBank, type SimBank } from '../../src/sim/index.js';
import { DEAD_PROCESS, LOGIN_PROCESS, readUtmp } from '../../src/os/utmp.js';
import { startChild, type Child } from '../helpers/child.js';
import { waitFor } from '../helpers/leaks.js';
import { tempSystem, type TempSystem } from '../helpers/temp-system.js';

const skip = process.getuid?.() === 0 ? undefined : 'needs root (login.config owned by root; TIOCVHANGUP needs CAP_SYS_ADMIN)';
const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');

/**
 * The session: (b) first, in its own session, holding the tty as stdin and reading one
 * line only when told to (file `go`); then a reader that dies of SIGHUP; then the session
 * leader becomes a reader that ignores SIGHUP (an ignored signal stays ignored across exec).
 */
function orphanScript(dir: string): string {
  return `#!/bin/sh
D=${dir}
# An asynchronous list's stdin is /dev/null before its own redirections: pass the tty on fd 3.
exec 3<&0
setsid sh -c 'echo $$ > "$0/b.pid"; while :; do if [ -e "$0/go" ]; then rm -f "$0/go"; if IFS= read -r x; then echo "read:$x" > "$0/b.res"; else echo "eof" > "$0/b.res"; fi; fi; sleep 0.1 </dev/null; done' "$D" <&3 3<&- >/dev/null 2>&1 &
cat <&3 3<&- >/dev/null &
echo $! > "$D/cat.pid"
echo $$ > "$D/a.pid"
exec 3<&-
trap '' HUP
echo ORPHAN READY
exec cat >/dev/null
`;
}

function alive(pid: number): boolean {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return !/^\d+ \(.*\) [ZX] /.test(st);
  } catch {
    return false;
  }
}

function pidIn(file: string): number | undefined {
  if (!existsSync(file)) return undefined;
  const n = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(n) && n > 1 ? n : undefined;
}

interface Rig {
  sys: TempSystem;
  bank: SimBank;
  serve(): Child;
  logText(): string;
}

async function rig(t: TestContext): Promise<Rig> {
  const sys = tempSystem('tgetty-takeover-');
  writeFileSync(join(sys.etc, 'mgetty.config'), 'toggle-dtr no\nfido-send-emsi no\nlogin-prompt login:\nhangup-grace 2\n');
  writeFileSync(join(sys.etc, 'orphan.sh'), orphanScript(sys.root));
  chmodSync(join(sys.etc, 'orphan.sh'), 0o755);
  writeFileSync(join(sys.etc, 'login.config'), `orphan - - ${sys.etc}/orphan.sh\n* - - /bin/true\n`);
  chmodSync(join(sys.etc, 'login.config'), 0o600);
  // The modem goes back to command mode when the caller hangs up, but the line (the pty)
  // is not hung up for 10 minutes: the tty stays the same device, as a serial port does.
  const bank = await createBank({ lines: 1, dir: sys.sim, hangupDelayMs: 600_000 });
  const children: Child[] = [];
  t.after(async () => {
    for (const c of children) await c.stop({ signal: 'SIGKILL' });
    // The session's processes, by the pids they wrote (only while they are what we started).
    for (const f of ['b.pid', 'cat.pid', 'a.pid']) {
      const pid = pidIn(join(sys.root, f));
      if (pid !== undefined && alive(pid) && /^(sh|cat)\b/.test(readFileSync(`/proc/${pid}/cmdline`, 'latin1'))) process.kill(pid, 'SIGKILL');
    }
    await bank.close();
    rmSync(sys.root, { recursive: true, force: true });
  });
  return {
    sys,
    bank,
    serve: () => {
      const c = startChild(process.execPath, [BIN, 'serve', ...sys.args, '--lines', join(sys.sim, 'ttySIM0')]);
      children.push(c);
      return c;
    },
    logText: () => {
      const f = join(sys.log, 'ttySIM0.log');
      return existsSync(f) ? readFileSync(f, 'utf8') : '';
    },
  };
}

const idleCount = (text: string): number => text.split('  waiting...\n').length - 1;

test('kill -9 of the daemon mid-call: the restarted daemon ends the orphaned session, revokes old fds, marks utmp dead, and answers the next call at once', { skip }, async (t) => {
  const r = await rig(t);
  const line = r.bank.line(0);
  const first = r.serve();
  let call: ReturnType<typeof line.call> | undefined;
  try {
    await waitFor(() => idleCount(r.logText()) >= 1, 20_000, 'the line idle');
    call = line.call({ cidFormat: 'none' });
    await call.waitFor(/login:/, 10_000);
    call.write('orphan\r');
    await call.waitFor(/ORPHAN READY/, 10_000);
    await waitFor(() => ['a.pid', 'b.pid', 'cat.pid'].every((f) => pidIn(join(r.sys.root, f)) !== undefined), 5_000, 'the session pids');
  } catch (err) {
    t.diagnostic(r.logText().slice(-4000));
    throw err;
  }
  const pidA = pidIn(join(r.sys.root, 'a.pid')) ?? 0;
  const pidB = pidIn(join(r.sys.root, 'b.pid')) ?? 0;
  const pidCat = pidIn(join(r.sys.root, 'cat.pid')) ?? 0;
  const slave = line.slave;
  const utLine = slave.slice(5);
  assert.ok(
    readUtmp(r.sys.utmp).some((x) => x.line === utLine && x.type === LOGIN_PROCESS && x.pid === pidA),
    'the session has its LOGIN_PROCESS record',
  );

  for (const [name, p] of [['a', pidA], ['b', pidB], ['cat', pidCat]] as const) assert.ok(alive(p), `${name} (${p}) runs`);
  // The daemon dies mid-call; then the caller hangs up (NO CARRIER, the tty stays).
  first.proc.kill('SIGKILL');
  await first.exited;
  call?.hangup();
  await new Promise((res) => setTimeout(res, 300));
  for (const [name, p] of [['a', pidA], ['b', pidB], ['cat', pidCat]] as const) assert.ok(alive(p), `orphan ${name} (${p}) still there before the restart`);
  assert.equal(line.slave, slave, 'the same tty');

  const before = r.logText().length;
  const restartedAt = Date.now();
  r.serve();
  const after = (): string => r.logText().slice(before);
  try {
    // Promptly: the grace (2 s) and one init chat, not 90 s of init chats swallowed by an orphan.
    await waitFor(() => idleCount(after()) >= 1, 15_000, 'the restarted line idle');
    const took = Date.now() - restartedAt;
    t.diagnostic(`restart to idle: ${took} ms`);
    // The session is gone: the reader that ignored SIGHUP took a SIGKILL.
    await waitFor(() => !alive(pidA) && !alive(pidCat), 5_000, 'the orphaned session gone');
    const log = after();
    assert.match(log, new RegExp(`takeover: ending pid ${pidA} \\(session ${pidA}, .*\\) left on ${slave} .*: SIGHUP`));
    assert.match(log, new RegExp(`takeover: pid ${pidA} \\(.*\\) still running 2 s after SIGHUP: SIGKILL`));
    assert.match(log, new RegExp(`takeover: pid ${pidB} \\(session ${pidB}, "sh -c .*"\\) holds an fd on ${slave}: revoked by the hang-up`));
    assert.match(log, new RegExp(`takeover: stale utmp record of pid ${pidA} on ${utLine} \\(LOGIN_PROCESS, user "LOGIN"\\) marked DEAD_PROCESS`));
    assert.match(log, new RegExp(`takeover: revoked every open fd on ${slave} \\(TIOCVHANGUP\\)`));
    const recs = readUtmp(r.sys.utmp).filter((x) => x.line === utLine);
    assert.ok(recs.length > 0 && recs.every((x) => x.type === DEAD_PROCESS), `utmp of ${utLine}: ${JSON.stringify(recs)}`);
    // (b) was not signalled (it is not the session), but its fd is revoked: a read ends at once.
    assert.ok(alive(pidB), 'the fd holder is not killed');
    writeFileSync(join(r.sys.root, 'go'), '');
    await waitFor(() => existsSync(join(r.sys.root, 'b.res')), 5_000, 'the fd holder\'s read to end');
    assert.equal(readFileSync(join(r.sys.root, 'b.res'), 'utf8').trim(), 'eof');
    // The next caller gets the line: issue and prompt, and nobody else reads its typing.
    const next = line.call({ cidFormat: 'none' });
    await next.waitFor(/login:/, 10_000);
    next.hangup();
  } catch (err) {
    t.diagnostic(after().slice(-6000));
    throw err;
  }
});
