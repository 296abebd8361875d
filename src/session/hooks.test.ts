// cnd-program / cid-program runner against real programs (sh scripts in a temp dir):
// argv without a shell, call data in the environment, exit status, missing program,
// running as another user, and the kill on time-out.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, type Logger } from '../log/logger.js';
import { getpwnam } from '../os/passwd.js';
import { hookRunner } from './hooks.js';

interface Rig {
  dir: string;
  log: Logger;
  lines: string[];
  script: (name: string, body: string) => string;
}

function rig(t: TestContext): Rig {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-hooks-'));
  // Readable and writable for `nobody` too (the run-as-user test).
  chmodSync(dir, 0o777);
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const lines: string[] = [];
  const log = createLogger({ device: 'ttyT0', level: 9, file: null, audit: 'none', stderr: (s) => lines.push(s) });
  const script = (name: string, body: string): string => {
    const p = join(dir, name);
    // OUT_DIR is set in the script: a hook's environment carries only allow-listed variables.
    writeFileSync(p, `#!/bin/sh\nOUT_DIR='${dir}'\n${body}\n`);
    chmodSync(p, 0o755);
    return p;
  };
  return { dir, log, lines, script };
}

/** Writes each argument NUL-terminated, then the call environment, to files in the temp dir. */
const RECORDER = [
  'for a in "$@"; do printf "%s\\0" "$a"; done > "$OUT_DIR/argv"',
  'printf "%s\\n" "CALLER_ID=$CALLER_ID" "CALLER_NAME=$CALLER_NAME" "CALLED_ID=$CALLED_ID" "CONNECT=$CONNECT" "DEVICE=$DEVICE" > "$OUT_DIR/env"',
  'exit 7',
].join('\n');

test('hooks: argv is passed as is, without a shell; call data in the environment; the exit status comes back', async (t) => {
  const r = rig(t);
  const prog = r.script('rec.sh', RECORDER);
  const pwned = join(r.dir, 'pwned');
  // What a caller controls: spaces, both quote kinds, a command substitution, a ; and a backtick.
  const name = `JOE "X" O'Neil $(touch ${pwned}) ; touch ${pwned} \`touch ${pwned}\``;
  const args = ['ttyS1', '5551234', name, '2', '0815'];
  const env = { CALLER_ID: '5551234', CALLER_NAME: name, CALLED_ID: '0815', CONNECT: '', DEVICE: 'ttyS1' };
  const status = await hookRunner(r.log)(prog, args, env, undefined);
  assert.equal(status, 7);
  const argv = readFileSync(join(r.dir, 'argv'), 'utf8').split('\0');
  assert.deepEqual(argv, [...args, ''], 'exactly five arguments, byte for byte');
  assert.equal(existsSync(pwned), false, 'nothing in the caller data was executed');
  const envText = readFileSync(join(r.dir, 'env'), 'utf8');
  assert.match(envText, /^CALLER_ID=5551234$/m);
  assert.ok(envText.includes(`CALLER_NAME=${name}\n`));
  assert.match(envText, /^CALLED_ID=0815$/m);
  assert.match(envText, /^DEVICE=ttyS1$/m);
});

test('hooks: the program output goes to the log, not to a console', async (t) => {
  const r = rig(t);
  const prog = r.script('talk.sh', 'echo "hello from the hook"; echo "on stderr" >&2; exit 0');
  assert.equal(await hookRunner(r.log)(prog, ['ttyS1', 'none', '', '0', ''], {}, undefined), 0);
  // The output is read asynchronously: let the pipes drain.
  for (let i = 0; i < 50 && !r.lines.some((l) => l.includes('on stderr')); i++) await new Promise((res) => setTimeout(res, 10));
  assert.ok(r.lines.some((l) => l.includes(`${prog}: hello from the hook`)), r.lines.join(''));
  assert.ok(r.lines.some((l) => l.includes(`${prog}: on stderr`)), r.lines.join(''));
});

test('hooks: a program that does not exist (or cannot be run) gives undefined and an error in the log', async (t) => {
  const r = rig(t);
  assert.equal(await hookRunner(r.log)(join(r.dir, 'no-such-program'), ['ttyS1', 'none', '', '0', ''], {}, undefined), undefined);
  assert.ok(r.lines.some((l) => /cannot run hook .*no-such-program/.test(l)), r.lines.join(''));
  const notExec = join(r.dir, 'plain.txt');
  writeFileSync(notExec, 'exit 0\n');
  assert.equal(await hookRunner(r.log)(notExec, [], {}, undefined), undefined);
});

test('hooks: an unknown user means the program is not run', async (t) => {
  const r = rig(t);
  const prog = r.script('touch.sh', `touch "${join(r.dir, 'ran')}"`);
  assert.equal(await hookRunner(r.log)(prog, [], {}, 'no-such-user-tgetty'), undefined);
  assert.equal(existsSync(join(r.dir, 'ran')), false);
  assert.ok(r.lines.some((l) => l.includes("unknown user 'no-such-user-tgetty'")), r.lines.join(''));
});

test('hooks: cnd-program-user runs the program as that user (nobody)', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to switch users');
  const nobody = getpwnam('nobody');
  if (nobody === undefined) return t.skip('no user nobody');
  const r = rig(t);
  const prog = r.script('id.sh', 'id -u > "$OUT_DIR/uid"; id -g > "$OUT_DIR/gid"; id -G > "$OUT_DIR/groups"');
  assert.equal(await hookRunner(r.log)(prog, [], {}, 'nobody'), 0);
  assert.equal(readFileSync(join(r.dir, 'uid'), 'utf8').trim(), String(nobody.uid));
  assert.equal(readFileSync(join(r.dir, 'gid'), 'utf8').trim(), String(nobody.gid));
  // root's supplementary groups must not leak into the hook.
  assert.equal(readFileSync(join(r.dir, 'groups'), 'utf8').trim(), String(nobody.gid));
});

test('hooks: the environment is the allow-list plus the call data; HOME/USER from cnd-program-user', async (t) => {
  const r = rig(t);
  const prog = r.script('env.sh', 'env > "$OUT_DIR/env.$(id -u)"');
  const saved = { ...process.env };
  t.after(() => {
    for (const k of ['FAKE_SECRET', 'LD_LIBRARY_PATH', 'NODE_OPTIONS', 'TZ', 'LANG']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });
  process.env.FAKE_SECRET = 'hunter2';
  process.env.LD_LIBRARY_PATH = '/tmp/evil';
  process.env.NODE_OPTIONS = '--max-old-space-size=96';
  process.env.TZ = 'UTC';
  process.env.LANG = 'C.UTF-8';
  const read = (uid: number): Map<string, string> =>
    new Map(readFileSync(join(r.dir, `env.${uid}`), 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  assert.equal(await hookRunner(r.log)(prog, [], { CALLER_ID: '5551234', CONNECT: '', DEVICE: 'ttyS1', OUT_DIR: '/tmp' }, undefined), 0);
  const env = read(process.getuid?.() ?? 0);
  // The shell adds PWD (and dash nothing else); everything else is ours.
  env.delete('PWD');
  assert.deepEqual([...env.keys()].sort(), ['CALLER_ID', 'CONNECT', 'DEVICE', 'LANG', 'PATH', 'TZ']);
  if (process.getuid?.() !== 0) return;
  const nobody = getpwnam('nobody');
  if (nobody === undefined) return;
  assert.equal(await hookRunner(r.log)(prog, [], { CONNECT: '', DEVICE: 'ttyS1' }, 'nobody'), 0);
  const env2 = read(nobody.uid);
  assert.equal(env2.get('HOME'), nobody.dir);
  assert.equal(env2.get('USER'), 'nobody');
  assert.equal(env2.get('LOGNAME'), 'nobody');
  assert.equal(env2.get('SHELL'), nobody.shell);
  assert.equal(env2.get('FAKE_SECRET'), undefined);
});

// The test time-out is the failure mode if the runner waited for the sleep.
test('hooks: a program that hangs is killed after the time-out, with the children it started', { timeout: 20_000 }, async (t) => {
  const r = rig(t);
  const pidFile = join(r.dir, 'child.pid');
  // Not `exec sleep`: the sleep is a child of the shell and holds its stdout open.
  const prog = r.script('hang.sh', `sleep 600 &\necho $! > "${pidFile}"\nwait`);
  t.after(() => {
    // Safety net only: the hook runner must have killed it already.
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : 0;
    if (pid > 0 && alive(pid)) process.kill(pid, 'SIGKILL');
  });
  const status = await hookRunner(r.log, 300)(prog, [], {}, undefined);
  const childPid = Number(readFileSync(pidFile, 'utf8').trim());
  assert.equal(status, undefined, 'a killed hook has no exit status');
  assert.ok(r.lines.some((l) => l.includes('still running after 300 ms: killing it')), r.lines.join(''));
  for (let i = 0; i < 100 && alive(childPid); i++) await new Promise((res) => setTimeout(res, 10));
  assert.equal(alive(childPid), false, 'the grandchild was killed too');
});

/** Running (a zombie waiting for its reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
