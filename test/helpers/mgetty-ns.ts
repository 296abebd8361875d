/**
 * Run Debian's real /usr/sbin/mgetty without touching the machine: inside a private
 * mount namespace (`unshare -m`), with temp dirs bind-mounted over every place it reads
 * or writes (/etc/mgetty, /var/log/mgetty, /run incl. the lock dir and pid file,
 * /var/log/wtmp) and a minimal /dev that holds the line to answer.
 *
 * mgetty always opens `/dev/<arg>`, so the line is published in that private /dev as a
 * symlink to the device the test gives (e.g. the simulator's DIR/ttySIM0).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const MGETTY = '/usr/sbin/mgetty';
/**
 * An mgetty.config line that turns off mgetty's fax mail (an empty `notify`). The notify
 * program still runs. mgetty mails before it runs the program, and with no MTA here that
 * step once took over 90 s on a loaded machine, so tests that wait for the program set this.
 */
export const MGETTY_NO_MAIL = '  notify\n';

/** Why the real mgetty cannot run here, or undefined if it can. */
export function mgettyUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (mount namespace)';
  if (!existsSync(MGETTY)) return 'mgetty not installed';
  if (spawnSync('unshare', ['--version']).status !== 0) return 'unshare (util-linux) missing';
  return undefined;
}

export interface MgettyOptions {
  /** mgetty arguments; the last one is the device name under /dev (e.g. ttySIM0). */
  args: string[];
  /** mgetty.config text. */
  config: string;
  /** login.config text (written root-owned, mode 0600 as mgetty requires). */
  loginConfig: string;
  /** Name under the private /dev and the path it points to (e.g. ['ttySIM0', '/tmp/x/ttySIM0']). */
  device: [name: string, target: string];
  /** Extra files in the private /etc/mgetty (e.g. an issue file), name -> text. */
  files?: Record<string, string>;
}

export interface MgettyRun {
  proc: ChildProcess;
  /** The private root (etc/, log/, run/ ...), for reading what mgetty wrote. */
  root: string;
  /** mgetty's own log file (mg_<DevID>.log), or '' if not written yet. */
  logText(): string;
  /** What the namespace script printed on stderr (mount errors...). */
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Kill this mgetty (by pid: SIGTERM, then SIGKILL) and remove the temp dirs. */
  stop(): Promise<void>;
}

/** Quote for bash. */
export function q(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export interface MgettyNamespace {
  root: string;
  /** The private /var/log/mgetty (logs are `mg_<devId>.log`). */
  log: string;
  /**
   * bash lines that, run inside `unshare -m`, give mgetty a private /dev with the devices,
   * /etc/mgetty, /var/log/mgetty, /run (lock dir) and wtmp on temp dirs. Append the mgetty
   * command(s).
   */
  setup: string[];
}

/** The temp tree and the namespace set-up for mgetty on one or more simulator lines. */
export function prepareMgettyNamespace(o: {
  config: string;
  loginConfig: string;
  devices: readonly (readonly [name: string, target: string])[];
  files?: Record<string, string>;
}): MgettyNamespace {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-mgetty-ns-'));
  const etc = join(root, 'etc');
  const log = join(root, 'log');
  const run = join(root, 'run');
  const dev = join(root, 'dev');
  for (const d of [etc, log, run, join(run, 'lock'), dev]) mkdirSync(d, { recursive: true });
  chmodSync(join(run, 'lock'), 0o1777);
  writeFileSync(join(etc, 'mgetty.config'), o.config);
  writeFileSync(join(etc, 'login.config'), o.loginConfig, { mode: 0o600 });
  chmodSync(join(etc, 'login.config'), 0o600);
  writeFileSync(join(etc, 'dialin.config'), '');
  for (const [name, text] of Object.entries(o.files ?? {})) writeFileSync(join(etc, name), text);
  writeFileSync(join(root, 'wtmp'), '');
  const setup = [
    'set -e',
    // Private /dev: only what mgetty and login programs need. Console goes to /dev/null.
    ...['null', 'zero', 'tty', 'urandom', 'random', 'full', 'ptmx'].map((n) => `touch ${q(join(dev, n))} && mount --bind /dev/${n} ${q(join(dev, n))}`),
    `touch ${q(join(dev, 'console'))} && mount --bind /dev/null ${q(join(dev, 'console'))}`,
    `mkdir -p ${q(join(dev, 'pts'))} && mount --bind /dev/pts ${q(join(dev, 'pts'))}`,
    ...o.devices.map(([name, target]) => `ln -s ${q(target)} ${q(join(dev, name))}`),
    `mount --bind ${q(etc)} /etc/mgetty`,
    `mount --bind ${q(log)} /var/log/mgetty`,
    `mount --bind ${q(join(root, 'wtmp'))} /var/log/wtmp`,
    `mount --bind ${q(run)} /run`,
    // --rbind: the binds made inside the new /dev (null, pts, ...) must come along.
    `mount --rbind ${q(dev)} /dev`,
  ];
  return { root, log, setup };
}

export function startMgetty(opts: MgettyOptions): MgettyRun {
  const [devName] = opts.device;
  const { root, log, setup } = prepareMgettyNamespace({ ...opts, devices: [opts.device] });
  const lines = [...setup, `exec ${MGETTY} ${opts.args.map(q).join(' ')}`];
  const proc = spawn('unshare', ['-m', '--propagation', 'private', 'bash', '-c', lines.join('\n')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal }));
  });
  const devId = devName.replace(/\//g, '-');
  let stopped = false;
  return {
    proc,
    root,
    exited,
    stderr: () => err,
    logText: () => {
      const f = join(log, `mg_${devId}.log`);
      return existsSync(f) ? readFileSync(f, 'latin1') : '';
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (proc.exitCode === null && proc.signalCode === null && proc.pid !== undefined) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(t);
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * Real mgetty taking faxes on the bank's line 1 (ttySIM1, fax-id 49 30 5550001, pages into
 * `spool`, a new_fax that says yes), stopped after the test, then the bank closed and `dir`
 * removed. `args` go before the device (e.g. ['-x', '9', '-C', 'c2.0']); `extraConfig` is
 * more of the port section (indented keyword lines).
 */
export function startMgettyFaxLine(
  t: { after(fn: () => Promise<void>): void },
  o: { bank: { line(i: number): { path: string }; close(): Promise<void> }; dir: string; spool: string; args: string[]; extraConfig?: string },
): MgettyRun {
  const mg = startMgetty({
    args: [...o.args, 'ttySIM1'],
    config: `port ttySIM1\n  speed 38400\n  rings 1\n  toggle-dtr n\n  fax-id 49 30 5550001\n  fax-spool-in ${o.spool}\n${MGETTY_NO_MAIL}${o.extraConfig ?? ''}`,
    loginConfig: '* - - /bin/true\n',
    device: ['ttySIM1', o.bank.line(1).path],
    files: { new_fax: '#!/bin/sh\nexit 0\n' },
  });
  chmodSync(join(mg.root, 'etc', 'new_fax'), 0o755);
  t.after(async () => {
    await mg.stop();
    await o.bank.close();
    rmSync(o.dir, { recursive: true, force: true });
  });
  return mg;
}
