// Fuzz: mgetty.config reading: never throws, diagnostics located and explained, chat split/format round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { configTextOf, fuzzParams, protocolChar } from '../../test/helpers/fuzz.js';
import { ErrorCodes } from '../core/errors.js';
import { formatDiagnostic } from './diagnostics.js';
import { KEYWORDS } from './keywords.js';
import {
  formatChat,
  parseCInt,
  parseMgettyConfig,
  physicalLineCount,
  portMatches,
  readLogicalLines,
  splitChat,
  splitChatArg,
  typeValue,
} from './mgetty-config.js';

const F = '/etc/mgetty/mgetty.config';
const CODES: ReadonlySet<string> = new Set(Object.values(ErrorCodes));
const NAMES = KEYWORDS.map((k) => k.name);

const configText = configTextOf([...NAMES, 'port', 'Port', 'speeed', 'ttyS?', 'ttyS0']);

test('fuzz: parseMgettyConfig never throws; every diagnostic has file:line in range, a code and a message', () => {
  fc.assert(
    fc.property(configText, (text) => {
      const p = parseMgettyConfig(text, F);
      assert.equal(p.lineCount, physicalLineCount(text));
      assert.equal(p.sections[0]?.pattern, undefined);
      for (const d of p.diagnostics) {
        assert.equal(d.file, F);
        assert.ok(Number.isInteger(d.line) && d.line >= 1 && d.line <= p.lineCount, `line ${d.line} of ${p.lineCount}`);
        assert.ok(d.message.trim() !== '' && CODES.has(d.code), JSON.stringify(d));
        assert.ok(formatDiagnostic(d).startsWith(`${F}:${d.line}: ${d.severity}: `));
      }
      let last = 0;
      for (const s of p.sections.slice(1)) {
        assert.ok(s.pattern !== undefined && s.line > last && s.line <= p.lineCount);
        last = s.line;
      }
      for (const s of p.sections) {
        for (const a of s.assignments) {
          assert.ok(a.line >= Math.max(1, s.line) && a.line <= p.lineCount && a.section === s.pattern);
          assert.ok(NAMES.includes(a.keyword) && a.def.name === a.keyword);
          // A value that typed is a value of the keyword's type; a bad one is left unset.
          if (a.value !== undefined) assert.deepEqual(typeValue(a.def, a.raw), { ok: true, value: a.value, ...noteOf(a.def, a.raw) });
        }
      }
    }),
    fuzzParams(1000),
  );
});

function noteOf(def: (typeof KEYWORDS)[number], raw: string): { note?: string } {
  const r = typeValue(def, raw);
  return r.ok && r.note !== undefined ? { note: r.note } : {};
}

test('fuzz: logical lines are folded, non-empty, comment-free and in order', () => {
  fc.assert(
    fc.property(configText, (text) => {
      const n = physicalLineCount(text);
      let last = 0;
      for (const l of readLogicalLines(text)) {
        assert.ok(l.line > last && l.line <= n);
        last = l.line;
        assert.ok(l.text !== '' && !l.text.startsWith('#') && !l.text.includes('\n'));
        assert.ok(!/[\t\r\f\v]|  |^ | $/.test(l.text), JSON.stringify(l.text));
      }
    }),
    fuzzParams(500, 0.3),
  );
});

test('fuzz: typeValue never throws for any keyword and value; ints are safe integers', () => {
  fc.assert(
    fc.property(fc.constantFrom(...KEYWORDS), fc.string({ unit: protocolChar, maxLength: 30 }), (def, raw) => {
      const r = typeValue(def, raw);
      if (!r.ok) {
        assert.ok(def.type === 'int' || def.type === 'flow');
        assert.ok(r.expected !== '');
        return;
      }
      switch (def.type) {
        case 'int':
          assert.ok(typeof r.value === 'number' && Number.isSafeInteger(r.value));
          break;
        case 'bool':
          assert.equal(typeof r.value, 'boolean');
          break;
        case 'string':
          assert.equal(r.value, raw);
          break;
        case 'chat':
          assert.deepEqual(r.value, splitChat(raw));
          break;
        case 'flow':
          assert.ok(['hard', 'soft', 'both', 'none'].includes(r.value as string));
          break;
      }
    }),
    fuzzParams(500, 0.3),
  );
});

test('fuzz: parseCInt agrees with JavaScript on decimal, octal and hex numbers in the safe range', () => {
  fc.assert(
    fc.property(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), fc.constantFrom(10, 8, 16), fc.string({ maxLength: 3 }), (n, base, junk) => {
      const body = base === 10 ? String(Math.abs(n)) : base === 8 ? `0${Math.abs(n).toString(8)}` : `0x${Math.abs(n).toString(16)}`;
      const text = (n < 0 ? '-' : '') + body;
      const tail = /^[0-9a-fA-FxX]/.test(junk) ? '' : junk;
      assert.deepEqual(parseCInt(text + tail), { value: n, rest: tail });
    }),
    fuzzParams(500, 0.1),
  );
});

test('fuzz: splitChat(formatChat(x)) == x for printable elements with CR, LF and TAB', () => {
  const ch = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), fc.constantFrom('\r', '\n', '\t', '\\', '"', ' '));
  fc.assert(
    fc.property(fc.array(fc.string({ unit: ch, maxLength: 10 }), { minLength: 1, maxLength: 8 }), (els) => {
      const text = formatChat(els);
      assert.deepEqual(splitChat(text), els);
      // The -m argument reads the same syntax.
      assert.deepEqual(splitChatArg(text), els);
    }),
    fuzzParams(1000, 0.5),
  );
});

test('fuzz: splitChat never throws; element count is one more than the unquoted separating spaces', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.oneof(protocolChar, fc.constantFrom(' ', '"', '\\')), maxLength: 40 }), (v) => {
      const els = splitChat(v);
      let quoted = false;
      let seps = 0;
      for (let i = 0; i < v.length; i++) {
        if (v[i] === '\\' && i + 1 < v.length) i++;
        else if (v[i] === '"') quoted = !quoted;
        else if (v[i] === ' ' && !quoted) seps++;
      }
      assert.equal(els.length, seps + 1);
    }),
    fuzzParams(500, 0.2),
  );
});

test('fuzz: port patterns: symmetric, reflexive, and `?` matches any one character', () => {
  const dev = fc.string({ unit: fc.constantFrom('t', 'y', 'S', '0', '1', '?', '/'), maxLength: 8 });
  fc.assert(
    fc.property(dev, dev, (a, b) => {
      assert.equal(portMatches(a, b), portMatches(b, a));
      assert.ok(portMatches(a, a));
      if (!a.includes('?') && !b.includes('?')) assert.equal(portMatches(a, b), a === b);
    }),
    fuzzParams(500, 0.1),
  );
});

test('large input: a 1 MiB binary file, a 1 MB word and 20 000 lines parse without blowing up', () => {
  const bin = new Uint8Array(1 << 20);
  let x = 1;
  for (let i = 0; i < bin.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bin[i] = x >>> 24;
  }
  const binary = parseMgettyConfig(Buffer.from(bin).toString('latin1'), F);
  assert.ok(binary.diagnostics.length > 0 && binary.diagnostics.every((d) => d.line >= 1 && d.line <= binary.lineCount));
  // Before the length check in suggestKeyword, this one word took 80 s (edit distance against every keyword).
  const word = parseMgettyConfig('x'.repeat(1_000_000), F);
  assert.equal(word.diagnostics.length, 1);
  assert.equal(word.diagnostics[0]?.code, 'CONFIG_UNKNOWN_KEYWORD');
  const many = parseMgettyConfig(Array.from({ length: 20_000 }, (_, i) => (i % 2 === 0 ? `rings ${i}` : `ttyS${i}`)).join('\n'), F);
  assert.equal(many.diagnostics.length, 10_000);
});
