/**
 * The demo's "login program": what `npm run demo` runs on a line instead of /bin/login.
 * tgetty starts it like login (a new session on the tty, cooked mode, the call's
 * variables in the environment); it greets the caller with what tgetty knew about the
 * call and offers a small menu. It never runs a shell and never touches a file.
 *
 * Run as `node session.js [login-name]` with stdin/stdout on the line.
 */
import { closeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { hostname } from 'node:os';

export interface CallInfo {
  /** What the caller typed at the login prompt (`/AutoPPP/` for a PPP caller). */
  loginName: string;
  /** DEVICE: the line, e.g. ttySIM0. */
  device: string;
  /** CALLER_ID: the number, or `none`. */
  callerId: string;
  callerName: string;
  /** CONNECT: the text after CONNECT, e.g. 33600/ARQ/V34. */
  connect: string;
  /** MMDD and HHMM from the caller ID block, when the network sent them. */
  callDate: string;
  callTime: string;
  host: string;
  pid: number;
  /** When the program started, ms since the epoch. */
  now: number;
}

export function callInfoFrom(argv: readonly string[], env: Readonly<Record<string, string | undefined>>, now: number, host: string, pid: number): CallInfo {
  return {
    loginName: argv[0] ?? '',
    device: env.DEVICE ?? '',
    callerId: env.CALLER_ID ?? 'none',
    callerName: env.CALLER_NAME ?? '',
    connect: env.CONNECT ?? '',
    callDate: env.CALL_DATE ?? '',
    callTime: env.CALL_TIME ?? '',
    host,
    pid,
    now,
  };
}

/**
 * Caller names come from the phone network and login names from the caller: never let
 * them drive the caller's (or anybody's) terminal.
 */
export function printable(s: string): string {
  return s.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const show = (s: string, empty = '(none)'): string => (s === '' ? empty : printable(s));

function localTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Lines end CR LF: the tty may have ONLCR off (a name ended with LF), and CR CR LF is harmless. */
const crlf = (lines: string[]): string => lines.map((l) => `${l}\r\n`).join('');

export function welcomeScreen(c: CallInfo): string {
  const name = c.loginName === '/AutoPPP/' ? '/AutoPPP/ (a PPP caller)' : show(c.loginName, '(no name)');
  return crlf([
    '',
    '+------------------------------------------------------------+',
    '|  Welcome to the tgetty demo                                |',
    '+------------------------------------------------------------+',
    '',
    `  Hello ${name}!`,
    '',
    `  line        ${show(c.device)}`,
    `  caller ID   ${show(c.callerId)}${c.callerName !== '' ? `  (${printable(c.callerName)})` : ''}`,
    `  CONNECT     ${show(c.connect)}`,
    `  time        ${localTime(c.now)}`,
    '',
    '  This program stands in for /bin/login in the demo: tgetty answered',
    '  the (virtual) modem, read your login name and started it on the line,',
    '  as the demo\'s login.config says.',
  ]);
}

export const MENU = crlf([
  '',
  '  1) about tgetty',
  '  2) show this call\'s data',
  '  3) echo test',
  '  4) the BBS banner',
  '  q) hang up',
  '',
]);

export const PROMPT = 'choice> ';

export const ABOUT = crlf([
  '',
  '  tgetty is a modem getty for Linux, a drop-in for mgetty 1.2.1:',
  '  it initialises Hayes modems, answers calls, shows the issue text and',
  '  the login prompt, spots PPP callers, and hands the line to login or',
  '  pppd as login.config says. `tgetty serve` runs many lines from one',
  '  supervising daemon; `tgetty status` and `tgetty calls` show them.',
  '',
  '  In this demo the modems are virtual (`tgetty sim`): your telnet',
  '  connection rang one of them, and tgetty answered it like a real call.',
]);

export function callData(c: CallInfo): string {
  return crlf([
    '',
    '  What tgetty passed to this program (environment, as mgetty does):',
    `    DEVICE=${printable(c.device)}`,
    `    CALLER_ID=${printable(c.callerId)}`,
    `    CALLER_NAME=${printable(c.callerName)}`,
    `    CALL_DATE=${printable(c.callDate)}  CALL_TIME=${printable(c.callTime)}  (MMDD, HHMM from the caller ID block)`,
    `    CONNECT=${printable(c.connect)}`,
    `  and as the first argument (login.config's @): ${show(c.loginName, '(empty)')}`,
    `  host ${printable(c.host)}, program pid ${c.pid}`,
  ]);
}

export const BBS_BANNER = crlf([
  '',
  '  ########   ######   ########  ########  ########  ##    ##',
  '     ##     ##    ##  ##           ##        ##      ##  ##',
  '     ##     ##        ######       ##        ##       ####',
  '     ##     ##   ###  ##           ##        ##        ##',
  '     ##      ######   ########     ##        ##        ##',
  '',
  '     * THE TGETTY BOARD *   1 node online   no files, no doors',
  '     no sysop either: just a (virtual) modem that answered your call',
]);

/** Lines from a cooked tty: a chunk may hold several lines or part of one. */
export class LineQueue {
  private buf = '';
  private afterCr = false;
  private readonly lines: string[] = [];
  private waiter: ((l: string | undefined) => void) | undefined;
  private ended = false;

  push(chunk: string): void {
    for (const ch of chunk) {
      // CR LF is one line end, also when the CR ended the previous chunk.
      const afterCr = this.afterCr;
      this.afterCr = ch === '\r';
      if (ch === '\n' && afterCr) continue;
      if (ch === '\r' || ch === '\n') {
        const line = this.buf;
        this.buf = '';
        this.deliver(line);
      } else if (ch !== '\0') {
        // NUL: the padding of telnet's CR NUL.
        this.buf += ch;
      }
    }
  }

  end(): void {
    this.ended = true;
    const w = this.waiter;
    this.waiter = undefined;
    w?.(undefined);
  }

  private deliver(line: string): void {
    const w = this.waiter;
    if (w !== undefined) {
      this.waiter = undefined;
      w(line);
    } else {
      this.lines.push(line);
    }
  }

  /** The next line, or undefined once the input ended (hangup). */
  next(): Promise<string | undefined> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.ended) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }
}

export interface SessionIo {
  write(s: string): void;
  lines: LineQueue;
}

/** The dialogue. Resolves with how it ended: `q` typed, or the line went away. */
export async function runSession(c: CallInfo, io: SessionIo): Promise<'quit' | 'hangup'> {
  io.write(welcomeScreen(c));
  io.write(MENU);
  for (;;) {
    io.write(PROMPT);
    const raw = await io.lines.next();
    if (raw === undefined) return 'hangup';
    const choice = raw.trim().toLowerCase();
    switch (choice) {
      case '':
        continue;
      case '1':
        io.write(ABOUT);
        break;
      case '2':
        io.write(callData(c));
        break;
      case '3': {
        io.write(crlf(['', '  Echo test: type a line and press Enter; an empty line ends the test.']));
        for (;;) {
          io.write('echo> ');
          const l = await io.lines.next();
          if (l === undefined) return 'hangup';
          if (l === '') break;
          io.write(crlf([`  you typed "${printable(l)}" (${l.length} characters); backwards: "${printable([...l].reverse().join(''))}"`]));
        }
        break;
      }
      case '4':
        io.write(BBS_BANNER);
        break;
      case 'q':
      case 'quit':
      case 'exit':
        io.write(crlf(['', '  Thanks for calling. Hanging up: your telnet should say "Connection closed".', '']));
        return 'quit';
      default:
        io.write(crlf([`  no such choice: "${printable(raw.trim())}"`]));
    }
    io.write(MENU);
  }
}

/**
 * Leave after a hangup. At exit Node restores the terminal settings it found at start on
 * fds 0-2, and aborts (SIGABRT) if that tcsetattr fails, as it does with EIO on a hung-up
 * tty. It skips an fd that is closed, so the line's fds are closed first: there is no
 * terminal left to restore.
 */
function exitHungUp(): never {
  for (const fd of [0, 1, 2]) {
    try {
      closeSync(fd);
    } catch {
      // already closed
    }
  }
  process.exit(0);
}

/** Entry point on the tty. Any trouble with the line (hangup, EIO) ends the program quietly. */
async function main(): Promise<void> {
  process.on('SIGHUP', exitHungUp);
  process.stdout.on('error', exitHungUp);
  const lines = new LineQueue();
  process.stdin.setEncoding('latin1');
  process.stdin.on('data', (d: string) => lines.push(d));
  process.stdin.on('end', () => lines.end());
  process.stdin.on('error', () => lines.end());
  const info = callInfoFrom(process.argv.slice(2), process.env, Date.now(), hostname(), process.pid);
  const how = await runSession(info, { write: (s) => process.stdout.write(s, 'latin1'), lines });
  if (how === 'hangup') exitHungUp();
  process.exit(0);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch(() => process.exit(1));
}
