/**
 * The termios settings a getty puts on its line, as pure functions from a base termios
 * to a new one. No I/O: the real line feeds them tcgetattr() output and writes the
 * result with tcsetattr(); the in-memory fake keeps the result as its model.
 *
 * Sources (clean room): mgetty-spec.md §5.1 step 9 (idle), §5.12 b (sane), §5.14
 * (what login gets). Each preset sets every flag word absolutely, so the result does
 * not depend on whatever the previous owner of the port left behind; only the c_cc
 * slots mgetty leaves alone (VINTR, VERASE, VEOL2), c_line and (unless given) the
 * speed come from the base.
 */
import { BRKINT, CLOCAL, CREAD, CRTSCTS, CS8, ECHO, ECHOCTL, ECHOE, ECHOK, ECHOKE, HUPCL, ICANON, ICRNL, IEXTEN, IGNPAR, ISIG, IXON, ONLCR, OPOST, SPEEDS, TAB3, VDISCARD, VEOF, VEOL, VERASE, VINTR, VKILL, VLNEXT, VMIN, VQUIT, VREPRINT, VSTART, VSTOP, VSUSP, VSWTC, VTIME, VWERASE } from './libc.js';
import type { Termios } from './libc.js';
import { TgettyError } from '../core/errors.js';

/** Speed bits of c_cflag (CBAUD, which includes CBAUDEX) on Linux. */
export const CBAUD = 0o10017;

export type TermiosModeName = 'idle-raw' | 'sane' | 'login';

/**
 * What to put on the line. `speed` is in baud (e.g. 38400); when omitted the base's
 * speed is kept. `clocal` defaults to what mgetty does in that state: on while idle
 * (carrier is ignored while waiting for RING), off for sane and login (carrier loss
 * then hangs the line up) unless `ignore-carrier` is configured.
 */
export type LineMode =
  | { mode: 'idle-raw'; speed?: number; clocal?: boolean }
  | { mode: 'sane'; speed?: number; clocal?: boolean }
  /** `endedWith` is how the login name was terminated: CR -> ICRNL and ONLCR on, LF -> both off. */
  | { mode: 'login'; endedWith: 'cr' | 'lf'; speed?: number; clocal?: boolean };

const ctrl = (ch: string): number => ch.charCodeAt(0) & 0x1f;

/** The c_cc slots mgetty initialises at open (§5.1 step 9); VINTR, VERASE, VEOL2 are left alone. */
const INIT_CC: ReadonlyArray<readonly [number, number]> = [
  [VQUIT, 0x1c], // ^\
  [VKILL, ctrl('U')],
  [VEOF, ctrl('D')],
  [VEOL, 0],
  [VSTART, ctrl('Q')],
  [VSTOP, ctrl('S')],
  [VSUSP, ctrl('Z')],
  [VREPRINT, ctrl('R')],
  [VDISCARD, ctrl('O')],
  [VWERASE, ctrl('W')],
  [VLNEXT, ctrl('V')],
  [VSWTC, 0],
  [VMIN, 1],
  [VTIME, 0],
];

function copy(t: Termios): Termios {
  return { ...t, c_cc: [...t.c_cc] };
}

/** Termios speed code for a baud rate; throws CLI_BAD_SPEED for rates the kernel lacks. */
export function baudCode(baud: number): number {
  const code = SPEEDS.get(baud);
  if (code === undefined) throw new TgettyError('CLI_BAD_SPEED', `invalid port speed ${baud}`, { input: String(baud) });
  return code;
}

/** Baud rate of `t` (from the c_cflag speed bits), or 0 if the code is not in the table. */
export function speedOf(t: Termios): number {
  const code = t.c_cflag & CBAUD;
  for (const [baud, c] of SPEEDS) if (c === code) return baud;
  return 0;
}

/** `t` with both speeds set, as glibc's cfsetspeed does (c_cflag bits plus c_ispeed/c_ospeed codes). */
export function withSpeed(t: Termios, baud: number): Termios {
  const code = baudCode(baud);
  const n = copy(t);
  n.c_cflag = ((n.c_cflag & ~CBAUD) | code) >>> 0;
  n.c_ispeed = code;
  n.c_ospeed = code;
  return n;
}

/** `t` with CLOCAL set or cleared. */
export function withClocal(t: Termios, on: boolean): Termios {
  const n = copy(t);
  n.c_cflag = (on ? n.c_cflag | CLOCAL : n.c_cflag & ~CLOCAL) >>> 0;
  return n;
}

function cflagFor(base: Termios, clocal: boolean): number {
  // 8N1, receiver on, DTR dropped on last close, RTS/CTS flow control (§5.1 step 9, §5.12 b).
  return ((base.c_cflag & CBAUD) | CS8 | CREAD | HUPCL | CRTSCTS | (clocal ? CLOCAL : 0)) >>> 0;
}

function initCc(t: Termios): void {
  for (const [i, v] of INIT_CC) t.c_cc[i] = v;
}

/** Apply one of the getty's termios presets to `base` and return the result (base is not modified). */
export function applyTermiosMode(base: Termios, spec: LineMode): Termios {
  let t = copy(base);
  switch (spec.mode) {
    case 'idle-raw':
      // Raw: no input or output processing, no echo, no signals; XON/XOFF off so ^Q/^S reach the parser.
      t.c_iflag = 0;
      t.c_oflag = 0;
      t.c_lflag = 0;
      t.c_cflag = cflagFor(base, spec.clocal ?? true);
      initCc(t);
      break;
    case 'sane':
    case 'login': {
      t.c_iflag = BRKINT | IGNPAR;
      // TAB3 expands tabs; no ONLCR: the issue file's LF goes out raw (§5.12 b).
      t.c_oflag = OPOST | TAB3;
      t.c_lflag = ISIG | ICANON | ECHO | ECHOE | ECHOK;
      t.c_cflag = cflagFor(base, spec.clocal ?? false);
      initCc(t);
      if (spec.mode === 'login' && spec.endedWith === 'cr') {
        t.c_iflag |= ICRNL;
        t.c_oflag |= ONLCR;
      }
      break;
    }
  }
  if (spec.speed !== undefined) t = withSpeed(t, spec.speed);
  else {
    // Keep c_ispeed/c_ospeed consistent with the (kept) cflag speed bits.
    t.c_ispeed = t.c_cflag & CBAUD;
    t.c_ospeed = t.c_cflag & CBAUD;
  }
  return t;
}

/**
 * Linux's initial termios for a tty: a fresh pty slave (38400, no HUPCL, no CLOCAL;
 * measured) or a serial port (the serial core's 9600 with HUPCL and CLOCAL). The in-memory fake starts from this so it behaves like a device.
 */
export function linuxDefaultTermios(kind: 'pty' | 'serial' = 'pty'): Termios {
  const cc = new Array<number>(32).fill(0);
  const init = [3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0];
  init.forEach((v, i) => {
    cc[i] = v;
  });
  const speed = kind === 'pty' ? SPEEDS.get(38400) ?? 0 : SPEEDS.get(9600) ?? 0;
  return {
    c_iflag: ICRNL | IXON,
    c_oflag: OPOST | ONLCR,
    c_cflag: speed | CS8 | CREAD | (kind === 'serial' ? HUPCL | CLOCAL : 0),
    c_lflag: ISIG | ICANON | ECHO | ECHOE | ECHOK | ECHOCTL | ECHOKE | IEXTEN,
    c_line: 0,
    c_cc: cc,
    c_ispeed: speed,
    c_ospeed: speed,
  };
}

/**
 * Which preset `t` matches exactly (ignoring speed, CLOCAL and the c_cc slots presets leave
 * alone), if any. 'sane' also stands for 'login' after an LF-terminated name: they are equal.
 */
export function classifyTermios(t: Termios): TermiosModeName | undefined {
  const clocal = (t.c_cflag & CLOCAL) !== 0;
  const same = (spec: LineMode): boolean => {
    const p = applyTermiosMode(t, { ...spec, clocal });
    return p.c_iflag === t.c_iflag && p.c_oflag === t.c_oflag && p.c_cflag === t.c_cflag && p.c_lflag === t.c_lflag &&
      p.c_cc.every((v, i) => v === t.c_cc[i]);
  };
  if (same({ mode: 'idle-raw' })) return 'idle-raw';
  if (same({ mode: 'login', endedWith: 'cr' })) return 'login';
  if (same({ mode: 'sane' })) return 'sane'; // identical to login after an LF-terminated name
  return undefined;
}

/** A short stty-like rendering for logs and test failure messages. */
export function describeTermios(t: Termios): string {
  const flag = (word: number, bit: number, name: string): string => ((word & bit) !== 0 ? name : `-${name}`);
  return [
    `speed ${speedOf(t)}`,
    flag(t.c_cflag, CLOCAL, 'clocal'),
    flag(t.c_cflag, HUPCL, 'hupcl'),
    flag(t.c_cflag, CRTSCTS, 'crtscts'),
    flag(t.c_lflag, ICANON, 'icanon'),
    flag(t.c_lflag, ECHO, 'echo'),
    flag(t.c_iflag, ICRNL, 'icrnl'),
    flag(t.c_iflag, IXON, 'ixon'),
    flag(t.c_oflag, OPOST, 'opost'),
    flag(t.c_oflag, ONLCR, 'onlcr'),
    `min ${t.c_cc[VMIN] ?? 0} time ${t.c_cc[VTIME] ?? 0} intr ${t.c_cc[VINTR] ?? 0} erase ${t.c_cc[VERASE] ?? 0}`,
  ].join(' ');
}
