/**
 * A throwaway PostgreSQL cluster for tests: initdb in a temp dir, a free loopback port and
 * the unix socket in the temp dir, run as an unprivileged user (postgres refuses root),
 * started and stopped by the test by its pid, the dir removed afterwards. Nothing of the
 * machine's own PostgreSQL (if any) is touched.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startChild, type Child } from './child.js';

/** The Debian binaries (initdb, postgres), or undefined when PostgreSQL is not installed. */
export function pgBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'postgres')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.length > 0 ? join(root, versions[0], 'bin') : undefined;
}

/** The uid/gid to run the server as: the `postgres` system user, else nobody. */
function serverUser(): { uid: number; gid: number } | undefined {
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      if (Number.isInteger(uid) && uid > 0) return { uid, gid };
    } catch {
      // next candidate
    }
  }
  return undefined;
}

/** Why the PostgreSQL tests cannot run here (a one-line skip reason), or undefined. */
export function pgUnavailable(): string | undefined {
  if (pgBinDir() === undefined) return 'PostgreSQL is not installed (Debian package postgresql)';
  if (process.getuid?.() !== 0) return 'needs root to run the throwaway cluster as another user';
  if (serverUser() === undefined) return 'no unprivileged user (postgres or nobody) to run the server as';
  if (!existsSync('/usr/bin/setpriv')) return 'setpriv (util-linux) is missing';
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface PgCluster {
  readonly dir: string;
  readonly port: number;
  /** postgresql://tgetty@127.0.0.1:PORT/tgetty (trust auth unless a password was set). */
  url(opts?: { user?: string; password?: string; database?: string }): string;
  start(): Promise<void>;
  /** Fast shutdown (SIGINT to the postmaster we started), waits for it to exit. */
  stop(): Promise<void>;
  /** Stop and remove everything. */
  destroy(): Promise<void>;
  /** Run SQL with psql as the superuser; returns stdout (unaligned, tuples only). */
  psql(sql: string, database?: string): string;
}

export interface PgClusterOptions {
  /** Require this password (scram-sha-256) for TCP logins of the superuser `tgetty`. */
  password?: string;
  /** More server settings (`-c name=value`), e.g. `{ track_commit_timestamp: 'on' }` for a benchmark. */
  settings?: Record<string, string>;
}

export async function startPgCluster(opts: PgClusterOptions = {}): Promise<PgCluster> {
  const bin = pgBinDir();
  const user = serverUser();
  if (bin === undefined || user === undefined) throw new Error(pgUnavailable() ?? 'no PostgreSQL');
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-pg-'));
  chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const asUser = (cmd: string): string[] => ['--reuid', String(user.uid), '--regid', String(user.gid), '--clear-groups', cmd];
  let child: Child | undefined;
  const port = await freePort();
  const cluster: PgCluster = {
    dir,
    port,
    url: ({ user: u = 'tgetty', password, database = 'tgetty' } = {}) =>
      `postgresql://${encodeURIComponent(u)}${password !== undefined ? `:${encodeURIComponent(password)}` : ''}@127.0.0.1:${port}/${database}`,
    async start() {
      if (child !== undefined) return;
      const c = startChild('setpriv', [...asUser(join(bin, 'postgres')), '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', ...Object.entries(opts.settings ?? {}).flatMap(([k, v]) => ['-c', `${k}=${v}`])], {
        env: { PATH: '/usr/bin:/bin', LANG: 'C' },
      });
      child = c;
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (c.proc.exitCode !== null) throw new Error(`postgres exited at start:\n${c.output()}`);
        if (/ready to accept connections/.test(c.output())) return;
        if (Date.now() > deadline) throw new Error(`postgres did not start in 30 s:\n${c.output()}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop() {
      const c = child;
      child = undefined;
      await c?.stop({ signal: 'SIGINT', graceMs: 10_000 });
    },
    async destroy() {
      try {
        await cluster.stop();
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    psql(sql: string, database = 'tgetty') {
      return execFileSync('setpriv', [...asUser(join(bin, 'psql')), '-h', dir, '-p', String(port), '-U', 'tgetty', '-d', database, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin', LANG: 'C' },
      });
    },
  };
  try {
    const initArgs = ['-D', data, '-U', 'tgetty', '-E', 'UTF8', '--no-sync', '--locale=C'];
    if (opts.password !== undefined) {
      const pw = join(dir, 'pw');
      writeFileSync(pw, `${opts.password}\n`, { mode: 0o600 });
      chownSync(pw, user.uid, user.gid);
      // The unix socket (psql above) trusts; TCP (the code under test) needs the password.
      initArgs.push('--auth-local=trust', '--auth-host=scram-sha-256', `--pwfile=${pw}`);
    } else {
      initArgs.push('--auth=trust');
    }
    execFileSync('setpriv', [...asUser(join(bin, 'initdb')), ...initArgs], { cwd: dir, stdio: 'pipe', env: { PATH: '/usr/bin:/bin', LANG: 'C' } });
    await cluster.start();
    execFileSync('setpriv', [...asUser(join(bin, 'createdb')), '-h', dir, '-p', String(port), '-U', 'tgetty', 'tgetty'], { stdio: 'pipe', env: { PATH: '/usr/bin:/bin', LANG: 'C' } });
  } catch (err) {
    await cluster.destroy();
    throw err;
  }
  return cluster;
}
