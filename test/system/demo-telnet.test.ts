/**
 * System test: `tgetty demo` as a newcomer uses it. The real binary (bin/tgetty.mjs demo)
 * runs as a child; Debian's real `telnet` calls it inside a private tmux server, and the
 * test reads the screen: issue text, login prompt, the demo program's welcome screen and
 * menu, the hang-up. `tgetty status` and `tgetty calls` run as a second terminal would
 * (same user, same HOME). Then SIGINT: exit 0, no process, no socket, no demo dir.
 *
 * Run twice: as the current user with every path given as an option, and as `nobody`
 * with HOME and XDG_RUNTIME_DIR in a temp dir and NO path options, which is the issue's
 * "normal user, no root" case: `status` and `calls` then use the commands the banner
 * prints (the demo keeps everything in its own dir). demo-paths.test.ts runs it as root
 * with no options and checks that nothing lands in /var/lib, /var/log or /run.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');
const REPO = resolve(import.meta.dirname, '../../..');
const TMUX = '/usr/bin/tmux';
const TELNET = '/usr/bin/telnet';
const SETPRIV = '/usr/bin/setpriv';
const NOBODY = 65534;

const missing = !existsSync(TMUX) ? 'tmux not installed' : !existsSync(TELNET) ? 'telnet not installed' : undefined;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function poll<T>(what: string, get: () => T | undefined, timeoutMs: number, diag: () => string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${diag()}`);
    await sleep(100);
  }
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

/** Every pid whose command line mentions `text` (our demo dir): what the demo must not leave behind. */
function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(text)) out.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Who {
  label: string;
  /** Wrap a command to run as this user. */
  argv: (cmd: string[]) => string[];
  env: NodeJS.ProcessEnv;
  /** Path options for demo / status / calls (root must not use the machine's /run, /var). */
  demoOpts: string[];
  /** Options for status / calls; undefined: the ones the demo's banner prints. */
  statusOpts?: string[];
  callsOpts?: string[];
  /** Where the status socket is; undefined: in the demo dir. */
  runDir?: string;
}

/** The options of `<cli> status ...` / `<cli> calls ...` as the banner prints them (plain paths). */
function bannerOpts(out: string, sub: 'status' | 'calls'): string[] {
  const m = new RegExp(`bin/tgetty\\.mjs ${sub}((?: --[a-z-]+ \\S+)*)\\s*$`, 'm').exec(out);
  assert.ok(m !== null, `the banner shows the ${sub} command:\n${out}`);
  return m[1].trim().split(/\s+/).filter((x) => x !== '');
}

async function scenario(t: TestContext, who: (root: string) => Who): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-demo-sys-'));
  chmodSync(root, 0o755);
  const w = who(root);
  const port = await freePort();
  const tmuxSock = `tgetty-demo-test-${process.pid}-${port}`;
  const tmux = (...args: string[]): string => spawnSync(TMUX, ['-L', tmuxSock, ...args], { encoding: 'utf8' }).stdout ?? '';
  // What to clean up, also when an assertion fails half-way.
  const live: { demo?: ChildProcess; demoDir?: string } = {};
  t.after(() => {
    const d = live.demo;
    if (d?.pid !== undefined && d.exitCode === null && d.signalCode === null) d.kill('SIGKILL');
    spawnSync(TMUX, ['-L', tmuxSock, 'kill-server']);
    if (live.demoDir !== undefined) rmSync(live.demoDir, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  const [cmd, ...args] = w.argv([process.execPath, BIN, 'demo', '--port', String(port), ...w.demoOpts]);
  const demo = spawn(cmd, args, { cwd: REPO, env: w.env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.demo = demo;
  let out = '';
  demo.stdout?.on('data', (b: Buffer) => (out += b.toString()));
  demo.stderr?.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<number | null>((res) => demo.on('exit', (code) => res(code)));
  const screen = (): string => tmux('capture-pane', '-p', '-J', '-S', '-500', '-t', 'call');
  const diag = (): string => `--- demo (${w.label}) output ---\n${out}\n--- screen ---\n${screen()}`;

  // Start-up progress, then the banner with the way to call.
  await poll('the demo banner', () => (/The tgetty demo is ready/.test(out) ? true : undefined), 30_000, diag);
  assert.match(out, /starting 4 virtual modems/);
  assert.match(out, /initialising modems: 4\/4 ready/);
  assert.match(out, new RegExp(`telnet 127\\.0\\.0\\.1 ${port}`));
  assert.match(out, /Ctrl-C/);
  const demoDir = /everything the demo writes is in (\S+) \(removed when the demo stops/.exec(out)?.[1];
  assert.ok(demoDir !== undefined && existsSync(demoDir), 'the demo dir is named and exists');
  live.demoDir = demoDir;
  const statusOpts = w.statusOpts ?? bannerOpts(out, 'status');
  const callsOpts = w.callsOpts ?? bannerOpts(out, 'calls');
  const runDir = w.runDir ?? join(demoDir, 'run');
  if (w.statusOpts === undefined) assert.deepEqual(statusOpts, ['--run-dir', runDir], 'the status socket is in the demo dir');
  if (w.callsOpts === undefined) assert.deepEqual(callsOpts, ['--records', join(demoDir, 'calls.sqlite')], 'the call records are in the demo dir');

  // The call: Debian's telnet in a terminal 100x50.
  tmux('new-session', '-d', '-s', 'call', '-x', '100', '-y', '50', `${TELNET} 127.0.0.1 ${port}; echo TELNET-EXITED; sleep 600`);
  await poll('the login prompt', () => (/demo login: $/m.test(screen()) ? true : undefined), 20_000, diag);
  const issue = screen();
  assert.match(issue, /Welcome to the tgetty demo on /);
  assert.match(issue, /You called line ttySIM\d; the modem said CONNECT 33600\/ARQ\/V34\/LAPM\/V42BIS\./);
  assert.match(issue, /Your caller ID is 5551234\./);
  assert.doesNotMatch(issue, /EMSI/);

  tmux('send-keys', '-t', 'call', 'alice', 'Enter');
  await poll('the menu', () => (/choice> $/m.test(screen()) ? true : undefined), 10_000, diag);
  const welcome = screen();
  assert.match(welcome, /Hello alice!/);
  assert.match(welcome, /line {8}ttySIM\d/);
  assert.match(welcome, /caller ID {3}5551234 {2}\(DEMO CALLER\)/);
  assert.match(welcome, /CONNECT {5}33600\/ARQ\/V34\/LAPM\/V42BIS/);
  assert.match(welcome, /stands in for \/bin\/login/);

  tmux('send-keys', '-t', 'call', '2', 'Enter');
  await poll('the call data', () => (/CALLER_NAME=DEMO CALLER/.test(screen()) ? true : undefined), 5_000, diag);
  tmux('send-keys', '-t', 'call', '3', 'Enter');
  await poll('the echo prompt', () => (/echo> $/m.test(screen()) ? true : undefined), 5_000, diag);
  tmux('send-keys', '-t', 'call', 'ping pong', 'Enter');
  await poll('the echo', () => (/backwards: "gnop gnip"/.test(screen()) ? true : undefined), 5_000, diag);
  tmux('send-keys', '-t', 'call', 'Enter');

  // A second terminal, same user: status shows the lines and this call.
  const run = (sub: string, opts: string[]): { code: number | null; text: string } => {
    const [c, ...a] = w.argv([process.execPath, BIN, sub, ...opts]);
    const r = spawnSync(c, a, { cwd: REPO, env: w.env, encoding: 'utf8', timeout: 15_000 });
    return { code: r.status, text: `${r.stdout}${r.stderr}` };
  };
  const st = run('status', statusOpts);
  assert.equal(st.code, 0, st.text);
  for (let i = 0; i < 4; i++) assert.match(st.text, new RegExp(`^ttySIM${i} `, 'm'));
  assert.match(st.text, /^ttySIM\d +in-session .*5551234 DEMO CALLER .*alice: \S*demo-session \[\d+\]/m);
  const sessionPid = Number(/demo-session \[(\d+)\]/.exec(st.text)?.[1]);

  tmux('send-keys', '-t', 'call', 'q', 'Enter');
  await poll('telnet to end', () => (/TELNET-EXITED/.test(screen()) ? true : undefined), 15_000, diag);
  assert.match(screen(), /Thanks for calling/);
  assert.match(screen(), /Connection closed by foreign host\./);

  // The call record is committed when the call ends.
  const calls = await poll(
    'the call record',
    () => {
      const r = run('calls', callsOpts);
      return / completed +5551234 +DEMO CALLER .* alice /.test(r.text) ? r : undefined;
    },
    10_000,
    diag,
  );
  assert.equal(calls.code, 0);
  assert.match(out, /ttySIM\d: login name 'alice': running/, 'the demo console shows the call');

  // Ctrl-C: everything stops, nothing is left.
  demo.kill('SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise<string>((res) => (timer = setTimeout(() => res('timeout'), 20_000)))]);
  clearTimeout(timer);
  assert.equal(code, 0, diag());
  assert.match(out, /stopped; the demo dir is removed/);
  assert.equal(existsSync(demoDir), false, 'demo dir removed');
  assert.equal(existsSync(join(runDir, 'tgetty.sock')), false, 'status socket removed');
  assert.equal(alive(sessionPid), false, 'the session program is gone');
  assert.deepEqual(processesMentioning(demoDir), [], 'no process of the demo is left');
  assert.equal(run('status', statusOpts).code, 1, 'status now finds no daemon');
}

test('npm run demo as the current user: telnet shows the issue, prompt and demo program; status, calls; Ctrl-C cleans up', { skip: missing, timeout: 120_000 }, async (t) => {
  await scenario(t, (root) => {
    const paths = { run: join(root, 'run'), records: join(root, 'calls.sqlite'), log: join(root, 'log') };
    const home = join(root, 'home');
    const xdg = join(root, 'xdg');
    mkdirSync(home);
    mkdirSync(xdg, { mode: 0o700 });
    return {
      label: 'current',
      argv: (c) => c,
      env: { ...process.env, HOME: home, XDG_RUNTIME_DIR: xdg, XDG_STATE_HOME: join(home, 'state') },
      demoOpts: ['--run-dir', paths.run, '--records', paths.records, '--log-dir', paths.log],
      statusOpts: ['--run-dir', paths.run],
      callsOpts: ['--records', paths.records],
      runDir: paths.run,
    };
  });
});

const nobodySkip = missing ?? (process.getuid?.() !== 0 ? 'needs root to switch to nobody' : !existsSync(SETPRIV) ? 'setpriv not installed' : undefined);

test('npm run demo as a normal user (nobody) with no path options: everything in the demo dir, status and calls find it with the printed commands', { skip: nobodySkip, timeout: 120_000 }, async (t) => {
  await scenario(t, (root) => {
    const home = join(root, 'home');
    const xdg = join(root, 'xdg');
    mkdirSync(home);
    mkdirSync(xdg, { mode: 0o700 });
    chownSync(home, NOBODY, NOBODY);
    chownSync(xdg, NOBODY, NOBODY);
    // A clean login-like environment: nothing of root's (XDG_STATE_HOME, npm_*) leaks in.
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, XDG_RUNTIME_DIR: xdg, LANG: 'C.UTF-8' };
    return {
      label: 'nobody',
      argv: (c) => [SETPRIV, `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', '--', ...c],
      env,
      demoOpts: [],
    };
  });
});
