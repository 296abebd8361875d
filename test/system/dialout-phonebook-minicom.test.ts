/**
 * System test: Debian's real `minicom` on a virtual line dials out through the phone book
 * to a real telnet host, as a user at a terminal would. `tgetty sim --phonebook FILE` runs
 * as the CLI (bin/tgetty.mjs); minicom runs in a private tmux server (it needs a terminal),
 * with HOME in a temp dir holding its only config (`.minirc.dfl`: no init or reset string,
 * a Hayes hang-up, no lock dir) and `-o` (no init, no lock files), so nothing of the
 * machine's is read or written. The keys are typed with tmux send-keys; what minicom got
 * from the line is read from its capture file (`-C`).
 *
 * The user types ATDT555-1000 (the phone book sends it to inetutils telnetd on loopback,
 * test/helpers/telnetd.ts), sees CONNECT, logs in to the fake login, says one line, hangs
 * up with minicom's own hang-up (Ctrl-A H: `+++` with guard times, `ATH`), and quits. The
 * telnet host sees its connection close, and `tgetty sim status` shows the modem idle.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { which } from '../helpers/lock-namespace.js';
import { startTelnetd, telnetdSkipReason, type Telnetd } from '../helpers/telnetd.js';
import { querySimStatus, type SimStatus } from '../../src/sim/status.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');

function skipReason(): string | undefined {
  if (!which('minicom')) return 'minicom not installed (apt-get install minicom)';
  if (!which('tmux')) return 'tmux not installed (minicom needs a terminal)';
  return telnetdSkipReason();
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * minicom's per-user defaults. `pu mdropdtr 0` makes its hang-up the Hayes string (a pty
 * has no DTR to drop); `~` in a string is one second of silence, the `+++` guard time.
 */
const MINIRC = ['pu baudrate 38400', 'pu bits 8', 'pu parity N', 'pu stopbits 1', 'pu rtscts No', 'pu xonxoff No', 'pu minit', 'pu mreset', 'pu mdropdtr 0', 'pu mhangup ~~+++~~ATH^M', 'pu lock /nonexistent/tgetty-minicom-test', 'pu statusline disabled', ''].join('\n');

test('minicom on a virtual line dials a phone book number: telnetd on loopback, login, a line each way, Hayes hang-up, modem idle', { timeout: 90_000 }, async (t) => {
  const why = skipReason();
  if (why !== undefined) return t.skip(why);
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-minicom-'));
  const home = join(dir, 'home');
  const simDir = join(dir, 'sim');
  const tmuxSock = join(dir, 'tmux.sock');
  const capture = join(dir, 'capture.txt');
  let td: Telnetd | undefined;
  let sim: ChildProcess | undefined;
  let tmuxUp = false;
  const tmux = (...args: string[]): string => spawnSync('tmux', ['-S', tmuxSock, ...args], { encoding: 'utf8' }).stdout;
  const screen = (): string => (tmuxUp ? tmux('capture-pane', '-p', '-t', 'mc') : '');
  const got = (): string => (existsSync(capture) ? readFileSync(capture, 'latin1') : '');
  const until = async (what: string, re: RegExp, ms: number): Promise<void> => {
    for (let w = 0; w < ms; w += 100) {
      if (re.test(got())) return;
      await sleep(100);
    }
    throw new Error(`minicom never got ${what} (${re}); capture ${JSON.stringify(got())}; screen:\n${screen()}`);
  };
  const type = (text: string): void => void tmux('send-keys', '-t', 'mc', '-l', text);
  const key = (k: string): void => void tmux('send-keys', '-t', 'mc', k);
  try {
    td = await startTelnetd();
    spawnSync('mkdir', ['-p', home, simDir]);
    writeFileSync(join(home, '.minirc.dfl'), MINIRC);
    const book = join(dir, 'phonebook');
    writeFileSync(book, `5551000 = 127.0.0.1:${td.port} telnet\n`);
    const child = spawn(process.execPath, [BIN, 'sim', '--lines', '1', '--dir', simDir, '--phonebook', book], { stdio: ['ignore', 'pipe', 'pipe'] });
    sim = child;
    let simOut = '';
    child.stdout?.on('data', (d: Buffer) => (simOut += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (simOut += d.toString()));
    for (let w = 0; !/status: tgetty sim status/.test(simOut); w += 50) {
      if (w > 20_000 || child.exitCode !== null) throw new Error(`the sim did not start: ${simOut}`);
      await sleep(50);
    }
    const line = join(simDir, 'ttySIM0');
    // A private tmux server (its own socket), a fixed-size window, minicom as its only program.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, TERM: 'xterm', LANG: 'C', LC_ALL: 'C' };
    const r = spawnSync('tmux', ['-S', tmuxSock, '-f', '/dev/null', 'new-session', '-d', '-s', 'mc', '-x', '80', '-y', '24', 'minicom', '-D', line, '-b', '38400', '-o', '-c', 'off', '-C', capture], { env, encoding: 'utf8' });
    assert.equal(r.status, 0, `tmux: ${r.stderr}`);
    tmuxUp = true;
    // minicom is on the line once its capture file exists.
    for (let w = 0; !existsSync(capture); w += 100) {
      if (w > 10_000) throw new Error(`minicom did not start; screen:\n${screen()}`);
      await sleep(100);
    }
    type('AT\r');
    await until('OK', /OK/, 5_000);
    type('ATDT555-1000\r');
    await until('CONNECT', /CONNECT 33600/, 10_000);
    await until('the login prompt', /fake login: /, 10_000);
    type('joe\r');
    await until('the greeting', /welcome joe/, 10_000);
    type('hello there\r');
    await until('the echo', /you said: hello there/, 10_000);
    const closedBefore = td.closed;
    // minicom's hang-up (Ctrl-A H), confirmed with Enter: ~~+++~~ATH^M.
    key('C-a');
    type('h');
    await sleep(300);
    key('Enter');
    await until('the hang-up', /you said: hello there[^]*\+\+\+[^]*OK[^]*ATH[^]*OK/, 15_000);
    for (let w = 0; td.closed === closedBefore; w += 100) {
      if (w > 10_000) throw new Error('the telnet host never saw the call end');
      await sleep(100);
    }
    // The modem is back idle, as `tgetty sim status` tells it.
    let st: SimStatus | undefined;
    for (let w = 0; w < 5_000; w += 100) {
      st = await querySimStatus(simDir);
      if (st.lines[0]?.state === 'idle') break;
      await sleep(100);
    }
    assert.equal(st?.lines[0]?.state, 'idle', JSON.stringify(st));
    assert.match(st?.lines[0]?.peer ?? '', /^127\.0\.0\.1:\d+/);
    assert.ok((st?.lines[0]?.bytesFromDte ?? 0) > 0);
    // Quit without reset (Ctrl-A Q, Enter): minicom leaves by itself.
    key('C-a');
    type('q');
    await sleep(300);
    key('Enter');
    for (let w = 0; tmux('list-sessions').includes('mc:'); w += 100) {
      if (w > 10_000) throw new Error(`minicom did not quit; screen:\n${screen()}`);
      await sleep(100);
    }
    assert.match(got(), /CONNECT 33600[^]*fake login: [^]*welcome joe[^]*you said: hello there/);
    t.diagnostic(`minicom got: ${JSON.stringify(got())}`);
    assert.match(simOut, /dialling 127\.0\.0\.1:\d+ \(telnet\)[^]*escape: online command mode[^]*ended by the DTE: hangup/);
  } finally {
    if (tmuxUp) tmux('kill-server');
    if (sim !== undefined && sim.exitCode === null && sim.signalCode === null) {
      const gone = new Promise((r) => sim?.once('exit', r));
      sim.kill('SIGTERM');
      const k = setTimeout(() => sim?.kill('SIGKILL'), 5_000);
      await gone;
      clearTimeout(k);
    }
    await td?.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
