import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { newCallData, type CallData } from './callerid.js';
import { RING_ACTIONS, RingWatcher, type RingEvent } from './ring.js';
import { bytes, cutAt, everyChunking, text } from './chunks.js';

interface Outcome {
  events: RingEvent[];
  data: CallData;
  /** Bytes not looked at after an action: the action's rest plus later chunks. */
  after: string;
  partial: string;
}

function run(chunks: Uint8Array[], msn: string[] = []): Outcome {
  const data = newCallData();
  const w = new RingWatcher(data, msn);
  const events: RingEvent[] = [];
  let after = '';
  let stopped = false;
  for (const c of chunks) {
    if (stopped) {
      after += text(c);
      continue;
    }
    let r = w.feed(c);
    events.push(...r.events);
    // A ring ends the feed; the runner feeds the rest to its next wait.
    while (r.events.at(-1)?.kind === 'ring' && r.rest.length > 0) {
      r = w.feed(r.rest);
      events.push(...r.events);
    }
    if (r.events.some((e) => e.kind === 'action')) {
      stopped = true;
      after += text(r.rest);
    } else assert.equal(r.rest.length, 0);
  }
  return { events, data, after, partial: w.partial };
}

const rings = (o: Outcome): RingEvent[] => o.events.filter((e) => e.kind === 'ring');

/** t_ring corpus (spec §7.2) plus the observed MSN cases. */
const CORPUS: { name: string; lines: string[]; msn?: string[]; rings: number; callerId?: string; distRing?: number; calledNr?: string }[] = [
  { name: 'three plain RINGs', lines: ['RING', 'RING', 'RING'], rings: 3, callerId: 'none', distRing: 0 },
  { name: 'RING 2', lines: ['RING 2'], rings: 1, distRing: 2 },
  { name: 'RING A/B/C then RING', lines: ['RING A', 'RING B', 'RING C', 'RING'], rings: 4, distRing: 3 },
  { name: 'lower-case letter', lines: ['RING b'], rings: 1, distRing: 2 },
  { name: 'RING + indented FM:', lines: ['RING', '    FM:040404'], rings: 2, callerId: '040404' },
  // Q9 as corrected: Debian's build does not count a lone NMBR line (upstream's t_ring says 3).
  { name: 'RING, NMBR, RING (Q9: a lone NMBR is no ring)', lines: ['RING', 'NMBR = 0555', 'RING'], rings: 2, callerId: '0555' },
  { name: 'Q9: NMBR then NAME is one ring', lines: ['NMBR = 0555', 'NAME = JOE'], rings: 1, callerId: '0555' },
  { name: 'Q9: NAME then NMBR is one ring', lines: ['NAME = JOE', 'NMBR = 0555'], rings: 1, callerId: '0555' },
  { name: 'Q9: NAME alone is no ring', lines: ['RING', 'NAME = JOE'], rings: 1 },
  { name: 'Q9: two NMBR lines are no ring', lines: ['NMBR = 0555', 'NMBR = 0666'], rings: 0, callerId: '0666' },
  { name: 'Q9: NMBR = P (private) counts at once', lines: ['RING', 'NMBR = P'], rings: 2, callerId: 'P' },
  { name: 'Q9: NMBR = O (out of area) counts at once', lines: ['NMBR = O'], rings: 1, callerId: 'O' },
  { name: 'Q9: Digi NMBR=/NAME= block', lines: ['NMBR=0555', 'NAME=JOE'], rings: 1, callerId: '0555' },
  { name: 'Q9: two blocks, two rings', lines: ['RING', 'NMBR = 1', 'NAME = A', 'RING', 'NAME = B', 'NMBR = 2'], rings: 4, callerId: '2' },
  { name: 'Q9: a RING between NMBR and NAME starts a new block', lines: ['NMBR = 1', 'RING', 'NAME = A'], rings: 1 },
  { name: 'RING/0666 (called number only)', lines: ['RING/0666'], rings: 1, callerId: 'none', calledNr: '0666', distRing: 0 },
  { name: 'RING;707070', lines: ['RING;707070'], rings: 1, callerId: '707070' },
  {
    name: 'RING;717171;999999 with msn list',
    lines: ['RING;717171;999999'],
    msn: ['9999', '35655023', '35655024', '35655025', '4023'],
    rings: 1,
    callerId: '717171',
    distRing: 1,
    calledNr: '999999',
  },
  { name: 'Zoom RING: 3 DN9 8888', lines: ['RING: 3 DN9 8888'], rings: 1, callerId: '8888', distRing: 9 },
  { name: 'RING 090909', lines: ['RING 090909'], rings: 1, callerId: '090909' },
  { name: 'DRON/DROF cadence', lines: ['DROF=0', 'DRON=11', 'RING', 'DROF=40', 'DRON=20', 'RING'], rings: 2, distRing: 3 },
  {
    name: 'observed: RING;0891234;35655024',
    lines: ['RING;0891234;35655024'],
    msn: ['9999', '35655023', '35655024'],
    rings: 1,
    callerId: '0891234',
    distRing: 3,
    calledNr: '35655024',
  },
  {
    name: 'observed: TO:08935655025',
    lines: ['TO:08935655025'],
    msn: ['9999', '35655023', '35655024', '35655025'],
    rings: 1,
    callerId: 'none',
    distRing: 4,
    calledNr: '08935655025',
  },
  {
    name: 'ZyXEL FM: sub-address TO:',
    lines: ['FM: 0891234 /12/ TO: 35655025/3'],
    msn: ['9999', '35655023', '35655024', '35655025'],
    rings: 1,
    callerId: '0891234',
    distRing: 4,
    calledNr: '35655025',
  },
  { name: 'RING 0555 35655024 (number then MSN)', lines: ['RING 0555 35655024'], msn: ['35655024'], rings: 1, callerId: '0555', distRing: 1 },
  {
    name: 'transcript C: Rockwell block, counted at NAME',
    lines: ['RING', 'DATE = 1121', 'TIME = 1930', 'NMBR = 5551234', 'NAME = JOE "X" O\'Neil'],
    rings: 2,
    callerId: '5551234',
  },
  { name: 'junk is ignored', lines: ['hello', 'OK', 'RINGO'], rings: 1 },
  { name: 'cadence: long,short,long', lines: ['DROF=0', 'DRON=5', 'DROF=20', 'RING'], rings: 1, distRing: 5 },
  { name: 'NMBR after cadence reports is not a ring', lines: ['DRON=20', 'NMBR = 1', 'RING'], rings: 1, callerId: '1', distRing: 1 },
  { name: 'a block after cadence reports is not a ring', lines: ['DRON=20', 'NMBR = 1', 'NAME = A', 'RING'], rings: 1, callerId: '1', distRing: 1 },
];

for (const c of CORPUS) {
  test(`t_ring: ${c.name}, at every chunk split`, () => {
    const input = bytes(c.lines.map((l) => `\r\n${l}\r\n`).join(''));
    for (const chunks of everyChunking(input)) {
      const o = run(chunks, c.msn);
      assert.equal(rings(o).length, c.rings);
      assert.equal(o.events.filter((e) => e.kind === 'line').length, c.lines.length);
      assert.ok(!o.events.some((e) => e.kind === 'action'));
      if (c.callerId !== undefined) assert.equal(o.data.callerId, c.callerId);
      if (c.distRing !== undefined) assert.equal(o.data.distRing, c.distRing);
      if (c.calledNr !== undefined) assert.equal(o.data.calledNr, c.calledNr);
    }
  });
}

test('ring events carry the distinctive ring only when the line set one', () => {
  const o = run([bytes('RING 2\r\nRING\r\n')]);
  assert.deepEqual(rings(o), [
    { kind: 'ring', line: 'RING 2', distRing: 2 },
    { kind: 'ring', line: 'RING' },
  ]);
});

test('line events come before the ring they cause and carry caller-ID updates', () => {
  const o = run([bytes('NMBR = 0555\r\nNAME = JOE\r\n')]);
  assert.deepEqual(o.events, [
    { kind: 'line', text: 'NMBR = 0555', discarded: 0, updates: [{ field: 'callerId', value: '0555', format: 'Rockwell' }] },
    { kind: 'line', text: 'NAME = JOE', discarded: 0, updates: [{ field: 'callerName', value: 'JOE', format: 'Rockwell' }] },
    { kind: 'ring', line: 'NAME = JOE' },
  ]);
});

test('a ring ends the feed and hands back what follows, so a runner that leaves the wait loses nothing', () => {
  const w = new RingWatcher(newCallData());
  const r = w.feed(bytes('RING\r\nNMBR = 5\r\nNAME = X\r\nRI'));
  assert.deepEqual(r.events.map((e) => e.kind), ['line', 'ring']);
  assert.equal(text(r.rest), '\nNMBR = 5\r\nNAME = X\r\nRI');
  // A new watcher (a new wait) on the rest still sees the whole block.
  const w2 = new RingWatcher(w.data);
  const r2 = w2.feed(r.rest);
  assert.deepEqual(r2.events.map((e) => e.kind), ['line', 'line', 'ring']);
  assert.equal(text(r2.rest), '\nRI');
});

test('Q22: RING without CR/LF is not a ring yet', () => {
  const o = run([bytes('\r\nRING')]);
  assert.equal(rings(o).length, 0);
  assert.equal(o.partial, 'RING');
});

test('action strings end the wait while the line grows; the rest is handed back', () => {
  const input = bytes('RING\r\n  CONNECT 33600/ARQ\r\n');
  for (const chunks of everyChunking(input)) {
    const o = run(chunks);
    assert.equal(rings(o).length, 1);
    const last = o.events.at(-1);
    assert.deepEqual(last, { kind: 'action', action: 'CONNECT', line: 'CONNECT' });
    assert.equal(o.after, ' 33600/ARQ\r\n');
    // Q11: an auto-answer leaves Connect empty
    assert.equal(o.data.connect, '');
  }
});

test('every action string is recognised, also as a prefix of a longer line', () => {
  for (const a of RING_ACTIONS) {
    for (const suffix of ['\r\n', 'XYZ\r\n', '']) {
      const o = run([bytes(`\r\n${a}${suffix}`)]);
      assert.deepEqual(o.events, [{ kind: 'action', action: a, line: a }], `${a}${suffix}`);
      assert.equal(o.after, suffix);
    }
  }
  // ERRORS is caught at ERROR; `+FCO` alone is nothing
  assert.equal(run([bytes('+FCO\r\n')]).events.filter((e) => e.kind === 'action').length, 0);
});

test('the watcher continues after an action with a fresh line', () => {
  const data = newCallData();
  const w = new RingWatcher(data);
  const a = w.feed(bytes('BUSY'));
  assert.equal(a.events[0]?.kind, 'action');
  const b = w.feed(bytes('\r\nRING\r\n'));
  assert.deepEqual(
    b.events.map((e) => e.kind),
    ['line', 'ring'],
  );
});

test('property: any bytes, any chunking: same events, no crash, bounded partial line', () => {
  const alphabet = fc.constantFrom(...'RING;:/0123456789 ABCNMFTO=DRFX+\r\n\t'.split(''), 'CONNECT', 'NMBR = ', 'DRON=', 'FM:', 'TO:');
  fc.assert(
    fc.property(fc.array(fc.oneof(alphabet, fc.string({ maxLength: 3 })), { maxLength: 80 }), fc.array(fc.nat({ max: 400 })), (parts, cuts) => {
      const input = bytes(parts.join(''));
      const whole = run([input], ['9999', '123']);
      const cut = run(cutAt(input, cuts), ['9999', '123']);
      assert.deepEqual(cut, whole);
      assert.ok(whole.partial.length <= 512);
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 3000 }), (data) => {
      const o = run([data]);
      assert.ok(o.partial.length <= 512);
    }),
  );
});
