/**
 * Tests that need Debian's real `cu` re-run their own file inside a private mount
 * namespace with a tmpfs over the lock dir (cu's lock dir is compiled in), so the
 * machine's /var/lock is never touched. The inner run prints one JSON line.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** cu's compiled-in lock dir. */
export const CU_LOCK_DIR = '/var/lock';

export function which(prog: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${prog}`], { stdio: 'ignore' }).status === 0;
}

/** Why a cu test cannot run here, or undefined. */
export function cuSkipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (unshare -m, tmpfs over the lock dir)';
  if (!which('cu')) return 'cu not installed';
  if (!which('unshare')) return 'unshare not installed';
  return undefined;
}

/**
 * Run the test file `selfUrl` again inside `unshare -m` with `innerEnv=1` and a fresh
 * tmpfs over CU_LOCK_DIR; return the JSON object its last output line holds, with the
 * inner run's exit status.
 */
export function runInPrivateLockDir<T>(selfUrl: string, innerEnv: string, timeoutMs: number): { res: T; status: number | null; stderr: string } {
  const script = 'set -e; d=$(realpath "$LOCKDIR"); mount -t tmpfs -o mode=1777 tgetty-lock "$d"; exec "$NODE" "$SELF"';
  const r = spawnSync('unshare', ['-m', '--propagation', 'private', 'bash', '-c', script], {
    env: { ...process.env, [innerEnv]: '1', LOCKDIR: CU_LOCK_DIR, NODE: process.execPath, SELF: fileURLToPath(selfUrl) },
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  assert.ok(line.startsWith('{'), `inner run printed no result (status ${r.status}): ${r.stderr}`);
  return { res: JSON.parse(line) as T, status: r.status, stderr: r.stderr };
}
