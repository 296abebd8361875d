import { spawn } from 'node:child_process';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { c_fcntl } from './ffi.js';
import { isCloexec } from './fds.js';
import { decodeWaitStatus, pipeCloexec, spawnChild, watchExit } from './spawn.js';

test('decodeWaitStatus: an exit status, a signal, a signal with a core dump', () => {
  assert.deepEqual(decodeWaitStatus(3 << 8), { code: 3, signal: null });
  assert.deepEqual(decodeWaitStatus(0), { code: 0, signal: null });
  assert.deepEqual(decodeWaitStatus(1), { code: null, signal: 'SIGHUP' });
  assert.deepEqual(decodeWaitStatus(9), { code: null, signal: 'SIGKILL' });
  assert.deepEqual(decodeWaitStatus(0x80 | 11), { code: null, signal: 'SIGSEGV' });
});

test('spawnChild: the fds given and no other, every signal default and none blocked, the env and cwd as given; the exit is reaped', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-spawn-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const out = openSync(join(dir, 'out'), 'w');
  // An fd without close-on-exec must not reach the child either (closefrom).
  const stray = openSync(join(dir, 'stray'), 'w');
  c_fcntl(stray, 2 /* F_SETFD */, 'int', 0);
  assert.equal(isCloexec(stray), false);
  const [r, w] = pipeCloexec();
  let pid: number;
  try {
    const script = [
      'read -r go <&3',
      'echo "go=$go"',
      'grep -E "^(SigIgn|SigBlk)" /proc/$$/status | tr -d "\\t"',
      'echo "fds=$(ls /proc/$$/fd | sort -n | tr "\\n" " ")"',
      'echo "cwd=$(pwd) env=$(env | sort | tr "\\n" " ")"',
      'exit 7',
    ].join('; ');
    pid = await spawnChild({ path: '/bin/sh', argv: ['/bin/sh', '-c', script], env: { ONLY: 'this one' }, cwd: dir, fds: [r, out, out, r] });
  } finally {
    closeSync(out);
    closeSync(stray);
    closeSync(r);
  }
  const exited = watchExit(pid);
  // The child waits for our line on fd 3 (the gate's pattern).
  writeSync(w, 'yes\n');
  closeSync(w);
  assert.deepEqual(await exited, { code: 7, signal: null });
  const text = readFileSync(join(dir, 'out'), 'utf8');
  assert.match(text, /^go=yes$/m);
  assert.match(text, /^SigIgn:0000000000000000$/m, 'nothing ignored (Node ignores SIGPIPE; glibc would leave 32 and 33 ignored)');
  assert.match(text, /^SigBlk:0000000000000000$/m);
  // 0-3 as given; ls's own directory fd shows too (the highest), nothing else
  const fds = /^fds=(.*)$/m.exec(text)?.[1]?.trim().split(' ').map(Number) ?? [];
  assert.deepEqual(fds.slice(0, 4), [0, 1, 2, 3]);
  assert.ok(fds.length <= 5, `the stray fd ${stray} or another reached the child: ${fds.join(' ')}`);
  assert.match(text, new RegExp(`^cwd=${dir} env=(PWD=${dir} )?ONLY=this one `, 'm'));
});

test('watchExit: a signal death is reported by name; a missing program is an error and nothing runs', async () => {
  const pid = await spawnChild({ path: '/bin/sh', argv: ['/bin/sh', '-c', 'kill -TERM $$'], env: {}, cwd: '/', fds: [0, 1, 2] });
  assert.deepEqual(await watchExit(pid), { code: null, signal: 'SIGTERM' });
  await assert.rejects(spawnChild({ path: '/nonexistent/prog', argv: ['prog'], env: {}, cwd: '/', fds: [0, 1, 2] }), /posix_spawn \/nonexistent\/prog: No such file or directory/);
});

test('watchExit beside libuv children: both kinds exiting together are each reported once, with their own status', async () => {
  // reap() waits only for the pids it was given: a Node child_process child exiting in the
  // same SIGCHLD must still reach libuv (its exit event), and ours must not be lost to it.
  const node = Array.from({ length: 4 }, (_, i) => spawn('/bin/sh', ['-c', `exit ${10 + i}`], { stdio: 'ignore' }));
  const nodeExits = node.map((c) => new Promise<[number | null, string | null]>((r) => c.once('exit', (code, sig) => r([code, sig]))));
  const ours = await Promise.all([0, 1, 2, 3].map((i) => spawnChild({ path: '/bin/sh', argv: ['/bin/sh', '-c', `exit ${20 + i}`], env: {}, cwd: '/', fds: [0, 1, 2] })));
  const ourExits = ours.map((pid) => watchExit(pid));
  assert.deepEqual(await Promise.all(ourExits), [20, 21, 22, 23].map((code) => ({ code, signal: null })));
  assert.deepEqual(await Promise.all(nodeExits), [[10, null], [11, null], [12, null], [13, null]]);
  // Reaped once: a second wait on our pids finds nothing (ECHILD), it does not hang.
  const again = await Promise.all(ours.map((pid) => watchExit(pid)));
  assert.deepEqual(again, ours.map(() => ({ code: null, signal: null })));
});
