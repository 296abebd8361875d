import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FakeClock } from '../core/clock.js';
import { Exchange } from './exchange.js';
import { HayesModem, type EndReason, type ModemOptions, type RemoteParty } from './modem.js';
import { USR_SPORTSTER } from './personality.js';

function rig(opts: Partial<ModemOptions> = {}) {
  const clock = new FakeClock();
  const out: Buffer[] = [];
  const writes: Buffer[] = [];
  let carrierLost = 0;
  const m = new HayesModem({
    clock,
    output: (b) => {
      out.push(Buffer.from(b));
      writes.push(Buffer.from(b));
    },
    onCarrierLost: () => carrierLost++,
    ...opts,
  });
  return {
    clock,
    m,
    writes,
    text: () => Buffer.concat(out).toString('latin1'),
    take: () => {
      const t = Buffer.concat(out).toString('latin1');
      out.length = 0;
      return t;
    },
    send: (s: string) => m.onDteBytes(Buffer.from(s, 'latin1')),
    carrierLost: () => carrierLost,
  };
}

function recorder() {
  const ev: { connected: string[]; data: string; ended: EndReason[] } = { connected: [], data: '', ended: [] };
  const party: RemoteParty = {
    connected: (c) => ev.connected.push(c),
    data: (b) => {
      ev.data += Buffer.from(b).toString('latin1');
    },
    ended: (r) => ev.ended.push(r),
  };
  return { ev, party };
}

const OK = '\r\nOK\r\n';
const ERROR = '\r\nERROR\r\n';

test('AT answers OK with echo; prefix is case-insensitive and spaces are ignored', () => {
  const r = rig();
  r.send('AT\r');
  assert.equal(r.take(), `AT\r${OK}`);
  r.send('at\r');
  assert.equal(r.take(), `at\r${OK}`);
  r.send('At e1 v1 \r');
  assert.equal(r.take(), `At e1 v1 \r${OK}`);
});

test('several commands on one line, including ATZ E1 V1 and S registers', () => {
  const r = rig();
  r.send('ATZ E1 V1 S0=2 S7=60\r');
  assert.equal(r.take(), `ATZ E1 V1 S0=2 S7=60\r${OK}`);
  assert.equal(r.m.sRegister(0), 2);
  r.send('ATS7?S0?\r');
  assert.equal(r.take(), `ATS7?S0?\r\r\n060\r\n\r\n002\r\n${OK}`);
});

test('unknown commands and bad values give ERROR and stop the line there', () => {
  const r = rig();
  r.send('ATJ\r');
  assert.equal(r.take(), `ATJ\r${ERROR}`);
  r.send('ATE0 J V0\r');
  // E0 ran before J failed; V0 did not run.
  assert.equal(r.take(), `ATE0 J V0\r${ERROR}`);
  r.send('ATS300=1\r');
  assert.equal(r.take(), ERROR);
  r.send('ATS7=256\r');
  assert.equal(r.take(), ERROR);
  r.send('ATE2\r');
  assert.equal(r.take(), ERROR);
  r.send('ATI9\r');
  assert.equal(r.take(), ERROR);
});

test('E0 stops echo, V0 gives numeric results, Q1 silences results but not information text', () => {
  const r = rig();
  r.send('ATE0\r');
  assert.equal(r.take(), 'ATE0\r' + OK);
  r.send('ATV0\r');
  assert.equal(r.take(), '0\r');
  r.send('ATJ\r');
  assert.equal(r.take(), '4\r');
  r.send('ATI0\r');
  assert.equal(r.take(), '56000\r\n0\r');
  r.send('ATV1Q1\r');
  assert.equal(r.take(), '');
  r.send('ATI0\r');
  assert.equal(r.take(), '\r\n56000\r\n');
  r.send('ATQ0\r');
  assert.equal(r.take(), OK);
});

test('backspace edits the command line; bytes before AT are ignored; A/ repeats the last line', () => {
  const r = rig({});
  r.send('ATE0\r');
  r.take();
  r.send('xyzATS0=3\bS0?\r');
  assert.equal(r.take(), `\r\n000\r\n${OK}`);
  r.send('ATS0=5\r');
  r.take();
  r.send('A/');
  assert.equal(r.take(), OK);
  assert.equal(r.m.sRegister(0), 5);
});

test('&W saves and ATZ restores the profile; &F restores factory settings', () => {
  const r = rig();
  r.send('ATE0 S0=1 &W\r');
  r.send('ATE1 S0=0\r');
  r.send('ATZ\r');
  r.take();
  assert.equal(r.m.settings.echo, false);
  assert.equal(r.m.sRegister(0), 1);
  r.send('AT&F\r');
  r.take();
  assert.equal(r.m.settings.echo, true);
  assert.equal(r.m.sRegister(0), 0);
});

test('the AT parser gives the same output at every chunk split', () => {
  const script = 'ATZ E1 V1\rat s0=2 s7?\rATI3\rATV0\rATJ\rAT&C1&D2&K3X4L1M0\rATV1\rAT+FCLASS=?\r';
  const whole = rig();
  whole.send(script);
  const expected = whole.text();
  assert.ok(expected.includes('ATJ\r4\r'));
  for (let cut = 0; cut <= script.length; cut++) {
    const r = rig();
    r.send(script.slice(0, cut));
    r.send(script.slice(cut));
    assert.equal(r.text(), expected, `split at ${cut}`);
  }
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: script.length }), { maxLength: 12 }), (cuts) => {
      const points = [...new Set(cuts)].sort((a, b) => a - b);
      const r = rig();
      let prev = 0;
      for (const p of [...points, script.length]) {
        r.send(script.slice(prev, p));
        prev = p;
      }
      assert.equal(r.text(), expected);
    }),
  );
});

test('personalities: USR accepts &F1 and #CID=1, the generic V.92 refuses &F1', () => {
  const g = rig();
  g.send('AT&F1\r');
  assert.match(g.take(), /ERROR/);
  const u = rig({ personality: USR_SPORTSTER });
  u.send('AT&F1\r');
  assert.match(u.take(), /OK/);
  u.send('AT#CID=1\r');
  assert.match(u.take(), /OK/);
  assert.equal(u.m.settings.cid, 1);
  u.send('AT#CID=7\r');
  assert.match(u.take(), /ERROR/);
  u.send('ATI3\r');
  assert.match(u.take(), /U\.S\. Robotics 56K FAX EXT/);
});

test('fax: data-only by default; class 2.0 init accepted when fax is on', () => {
  const d = rig();
  d.send('ATE0\r');
  d.take();
  d.send('AT+FCLASS=?\r');
  assert.equal(d.take(), `\r\n0\r\n${OK}`);
  d.send('AT+FCLASS=2.0\r');
  assert.equal(d.take(), ERROR);
  d.send('AT+FCLASS=2\r');
  assert.equal(d.take(), ERROR);
  d.send('AT+FAA=1\r');
  assert.equal(d.take(), ERROR);

  const f = rig({ fax: true });
  f.send('ATE0\r');
  f.take();
  f.send('AT+FCLASS=?\r');
  assert.equal(f.take(), `\r\n0,2,2.0\r\n${OK}`);
  f.send('AT+FLI="x"\r');
  assert.equal(f.take(), ERROR, 'class 2.0 commands need +FCLASS=2.0 first');
  // Class 2 settings are taken in class 0, as real class 2 modems do (mgetty relies on it).
  f.send('AT+FAA=1\r');
  assert.equal(f.take(), OK);
  for (const cmd of ['AT+FCLASS=2.0', 'AT+FAA=1;+FCR=1', 'AT+FBO=1', 'AT+FNR=1,1,1,0', 'AT+FLI="49 89 1234;x"', 'AT+FCC=1,5,0,2,0,0,0,0', 'AT+FCLASS?']) {
    f.send(`${cmd}\r`);
    assert.match(f.take(), /OK\r\n$/, cmd);
  }
  assert.equal(f.m.settings.fclass, '2.0');
  f.send('AT+FCLASS=0\r');
  assert.equal(f.take(), OK);
});

test('RING cadence: first RING at once, then every 6 s; caller ID after the first RING; caller gives up', () => {
  const r = rig();
  const { ev, party } = recorder();
  r.m.incoming({ callerId: '5551234', callerName: 'JOE', maxRings: 3 }, party);
  assert.equal(r.take(), '\r\nRING\r\n');
  r.clock.advance(499);
  assert.equal(r.take(), '');
  r.clock.advance(1);
  assert.equal(r.take(), '\r\nDATE = 1121\r\n\r\nTIME = 1930\r\n\r\nNMBR = 5551234\r\n\r\nNAME = JOE\r\n');
  r.clock.advance(5499);
  assert.equal(r.take(), '');
  r.clock.advance(1);
  assert.equal(r.take(), '\r\nRING\r\n');
  assert.equal(r.m.sRegister(1), 2);
  r.clock.advance(6000);
  assert.equal(r.take(), '\r\nRING\r\n');
  r.clock.advance(6000);
  assert.equal(r.take(), '');
  assert.deepEqual(ev.ended, ['not-answered']);
  assert.equal(r.m.state, 'idle');
  assert.equal(r.clock.pending, 0);
});

test('caller-ID formats: compact MDMF, +CLIP, ZyXEL, RING <number>; USR needs #CID=1', () => {
  const cases: [string, RegExp][] = [
    ['mdmf-compact', /DATE=1121\r\n\r\nTIME=1930\r\n\r\nNMBR=0301234567\r\n/],
    ['clip', /\+CLIP: "0301234567",129,,,,0\r\n/],
    ['zyxel', /TIME: 11-21 19:30\r\n\r\nCALLER NUMBER: 0301234567\r\n/],
    ['ring-number', /^\r\nRING 0301234567\r\n$/],
    ['elsa', /^\r\nRING;0301234567\r\n$/],
  ];
  for (const [format, re] of cases) {
    const r = rig();
    r.m.incoming({ callerId: '0301234567', cidFormat: format as 'clip' }, recorder().party);
    r.clock.advance(1000);
    assert.match(r.take(), re, format);
  }
  const u = rig({ personality: USR_SPORTSTER });
  u.m.incoming({ callerId: '5551234' }, recorder().party);
  u.clock.advance(1000);
  assert.equal(u.take(), '\r\nRING\r\n', 'no caller ID before AT#CID=1');
  u.m.dispose();
  u.send('ATE0#CID=1\r');
  u.take();
  u.m.incoming({ callerId: '5551234' }, recorder().party);
  u.clock.advance(1000);
  assert.match(u.take(), /NMBR = 5551234/);
});

test('distinctive ring: RING <digit>, RING <letter>, DRON/DROF cadence lines', () => {
  const d = rig();
  d.m.incoming({ distinctive: 2 }, recorder().party);
  assert.equal(d.take(), '\r\nRING 2\r\n');
  const l = rig();
  l.m.incoming({ distinctive: 3, distinctiveFormat: 'letter' }, recorder().party);
  assert.equal(l.take(), '\r\nRING C\r\n');
  const c = rig();
  c.m.incoming({ distinctive: 2, distinctiveFormat: 'dron', cidFormat: 'none' }, recorder().party);
  assert.equal(c.take(), '\r\nDROF=40\r\n\r\nDRON=5\r\n\r\nRING\r\n');
});

test('ATA answers: CONNECT with the speed string, data both ways, remote hangup gives NO CARRIER and a line hangup', () => {
  const r = rig();
  const { ev, party } = recorder();
  const leg = r.m.incoming({ connect: '33600/ARQ/V34/LAPM/V42BIS', cidFormat: 'none' }, party);
  assert.ok(leg);
  r.take();
  r.send('ATA\r');
  assert.equal(r.take(), 'ATA\r');
  r.clock.advance(500);
  assert.equal(r.take(), '\r\nCONNECT 33600/ARQ/V34/LAPM/V42BIS\r\n');
  assert.deepEqual(ev.connected, ['33600/ARQ/V34/LAPM/V42BIS']);
  assert.equal(r.m.currentMode, 'data');
  r.send('login: ');
  assert.equal(ev.data, 'login: ');
  assert.equal(r.take(), '', 'no echo in data mode');
  leg.send(Buffer.from('joe\r'));
  assert.equal(r.take(), 'joe\r');
  leg.hangup();
  assert.equal(r.take(), '\r\nNO CARRIER\r\n');
  assert.equal(r.carrierLost(), 1);
  assert.equal(r.m.state, 'idle');
  assert.equal(leg.active, false);
  leg.send(Buffer.from('late'));
  assert.equal(r.take(), '', 'a stale leg does nothing');
});

test('auto-answer after S0 rings; X0 reports a bare CONNECT', () => {
  const r = rig();
  r.send('ATS0=2X0\r');
  r.take();
  const { ev, party } = recorder();
  r.m.incoming({ cidFormat: 'none' }, party);
  r.clock.advance(6000);
  assert.equal(r.take(), '\r\nRING\r\n\r\nRING\r\n');
  r.clock.advance(500);
  assert.equal(r.take(), '\r\nCONNECT\r\n');
  assert.equal(ev.connected.length, 1);
});

test('call outcomes NO CARRIER, BUSY, NO ANSWER after ATA', () => {
  for (const [outcome, text] of [['no-carrier', 'NO CARRIER'], ['busy', 'BUSY'], ['no-answer', 'NO ANSWER']] as const) {
    const r = rig();
    const { ev, party } = recorder();
    r.m.incoming({ outcome, cidFormat: 'none' }, party);
    r.send('ATE0A\r');
    r.take();
    r.clock.advance(500);
    assert.equal(r.take(), `\r\n${text}\r\n`);
    assert.deepEqual(ev.ended, [outcome]);
    assert.equal(r.carrierLost(), 0);
  }
});

test('a DTE byte while answering aborts with NO CARRIER', () => {
  const r = rig();
  const { ev, party } = recorder();
  r.m.incoming({ cidFormat: 'none' }, party);
  r.send('ATA\r');
  r.take();
  r.send('x');
  assert.equal(r.take(), '\r\nNO CARRIER\r\n');
  assert.deepEqual(ev.ended, ['aborted']);
});

test('+++ escape needs the S12 guard time before and after; ATO returns to data; ATH hangs up', () => {
  const r = rig();
  const { ev, party } = recorder();
  r.m.incoming({ cidFormat: 'none' }, party);
  r.send('ATA\r');
  r.clock.advance(500);
  r.take();
  // No guard time before: just data.
  r.send('abc+++');
  r.clock.advance(2000);
  assert.equal(r.take(), '');
  assert.equal(r.m.currentMode, 'data');
  // Guard before, then a byte inside the after-guard: cancelled.
  r.send('+++x');
  r.clock.advance(2000);
  assert.equal(r.m.currentMode, 'data');
  // Proper escape, split over chunks within the guard time.
  r.send('+');
  r.clock.advance(100);
  r.send('++');
  r.clock.advance(999);
  assert.equal(r.m.currentMode, 'data');
  r.clock.advance(1);
  assert.equal(r.take(), OK);
  assert.equal(r.m.currentMode, 'online-command');
  assert.equal(ev.data, 'abc++++++x+++', 'the escape characters also reach the far end');
  r.send('ATO\r');
  assert.equal(r.take(), 'ATO\r\r\nCONNECT 33600/ARQ/V34/LAPM/V42BIS\r\n');
  r.clock.advance(1000);
  r.send('+++');
  r.clock.advance(1000);
  r.take();
  r.send('ATH\r');
  assert.equal(r.take(), `ATH\r${OK}`);
  assert.deepEqual(ev.ended, ['hangup']);
  assert.equal(r.carrierLost(), 0, 'a DTE hangup does not hang up its own line');
  r.send('ATO\r');
  assert.match(r.take(), /NO CARRIER/);
});

test('S12 changes the guard time', () => {
  const r = rig();
  r.send('ATS12=10\r');
  r.m.incoming({ cidFormat: 'none' }, recorder().party);
  r.send('ATA\r');
  r.clock.advance(500);
  r.take();
  r.clock.advance(200);
  r.send('+++');
  r.clock.advance(200);
  assert.equal(r.take(), OK);
});

test('ATH1 takes the line off-hook: incoming calls find it busy', () => {
  const r = rig();
  r.send('ATH1\r');
  assert.equal(r.m.incoming({}, recorder().party), undefined);
  r.send('ATH0\r');
  assert.ok(r.m.incoming({}, recorder().party));
});

test('faults: silent modem sends nothing; slow responses; split results; stray CR/LF; garbage', () => {
  const s = rig({ faults: { silent: true } });
  s.send('AT\r');
  assert.equal(s.text(), '');

  const slow = rig({ faults: { responseDelayMs: 300 } });
  slow.send('AT\r');
  assert.equal(slow.take(), 'AT\r', 'echo is immediate');
  slow.clock.advance(299);
  assert.equal(slow.take(), '');
  slow.clock.advance(1);
  assert.equal(slow.take(), OK);

  const split = rig({ faults: { splitResults: 2, splitDelayMs: 10 } });
  split.send('ATE0\r');
  split.clock.advance(100);
  split.writes.length = 0;
  split.take();
  split.send('AT\r');
  split.clock.advance(100);
  assert.equal(split.take(), OK);
  assert.deepEqual(split.writes.map((b) => b.toString('latin1')), ['\r\n', 'OK', '\r\n']);

  const stray = rig({ faults: { strayCrLf: true } });
  stray.send('ATE0\r');
  stray.take();
  stray.send('AT\r');
  assert.equal(stray.take(), `\r${OK}\n\r`);

  const junk = rig({ faults: { garbageBeforeResults: 5 }, seed: 7 });
  junk.send('ATE0\r');
  junk.take();
  junk.send('AT\r');
  const t = junk.take();
  assert.equal(t.length, 5 + OK.length);
  assert.ok(t.endsWith(OK));
  assert.doesNotMatch(t.slice(0, 5), /[\r\n]/);
  junk.m.injectGarbage(8);
  assert.equal(junk.take().length, 8);
});

test('faults: stuck in data mode ignores +++ and stays stuck after the carrier is gone', () => {
  const r = rig({ faults: { stuckInData: true } });
  const { party } = recorder();
  const leg = r.m.incoming({ cidFormat: 'none' }, party);
  r.send('ATA\r');
  r.clock.advance(500);
  r.take();
  r.clock.advance(2000);
  r.send('+++');
  r.clock.advance(2000);
  assert.equal(r.take(), '');
  leg?.hangup();
  assert.equal(r.take(), '', 'no NO CARRIER');
  r.send('AT\r');
  assert.equal(r.take(), '', 'AT is swallowed');
  assert.equal(r.m.available, false);
  r.m.setFaults({});
  r.send('AT\r');
  assert.equal(r.take(), `AT\r${OK}`);
});

test('faults: carrier dropped while ringing, answering or connected', () => {
  const ring = rig({ faults: { dropCarrierAt: 'ringing', dropCarrierAfterMs: 100 } });
  const a = recorder();
  ring.m.incoming({ cidFormat: 'none' }, a.party);
  ring.clock.advance(100);
  assert.deepEqual(a.ev.ended, ['carrier-lost']);
  assert.equal(ring.take(), '\r\nRING\r\n');

  const ans = rig({ faults: { dropCarrierAt: 'answering' } });
  ans.m.incoming({ cidFormat: 'none' }, recorder().party);
  ans.send('ATE0A\r');
  ans.take();
  ans.clock.advance(0);
  assert.equal(ans.take(), '\r\nNO CARRIER\r\n');
  assert.equal(ans.carrierLost(), 0);

  const con = rig({ faults: { dropCarrierAt: 'connected', dropCarrierAfterMs: 1000 } });
  const c = recorder();
  con.m.incoming({ cidFormat: 'none' }, c.party);
  con.send('ATE0A\r');
  con.clock.advance(500);
  con.take();
  con.clock.advance(1000);
  assert.equal(con.take(), '\r\nNO CARRIER\r\n');
  assert.equal(con.carrierLost(), 1);
  assert.deepEqual(c.ev.ended, ['carrier-lost']);
});

test('exchange: a modem dials another; both CONNECT; data flows; hanging up gives NO CARRIER on the other side', () => {
  const clock = new FakeClock();
  const ex = new Exchange({ cidFormat: 'none' });
  const mk = () => {
    const out: Buffer[] = [];
    let lost = 0;
    const m = new HayesModem({ clock, output: (b) => out.push(Buffer.from(b)), onCarrierLost: () => lost++ });
    return {
      m,
      take: () => {
        const t = Buffer.concat(out).toString('latin1');
        out.length = 0;
        return t;
      },
      send: (s: string) => m.onDteBytes(Buffer.from(s, 'latin1')),
      lost: () => lost,
    };
  };
  const a = mk();
  const b = mk();
  const c = mk();
  ex.register('5550000', a.m);
  ex.register('5550001', b.m);
  ex.register('5550002', c.m);
  a.send('ATE0\r');
  b.send('ATE0\r');
  c.send('ATE0\r');
  a.take();
  b.take();
  c.take();

  a.send('ATDT5550001\r');
  assert.equal(b.take(), '\r\nRING\r\n');
  assert.equal(b.m.state, 'ringing');
  // A third party calling the ringing line gets BUSY.
  c.send('ATDT 555-0001\r');
  clock.advance(1000);
  assert.equal(c.take(), '\r\nBUSY\r\n');
  // Unknown number: NO CARRIER.
  c.send('ATDP9999\r');
  clock.advance(1000);
  assert.equal(c.take(), '\r\nNO CARRIER\r\n');

  b.send('ATA\r');
  clock.advance(500);
  assert.equal(b.take(), '\r\nCONNECT 33600/ARQ/V34/LAPM/V42BIS\r\n');
  assert.equal(a.take(), '\r\nCONNECT 33600/ARQ/V34/LAPM/V42BIS\r\n');
  a.send('hello');
  assert.equal(b.take(), 'hello');
  b.send('world');
  assert.equal(a.take(), 'world');

  clock.advance(1000);
  a.send('+++');
  clock.advance(1000);
  assert.equal(a.take(), OK);
  assert.equal(b.take(), '+++', 'the escape sequence is data for the far end');
  a.send('ATH0\r');
  assert.equal(a.take(), OK);
  assert.equal(b.take(), '\r\nNO CARRIER\r\n');
  assert.equal(b.lost(), 1);
  assert.equal(a.lost(), 0);
  assert.equal(a.m.state, 'idle');
  assert.equal(b.m.state, 'idle');
});

test('exchange: nobody answers -> NO ANSWER after S7; the callee stops ringing', () => {
  const clock = new FakeClock();
  const ex = new Exchange({ cidFormat: 'none', maxRings: 100 });
  const out: Buffer[] = [];
  const a = new HayesModem({ clock, output: (x) => out.push(Buffer.from(x)) });
  const b = new HayesModem({ clock, output: () => undefined });
  ex.register('1', a);
  ex.register('2', b);
  a.onDteBytes(Buffer.from('ATE0S7=10D2\r'));
  clock.advance(10_000);
  assert.match(Buffer.concat(out).toString('latin1'), /NO ANSWER\r\n$/);
  assert.equal(b.state, 'idle');
});
