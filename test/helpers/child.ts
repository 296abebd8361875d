/**
 * A child process a test started: its output collected (stdout and stderr together, capped),
 * a promise of its exit code, and a stop that ends it by its pid only (SIGTERM, then SIGKILL
 * after a grace time). Tests, helpers and benches share this instead of each wiring spawn.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface Child {
  proc: ChildProcess;
  /** Everything it wrote so far (stdout and stderr interleaved, at most `maxOutput` chars). */
  output(): string;
  /** Its exit code (null when a signal ended it). */
  exited: Promise<number | null>;
  /** End it if it still runs: `signal` (default SIGTERM), SIGKILL after `graceMs` (default 3 s). */
  stop(opts?: { signal?: NodeJS.Signals; graceMs?: number }): Promise<void>;
}

export function startChild(cmd: string, args: readonly string[], opts: Omit<SpawnOptions, 'stdio'> & { maxOutput?: number } = {}): Child {
  const { maxOutput = 1 << 20, ...spawnOpts } = opts;
  const proc = spawn(cmd, args, { ...spawnOpts, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (b: Buffer): void => {
    if (out.length < maxOutput) out += b.toString();
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  const exited = new Promise<number | null>((res) => proc.on('exit', (code) => res(code)));
  return {
    proc,
    output: () => out,
    exited,
    async stop({ signal = 'SIGTERM', graceMs = 3000 } = {}) {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill(signal);
      const k = signal === 'SIGKILL' ? undefined : setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      if (k !== undefined) clearTimeout(k);
    },
  };
}
