/**
 * One contract suite for every Line implementation (the serialport bindings.test.ts
 * pattern): the in-memory pair on a FakeClock, a real pty (the master plays the far
 * end, with short real time), and a real serial port when TEST_TTY names one.
 * Capabilities a transport lacks (a pty has no modem lines) are checked as
 * "unsupported", not skipped.
 */
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import tty from 'node:tty';
import { FakeClock, systemClock } from '../../src/core/clock.js';
import { isTgettyError } from '../../src/core/errors.js';
import { CLOCAL, ICRNL, ONLCR, O_NOCTTY, O_NONBLOCK, O_RDONLY, O_RDWR, closeFd, getFdFlags, getModemBits, inputPending, openFd, openPty, tcgetattr } from '../../src/line/libc.js';
import type { Termios } from '../../src/line/libc.js';

const O_ACCMODE = 0o3;
import { isCanceled, isDisconnected } from '../../src/line/line.js';
import type { Line, LineMode, QuietResult } from '../../src/line/line.js';
import { createMemoryLinePair } from '../../src/line/memory-line.js';
import type { FarEnd, MemoryLine } from '../../src/line/memory-line.js';
import { openTtyLine } from '../../src/line/tty-line.js';
import { applyTermiosMode, classifyTermios, describeTermios, speedOf } from '../../src/line/termios-presets.js';

interface Rig {
  line: Line;
  /** Bytes from the far end toward the getty. */
  send(bytes: string | Buffer): void;
  /** Everything the far end has received. */
  received(): Buffer;
  /** Make the far end go away (pty: close the master). Undefined if the transport cannot. */
  hangup: (() => void) | undefined;
  /** Raise or drop DCD from the far end. Undefined if the transport cannot (pty, a cable). */
  setDcd: ((on: boolean) => void) | undefined;
  /** Let `ms` of line time pass (fake: advance the FakeClock; real: sleep). */
  elapse(ms: number): Promise<void>;
  /** Wait until `cond` holds (fake: settle microtasks; real: poll, bounded). */
  until(cond: () => boolean, what: string): Promise<void>;
  /** Bytes still in the line's input queue, unread. */
  pendingIn(): number;
  /** The device's termios read independently of the Line under test. */
  readTermios(): Termios;
  /** Line discipline runs (echo, ICRNL): real ttys only. */
  hasLineDiscipline: boolean;
  hasModemLines: boolean;
  hasChildFd: boolean;
  /** The memory rig's far end, for fake-only checks. */
  memory?: { far: FarEnd; clock: FakeClock; line: MemoryLine };
  cleanup(): void;
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function makeMemoryRig(): Rig {
  const clock = new FakeClock(0);
  const { line, far } = createMemoryLinePair({ clock, path: '/dev/ttyS7' });
  const until = async (cond: () => boolean, what: string): Promise<void> => {
    for (let i = 0; i < 100; i++) {
      if (cond()) return;
      await tick();
    }
    assert.fail(`memory line: never happened: ${what}`);
  };
  return {
    line,
    send: (b) => far.send(b),
    received: () => far.received,
    hangup: () => far.hangup(),
    setDcd: (on) => far.setModem({ dcd: on }),
    async elapse(ms) {
      await tick();
      clock.advance(ms);
      await tick();
    },
    until,
    pendingIn: () => far.pendingToLine,
    readTermios: () => far.termios,
    hasLineDiscipline: false,
    hasModemLines: true,
    hasChildFd: false,
    memory: { far, clock, line },
    cleanup: () => line.close(),
  };
}

/** Real-time polling bound for the pty rig; generous because tests run in parallel. */
const REAL_DEADLINE_MS = 3000;

async function untilReal(cond: () => boolean, what: string): Promise<void> {
  const end = Date.now() + REAL_DEADLINE_MS;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`never happened within ${REAL_DEADLINE_MS} ms: ${what}`);
    await sleep(5);
  }
}

function makePtyRig(): Rig {
  const pty = openPty();
  let masterOpen = true;
  const got: Buffer[] = [];
  const master = new tty.ReadStream(pty.master);
  master.on('data', (b: Buffer) => got.push(b));
  master.on('error', () => undefined); // EIO once the slave side is gone: expected at cleanup
  // An independent probe fd on the slave: FIONREAD and tcgetattr without going through the Line.
  const probe = openFd(pty.slave, O_RDWR | O_NOCTTY | O_NONBLOCK);
  let line: Line;
  try {
    line = openTtyLine(pty.slave, { clock: systemClock });
  } catch (e) {
    closeFd(probe);
    master.destroy();
    throw e;
  }
  const closeMaster = (): void => {
    if (!masterOpen) return;
    masterOpen = false;
    master.destroy(); // closes the master fd itself (no re-open for a master)
  };
  return {
    line,
    send: (b) => {
      const buf = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
      let off = 0;
      while (off < buf.length) off += fs.writeSync(pty.master, buf, off);
    },
    received: () => Buffer.concat(got),
    hangup: closeMaster,
    setDcd: undefined,
    elapse: (ms) => sleep(ms),
    until: untilReal,
    pendingIn: () => inputPending(probe),
    readTermios: () => tcgetattr(probe),
    hasLineDiscipline: true,
    hasModemLines: false,
    hasChildFd: true,
    cleanup: () => {
      line.close();
      closeFd(probe);
      closeMaster();
    },
  };
}

/** TEST_TTY with TEST_TTY_FAR, the other end of a null-modem cable, as the far end. */
function makeSerialRig(path: string, farPath: string): Rig {
  const line = openTtyLine(path, { clock: systemClock });
  const probe = openFd(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
  const far = openTtyLine(farPath, { clock: systemClock });
  const got: Buffer[] = [];
  far.applyMode({ mode: 'idle-raw' });
  far.on('data', (b) => got.push(b));
  far.resume();
  return {
    line,
    send: (b) => {
      void far.write(b);
    },
    received: () => Buffer.concat(got),
    hangup: undefined, // a cable cannot be pulled from here
    setDcd: undefined,
    elapse: (ms) => sleep(ms),
    until: untilReal,
    pendingIn: () => inputPending(probe),
    readTermios: () => tcgetattr(probe),
    hasLineDiscipline: true,
    hasModemLines: true,
    hasChildFd: true,
    cleanup: () => {
      line.close();
      far.close();
      closeFd(probe);
    },
  };
}

function collect(line: Line): { bufs: Buffer[]; text: () => string } {
  const bufs: Buffer[] = [];
  line.on('data', (b) => bufs.push(b));
  return { bufs, text: () => Buffer.concat(bufs).toString('latin1') };
}

/** Run a quiet-wait while letting line time pass (the fake's clock only moves when told). */
async function quietWait(rig: Rig, ms: number, opts?: { maxBytes?: number }): Promise<QuietResult> {
  let result: QuietResult | undefined;
  let failure: unknown;
  let settled = false;
  rig.line.waitQuiet(ms, opts).then(
    (r) => {
      result = r;
      settled = true;
    },
    (e: unknown) => {
      failure = e;
      settled = true;
    },
  );
  for (let i = 0; i < 20 && !settled; i++) await rig.elapse(ms);
  await rig.until(() => settled, 'quiet-wait ended');
  if (result === undefined) throw failure;
  return result;
}

function setup(t: TestContext, make: () => Rig, mode: LineMode = { mode: 'idle-raw' }): Rig {
  const rig = make();
  t.after(() => rig.cleanup());
  rig.line.applyMode(mode);
  return rig;
}

function lineContract(kind: string, make: () => Rig): void {
  describe(`Line contract: ${kind}`, () => {
    test('starts open and paused, with device and path', (t) => {
      const rig = setup(t, make);
      assert.equal(rig.line.state, 'open');
      assert.equal(rig.line.paused, true);
      assert.ok(rig.line.path.startsWith('/dev/'));
      assert.equal(rig.line.device, rig.line.path.slice(5));
    });

    test('data both ways, every byte value, in order', async (t) => {
      const rig = setup(t, make);
      const got = collect(rig.line);
      rig.line.resume();
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      rig.send(all.subarray(0, 100));
      rig.send(all.subarray(100));
      await rig.until(() => Buffer.concat(got.bufs).length >= 256, 'line got 256 bytes');
      assert.deepEqual(Buffer.concat(got.bufs), all);
      await rig.line.write(all);
      await rig.until(() => rig.received().length >= 256, 'far got 256 bytes');
      assert.deepEqual(rig.received(), all);
    });

    test('chunking: input split at every point arrives whole and in order', async (t) => {
      const rig = setup(t, make);
      const got = collect(rig.line);
      rig.line.resume();
      const msg = Buffer.from('RING\r\nCONNECT 33600/ARQ\r\n', 'latin1');
      let expected = '';
      for (let i = 0; i <= msg.length; i++) {
        rig.send(msg.subarray(0, i));
        rig.send(msg.subarray(i));
        expected += msg.toString('latin1');
      }
      await rig.until(() => got.text().length >= expected.length, 'all chunks arrived');
      assert.equal(got.text(), expected);
    });

    test('writes keep their order without awaiting each one; drain resolves after them', async (t) => {
      const rig = setup(t, make);
      const writes: Promise<void>[] = [];
      let expected = '';
      for (let i = 0; i < 50; i++) {
        const s = `<${i}>`;
        expected += s;
        writes.push(rig.line.write(s));
      }
      await Promise.all(writes);
      await rig.line.drain();
      await rig.until(() => rig.received().length >= expected.length, 'far got every write');
      assert.equal(rig.received().toString('latin1'), expected);
    });

    test('pause: nothing is read while paused, nothing is lost on resume', async (t) => {
      const rig = setup(t, make);
      const got = collect(rig.line);
      rig.send('abc');
      await rig.until(() => rig.pendingIn() === 3, 'bytes queued for the line');
      await rig.elapse(30);
      assert.equal(got.bufs.length, 0, 'no data while paused (initial state)');
      assert.equal(rig.pendingIn(), 3, 'the bytes stay in the input queue');
      rig.line.resume();
      await rig.until(() => got.text() === 'abc', 'held bytes delivered on resume');

      // Pausing from inside a data handler (dial-out detected) stops the very next read.
      rig.line.once('data', () => rig.line.pause());
      rig.send('x');
      await rig.until(() => got.text() === 'abcx', 'x delivered');
      assert.equal(rig.line.paused, true);
      rig.send('yz');
      await rig.until(() => rig.pendingIn() === 2, 'yz queued');
      await rig.elapse(30);
      assert.equal(got.text(), 'abcx');
      rig.line.resume();
      await rig.until(() => got.text() === 'abcxyz', 'yz delivered after resume');

    });

    test('resume() then pause() in the same tick leaves input unread', async (t) => {
      const rig = setup(t, make);
      const got = collect(rig.line);
      // On a fresh line this is where a deferred stream read could restart reading behind our back.
      rig.line.resume();
      rig.line.pause();
      await rig.elapse(10);
      rig.send('q');
      await rig.until(() => rig.pendingIn() === 1, 'q queued');
      await rig.elapse(30);
      assert.equal(rig.pendingIn(), 1, 'q still unread');
      assert.equal(got.bufs.length, 0);
      rig.line.resume();
      await rig.until(() => got.text() === 'q', 'q delivered');
    });

    test('flushInput drops what is queued', async (t) => {
      const rig = setup(t, make);
      const got = collect(rig.line);
      rig.send('junk');
      await rig.until(() => rig.pendingIn() === 4, 'junk queued');
      rig.line.flushInput();
      assert.equal(rig.pendingIn(), 0);
      rig.line.resume();
      rig.send('ok');
      await rig.until(() => got.text().length >= 2, 'ok delivered');
      assert.equal(got.text(), 'ok');
    });

    test('quiet-wait discards and returns what came, also while paused, and emits none of it', async (t) => {
      const rig = setup(t, make);
      const got = collect(rig.line);
      rig.send('[junk]');
      await rig.until(() => rig.pendingIn() === 6, 'junk queued');
      const r = await quietWait(rig, 40);
      assert.equal(r.discarded.toString('latin1'), '[junk]');
      assert.equal(r.tooMuch, false);
      assert.equal(got.bufs.length, 0);
      assert.equal(rig.line.paused, true, 'still paused afterwards');
      rig.send('later');
      await rig.until(() => rig.pendingIn() === 5, 'later stays queued after the wait');
    });

    test('quiet-wait stops at maxBytes and leaves the rest for the next reader', async (t) => {
      const rig = setup(t, make);
      const got = collect(rig.line);
      const junk = Buffer.alloc(150, 0x41);
      rig.send(junk);
      await rig.until(() => rig.pendingIn() === 150, 'junk queued');
      const r = await quietWait(rig, 40, { maxBytes: 100 });
      assert.equal(r.tooMuch, true);
      assert.equal(r.discarded.length, 100);
      rig.line.resume();
      await rig.until(() => got.text().length + rig.pendingIn() === 50 && rig.pendingIn() === 0, 'the other 50 bytes delivered');
      assert.equal(got.text(), 'A'.repeat(50));
    });

    test('only one quiet-wait at a time', async (t) => {
      const rig = setup(t, make);
      const first = rig.line.waitQuiet(20);
      await assert.rejects(rig.line.waitQuiet(20), (e: unknown) => isTgettyError(e, 'INTERNAL'));
      await rig.elapse(20);
      const r = await first;
      assert.equal(r.discarded.length, 0);
    });

    test('termios presets are really applied (read back independently)', (t) => {
      const rig = setup(t, make);
      const check = (mode: LineMode): void => {
        const before = rig.readTermios();
        rig.line.applyMode(mode);
        const want = applyTermiosMode(before, mode);
        const got = rig.readTermios();
        const msg = `${mode.mode}: got ${describeTermios(got)}, want ${describeTermios(want)}`;
        assert.equal(got.c_iflag, want.c_iflag, msg);
        assert.equal(got.c_oflag, want.c_oflag, msg);
        assert.equal(got.c_cflag >>> 0, want.c_cflag, msg);
        assert.equal(got.c_lflag, want.c_lflag, msg);
        assert.deepEqual(got.c_cc.slice(0, 17), want.c_cc.slice(0, 17), msg);
        assert.deepEqual(rig.line.mode, mode);
      };
      check({ mode: 'idle-raw', speed: 38400 });
      assert.equal(classifyTermios(rig.readTermios()), 'idle-raw');
      assert.notEqual(rig.readTermios().c_cflag & CLOCAL, 0, 'idle: CLOCAL on');
      rig.line.setClocal(false);
      assert.equal(rig.readTermios().c_cflag & CLOCAL, 0, 'CLOCAL off after setClocal(false)');
      rig.line.setClocal(true);
      assert.notEqual(rig.readTermios().c_cflag & CLOCAL, 0);
      check({ mode: 'sane' });
      check({ mode: 'login', endedWith: 'cr' });
      const login = rig.readTermios();
      assert.equal(login.c_iflag & ICRNL, ICRNL);
      assert.equal(login.c_oflag & ONLCR, ONLCR);
      assert.equal(login.c_cflag & CLOCAL, 0, 'login: no CLOCAL');
      assert.equal(classifyTermios(login), 'login');
      check({ mode: 'login', endedWith: 'lf', clocal: true });
      assert.equal(rig.readTermios().c_iflag & ICRNL, 0);
      rig.line.setSpeed(115200);
      assert.equal(rig.line.getSpeed(), 115200);
      assert.equal(speedOf(rig.readTermios()), 115200);
      assert.throws(() => rig.line.setSpeed(12345), (e: unknown) => isTgettyError(e, 'CLI_BAD_SPEED'));
      assert.deepEqual(rig.line.getTermios(), rig.readTermios());
    });

    test('modem lines: status, DTR and toggle, or "unsupported" (undefined/false) without throwing', async (t) => {
      const rig = setup(t, make);
      const status = rig.line.getModemStatus();
      if (!rig.hasModemLines) {
        assert.equal(status, undefined, 'no modem lines: undefined');
        assert.equal(rig.line.setDtr(false), false);
        assert.equal(await rig.line.toggleDtr(50), false);
        return;
      }
      assert.ok(status !== undefined);
      assert.equal(typeof status.dcd, 'boolean');
      assert.equal(rig.line.setDtr(true), true);
      const toggled = rig.line.toggleDtr(50);
      await rig.elapse(50);
      assert.equal(await toggled, true);
    });

    test('write resolves; after close() everything pending is canceled and close() is idempotent', async (t) => {
      const rig = setup(t, make);
      await rig.line.write('x');
      const quiet = rig.line.waitQuiet(60_000);
      rig.line.close();
      await assert.rejects(quiet, (e: unknown) => isCanceled(e));
      assert.equal(rig.line.state, 'closed');
      rig.line.close();
      await assert.rejects(rig.line.write('y'), (e: unknown) => isCanceled(e) && isTgettyError(e, 'LINE_CLOSED'));
      await assert.rejects(rig.line.waitQuiet(10), (e: unknown) => isCanceled(e));
      assert.throws(() => rig.line.applyMode({ mode: 'sane' }), (e: unknown) => isCanceled(e));
      rig.line.resume(); // harmless once closed
      assert.equal(rig.line.paused, true);
    });

    test('far end going away: one hangup event, pending and later calls reject as disconnected, no spin', async (t) => {
      const rig = setup(t, make);
      if (rig.hangup === undefined) {
        t.skip('this transport cannot make its far end go away');
        return;
      }
      const events: string[] = [];
      rig.line.on('hangup', (info) => events.push(`hangup:${info.reason}`));
      rig.line.on('data', () => events.push('data'));
      rig.line.on('error', () => events.push('error'));
      rig.line.resume();
      const quiet = rig.line.waitQuiet(60_000);
      rig.hangup();
      await assert.rejects(quiet, (e: unknown) => isDisconnected(e) && isTgettyError(e, 'LINE_HANGUP'));
      await rig.until(() => events.length > 0, 'hangup event');
      assert.equal(rig.line.state, 'hungup');
      await assert.rejects(rig.line.write('after'), (e: unknown) => isDisconnected(e));
      const cpu = process.cpuUsage();
      await rig.elapse(200);
      const used = process.cpuUsage(cpu);
      // A read loop spinning on EIO would burn the whole 200 ms; an idle one uses a few ms.
      if (rig.memory === undefined) assert.ok(used.user + used.system < 100_000, `CPU after hangup: ${JSON.stringify(used)}`);
      assert.deepEqual(events, ['hangup:eof']);
      rig.line.close();
      assert.equal(rig.line.state, 'closed');
    });

    test('openChildFd gives a separate blocking fd; release() leaves the line usable by it', async (t) => {
      const rig = setup(t, make);
      if (!rig.hasChildFd) {
        assert.throws(() => rig.line.openChildFd(), (e: unknown) => isTgettyError(e, 'LINE_OPEN_FAILED'));
        return;
      }
      const fd = rig.line.openChildFd();
      t.after(() => closeFd(fd));
      assert.equal(getFdFlags(fd) & O_NONBLOCK, 0, 'child fd is blocking');
      rig.line.release();
      assert.equal(rig.line.state, 'closed');
      rig.send('hello');
      await rig.until(() => rig.pendingIn() >= 5, 'hello reached the device, unread by the released line');
      const buf = Buffer.alloc(5);
      assert.equal(fs.readSync(fd, buf), 5);
      assert.equal(buf.toString(), 'hello');
      fs.writeSync(fd, 'login: ');
      await rig.until(() => rig.received().toString().endsWith('login: '), 'far got the child write');
    });

    test('watchCarrier after release(): the far end going away is reported once; the fd is read-only and never read', async (t) => {
      const rig = setup(t, make);
      if (rig.setDcd !== undefined) rig.setDcd(true);
      rig.line.release();
      const lost: string[] = [];
      // DCD is not looked at here (a pty has none): the device's hangup alone.
      const w = rig.line.watchCarrier({ intervalMs: 20, ignoreDcd: true }, (why) => lost.push(why));
      t.after(() => w.stop());
      if (rig.memory === undefined) {
        // A real tty: one fd, O_RDONLY|O_NOCTTY|O_NONBLOCK, on which FIONREAD works (and TIOCMGET, where there are modem lines).
        const fd = w.fd ?? assert.fail('a real tty watch holds an fd');
        assert.equal(getFdFlags(fd) & O_ACCMODE, O_RDONLY, 'read-only');
        assert.notEqual(getFdFlags(fd) & O_NONBLOCK, 0, 'non-blocking');
        assert.equal(inputPending(fd), 0);
        if (rig.hasModemLines) assert.equal(typeof getModemBits(fd), 'number');
      }
      if (rig.memory === undefined) {
        // The device's input queue, with the line released: only the child may read it.
        rig.send('typed');
        await rig.until(() => rig.pendingIn() === 5, 'bytes reached the device');
      }
      await rig.elapse(100);
      if (rig.memory === undefined) assert.equal(rig.pendingIn(), 5, 'the watch reads nothing: the bytes stay for the child');
      assert.deepEqual(lost, [], 'nothing lost while the far end stays');
      if (rig.hangup === undefined) return;
      rig.hangup();
      for (let i = 0; i < 10 && lost.length === 0; i++) await rig.elapse(20);
      await rig.until(() => lost.length > 0, 'carrier loss reported');
      await rig.elapse(100);
      assert.deepEqual(lost, ['the line hung up']);
      w.stop();
      assert.equal(w.fd, undefined, 'stop() lets go of the device');
    });

    test('watchCarrier: DCD low is reported unless ignore-carrier; a transport without modem lines watches the hangup only', async (t) => {
      const rig = setup(t, make);
      const lost: string[] = [];
      const ignoring: string[] = [];
      rig.setDcd?.(true);
      const w = rig.line.watchCarrier({ intervalMs: 20, ignoreDcd: false }, (why) => lost.push(why));
      const wi = rig.line.watchCarrier({ intervalMs: 20, ignoreDcd: true }, (why) => ignoring.push(why));
      t.after(() => {
        w.stop();
        wi.stop();
      });
      await rig.elapse(60);
      await rig.elapse(60);
      assert.deepEqual(lost, [], rig.hasModemLines ? 'DCD up: carrier present' : 'no modem lines: no DCD to be low');
      if (rig.setDcd === undefined) return;
      rig.setDcd(false);
      for (let i = 0; i < 10 && lost.length === 0; i++) await rig.elapse(20);
      await rig.until(() => lost.length > 0, 'DCD loss reported');
      assert.deepEqual(lost, ['DCD is low']);
      assert.deepEqual(ignoring, [], 'ignore-carrier: DCD low alone is no loss');
    });

    test('login mode on a real tty: CR ends the name, echo is CR LF, the reader sees LF', async (t) => {
      const rig = setup(t, make);
      if (!rig.hasLineDiscipline) {
        // The fake records termios but runs no line discipline; nothing to see here.
        assert.deepEqual(rig.readTermios(), rig.line.getTermios());
        return;
      }
      rig.line.applyMode({ mode: 'login', endedWith: 'cr' });
      const got = collect(rig.line);
      rig.line.resume();
      rig.send('joe\r');
      await rig.until(() => got.text() === 'joe\n', 'ICRNL turned CR into LF');
      await rig.until(() => rig.received().toString('latin1') === 'joe\r\n', 'echo with ONLCR');
    });
  });
}

function memoryOnly(): void {
  describe('MemoryLine far end', () => {
    test('DTR is raised at open, toggled on the FakeClock, dropped by close() under HUPCL', async (t) => {
      const rig = setup(t, makeMemoryRig);
      const { far, clock } = rig.memory ?? assert.fail('memory rig');
      assert.equal(far.dtr, true);
      const p = rig.line.toggleDtr(500);
      assert.equal(far.dtr, false);
      clock.advance(499);
      assert.equal(far.dtr, false);
      clock.advance(1);
      assert.equal(await p, true);
      assert.equal(far.dtr, true);
      assert.deepEqual(far.dtrChanges.map((c) => [c.at, c.on]), [[0, true], [0, false], [500, true]]);
      rig.line.close();
      assert.equal(far.dtr, false, 'HUPCL drops DTR on last close');
    });

    test('release() keeps DTR up (a child holds the device)', (t) => {
      const rig = setup(t, makeMemoryRig);
      const { far } = rig.memory ?? assert.fail('memory rig');
      rig.line.release();
      assert.equal(far.lineState, 'released');
      assert.equal(far.dtr, true);
      rig.line.close();
      assert.equal(far.dtr, true);
    });

    test('close() cancels a running DTR toggle', async (t) => {
      const rig = setup(t, makeMemoryRig);
      const p = rig.line.toggleDtr(500);
      rig.line.close();
      await assert.rejects(p, (e: unknown) => isCanceled(e));
    });

    test('modem status changes emit "modem"; DCD loss hangs up only with CLOCAL off', async (t) => {
      const rig = setup(t, makeMemoryRig);
      const { far } = rig.memory ?? assert.fail('memory rig');
      const seen: string[] = [];
      rig.line.on('modem', (s) => seen.push(`dcd=${s.dcd} ri=${s.ri}`));
      rig.line.on('hangup', (i) => seen.push(`hangup:${i.reason}`));
      far.setModem({ ri: true });
      far.setModem({ ri: false, dcd: true });
      far.setModem({ dcd: true }); // no change, no event
      assert.deepEqual(rig.line.getModemStatus(), { dcd: true, dsr: true, cts: true, ri: false });
      far.setModem({ dcd: false }); // CLOCAL on (idle): just a status change
      assert.equal(rig.line.state, 'open');
      far.setModem({ dcd: true });
      rig.line.setClocal(false);
      far.setModem({ dcd: false });
      assert.equal(rig.line.state, 'hungup');
      assert.equal(far.dtr, false, 'HUPCL drops DTR on hangup');
      assert.deepEqual(seen, ['dcd=false ri=true', 'dcd=true ri=false', 'dcd=false ri=false', 'dcd=true ri=false', 'dcd=false ri=false', 'hangup:carrier']);
      await assert.rejects(rig.line.write('x'), (e: unknown) => isDisconnected(e));
    });

    test('CTS low holds output under CRTSCTS: write resolves, drain waits for CTS', async (t) => {
      const rig = setup(t, makeMemoryRig);
      const { far } = rig.memory ?? assert.fail('memory rig');
      far.setModem({ cts: false });
      await rig.line.write('held');
      let drained = false;
      const d = rig.line.drain().then(() => {
        drained = true;
      });
      await tick();
      assert.equal(far.received.length, 0);
      assert.equal(far.pendingFromLine, 4);
      assert.equal(drained, false);
      far.setModem({ cts: true });
      await d;
      assert.equal(far.received.toString(), 'held');
    });

    test('a pty-like memory line has no modem lines', async (t) => {
      const clock = new FakeClock(0);
      const { line, far } = createMemoryLinePair({ clock, modemLines: false });
      t.after(() => line.close());
      assert.equal(line.getModemStatus(), undefined);
      assert.equal(line.setDtr(false), false);
      assert.equal(await line.toggleDtr(10), false);
      assert.equal(far.dtr, false);
    });

    test('quiet-wait re-arms on every byte (FakeClock)', async (t) => {
      const rig = setup(t, makeMemoryRig);
      const { clock } = rig.memory ?? assert.fail('memory rig');
      let done: string | undefined;
      const p = rig.line.waitQuiet(300).then((r) => {
        done = r.discarded.toString();
      });
      await tick();
      clock.advance(299);
      rig.send('a');
      await tick();
      clock.advance(299);
      await tick();
      assert.equal(done, undefined, 'still waiting: the byte restarted the quiet time');
      clock.advance(1);
      await p;
      assert.equal(done, 'a');
    });

    test('the far end answering from its data callback does not re-enter the getty handler', async (t) => {
      const rig = setup(t, makeMemoryRig);
      const { far } = rig.memory ?? assert.fail('memory rig');
      far.onData((b) => {
        if (b.toString() === 'AT\r') far.send('OK\r\n');
      });
      const order: string[] = [];
      rig.line.on('data', (b) => {
        order.push(`in:${b.toString().trim()}`);
        if (b.toString().startsWith('RING')) {
          void rig.line.write('AT\r');
          order.push('handler done');
        }
      });
      rig.line.resume();
      rig.send('RING\r\n');
      await rig.until(() => order.length === 3, 'OK came back');
      assert.deepEqual(order, ['in:RING', 'handler done', 'in:OK']);
    });
  });
}

lineContract('memory', makeMemoryRig);
lineContract('pty', makePtyRig);
memoryOnly();

const testTty = process.env.TEST_TTY;
const testTtyFar = process.env.TEST_TTY_FAR;
if (testTty !== undefined && testTty !== '' && testTtyFar !== undefined && testTtyFar !== '') {
  lineContract(`serial ${testTty}`, () => makeSerialRig(testTty, testTtyFar));
} else {
  test('Line contract: real serial port', (t) => {
    t.skip('TEST_TTY and TEST_TTY_FAR not set (two serial ports joined by a null-modem cable, e.g. /dev/ttyS1 and /dev/ttyS2)');
  });
}
