/**
 * cnd-program and cid-program, run WITHOUT a shell (mgetty builds a /bin/sh command
 * line from caller data, Q18): argv is [device, caller id, caller name, distinctive
 * ring, called number], the call data is also in the environment (allow-listed, as
 * for login: see child-env.ts). Optionally as a non-root user (cnd-program-user), with
 * HOME/USER/LOGNAME/SHELL from its passwd entry. Output goes to the line's log instead of the console.
 */
import { spawn } from 'node:child_process';
import { getpwnam, type PasswdEntry } from '../os/passwd.js';
import { hookEnv } from './child-env.js';
import type { Logger } from '../log/logger.js';
import type { HookRunner } from './runner.js';

/** A hook that hangs must not hold the line forever: it is killed after this long. */
export const HOOK_TIMEOUT_MS = 30_000;

export function hookRunner(log: Logger, timeoutMs = HOOK_TIMEOUT_MS): HookRunner {
  return (program, args, env, user) =>
    new Promise((resolve) => {
      let ids: { uid: number; gid: number } | undefined;
      let pw: PasswdEntry | undefined;
      if (user !== undefined && user !== '') {
        pw = getpwnam(user);
        if (pw === undefined) {
          log.error(`hook ${program}: unknown user '${user}', not running it`);
          resolve(undefined);
          return;
        }
        ids = { uid: pw.uid, gid: pw.gid };
      }
      const child = spawn(program, args, {
        // Allow-listed, as for login (child-env.ts): never the daemon's whole environment.
        env: hookEnv({ inherit: process.env, ...(pw !== undefined ? { user: pw } : {}) }, env),
        stdio: ['ignore', 'pipe', 'pipe'],
        // Own process group, so the time-out kill also reaches what the hook started.
        detached: true,
        ...(ids !== undefined ? ids : {}),
      });
      let settled = false;
      const settle = (v: number | undefined): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        log.warn(`hook ${program} still running after ${timeoutMs} ms: killing it`);
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      }, timeoutMs);
      const out = (b: Buffer): void => {
        for (const l of b.toString('utf8').split('\n')) if (l !== '') log.noise(`${program}: ${l}`);
      };
      child.stdout.on('data', out);
      child.stderr.on('data', out);
      child.on('error', (err) => {
        log.error(`cannot run hook ${program}`, { err });
        settle(undefined);
      });
      // 'exit', not 'close': a background process the hook left running may hold its
      // stdout open, and the line must not wait for it (mgetty's system() does not).
      child.on('exit', (code) => settle(code ?? undefined));
    });
}
