import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../core/clock.js';
import { MemoryLine, type FarEnd } from '../line/memory-line.js';
import { createLogger } from '../log/logger.js';
import { hangupModem } from './hangup.js';
import { drive } from '../../test/helpers/drive.js';

/**
 * A modem in a data call on the far end of a memory line: Hayes escape with a 1 s guard
 * time timed from when it PROCESSES a byte, `lagMs(chunk)` after the byte arrives (a
 * loaded modem or simulator), OK on escape, OK to ATH0 in command mode.
 */
class DataModem {
  mode: 'data' | 'command' = 'data';
  hungUp = false;
  escapes = 0;
  /** Bytes seen in data mode (what the caller would get). */
  toCaller = '';
  private lastByteAt = -Infinity;
  private plus = 0;
  private escapeTimer: { cancel(): void } | undefined;
  private cmd = '';

  constructor(
    private readonly far: FarEnd,
    private readonly clock: FakeClock,
    private readonly o: { lagMs?: (chunk: string) => number; ignoreEscapes?: number; replySplit?: number } = {},
  ) {
    far.onData((b) => {
      const chunk = b.toString('latin1');
      const lag = o.lagMs?.(chunk) ?? 0;
      if (lag > 0) clock.setTimeout(() => this.take(chunk), lag);
      else this.take(chunk);
    });
  }

  private reply(text: string): void {
    const s = `\r\n${text}\r\n`;
    const k = this.o.replySplit ?? s.length;
    this.far.send(s.slice(0, k));
    if (k < s.length) this.far.send(s.slice(k));
  }

  private take(chunk: string): void {
    for (const ch of chunk) {
      const now = this.clock.monotonic();
      const gap = now - this.lastByteAt;
      this.lastByteAt = now;
      if (this.mode === 'data') {
        this.toCaller += ch;
        this.escapeTimer?.cancel();
        this.escapeTimer = undefined;
        if (ch !== '+') {
          this.plus = 0;
          continue;
        }
        if (this.plus === 0 && gap < 1000) continue;
        this.plus++;
        if (this.plus === 3) {
          this.plus = 0;
          this.escapeTimer = this.clock.setTimeout(() => {
            this.escapeTimer = undefined;
            if ((this.o.ignoreEscapes ?? 0) > this.escapes++) return;
            this.mode = 'command';
            this.reply('OK');
          }, 1000);
        }
        continue;
      }
      if (ch !== '\r') {
        this.cmd += ch;
        continue;
      }
      const cmd = this.cmd.trim().toUpperCase();
      this.cmd = '';
      if (cmd === '') continue;
      if (cmd === 'ATH0' || cmd === 'ATH') this.hungUp = true;
      this.reply('OK');
    }
  }
}

function setup(o: { modemLines?: boolean; dcdAfterDtr?: boolean } = {}) {
  const clock = new FakeClock();
  const line = new MemoryLine({ clock, modemLines: o.modemLines ?? false, modem: { dcd: true } });
  const far = line.far;
  const logs: string[] = [];
  const log = createLogger({ device: 'ttyT0', level: 9, file: null, audit: 'none', clock, stderr: (s) => logs.push(s) });
  return { clock, line, far, log, logs };
}

test('a pty line (no DTR): escape, OK, ATH0, OK', async () => {
  const { clock, line, far, log } = setup();
  const modem = new DataModem(far, clock);
  const r = await drive(clock, hangupModem(line, { clock, log }), { maxMs: 30_000 });
  assert.equal(r, 'ath');
  assert.equal(modem.hungUp, true);
  assert.equal(modem.toCaller, '+++', 'nothing but the escape reached the caller');
  assert.equal(line.paused, true);
  line.close();
});

test('the modem takes the escape late (loaded): ATH0 waits for its OK and is not sent as data', async () => {
  // The escape timer of the modem starts 400 ms after our write: with a fixed wait after
  // +++ (1.1 s) the CR of ATH0 arrived inside the modem's guard time and cancelled it.
  const { clock, line, far, log } = setup();
  const modem = new DataModem(far, clock, { lagMs: (c) => (c.includes('+') ? 400 : 0) });
  const r = await drive(clock, hangupModem(line, { clock, log }), { maxMs: 30_000 });
  assert.equal(r, 'ath');
  assert.equal(modem.hungUp, true);
  assert.equal(modem.toCaller, '+++');
  assert.equal(modem.escapes, 1);
  line.close();
});

test('an escape the modem did not take is tried again', async () => {
  const { clock, line, far, log, logs } = setup();
  const modem = new DataModem(far, clock, { ignoreEscapes: 1 });
  const r = await drive(clock, hangupModem(line, { clock, log }), { maxMs: 30_000 });
  assert.equal(r, 'ath');
  assert.equal(modem.hungUp, true);
  assert.equal(modem.escapes, 2);
  // The first ATH0 went to the caller as data: that is what the second try recovers from.
  assert.match(modem.toCaller, /^\+\+\+\rATH0\r\+\+\+$/);
  assert.ok(logs.some((l) => /escape try 2/.test(l)), logs.join('\n'));
  line.close();
});

test('a modem that never answers: failed, in bounded time, line paused', async () => {
  const { clock, line, far, log, logs } = setup();
  const modem = new DataModem(far, clock, { ignoreEscapes: Infinity });
  const started = clock.monotonic();
  const r = await drive(clock, hangupModem(line, { clock, log }), { maxMs: 30_000 });
  assert.equal(r, 'failed');
  assert.equal(modem.hungUp, false);
  assert.ok(clock.monotonic() - started <= 2 * (1500 + 3000 + 3000) + 100, `took ${clock.monotonic() - started} ms`);
  assert.equal(line.paused, true);
  assert.ok(logs.some((l) => /did not confirm ATH0: the re-initialisation/.test(l)), logs.join('\n'));
  line.close();
});

test('the OK is recognised at every chunk split', async () => {
  for (let k = 1; k < '\r\nOK\r\n'.length; k++) {
    const { clock, line, far, log } = setup();
    const modem = new DataModem(far, clock, { replySplit: k });
    const r = await drive(clock, hangupModem(line, { clock, log }), { maxMs: 30_000 });
    assert.equal(r, 'ath', `split at ${k}`);
    assert.equal(modem.toCaller, '+++', `split at ${k}`);
    line.close();
  }
});

test('a line with modem control: DTR drop hangs up, no escape is sent', async () => {
  const { clock, line, far, log } = setup({ modemLines: true });
  const modem = new DataModem(far, clock);
  far.onDtr((on) => {
    if (!on) far.setModem({ dcd: false });
  });
  const r = await drive(clock, hangupModem(line, { clock, log, dtrMs: 200 }), { maxMs: 30_000 });
  assert.equal(r, 'dtr');
  assert.equal(modem.toCaller, '');
  line.close();
});

test('dtr-by-close on a line without DTR: the hang-up is the close; nothing reaches the caller, no escape', async () => {
  const { clock, line, far, log, logs } = setup();
  const modem = new DataModem(far, clock);
  const r = await drive(clock, hangupModem(line, { clock, log, dtrByClose: true }), { maxMs: 30_000 });
  assert.equal(r, 'close');
  assert.equal(modem.toCaller, '', 'not a byte for the caller');
  assert.equal(modem.escapes, 0);
  assert.match(logs.join('\n'), /dtr-by-close: hanging up by closing the line/);
  line.close();
});

test('dtr-by-close on a line that has DTR: DTR is dropped as usual', async () => {
  const { clock, line, far, log } = setup({ modemLines: true });
  new DataModem(far, clock);
  far.onDtr((on) => {
    if (!on) far.setModem({ dcd: false });
  });
  const r = await drive(clock, hangupModem(line, { clock, log, dtrMs: 200, dtrByClose: true }), { maxMs: 30_000 });
  assert.equal(r, 'dtr');
  line.close();
});

test('after a fax call (command mode): ATH0 at once, no guard times, no escape', async () => {
  const { clock, line, far, log, logs } = setup();
  const modem = new DataModem(far, clock);
  modem.mode = 'command';
  far.send('\r\nOK\r\n'); // a late OK from the fax call: no answer to the ATH0
  const start = clock.monotonic();
  const r = await drive(clock, hangupModem(line, { clock, log, commandMode: true }), { maxMs: 30_000 });
  assert.equal(r, 'ath');
  assert.equal(modem.hungUp, true);
  assert.equal(modem.escapes, 0);
  assert.ok(clock.monotonic() - start < 1000, `took ${clock.monotonic() - start} ms`);
  assert.ok(logs.some((l) => /hung up with ATH0 \(the modem was in command mode\)/.test(l)), logs.join('\n'));
  line.close();
});

test('command mode assumed but the modem is in a data call after all: no OK to ATH0, then the escape', async () => {
  const { clock, line, far, log } = setup();
  const modem = new DataModem(far, clock);
  const r = await drive(clock, hangupModem(line, { clock, log, commandMode: true }), { maxMs: 30_000 });
  assert.equal(r, 'ath');
  assert.equal(modem.hungUp, true);
  assert.equal(modem.escapes, 1);
  line.close();
});
