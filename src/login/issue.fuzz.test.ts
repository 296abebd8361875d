// Fuzz: issue/prompt token expansion with any text and any context: bounded, never throws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fuzzParams, latin1String, protocolText } from '../../test/helpers/fuzz.js';
import { EMSI_REQUEST, EXPANSION_LIMIT, ctimeString, expand, parseIssueSetting, renderIssue, renderPrompt, type IssueContext } from './issue.js';

const TOKENS = ['@', '\\P', '\\L', '\\I', '\\Y', '\\S', '\\s', '\\m', '\\R', '\\V', '\\N', '\\U', '\\C', '\\D', '\\T', '\\n', '\\r', '\\g', '\\b', '\\v', '\\f', '\\t', '\\\\', '\\', '\\0', '\\0x41', '\\0x', '\\101', '\\65', '\\256', '\\99999999999999999999', '\\x', '\x00'];
const text = protocolText({ maxParts: 80, words: TOKENS });
const field = fc.string({ maxLength: 40 });
const ctx: fc.Arbitrary<IssueContext> = fc.record({
  hostname: field,
  sysname: field,
  release: field,
  version: field,
  machine: field,
  device: field,
  connect: field,
  callerId: fc.option(field, { nil: undefined }),
  speed: fc.integer({ min: 0, max: 460800 }),
  users: fc.nat(1000),
  now: fc.integer({ min: 0, max: 4102444800000 }),
});

function longestPiece(c: IssueContext): number {
  const d = new Date(c.now);
  const date = `${d.getMonth() + 1}/${d.getDate()}/${d.getFullYear()}`;
  return Math.max(1, ...[c.hostname, c.sysname, c.release, c.version, c.machine, c.device, c.connect, c.callerId ?? '', 'none', String(c.speed), String(c.users), ctimeString(c.now), date].map((s) => s.length));
}

test('fuzz: expand never throws; output bounded by the limit plus one token; truncation reported', () => {
  fc.assert(
    fc.property(text, ctx, (t, c) => {
      const r = expand(t, c);
      assert.ok(r.text.length < EXPANSION_LIMIT + longestPiece(c), `${r.text.length}`);
      if (r.truncated) assert.ok(r.text.length >= EXPANSION_LIMIT);
      // The same input always gives the same output (no hidden state).
      assert.deepEqual(expand(t, c), r);
      // Text after a NUL is never looked at (C strings).
      const nul = t.indexOf('\0');
      if (nul >= 0) assert.deepEqual(expand(t.slice(0, nul), c), r);
    }),
    fuzzParams(1000),
  );
});

test('fuzz: renderIssue: CR first; text ends CR LF; a file is expanded per line, each line bounded', () => {
  fc.assert(
    fc.property(fc.constantFrom('text' as const, 'file' as const, 'command' as const), protocolText({ maxParts: 200, words: [...TOKENS, '\n', '\n'] }), ctx, (kind, body, c) => {
      const out = renderIssue(kind, body, c);
      const s = latin1String(out.bytes);
      assert.ok(s.startsWith('\r'));
      if (kind === 'command') {
        assert.equal(s, '\r');
        assert.ok(out.run !== undefined && out.run.every((a) => a !== '' && !/[ \t\n]/.test(a)));
        return;
      }
      assert.equal(out.run, undefined);
      if (kind === 'text') assert.ok(s.endsWith('\r\n'));
      const lines = body.split('\n').length;
      // Per line (or 1023-byte fgets chunk): at most the limit plus one token, plus the CR.
      const chunks = lines + Math.ceil(body.length / 1023);
      assert.ok(s.length <= 3 + chunks * (EXPANSION_LIMIT + longestPiece(c) + 1));
      // The same body as bytes gives the same output.
      const bytes = Uint8Array.from([...body].map((ch) => ch.charCodeAt(0) & 0xff));
      if (![...body].some((ch) => ch.charCodeAt(0) > 0xff)) assert.deepEqual(renderIssue(kind, bytes, c), out);
    }),
    fuzzParams(500, 0.3),
  );
});

test('fuzz: the prompt: optional EMSI request, CR LF, then the expansion', () => {
  fc.assert(
    fc.property(text, ctx, fc.boolean(), (p, c, emsi) => {
      const s = latin1String(renderPrompt(p, c, { emsi }));
      const head = (emsi ? EMSI_REQUEST : '') + '\r\n';
      assert.ok(s.startsWith(head));
      assert.equal(s.slice(head.length), [...expand(p, c).text].map((ch) => String.fromCharCode(ch.charCodeAt(0) & 0xff)).join(''));
    }),
    fuzzParams(300, 0.2),
  );
});

test('fuzz: parseIssueSetting: ! is a command split without a shell, / a file, anything else text', () => {
  fc.assert(
    fc.property(protocolText({ maxParts: 10, words: ['!', '/', ' ', ';', '$HOME', '`x`', '"a b"'] }), (v) => {
      const s = parseIssueSetting(v);
      if (v.startsWith('!')) {
        assert.ok(s.kind === 'command' && s.command === v.slice(1));
        assert.ok(s.argv.every((a) => a !== '' && !/[ \t\n]/.test(a)));
        assert.equal(s.argv.join(''), v.slice(1).replace(/[ \t\n]/g, ''));
      } else if (v.startsWith('/')) assert.deepEqual(s, { kind: 'file', path: v });
      else assert.deepEqual(s, { kind: 'text', text: v });
    }),
    fuzzParams(300, 0.1),
  );
});
