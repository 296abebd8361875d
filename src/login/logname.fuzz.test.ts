// Fuzz: the login-name reader: safe names, chunking invariance, bounded echo and buffer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chunk, cutPoints, feedGarbage, fuzzParams, heapAllowance, latin1String, protocolBytes } from '../../test/helpers/fuzz.js';
import { MAX_NAME_LENGTH, NameReader, type NameReaderOptions, type NameResult } from './logname.js';

const WORDS = ['root', '-froot', ' joe', 'NO CARRIER', 'ERROR', 'UPPER', '\x08', '\x7f', '\x15', '\x03', '\x04', '\x1c', '\xae', '\xf1'];

interface Played {
  echo: string;
  results: NameResult[];
  /** Bytes not consumed after the final result. */
  unread: string;
  maxTyped: number;
}

/** The runner: write the echo, re-prompt after restart/empty and feed the rest again. */
function play(chunks: Uint8Array[], opts: NameReaderOptions): Played {
  const r = new NameReader(opts);
  let echo = '';
  const results: NameResult[] = [];
  let unread = '';
  let maxTyped = 0;
  for (const c of chunks) {
    let pending = c;
    while (pending.length > 0) {
      if (r.done) {
        unread += latin1String(pending);
        break;
      }
      const f = r.feed(pending);
      const consumed = pending.length - f.rest.length;
      // Per byte at most: the char, an erase (BS SP BS) and the other half of a line end.
      assert.ok(f.echo.length <= 5 * consumed, `${f.echo.length} echo bytes for ${consumed} input bytes`);
      echo += latin1String(f.echo);
      maxTyped = Math.max(maxTyped, r.typed.length);
      if (f.result !== undefined) {
        results.push(f.result);
        echo += '<P>';
      } else assert.equal(f.rest.length, 0);
      pending = f.rest;
    }
  }
  return { echo, results, unread, maxTyped };
}

const options = fc.record({
  fido: fc.boolean(),
  autoPpp: fc.boolean(),
  maxLength: fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }),
});

test('fuzz: names are safe for argv; any chunking gives the same transcript; echo and buffer bounded', () => {
  fc.assert(
    fc.property(protocolBytes({ maxParts: 40, words: WORDS }), cutPoints(300), options, (data, cuts, o) => {
      const opts: NameReaderOptions = { fido: o.fido, autoPpp: o.autoPpp, ...(o.maxLength !== undefined ? { maxLength: o.maxLength } : {}) };
      const max = o.maxLength ?? MAX_NAME_LENGTH;
      const whole = play([data], opts);
      const cut = play(chunk(data, cuts), opts);
      // What the reader holds between chunks depends on the cut; the transcript must not.
      assert.deepEqual([cut.echo, cut.results, cut.unread], [whole.echo, whole.results, whole.unread]);
      assert.ok(cut.maxTyped <= max + 1, `typed ${cut.maxTyped} > ${max + 1}`);
      // Only bytes below 0x80 are ever echoed (the 8th bit is stripped).
      assert.ok(!/[\x80-\xff]/.test(whole.echo.split('<P>').join('')));
      for (const res of whole.results) {
        if (res.kind === 'name') {
          assert.ok(res.name.length >= 1 && res.name.length <= Math.min(max, MAX_NAME_LENGTH), String(res.name.length));
          assert.ok(!res.name.startsWith('-') && !res.name.startsWith(' '), JSON.stringify(res.name));
          assert.ok(/^[\x20-\x7e]+$/.test(res.name), JSON.stringify(res.name));
          assert.ok(res.name !== 'NO CARRIER' && res.name !== 'ERROR');
        }
        if (res.kind === 'fido') assert.ok(o.fido && res.packet.length <= Math.max(max, 14));
        if (res.kind === 'autoppp') assert.ok(o.autoPpp);
      }
      // Only restart and empty let reading go on.
      for (const res of whole.results.slice(0, -1)) assert.ok(res.kind === 'restart' || res.kind === 'empty', res.kind);
    }),
    fuzzParams(1000),
  );
});

test('bounded: 10 MB of garbage (reading restarted as the runner would) keeps the name buffer bounded', () => {
  for (const fido of [false, true]) {
    for (const style of ['protocol', 'endless-line'] as const) {
      let r = new NameReader({ fido });
      const rep = feedGarbage(
        (c) => {
          let pending = c;
          while (pending.length > 0) {
            // A finished read (a name, PPP, ...) ends the call; the next call gets a new reader.
            if (r.done) r = new NameReader({ fido });
            pending = r.feed(pending).rest;
          }
        },
        () => r.typed.length,
        { style },
      );
      assert.ok(rep.maxProbe <= MAX_NAME_LENGTH + 1, `fido=${fido} ${style}: ${rep.maxProbe}`);
      assert.ok(rep.heapGrowth < heapAllowance(rep.fed), `heap grew ${rep.heapGrowth}`);
    }
  }
});
