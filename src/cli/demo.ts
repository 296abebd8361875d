/**
 * `tgetty demo` (`npm run demo`): a newcomer's first ten minutes. Starts a bank of
 * virtual modems with a telnet listener, and the daemon serving them with the same code
 * as `tgetty serve`; every caller is routed (login.config) to a small built-in program
 * instead of /bin/login. No hardware and no root. Everything the demo writes (config,
 * ptys, locks, utmp, status socket, logs, call records) is in its own demo dir: a temp
 * dir removed on exit, or `--dir DIR`, kept. Even as root the demo never touches
 * /var/lib/tgetty, /var/log/tgetty or /run/tgetty: demo calls must not mix with real ones.
 */
import { accessSync, chmodSync, closeSync, constants as fsConstants, existsSync, mkdirSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBank, type SimBank } from '../sim/index.js';
import { queryDaemon, statusSocketPath } from '../daemon/status-server.js';
import type { DaemonStatus, LineStatus } from '../daemon/events.js';
import { TgettyError, errnoCode } from '../core/errors.js';
import type { SystemPaths } from './paths.js';
import { serveCommand } from './serve.js';
import { parseRecordsTarget, redactUrl } from '../core/records-url.js';
import type { CliIo } from './io.js';

export interface DemoOptions {
  /** TCP port of the telnet listener on 127.0.0.1 (default 2323). */
  port?: number;
  /** Number of virtual modems (default 4). */
  lines?: number;
  io: CliIo;
  /** Resolves when the demo should stop (default: SIGINT or SIGTERM). */
  stopSignal?: Promise<void>;
  /** The demo dir, kept after the demo (default: a temp dir, removed on exit). */
  dir?: string;
  /** Overrides of the places in the demo dir. */
  runDir?: string;
  records?: string;
  logDir?: string;
  /** `-x`: log level of the lines; when given, the lines' logs are also shown on the console. */
  debug?: number;
  /** Where the demo dir is made (default $XDG_RUNTIME_DIR, else the temp dir). */
  baseDir?: string;
  version?: string;
  /** How the user starts tgetty, for the hints (default `node <path of bin/tgetty.mjs>`). */
  cliCommand?: string;
  env?: NodeJS.ProcessEnv;
  /** Give up waiting for the modems after this long (the demo then runs with those that are ready). */
  readyTimeoutMs?: number;
}

export const DEMO_CALLER = { callerId: '5551234', callerName: 'DEMO CALLER' } as const;

const HERE = fileURLToPath(new URL('.', import.meta.url));
/** dist/src/cli -> dist/src/demo/session.js and bin/tgetty.mjs of the same checkout. */
export const SESSION_SCRIPT = join(HERE, '..', 'demo', 'session.js');
const BIN = join(HERE, '..', '..', '..', 'bin', 'tgetty.mjs');

/** Quote for /bin/sh: nothing inside single quotes is special except the quote itself. */
export function shQuote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

/** A path as a shell word: quoted only when it needs it, so the hints stay copyable. */
function shArg(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : shQuote(s);
}

/** The demo's mgetty.config (the daemon reads it like any other). */
export function demoMgettyConfig(o: { issueFile: string; ports: string[] }): string {
  return [
    '# mgetty.config of the tgetty demo: written by `tgetty demo`, removed when it stops.',
    '# The same file format and keywords as /etc/mgetty/mgetty.config.',
    '#',
    '# Answer on the second RING: the caller ID arrives between RING 1 and RING 2,',
    '# so the issue text and the demo program can show it.',
    'rings 2',
    '# The text shown after CONNECT (the tokens \\P \\I \\Y @ \\D \\T are expanded).',
    `issue-file ${o.issueFile}`,
    '# \\040 is a space: a trailing blank cannot be written in this file.',
    'login-prompt demo login:\\040',
    '# mgetty sends a FidoNet EMSI request before the prompt; it is only noise for a person.',
    'fido-send-emsi no',
    '# Sessions still running when the demo stops get SIGHUP, then SIGKILL 2 s later.',
    'hangup-grace 2',
    '# The virtual modems take the close of the line as a DTR drop: after a call the',
    '# getty hangs up by closing the line, as on a serial port, not with +++ and ATH0.',
    'dtr-by-close yes',
    '# The default init chat starts with \\d, a 1 s pause a real modem needs after DTR;',
    '# a virtual one does not, so a line is back in service sooner after a call.',
    'init-chat "" ATQ0V1H0 OK AT OK',
    '',
    '# One section per virtual modem (settings here would apply to that line only).',
    ...o.ports.map((p) => `port ${p}`),
    '',
  ].join('\n');
}

/** The demo's login.config: every caller gets the demo program. */
export function demoLoginConfig(program: string): string {
  return [
    '# login.config of the tgetty demo: written by `tgetty demo`, removed when it stops.',
    '# Normally `*` runs /bin/login (the built-in default). In the demo every login name',
    '# runs the demo program instead, as the user running the demo (no root needed).',
    '# A PPP caller would normally get pppd; the demo has none, so it gets the demo',
    '# program too (with the name /AutoPPP/).',
    '#',
    '# name       userid  utmp  program and arguments (@ = the login name)',
    `/AutoPPP/    -       -     ${program} @`,
    `*            -       -     ${program} @`,
    '',
  ].join('\n');
}

/** The issue text: tokens as mgetty expands them (\P line, \I connect string, \Y caller ID). */
export const DEMO_ISSUE = [
  '',
  'Welcome to the tgetty demo on @.',
  '',
  'You called line \\P; the modem said CONNECT \\I.',
  'Your caller ID is \\Y. It is \\D \\T.',
  '',
  'Type any login name: there is no password. The demo runs a small menu',
  'program instead of /bin/login.',
  '',
].join('\n');

/** The stand-in for /bin/login: a sh wrapper that runs the demo program with this very Node. */
export function demoSessionWrapper(node: string, script: string): string {
  return [
    '#!/bin/sh',
    '# The demo\'s stand-in for /bin/login (see login.config): tgetty\'s demo program.',
    `exec ${shQuote(node)} ${shQuote(script)} "$@"`,
    '',
  ].join('\n');
}

function portHint(port: number, env: NodeJS.ProcessEnv, cli: string): string {
  const other = port === 2323 ? 2424 : port < 65535 ? port + 1 : 2424;
  return env.npm_lifecycle_event === 'demo' ? `npm run demo -- --port ${other}` : `${cli} demo --port ${other}`;
}

function defaultCli(): string {
  const rel = relative(process.cwd(), BIN);
  return `node ${rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : BIN}`;
}

function demoBase(env: NodeJS.ProcessEnv): string {
  const rt = env.XDG_RUNTIME_DIR;
  if (rt !== undefined && rt !== '') {
    try {
      accessSync(rt, fsConstants.W_OK | fsConstants.X_OK);
      return rt;
    } catch {
      // not usable: fall back to the temp dir
    }
  }
  return tmpdir();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The status of the daemon at runDir, or undefined if none answers. */
async function statusAt(runDir: string, timeoutMs = 2000): Promise<DaemonStatus | undefined> {
  try {
    const r = await queryDaemon(runDir, { cmd: 'status' }, timeoutMs);
    return r.ok && 'status' in r ? r.status : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Follows the per-line log files from where they ended when the demo started (the logs
 * are kept between runs), so `-x N` shows on the console what the lines log at level N.
 */
export class LogTail {
  private readonly offsets = new Map<string, number>();
  private readonly partial = new Map<string, string>();

  constructor(private readonly files: readonly { label: string; file: string }[]) {
    for (const f of files) this.offsets.set(f.file, sizeOf(f.file));
  }

  /** Complete new lines since the last call, each prefixed with its label. */
  poll(): string[] {
    const out: string[] = [];
    for (const { label, file } of this.files) {
      const from = this.offsets.get(file) ?? 0;
      const size = sizeOf(file);
      // A shorter file was rotated or truncated: read it from the start.
      const start = size < from ? 0 : from;
      if (size === start) continue;
      const buf = Buffer.alloc(Math.min(size - start, 1 << 20));
      let n = 0;
      try {
        const fd = openSync(file, 'r');
        try {
          n = readSync(fd, buf, 0, buf.length, start);
        } finally {
          closeSync(fd);
        }
      } catch {
        continue;
      }
      this.offsets.set(file, start + n);
      const text = (this.partial.get(file) ?? '') + buf.subarray(0, n).toString('utf8');
      const lines = text.split('\n');
      this.partial.set(file, lines.pop() ?? '');
      for (const l of lines) if (l.trim() !== '') out.push(`${label}| ${l.replace(/[\x00-\x1f\x7f-\x9f]/g, '?')}`);
    }
    return out;
  }
}

function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** One-line descriptions of what changed on the lines (the demo's activity feed). */
export function describeChanges(prev: readonly LineStatus[], now: readonly LineStatus[], logDir: string): string[] {
  const out: string[] = [];
  for (const l of now) {
    const p = prev.find((x) => x.line === l.line);
    const c = l.call;
    const pc = p?.call;
    const newCall = c !== undefined && c.callId !== pc?.callId;
    if (pc !== undefined && c?.callId !== pc.callId) out.push(`${l.line}: call ended`);
    if (newCall) out.push(`${l.line}: incoming call`);
    if (c !== undefined) {
      if (c.callerId !== undefined && (newCall || pc?.callerId === undefined)) {
        out.push(`${l.line}: caller ID ${c.callerId}${c.callerName !== undefined && c.callerName !== '' ? ` (${c.callerName})` : ''}`);
      }
      if (c.connect !== undefined && (newCall || pc?.connect === undefined)) out.push(`${l.line}: CONNECT ${c.connect}`);
      if (c.program !== undefined && (newCall || pc?.program === undefined)) {
        out.push(`${l.line}: login name '${c.loginName ?? ''}': running ${c.program}${c.pid !== undefined ? ` [pid ${c.pid}]` : ''}`);
      }
    }
    if (l.lastError !== undefined && l.lastError.at !== p?.lastError?.at) {
      out.push(`${l.line}: ERROR ${l.lastError.message} (details: ${join(logDir, `${l.line}.log`)})`);
    }
    if (l.state === 'resting' && p?.state !== 'resting') out.push(`${l.line}: failed too often; resting before the next try`);
  }
  return out.map((s) => s.replace(/[\x00-\x1f\x7f-\x9f]/g, '?'));
}

/** `tgetty demo`. Exit 0 after a clean stop, 1 when it could not start (nothing is left behind). */
export async function demoCommand(o: DemoOptions): Promise<number> {
  const port = o.port ?? 2323;
  const nLines = o.lines ?? 4;
  const env = o.env ?? process.env;
  let outputGone = false;
  const io: CliIo = {
    out: (t) => {
      if (!outputGone) o.io.out(t);
    },
    err: (t) => {
      if (!outputGone) o.io.err(t);
    },
  };
  const say = (s: string): void => io.out(`tgetty demo: ${s}\n`);
  const fail = (s: string): number => {
    io.err(`tgetty demo: ${s}\n`);
    return 1;
  };
  if (!Number.isInteger(port) || port < 1 || port > 65535) return fail(`--port must be 1..65535, got ${port}`);
  if (!Number.isInteger(nLines) || nLines < 1 || nLines > 64) return fail(`--lines must be 1..64, got ${nLines}`);
  const cli = o.cliCommand ?? defaultCli();
  if (!existsSync(SESSION_SCRIPT)) return fail(`the demo program ${SESSION_SCRIPT} is missing: build first (npm run build)`);
  // The demo keeps its records in a file of its own: a URL (or a typo such as mysql://) is refused before anything starts.
  if (o.records !== undefined) {
    let kind: string;
    try {
      kind = parseRecordsTarget(o.records, '--records').kind;
    } catch (err) {
      io.err(`tgetty demo: ${err instanceof Error ? err.message : String(err)}\n`);
      return 2;
    }
    if (kind !== 'sqlite') {
      io.err(`tgetty demo: --records '${redactUrl(o.records)}': the demo keeps its call records in an SQLite file; give a file path\n`);
      return 2;
    }
  }


  // Stop requests from the start: Ctrl-C during start-up also cleans up.
  let stopRequested = false;
  let wakeStop: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    wakeStop = () => {
      stopRequested = true;
      resolve();
    };
  });
  const onOutputGone = (): void => {
    outputGone = true;
    wakeStop();
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopRequested) {
      io.out(`\ntgetty demo: ${sig} again: still stopping (sessions get up to 2 s to end)\n`);
      return;
    }
    io.out(`\ntgetty demo: ${sig}: stopping...\n`);
    wakeStop();
  };
  if (o.stopSignal === undefined) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    // The terminal went away (closed window, `| head`): stop cleanly rather than die on EPIPE.
    process.on('SIGHUP', onSignal);
    process.stdout.on('error', onOutputGone);
    process.stderr.on('error', onOutputGone);
  } else {
    void o.stopSignal.then(() => wakeStop());
  }
  const untrap = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    process.stdout.off('error', onOutputGone);
    process.stderr.off('error', onOutputGone);
  };

  // A daemon already on this run dir owns the status socket: say so before touching anything.
  const keepDir = o.dir !== undefined;
  const given = o.dir !== undefined ? resolvePath(o.dir) : undefined;
  if (o.runDir !== undefined || given !== undefined) {
    const runAt = o.runDir ?? join(given ?? '', 'run');
    const other = await statusAt(runAt);
    if (other !== undefined) {
      untrap();
      return fail(
        `a tgetty daemon is already running (pid ${other.pid}, status socket ${statusSocketPath(runAt)}).\n` +
          `  Stop it first (Ctrl-C in its terminal), or give this demo its own ${o.runDir !== undefined ? '--run-dir' : '--dir'}.`,
      );
    }
  }

  let dir: string;
  try {
    if (given !== undefined) {
      mkdirSync(given, { recursive: true, mode: 0o700 });
      dir = given;
    } else {
      dir = mkdtempSync(join(o.baseDir ?? demoBase(env), 'tgetty-demo-'));
    }
  } catch (err) {
    untrap();
    return fail(`cannot create the demo dir ${given ?? `in ${o.baseDir ?? demoBase(env)}`}: ${err instanceof Error ? err.message : String(err)}`);
  }
  // Everything in the demo dir: never the system's (or the user's) real records, logs, socket.
  const runDir = o.runDir ?? join(dir, 'run');
  const records = o.records ?? join(dir, 'calls.sqlite');
  const logDir = o.logDir ?? join(dir, 'log');
  let bank: SimBank | undefined;
  const cleanup = async (): Promise<void> => {
    await bank?.close();
    // A kept dir keeps its config, logs and call records; the ptys, locks and socket go.
    if (keepDir) for (const d of ['sim', 'lock', 'run', 'utmp', 'wtmp']) rmSync(join(dir, d), { recursive: true, force: true });
    else rmSync(dir, { recursive: true, force: true });
    untrap();
  };

  const etc = join(dir, 'etc');
  const simDir = join(dir, 'sim');
  try {
    say(`starting ${nLines} virtual modem${nLines === 1 ? '' : 's'}; everything the demo writes is in ${dir}${keepDir ? '' : ' (removed when the demo stops; --dir DIR keeps it)'}`);
    // What a demo killed with -9 in a kept dir left behind (pty links, locks, a socket).
    if (keepDir) for (const d of ['sim', 'lock', 'run']) rmSync(join(dir, d), { recursive: true, force: true });
    for (const d of [etc, simDir, join(dir, 'lock')]) mkdirSync(d, { recursive: true, mode: 0o700 });
    writeFileSync(join(dir, 'utmp'), '');
    writeFileSync(join(dir, 'wtmp'), '');
    const wrapper = join(etc, 'demo-session');
    writeFileSync(wrapper, demoSessionWrapper(process.execPath, SESSION_SCRIPT), { mode: 0o755 });
    chmodSync(wrapper, 0o755);
    if (/\s/.test(wrapper)) throw new TgettyError('CONFIG_BAD_VALUE', `the demo dir ${dir} contains a blank, which login.config cannot express; set XDG_RUNTIME_DIR or TMPDIR to a path without blanks`);
    writeFileSync(join(etc, 'issue'), DEMO_ISSUE);
    // No dial-out: the demo's lines take telnet callers, and a caller's echoed +++ ATD must not reach the network.
    bank = await createBank({ lines: nLines, dir: simDir, dialout: false });
    writeFileSync(join(etc, 'mgetty.config'), demoMgettyConfig({ issueFile: join(etc, 'issue'), ports: bank.lines.map((l) => l.name) }));
    writeFileSync(join(etc, 'login.config'), demoLoginConfig(wrapper), { mode: 0o600 });
    chmodSync(join(etc, 'login.config'), 0o600);
  } catch (err) {
    await cleanup();
    return fail(`cannot set up the demo: ${err instanceof Error ? err.message : String(err)}`);
  }

  try {
    await bank.listen({
      port,
      host: '127.0.0.1',
      // Every telnet caller rings with a caller ID, so the welcome screen has one; rings
      // 2 s apart keep the wait short.
      ring: { cidFormat: 'mdmf', ...DEMO_CALLER, ringCadenceMs: 2000 },
    });
  } catch (err) {
    await cleanup();
    const code = errnoCode(err);
    if (code === 'EADDRINUSE') return fail(`port ${port} on 127.0.0.1 is already in use (another demo running?); try ${portHint(port, env, cli)}`);
    if (code === 'EACCES') return fail(`not allowed to listen on port ${port} (ports below 1024 need root); try ${portHint(2322, env, cli)}`);
    return fail(`cannot listen on 127.0.0.1:${port}: ${err instanceof Error ? err.message : String(err)}`);
  }
  say(`telnet callers: 127.0.0.1:${port}`);

  if (stopRequested) {
    await cleanup();
    return 0;
  }

  // With -x, the console also shows what the lines log at that level (the init
  // stages, then the calls), from before the daemon writes its first line.
  const tail = o.debug !== undefined ? new LogTail(bank.lines.map((l) => ({ label: l.name, file: join(logDir, `${l.name}.log`) }))) : undefined;
  const showLogs = (): void => {
    for (const l of tail?.poll() ?? []) io.out(`  ${l}\n`);
  };
  // The daemon: exactly `tgetty serve`, with the demo's config and paths.
  say('starting the daemon (the same code as `tgetty serve`)');
  const paths: SystemPaths = { configDir: etc, lockDir: join(dir, 'lock'), logDir, utmp: join(dir, 'utmp'), wtmp: join(dir, 'wtmp'), runDir, records };
  let serveDone = false;
  const serving = serveCommand({
    paths,
    lines: bank.lines.map((l) => l.path),
    overrides: o.debug !== undefined ? { debug: o.debug } : {},
    logFormat: 'text',
    version: o.version ?? 'unknown',
    // serve's own banner would repeat ours; its warnings (records, status socket) matter.
    io: { out: () => undefined, err: io.err },
    stopSignal: stopped,
  }).finally(() => {
    serveDone = true;
  });

  // Progress: the daemon's own view of the lines, through its status socket.
  const started = Date.now();
  const readyTimeout = o.readyTimeoutMs ?? 30_000;
  let lastReady = -1;
  let status: DaemonStatus | undefined;
  let socketSeen = false;
  while (!stopRequested && !serveDone) {
    status = await statusAt(runDir, 1000);
    showLogs();
    if (status !== undefined) socketSeen = true;
    const ready = status?.lines.filter((l) => l.state === 'idle').length ?? 0;
    if (status !== undefined && ready !== lastReady) {
      say(`initialising modems: ${ready}/${nLines} ready`);
      lastReady = ready;
    }
    if (ready === nLines) break;
    if (Date.now() - started > readyTimeout) {
      if (!socketSeen) {
        say(`the daemon's status socket ${statusSocketPath(runDir)} did not answer: progress and \`tgetty status\` are not available`);
      } else {
        const late = (status?.lines ?? []).filter((l) => l.state !== 'idle');
        say(`${late.length} modem(s) not ready after ${Math.round(readyTimeout / 1000)} s: ${late.map((l) => `${l.line} ${l.state}`).join(', ')}`);
        say(`details in ${logDir}/<line>.log; the demo goes on with the ready ones`);
      }
      break;
    }
    await sleep(150);
  }
  if (serveDone && !stopRequested) {
    // serve refused to start (bad config, ...): it printed why.
    const code = await serving;
    await cleanup();
    return code === 0 ? fail('the daemon stopped unexpectedly') : code;
  }

  if (!stopRequested) {
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    const runOpt = ` --run-dir ${shArg(runDir)}`;
    const recOpt = ` --records ${shArg(records)}`;
    io.out(
      [
        '',
        `  The tgetty demo is ready (${secs} s): ${nLines} virtual modem${nLines === 1 ? '' : 's'}, answered by tgetty.`,
        '',
        `  Call it:              telnet 127.0.0.1 ${port}`,
        '                        (any login name works; q in the menu hangs up)',
        `  In another terminal:  ${cli} status${runOpt}`,
        `                        ${cli} calls${recOpt}`,
        `  Config:               ${etc}/mgetty.config, login.config, issue`,
        `  Logs:                 ${logDir}/ttySIM0.log ...`,
        '  Stop:                 Ctrl-C',
        '',
        '',
      ].join('\n'),
    );
  }

  // Activity feed until stopped.
  let prev = status?.lines ?? [];
  while (!stopRequested && !serveDone) {
    await Promise.race([stopped, sleep(300)]);
    if (stopRequested) break;
    const st = await statusAt(runDir, 1000);
    showLogs();
    if (st === undefined) continue;
    for (const line of describeChanges(prev, st.lines, logDir)) say(line);
    prev = st.lines;
  }

  // Stop: the daemon first (sessions get SIGHUP, locks go), then the modems, then the files.
  wakeStop();
  const code = await serving;
  await cleanup();
  io.out(keepDir ? `tgetty demo: stopped; logs and call records stay in ${dir}\n` : 'tgetty demo: stopped; the demo dir is removed\n');
  return code;
}
