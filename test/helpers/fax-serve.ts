/**
 * `tgetty serve` (the daemon) answering faxes on simulator lines, every system path in a
 * temp dir, for the fax tests that need the line back in service after a call (and the
 * fax benchmark). `wrap` runs the daemon under a command that execs it (same pid), e.g.
 * `unshare -m` with a tiny tmpfs on the spool dir. The child is ours: stop() ends it by pid.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { queryDaemon } from '../../src/daemon/status-server.js';
import type { DaemonStatus } from '../../src/daemon/events.js';
import { startChild, type Child } from './child.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');

export interface FaxServe {
  child: Child;
  root: string;
  /** The spool dir (fax-spool-in). */
  spool: string;
  /** The config dir (new_fax goes here). */
  etc: string;
  log(device: string): string;
  status(): Promise<DaemonStatus | undefined>;
  /** The call records (`tgetty calls --json`), oldest first; [] without `records`. */
  calls(): CallRow[];
  /** Resolves once every line is `idle` with no call and at least `calls` calls behind it (rejects after `ms`). */
  allIdle(n: number, ms: number, calls?: number): Promise<void>;
  stop(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The fields of a call record row these tests read. */
export interface CallRow {
  line: string;
  outcome: string | null;
  connect: string | null;
  loginName: string | null;
  program: string | null;
  startedAt: number;
}

export function startFaxServe(o: {
  lines: readonly string[];
  /** mgetty.config text; `{SPOOL}` is replaced by the spool dir. */
  config: string;
  /** The login program's script (login.config runs it for every name). */
  session?: string;
  files?: Record<string, string>;
  /** A command that execs the daemon; `{SPOOL}` in it is replaced by the spool dir. */
  wrap?: readonly string[];
  /** Extra environment for the daemon (e.g. the systemd unit's V8 and glibc settings). */
  env?: readonly (readonly [string, string])[];
  /** Keep call records (SQLite, in the temp dir); default --no-records. */
  records?: boolean;
}): FaxServe {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-faxserve-'));
  const d = { etc: join(root, 'etc'), lock: join(root, 'lock'), log: join(root, 'log'), run: join(root, 'run'), spool: join(root, 'spool') };
  for (const x of Object.values(d)) mkdirSync(x);
  writeFileSync(join(root, 'utmp'), '');
  writeFileSync(join(root, 'wtmp'), '');
  writeFileSync(join(d.etc, 'mgetty.config'), o.config.replaceAll('{SPOOL}', d.spool));
  writeFileSync(join(d.etc, 'session.sh'), o.session ?? '#!/bin/sh\necho "hi $1"\n');
  chmodSync(join(d.etc, 'session.sh'), 0o755);
  writeFileSync(join(d.etc, 'login.config'), `* - - ${d.etc}/session.sh @\n`);
  chmodSync(join(d.etc, 'login.config'), 0o600);
  for (const [name, text] of Object.entries(o.files ?? {})) {
    writeFileSync(join(d.etc, name), text);
    if (text.startsWith('#!')) chmodSync(join(d.etc, name), 0o755);
  }
  const records = join(root, 'calls.sqlite');
  const paths = ['--config-dir', d.etc, '--lock-dir', d.lock, '--log-dir', d.log, '--run-dir', d.run, '--utmp', join(root, 'utmp'), '--wtmp', join(root, 'wtmp'), ...(o.records === true ? ['--records', records] : ['--no-records'])];
  const argv = [process.execPath, BIN, 'serve', ...paths, '--lines', o.lines.join(',')];
  const wrap = (o.wrap ?? []).map((w) => w.replaceAll('{SPOOL}', d.spool));
  const env = { ...process.env, ...Object.fromEntries(o.env ?? []) };
  const child = wrap.length > 0 ? startChild(wrap[0] ?? '', [...wrap.slice(1), ...argv], { env }) : startChild(argv[0] ?? '', argv.slice(1), { env });
  const status = async (): Promise<DaemonStatus | undefined> => {
    try {
      const r = await queryDaemon(d.run, { cmd: 'status' }, 2000);
      return 'status' in r ? r.status : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    child,
    root,
    spool: d.spool,
    etc: d.etc,
    log: (device) => {
      const f = join(d.log, `${device}.log`);
      return existsSync(f) ? readFileSync(f, 'utf8') : '';
    },
    status,
    calls: () => (o.records === true ? (JSON.parse(execFileSync(process.execPath, [BIN, 'calls', '--records', records, '--json'], { encoding: 'utf8' })) as CallRow[]) : []),
    allIdle: async (n, ms, calls = 0) => {
      const end = Date.now() + ms;
      for (;;) {
        const st = await status();
        if (st !== undefined && st.lines.length === n && st.lines.every((l) => l.state === 'idle' && l.call === undefined && l.calls >= calls)) return;
        if (Date.now() > end) throw new Error(`lines not idle within ${ms} ms: ${JSON.stringify(st?.lines.map((l) => [l.state, l.calls]))}\n${child.output().slice(-3000)}`);
        await sleep(50);
      }
    },
    stop: async () => {
      await child.stop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
