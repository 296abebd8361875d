/**
 * Real fax programs against the simulator: Debian's sendfax (mgetty-fax) and efax, run as
 * root in a private mount namespace (as real mgetty is, see mgetty-ns.ts) so that their
 * lock files, logs and config land in temp dirs. netpbm's g3topbm checks the pages.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { parsePbm, type Bitmap } from '../../src/fax/codec/bitmap.js';
import { prepareMgettyNamespace, q } from './mgetty-ns.js';

export const SENDFAX = '/usr/sbin/sendfax';
export const EFAX = '/usr/bin/efax';

/** Why `program` (and netpbm) cannot run here, or undefined. */
export function faxPeerUnavailable(program: string): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (mount namespace)';
  if (!existsSync(program)) return `${program} not installed`;
  if (spawnSync('unshare', ['--version']).status !== 0) return 'unshare (util-linux) missing';
  if (spawnSync('g3topbm', ['-version']).error !== undefined) return 'g3topbm (netpbm) missing';
  return undefined;
}

export interface PeerRun {
  code: number | null;
  /** stdout + stderr of the program. */
  output: string;
  /** The program's own log file, if it wrote one. */
  log: string;
}

/**
 * Run `cmd` (a shell command line) inside a private namespace where /dev/<name> is the
 * sim's line, /etc/mgetty holds `files`, and /var/log/mgetty, /run (lock dir) are temp.
 * Killed after `timeoutS`.
 */
export function runInFaxNamespace(o: { devices: readonly (readonly [string, string])[]; files?: Record<string, string>; cmd: string; timeoutS: number; logFile?: string }): Promise<PeerRun> {
  const ns = prepareMgettyNamespace({ config: '', loginConfig: '', devices: o.devices, ...(o.files !== undefined ? { files: o.files } : {}) });
  const out = `${ns.root}/peer.log`;
  const lines = [
    ...ns.setup,
    'mkdir -p /var/log/mgetty/fax /run/lock',
    `rc=0; timeout -k 2 ${o.timeoutS} ${o.cmd} || rc=$?`,
    o.logFile !== undefined ? `cp ${q(o.logFile)} ${q(out)} 2>/dev/null || true` : 'true',
    'exit $rc',
  ];
  const p = spawn('unshare', ['-m', '--propagation', 'private', 'bash', '-c', lines.join('\n')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  p.stdout.on('data', (d: Buffer) => (output += d.toString('latin1')));
  p.stderr.on('data', (d: Buffer) => (output += d.toString('latin1')));
  return new Promise((resolve) => {
    p.on('exit', (code) => {
      const log = existsSync(out) ? readFileSync(out, 'latin1') : '';
      spawnSync('rm', ['-rf', ns.root]);
      resolve({ code, output, log });
    });
  });
}

export { q };

/** netpbm's g3topbm on a G3 file (with -reversebits if asked), as a bitmap. */
export function g3ToBitmap(file: string, reversebits = false): { bitmap: Bitmap; stderr: string } {
  const r = spawnSync('g3topbm', [...(reversebits ? ['-reversebits'] : []), file], { maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`g3topbm ${file}: ${r.stderr.toString()}`);
  return { bitmap: parsePbm(r.stdout), stderr: r.stderr.toString() };
}

/** netpbm's pbmtog3 on a bitmap. */
export function pbmToG3(pbm: Buffer): Buffer {
  const r = spawnSync('pbmtog3', [], { input: pbm, maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`pbmtog3: ${r.stderr.toString()}`);
  return r.stdout;
}
