/**
 * Run the real `tgetty sendfax` (bin/tgetty.mjs) as a child with its paths in a temp
 * tree (config dir with an optional sendfax.config, lock dir, log dir), as faxrunq would
 * run sendfax. The child is ours and is killed by pid on time-out.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startChild } from './child.js';
import { tempSystem } from './temp-system.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');

export interface SendfaxRun {
  code: number | null;
  output: string;
  /** LOG-DIR/sendfax.log. */
  log: string;
}

export interface SendfaxRunOptions {
  args: string[];
  sendfaxConfig?: string;
  /** Share a lock dir with a getty (default: a fresh one). */
  lockDir?: string;
  timeoutMs?: number;
  /** Called with the child once it runs (to watch it, e.g. for its lock). */
  started?: (pid: number) => void;
}

export async function runSendfax(o: SendfaxRunOptions): Promise<SendfaxRun> {
  const sys = tempSystem('tgetty-sendfax-run-');
  try {
    if (o.sendfaxConfig !== undefined) writeFileSync(join(sys.etc, 'sendfax.config'), o.sendfaxConfig);
    const args = [BIN, 'sendfax', '--config-dir', sys.etc, '--lock-dir', o.lockDir ?? sys.lock, '--log-dir', sys.log, ...o.args];
    const child = startChild(process.execPath, args);
    if (child.proc.pid !== undefined) o.started?.(child.proc.pid);
    const timer = setTimeout(() => void child.stop({ signal: 'SIGKILL' }), o.timeoutMs ?? 60_000);
    const code = await child.exited;
    clearTimeout(timer);
    const logFile = join(sys.log, 'sendfax.log');
    return { code, output: child.output(), log: existsSync(logFile) ? readFileSync(logFile, 'utf8') : '' };
  } finally {
    rmSync(sys.root, { recursive: true, force: true });
  }
}
