// Fuzz: the RING-wait recogniser on protocol-biased input at any chunking; bounded on garbage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytewise, chunk, cutPoints, feedGarbage, fuzzParams, heapAllowance, latin1String, protocolBytes } from '../../test/helpers/fuzz.js';
import { newCallData, type CallData } from './callerid.js';
import { RING_ACTIONS, RingWatcher, type RingEvent } from './ring.js';

const WORDS = ['RING 1', 'RING A', 'RING/0301234', 'RING;0891234;35655024', 'FM:040404 TO:35655024', 'TO:8888', 'DRON=5', 'DROF=40', 'NMBR = 5551234', 'NAME = JOE', 'NMBR = P'];
const MSNS = ['35655024', '8888', '4'];

interface Played {
  events: RingEvent[];
  data: CallData;
  /** Bytes after the action that ended the wait (input not consumed), '' if none. */
  tail: string;
}

function play(chunks: Uint8Array[]): Played {
  const w = new RingWatcher(newCallData(), MSNS);
  const events: RingEvent[] = [];
  let tail = '';
  let ended = false;
  for (const c of chunks) {
    if (ended) {
      tail += latin1String(c);
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
      ended = true;
      tail += latin1String(r.rest);
    } else assert.equal(r.rest.length, 0);
  }
  return { events, data: w.data, tail };
}

test('fuzz: RingWatcher: same events, call data and rest at any chunking; actions end the wait', () => {
  fc.assert(
    fc.property(protocolBytes({ maxParts: 40, words: WORDS }), cutPoints(300), (data, cuts) => {
      const whole = play([data]);
      assert.deepEqual(play(chunk(data, cuts)), whole);
      const actions = whole.events.filter((e) => e.kind === 'action');
      assert.ok(actions.length <= 1);
      for (const e of whole.events) {
        if (e.kind === 'action') assert.ok(RING_ACTIONS.includes(e.action) && e.line === e.action);
        if (e.kind === 'line') assert.ok(e.text.length <= 512 && !/[\r\n]/.test(e.text));
        if (e.kind === 'ring' && e.distRing !== undefined) assert.ok(Number.isInteger(e.distRing) && e.distRing >= 0);
      }
      assert.ok(Number.isInteger(whole.data.distRing) && whole.data.distRing >= 0);
      // Call data goes to argv, the environment and `\I`/`\Y`: printable ASCII without quotes only.
      for (const [k, v] of Object.entries(whole.data)) {
        if (typeof v === 'string') assert.ok(/^[\x20-\x7e]*$/.test(v) && !/["']/.test(v), `${k}=${JSON.stringify(v)}`);
      }
    }),
    fuzzParams(1000),
  );
});

test('fuzz: one byte at a time is the same as the whole chunk', () => {
  fc.assert(
    fc.property(protocolBytes({ maxParts: 30, words: WORDS }), (data) => {
      assert.deepEqual(play(bytewise(data)), play([data]));
    }),
    fuzzParams(300, 0.2),
  );
});

test('bounded: 10 MB of garbage keeps the partial line capped and the call data small', () => {
  for (const style of ['protocol', 'random', 'endless-line'] as const) {
    const w = new RingWatcher(newCallData(), MSNS);
    // An action ends a wait; the runner then starts a new one. Keep feeding the same watcher: worst case.
    const r = feedGarbage(
      (c) => {
        let rest = c;
        while (rest.length > 0) rest = w.feed(rest).rest;
      },
      () => w.partial.length + Object.values(w.data).reduce<number>((n, v) => n + String(v).length, 0),
      { style },
    );
    // 512 for the partial line; every call-data field comes from one capped line.
    assert.ok(r.maxProbe <= 512 * 12, `${style}: ${r.maxProbe}`);
    assert.ok(r.heapGrowth < heapAllowance(r.fed), `${style}: heap grew ${r.heapGrowth}`);
  }
});
