// Fuzz: the simulated Hayes modem driven by any DTE bytes, calls and time: never throws, output bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FakeClock } from '../core/clock.js';
import { bytewise, feedGarbage, fuzzParams, heapAllowance, latin1Bytes, protocolBytes } from '../../test/helpers/fuzz.js';
import { HayesModem, type RemoteParty, type RingSpec } from './modem.js';
import { PERSONALITIES } from './personality.js';

const AT = [
  'AT\r', 'ATZ\r', 'AT&F\r', 'AT&W\r', 'AT&V\r', 'AT&V&V&V&V&V&V&V&V&V&V\r', 'ATI\r', 'ATI3\r', 'A/', 'ATE0\r', 'ATE1\r', 'ATQ1\r', 'ATQ0\r', 'ATV0\r',
  'ATV1\r', 'ATX0\r', 'ATS0=1\r', 'ATS0=0\r', 'ATS3=65\r', 'ATS3=13\r', 'ATS4=13\r', 'ATS2=65\r', 'ATS5=65\r', 'ATS12=0\r', 'ATS7=0\r', 'ATS1?\r',
  'ATS255=255\r', 'ATS999=1\r', 'ATA\r', 'ATH\r', 'ATH1\r', 'ATO\r', 'ATD5551234\r', 'ATDL\r', 'ATD;\r', '+++', 'AT+FCLASS=?\r', 'AT+FCLASS=2.0\r',
  'AT+FCLASS=0\r', 'AT#CID=1\r', 'AT+VCID=1\r', 'AT+GMI\r', 'AT+FAA=1;+FCR=1\r', 'AT+X="a;b"\r', 'AT' + 'Z'.repeat(300) + '\r', '\x08', '\x7f',
];

type Action =
  | { kind: 'dte'; data: Uint8Array }
  | { kind: 'advance'; ms: number }
  | { kind: 'call'; spec: RingSpec }
  | { kind: 'remote'; data: Uint8Array }
  | { kind: 'remote-hangup' }
  | { kind: 'drop-carrier' }
  | { kind: 'power-cycle' };

const spec: fc.Arbitrary<RingSpec> = fc.record(
  {
    callerId: fc.constantFrom('5551234', '', 'x"y'),
    callerName: fc.constantFrom('JOE', ''),
    cidFormat: fc.constantFrom('mdmf', 'mdmf-compact', 'clip', 'zyxel', 'ring-number', 'elsa', 'none'),
    distinctive: fc.integer({ min: 0, max: 9 }),
    ringCadenceMs: fc.integer({ min: 0, max: 7000 }),
    maxRings: fc.integer({ min: 0, max: 5 }),
    outcome: fc.constantFrom('connect', 'no-carrier', 'busy', 'no-answer'),
    answerDelayMs: fc.integer({ min: 0, max: 1000 }),
    cidDelayMs: fc.integer({ min: 0, max: 1000 }),
  },
  { requiredKeys: [] },
);

const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: protocolBytes({ maxParts: 6, words: AT }).map((data) => ({ kind: 'dte' as const, data })), weight: 8 },
  { arbitrary: fc.integer({ min: 0, max: 20_000 }).map((ms) => ({ kind: 'advance' as const, ms })), weight: 3 },
  { arbitrary: spec.map((s) => ({ kind: 'call' as const, spec: s })), weight: 1 },
  { arbitrary: protocolBytes({ maxParts: 4 }).map((data) => ({ kind: 'remote' as const, data })), weight: 1 },
  { arbitrary: fc.constantFrom({ kind: 'remote-hangup' as const }, { kind: 'drop-carrier' as const }, { kind: 'power-cycle' as const }), weight: 1 },
);

/** The most one DTE byte (or one timer) may make the modem write: a full command line of &V, twice. */
const MAX_OUTPUT_PER_STEP = 32 * 1024;

function rig(personality: string, fax: boolean, byteByByte: boolean) {
  const clock = new FakeClock();
  let out = 0;
  const m = new HayesModem({
    clock,
    output: (b) => {
      out += b.length;
    },
    personality: PERSONALITIES.get(personality),
    fax,
  });
  const party: RemoteParty = { connected: () => undefined, data: () => undefined, ended: () => undefined };
  let leg: ReturnType<HayesModem['incoming']>;
  const step = (fn: () => void, what: string): void => {
    const before = out;
    fn();
    assert.ok(out - before <= MAX_OUTPUT_PER_STEP, `${what} wrote ${out - before} bytes`);
  };
  const run = (a: Action): void => {
    switch (a.kind) {
      case 'dte':
        if (byteByByte) for (const b of bytewise(a.data)) step(() => m.onDteBytes(b), `byte ${b[0]}`);
        else step(() => m.onDteBytes(a.data), 'chunk');
        break;
      case 'advance':
        // One timer at a time, so each firing's output is bounded on its own.
        for (let t = 0; t < a.ms; t += 250) step(() => clock.advance(Math.min(250, a.ms - t)), 'timers');
        break;
      case 'call':
        leg = m.incoming(a.spec, party) ?? leg;
        break;
      case 'remote':
        leg?.send(a.data);
        break;
      case 'remote-hangup':
        leg?.hangup();
        break;
      case 'drop-carrier':
        m.dropCarrier();
        break;
      case 'power-cycle':
        m.powerCycle();
        break;
    }
    // Timers never pile up: a few per call (ring, caller ID, answer, escape, output pump).
    assert.ok(clock.pending <= 16, `${clock.pending} timers pending`);
    assert.ok(['idle', 'ringing', 'answering', 'dialing', 'connected'].includes(m.state));
  };
  return { m, clock, run };
}

test('fuzz: HayesModem never throws; output per byte and per timer bounded; timers do not pile up', () => {
  fc.assert(
    fc.property(fc.constantFrom(...PERSONALITIES.keys()), fc.boolean(), fc.boolean(), fc.array(action, { maxLength: 25 }), (pers, fax, byteByByte, actions) => {
      const r = rig(pers, fax, byteByByte);
      try {
        for (const a of actions) r.run(a);
        // And it still answers afterwards, once woken from data mode and with sane settings.
        r.m.powerCycle();
        r.run({ kind: 'dte', data: latin1Bytes('AT\r') });
      } finally {
        r.m.dispose();
      }
      assert.equal(r.clock.pending, 0, 'dispose cancels every timer');
    }),
    fuzzParams(1000),
  );
});

test('fuzz: a command line longer than 255 characters is an ERROR whatever it holds', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 254, maxLength: 400 }), (body) => {
      const clock = new FakeClock();
      let text = '';
      const m = new HayesModem({ clock, output: (b) => (text += Buffer.from(b).toString('latin1')) });
      m.onDteBytes(latin1Bytes('ATE0\r'));
      text = '';
      m.onDteBytes(latin1Bytes(`AT${body}\r`));
      if (body.length > 255) assert.equal(text, '\r\nERROR\r\n');
      m.dispose();
    }),
    fuzzParams(200, 0.05),
  );
});

test('bounded: an endless command line (10 MB, no CR) keeps no more than a modem buffer, then ERROR', () => {
  const clock = new FakeClock();
  let text = '';
  const m = new HayesModem({ clock, output: (b) => (text = (text + Buffer.from(b).toString('latin1')).slice(-64)) });
  m.onDteBytes(latin1Bytes('ATE0\rAT'));
  const r = feedGarbage((c) => m.onDteBytes(c), () => 0, { style: 'endless-line' });
  assert.ok(r.heapGrowth < heapAllowance(r.fed), `heap grew ${r.heapGrowth} for ${r.fed} bytes`);
  text = '';
  m.onDteBytes(latin1Bytes('\r'));
  // The garbage may hold `A/`-free printable text only, so the line is simply too long.
  assert.equal(text, '\r\nERROR\r\n');
  m.dispose();
});
