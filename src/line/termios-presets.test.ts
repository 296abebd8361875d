import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SPEEDS, cfsetspeed, cfgetspeed } from './libc.js';
import type { Termios } from './libc.js';
import {
  applyTermiosMode, baudCode, classifyTermios, describeTermios, linuxDefaultTermios, speedOf, withClocal, withSpeed,
} from './termios-presets.js';
import { isTgettyError } from '../core/errors.js';

// Expected values are written as Linux octal literals, not with the libc.ts constants,
// so a wrong constant there cannot make a wrong preset pass.
const B38400 = 0o17;
/** OR of flag bits as an unsigned 32-bit value (CRTSCTS is bit 31). */
const u = (...bits: number[]): number => bits.reduce((a, b) => a | b, 0) >>> 0;
const B115200 = 0o10002;

/** c_cc after §5.1 step 9 (indices: Linux VINTR=0 ... VEOL2=16), with VINTR/VERASE/VEOL2 from `base`. */
function expectedCc(base: Termios): number[] {
  const cc = [...base.c_cc];
  const set: Record<number, number> = {
    1: 0x1c, // VQUIT ^\
    3: 0x15, // VKILL ^U
    4: 0x04, // VEOF ^D
    5: 0, // VTIME
    6: 1, // VMIN
    7: 0, // VSWTC
    8: 0x11, // VSTART ^Q
    9: 0x13, // VSTOP ^S
    10: 0x1a, // VSUSP ^Z
    11: 0, // VEOL
    12: 0x12, // VREPRINT ^R
    13: 0x0f, // VDISCARD ^O
    14: 0x17, // VWERASE ^W
    15: 0x16, // VLNEXT ^V
  };
  for (const [i, v] of Object.entries(set)) cc[Number(i)] = v;
  return cc;
}

/** A base with odd values everywhere, so "untouched" and "reset" are both visible. */
function oddBase(): Termios {
  const t = linuxDefaultTermios('pty');
  t.c_iflag = 0o37777; // everything on, incl. IXON IXOFF IXANY ICRNL
  t.c_oflag = 0o177777;
  t.c_lflag = 0o177777;
  t.c_cflag = (t.c_cflag | 0o400 | 0o100 | 0o4000) >>> 0; // PARENB CSTOPB CLOCAL
  t.c_cc = t.c_cc.map((_, i) => 100 + i);
  return t;
}

test('idle-raw is §5.1 step 9: 8N1 CREAD HUPCL CLOCAL CRTSCTS, raw, VMIN 1 VTIME 0, c_cc initialised', () => {
  const base = oddBase();
  const t = applyTermiosMode(base, { mode: 'idle-raw' });
  assert.equal(t.c_iflag, 0, 'no input processing, XON/XOFF off');
  assert.equal(t.c_oflag, 0, 'no output processing');
  assert.equal(t.c_lflag, 0, 'no echo, no signals, not canonical');
  assert.equal(t.c_cflag, u(B38400, 0o60, 0o200, 0o2000, 0o4000, 0o20000000000));
  assert.deepEqual(t.c_cc, expectedCc(base));
  assert.equal(t.c_cc[0], base.c_cc[0], 'VINTR untouched');
  assert.equal(t.c_cc[2], base.c_cc[2], 'VERASE untouched');
  assert.equal(t.c_cc[16], base.c_cc[16], 'VEOL2 untouched');
  assert.equal(t.c_ispeed, B38400);
  assert.equal(t.c_ospeed, B38400);
});

test('idle-raw takes clocal and speed parameters', () => {
  const t = applyTermiosMode(oddBase(), { mode: 'idle-raw', clocal: false, speed: 115200 });
  assert.equal(t.c_cflag, u(B115200, 0o60, 0o200, 0o2000, 0o20000000000));
  assert.equal(speedOf(t), 115200);
  assert.equal(t.c_ispeed, B115200);
});

test('sane is §5.12 b: BRKINT IGNPAR; OPOST TAB3 without ONLCR; ISIG ICANON ECHO ECHOE ECHOK; no CLOCAL', () => {
  const base = oddBase();
  const t = applyTermiosMode(base, { mode: 'sane' });
  assert.equal(t.c_iflag, 0o2 | 0o4);
  assert.equal(t.c_oflag, 0o1 | 0o14000);
  assert.equal(t.c_lflag, 0o1 | 0o2 | 0o10 | 0o20 | 0o40);
  assert.equal(t.c_cflag, u(B38400, 0o60, 0o200, 0o2000, 0o20000000000));
  assert.equal(t.c_cc[4], 0x04, 'VEOF ^D');
  assert.equal(t.c_cc[11], 0, 'VEOL 0');
  assert.deepEqual(t.c_cc, expectedCc(base));
  const ic = applyTermiosMode(base, { mode: 'sane', clocal: true });
  assert.equal(ic.c_cflag & 0o4000, 0o4000, 'ignore-carrier keeps CLOCAL');
});

test('login after a CR-terminated name is §5.14 exactly', () => {
  // Start from what the line really has then: the pty default, then idle-raw, then sane.
  const pty = linuxDefaultTermios('pty');
  const idle = applyTermiosMode(pty, { mode: 'idle-raw' });
  const t = applyTermiosMode(applyTermiosMode(idle, { mode: 'sane' }), { mode: 'login', endedWith: 'cr' });
  assert.equal(t.c_iflag, 0o406, 'BRKINT IGNPAR ICRNL');
  assert.equal(t.c_oflag, 0o14005, 'OPOST ONLCR TAB3');
  assert.equal(t.c_cflag, 0o20000002277, 'CS8 CREAD HUPCL CRTSCTS B38400, no CLOCAL');
  assert.equal(t.c_lflag, 0o73, 'ISIG ICANON ECHO ECHOE ECHOK');
  // VINTR ^C and VERASE DEL inherited from the pty default, VEOL2 0 inherited.
  assert.deepEqual(t.c_cc.slice(0, 17), [3, 28, 127, 21, 4, 0, 1, 0, 17, 19, 26, 0, 18, 15, 23, 22, 0]);
  assert.equal(classifyTermios(t), 'login');
});

test('login after an LF-terminated name has neither ICRNL nor ONLCR; ignore-carrier adds CLOCAL', () => {
  const t = applyTermiosMode(oddBase(), { mode: 'login', endedWith: 'lf' });
  assert.equal(t.c_iflag, 0o6);
  assert.equal(t.c_oflag, 0o14001);
  assert.equal(t.c_cflag & 0o4000, 0);
  const ic = applyTermiosMode(oddBase(), { mode: 'login', endedWith: 'lf', clocal: true, speed: 115200 });
  assert.equal(ic.c_cflag, u(B115200, 0o60, 0o200, 0o2000, 0o4000, 0o20000000000));
  assert.equal(classifyTermios(t), 'sane', 'LF login equals sane');
});

test('presets never modify their base', () => {
  const base = oddBase();
  const copy = structuredClone(base);
  applyTermiosMode(base, { mode: 'idle-raw', speed: 9600 });
  applyTermiosMode(base, { mode: 'login', endedWith: 'cr' });
  withSpeed(base, 300);
  withClocal(base, false);
  assert.deepEqual(base, copy);
});

const arbTermios: fc.Arbitrary<Termios> = fc.record({
  c_iflag: fc.integer({ min: 0, max: 0o77777 }),
  c_oflag: fc.integer({ min: 0, max: 0o177777 }),
  c_cflag: fc.integer({ min: 0, max: 0xffffffff }),
  c_lflag: fc.integer({ min: 0, max: 0o177777 }),
  c_line: fc.constant(0),
  c_cc: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 32, maxLength: 32 }),
  c_ispeed: fc.constant(0),
  c_ospeed: fc.constant(0),
});
const arbSpeed = fc.constantFrom(...SPEEDS.keys());

test('withSpeed/speedOf agree with glibc cfsetspeed/cfgetospeed for every speed and base', () => {
  fc.assert(
    fc.property(arbTermios, arbSpeed, (base, baud) => {
      // glibc keeps c_ispeed/c_ospeed consistent with c_cflag; start from a consistent base.
      const b = { ...base, c_cc: [...base.c_cc], c_cflag: (base.c_cflag & ~0o10017 & ~0o20000000000 & 0xffff) >>> 0 };
      const ours = withSpeed(b, baud);
      const theirs = { ...b, c_cc: [...b.c_cc] };
      cfsetspeed(theirs, baud);
      assert.equal(ours.c_cflag, theirs.c_cflag >>> 0);
      assert.equal(ours.c_ispeed, theirs.c_ispeed);
      assert.equal(ours.c_ospeed, theirs.c_ospeed);
      assert.equal(speedOf(ours), baud);
      assert.equal(cfgetspeed(ours), baud);
    }),
    { numRuns: 200 },
  );
});

test('each preset gives the same flag words from any base (only speed, c_line and untouched c_cc come from it)', () => {
  const modes = [
    { mode: 'idle-raw' as const },
    { mode: 'sane' as const, clocal: true },
    { mode: 'login' as const, endedWith: 'cr' as const },
    { mode: 'login' as const, endedWith: 'lf' as const, speed: 57600 },
  ];
  fc.assert(
    fc.property(arbTermios, arbTermios, fc.constantFrom(...modes), (a, b, m) => {
      const sp = { speed: 19200, ...m };
      const x = applyTermiosMode(a, sp);
      const y = applyTermiosMode(b, sp);
      assert.equal(x.c_iflag, y.c_iflag);
      assert.equal(x.c_oflag, y.c_oflag);
      assert.equal(x.c_cflag, y.c_cflag);
      assert.equal(x.c_lflag, y.c_lflag);
      for (let i = 0; i < 32; i++) {
        if (i === 0 || i === 2 || i >= 16) assert.equal(x.c_cc[i], a.c_cc[i]);
        else assert.equal(x.c_cc[i], y.c_cc[i]);
      }
      // Applying twice changes nothing more.
      assert.deepEqual(applyTermiosMode(x, sp), x);
    }),
    { numRuns: 200 },
  );
});

test('baudCode rejects unknown rates with CLI_BAD_SPEED', () => {
  assert.equal(baudCode(38400), B38400);
  assert.throws(() => baudCode(12345), (e: unknown) => isTgettyError(e, 'CLI_BAD_SPEED'));
  assert.throws(() => applyTermiosMode(linuxDefaultTermios(), { mode: 'sane', speed: 31337 }), (e: unknown) => isTgettyError(e, 'CLI_BAD_SPEED'));
});

test('linuxDefaultTermios matches the kernel defaults for a pty and a serial port', () => {
  const p = linuxDefaultTermios('pty');
  assert.equal(p.c_iflag, 0o2400);
  assert.equal(p.c_oflag, 0o5);
  assert.equal(p.c_cflag, 0o277, 'B38400 CS8 CREAD: a pty starts without HUPCL');
  assert.equal(p.c_lflag, 0o105073);
  const s = linuxDefaultTermios('serial');
  assert.equal(s.c_cflag, 0o15 | 0o60 | 0o200 | 0o2000 | 0o4000);
  assert.equal(speedOf(s), 9600);
  assert.equal(classifyTermios(p), undefined);
  assert.match(describeTermios(s), /^speed 9600 clocal hupcl -crtscts icanon echo icrnl ixon opost onlcr/);
  assert.match(describeTermios(p), /^speed 38400 -clocal -hupcl /);
});
