// Fuzz: result-code classification and the command/response exchange (reference model, chunkings).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chunk, cutPoints, fuzzParams, latin1String, protocolBytes, protocolText } from '../../test/helpers/fuzz.js';
import { CommandExchange, classifyResult, lastResult, printableTrim, type ExchangeOutcome, type ResultKind } from './result.js';

const KINDS: ReadonlySet<ResultKind> = new Set(['OK', 'ERROR', 'CONNECT', 'NO CARRIER', 'BUSY', 'NO DIALTONE', 'NO ANSWER', 'RING']);

test('fuzz: classifyResult never throws, ignores non-printables, gives known kinds only', () => {
  fc.assert(
    fc.property(protocolText({ maxParts: 12 }), (line) => {
      const r = classifyResult(line);
      assert.deepEqual(classifyResult(printableTrim(line)), r, 'noise bytes do not change the result');
      if (r === undefined) return;
      assert.ok(KINDS.has(r.kind));
      const s = printableTrim(line);
      assert.equal(r.numeric, /^[0-8]$/.test(s));
      if (r.kind !== 'CONNECT') assert.equal(r.rest, '');
      else assert.equal(r.rest, r.rest.trim());
      if (!r.numeric) assert.ok(s.startsWith(r.kind));
    }),
    fuzzParams(1000, 0.5),
  );
});

test('fuzz: lastResult is the last classified line of the block', () => {
  fc.assert(
    fc.property(protocolText({ maxParts: 40 }), (block) => {
      let last;
      for (const l of block.split(/[\r\n]/)) last = classifyResult(l) ?? last;
      assert.deepEqual(lastResult(block), last);
    }),
    fuzzParams(500, 0.2),
  );
});

interface Played {
  outcome: 'pending' | ExchangeOutcome;
  /** Bytes not consumed: the outcome's rest plus chunks fed after it finished. */
  tail: string;
}

function play(command: string, chunks: Uint8Array[], answerLine: number | undefined, asString: boolean): Played {
  const x = new CommandExchange(command, answerLine === undefined ? {} : { answerLine });
  let outcome: 'pending' | ExchangeOutcome = 'pending';
  let tail = '';
  for (const c of chunks) {
    if (outcome !== 'pending') {
      // Finished: later input is not consumed, and feeding it changes nothing.
      assert.equal(x.feed(c), outcome);
      tail += latin1String(c);
      continue;
    }
    outcome = x.feed(asString ? latin1String(c) : c);
    if (outcome !== 'pending') tail += latin1String(outcome.rest);
  }
  return { outcome, tail };
}

/** The exchange restated: printable bytes per CR/LF line (cut at 512), OK/ERROR end it, echo is skipped. */
function reference(command: string, data: Uint8Array, answerLine: number | undefined): Played {
  const lines: string[] = [];
  let answer: string | undefined;
  let cur = '';
  for (let i = 0; i < data.length; i++) {
    const b = data[i] ?? 0;
    if (b !== 0x0d && b !== 0x0a) {
      if (b >= 0x20 && b < 0x7f && cur.length < 512) cur += String.fromCharCode(b);
      continue;
    }
    const t = cur;
    cur = '';
    if (t === '') continue;
    const rest = data.subarray(i + 1);
    const tail = latin1String(rest);
    if (t === 'OK') return { outcome: { ok: true, lines, rest, ...(answer !== undefined ? { answer } : {}) }, tail };
    if (t === 'ERROR') return { outcome: { ok: false, error: 'ERROR', lines, rest }, tail };
    if (t.trim().toUpperCase() === command.trim().toUpperCase()) continue;
    lines.push(t);
    if (lines.length === answerLine) answer = t;
  }
  return { outcome: 'pending', tail: '' };
}

const comparable = (p: Played): unknown =>
  p.outcome === 'pending' ? ['pending'] : [p.outcome.ok, p.outcome.ok ? p.outcome.answer : p.outcome.error, p.outcome.lines, p.tail];

test('fuzz: CommandExchange equals the reference at any chunking, bytes or latin1 text', () => {
  fc.assert(
    fc.property(
      fc.constantFrom('AT', 'ATI', 'ATZ', 'at&f', 'AT+FCLASS=?', 'OK', ''),
      protocolBytes({ maxParts: 50, words: ['ati', 'AT+FCLASS=?', '0,1,2.0', 'U.S. Robotics'] }),
      cutPoints(400),
      fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
      fc.boolean(),
      (command, data, cuts, answerLine, asString) => {
        const ref = comparable(reference(command, data, answerLine));
        assert.deepEqual(comparable(play(command, [data], answerLine, false)), ref);
        assert.deepEqual(comparable(play(command, chunk(data, cuts), answerLine, asString)), ref);
      },
    ),
    fuzzParams(1000),
  );
});

test('fuzz: timeout ends a pending exchange once, and is stable', () => {
  fc.assert(
    fc.property(protocolBytes({ maxParts: 20 }), (data) => {
      const x = new CommandExchange('AT');
      const before = x.feed(data);
      const t = x.timeout();
      if (before === 'pending') assert.ok(!t.ok && t.error === 'timeout');
      else assert.equal(t, before);
      assert.equal(x.timeout(), t);
      assert.equal(x.state, t);
    }),
    fuzzParams(300, 0.1),
  );
});
