import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytes, cutAt, everyChunking, text } from '../modem/chunks.js';
import { MAX_NAME_LENGTH, NameReader, isUpperOnly, type NameReaderOptions, type NameResult } from './logname.js';
import { PppDetector } from './ppp.js';

const P = '<P>'; // where the runner prints the prompt again (restart) or CR + issue + prompt (empty)
const ERASE = '\b \b';

interface Transcript {
  /** Echo written to the line, with P where the runner re-prompted. */
  out: string;
  /** Every result, in order. */
  results: NameResult[];
  /** Input not consumed by the reader after its final result. */
  rest: string;
}

/** Plays the runner: write echo, re-prompt on restart/empty and feed the rest again. */
function run(chunks: Uint8Array[], opts: NameReaderOptions = {}): Transcript {
  const r = new NameReader(opts);
  let out = '';
  const results: NameResult[] = [];
  let rest = '';
  for (const c of chunks) {
    let pending: Uint8Array = c;
    while (pending.length > 0) {
      if (r.done) {
        rest += text(pending);
        break;
      }
      const f = r.feed(pending);
      out += text(f.echo);
      pending = f.rest;
      if (f.result !== undefined) {
        results.push(f.result);
        if (f.result.kind === 'restart' || f.result.kind === 'empty') out += P;
      }
    }
  }
  return { out, results, rest };
}

/** The same transcript for every way of cutting the input. */
function check(input: string, want: Transcript, opts: NameReaderOptions = {}): void {
  for (const chunks of everyChunking(bytes(input))) {
    assert.deepEqual(run(chunks, opts), want, `chunks ${JSON.stringify(chunks.map((c) => text(c)))}`);
  }
}

const name = (n: string, endedWith: 'cr' | 'lf' = 'cr', upperOnly = false): NameResult => ({ kind: 'name', name: n, endedWith, upperOnly });

test('spec §5.13 example: ab BS c DEL d SP e LF -> ad e, echo ends LF CR', () => {
  check('ab\bc\x7fd e\n', { out: `ab${ERASE}c${ERASE}d e\n\r`, results: [name('ad e', 'lf')], rest: '' });
});

test('spec §5.13 example: leading SP/-, ^U, ESC, NUL, 0x01, ^Q, ^S, 8-bit, ^C, BS, DEL -> m- n', () => {
  check('\x20-x\x15\x1b\x00\x01\x11\x13A\xe2b\x03k\bl\xffm- n\r', {
    out: ` ${ERASE}-${ERASE}x${P}Abb${P}k${ERASE}l${ERASE}m- n\r\n`,
    results: [{ kind: 'restart', emsi: true }, { kind: 'restart', emsi: true }, name('m- n')],
    rest: '',
  });
});

test('-froot never reaches login as an option: echo - BS SP BS froot CR LF', () => {
  check('-froot\r', { out: `-${ERASE}froot\r\n`, results: [name('froot')], rest: '' });
  // Erasing back to an empty line makes the next `-` leading again.
  check('a\b--f\r', { out: `a${ERASE}-${ERASE}-${ERASE}f\r\n`, results: [name('f')], rest: '' });
  check('  - -x\r', { out: ` ${ERASE} ${ERASE}-${ERASE} ${ERASE}-${ERASE}x\r\n`, results: [name('x')], rest: '' });
});

test('observed: joe CR -> joe CR LF; the LF of a CR LF pair stays unread', () => {
  check('joe\r', { out: 'joe\r\n', results: [name('joe')], rest: '' });
  check('joe\r\nmore', { out: 'joe\r\n', results: [name('joe')], rest: '\nmore' });
});

test('8-bit CR and LF end the line too (0x8D, 0x8A)', () => {
  check('ab\x8d', { out: 'ab\r\n', results: [name('ab')], rest: '' });
  check('ab\x8a', { out: 'ab\n\r', results: [name('ab', 'lf')], rest: '' });
});

test('empty line: CR -> CR LF, LF -> LF CR, then the runner reprints (Q31) and reading goes on', () => {
  check('\r\njoe\n', {
    out: `\r\n${P}\n\r${P}joe\n\r`,
    results: [{ kind: 'empty', endedWith: 'cr' }, { kind: 'empty', endedWith: 'lf' }, name('joe', 'lf')],
    rest: '',
  });
});

test('AutoPPP, observed transcript B: ~ BS SP BS }#@ CR LF; the rest of the frame is left for pppd', () => {
  check('\x7e\xff\x7d\x23\xc0\x21\x7d\x21\x7d\x20', { out: `~${ERASE}}#@\r\n`, results: [{ kind: 'autoppp' }], rest: '\x7d\x21\x7d\x20' });
});

test('AutoPPP: unescaped frame re-prints the prompt at its ^C and is still detected', () => {
  check('\x7e\xff\x03\xc0\x21\x01', { out: `~${ERASE}${P}@\r\n`, results: [{ kind: 'restart', emsi: true }, { kind: 'autoppp' }], rest: '\x01' });
});

test('AutoPPP: after typed text, after an empty line, and with a detector shared with the post-CONNECT window', () => {
  check('ab\x7e\xff\x7d\x23\xc0\x21', { out: `ab~${ERASE}}#@\r\n`, results: [{ kind: 'autoppp' }], rest: '' });
  check('\r\x7e\xff\x7d\x23\xc0\x21', { out: `\r\n${P}~${ERASE}}#@\r\n`, results: [{ kind: 'empty', endedWith: 'cr' }, { kind: 'autoppp' }], rest: '' });
  for (const chunks of everyChunking(bytes('\x7d\x23\xc0\x21'))) {
    const d = new PppDetector();
    assert.equal(d.feed(bytes('\x7e\xff')), undefined);
    assert.deepEqual(run(chunks, { detector: d }), { out: '}#@\r\n', results: [{ kind: 'autoppp' }], rest: '' });
  }
  // Switched off: the bytes are just (odd) typing.
  check('\x7e\xff\x7d\x23\xc0\x21\r', { out: `~${ERASE}}#@!\r\n`, results: [name('}#@!')], rest: '' }, { autoPpp: false });
});

test('typing /AutoPPP/ is an ordinary name (Q16)', () => {
  check('/AutoPPP/\r', { out: '/AutoPPP/\r\n', results: [name('/AutoPPP/')], rest: '' });
});

test('^\\ quits at once; ^D quits only on an empty line', () => {
  check('ab\x1cxy', { out: 'ab', results: [{ kind: 'quit', key: 'quit' }], rest: 'xy' });
  check('\x04', { out: '', results: [{ kind: 'quit', key: 'eof' }], rest: '' });
  check('a\x04b\r', { out: 'ab\r\n', results: [name('ab')], rest: '' });
  check('a\b\x84', { out: `a${ERASE}`, results: [{ kind: 'quit', key: 'eof' }], rest: '' });
  check('\x9c', { out: '', results: [{ kind: 'quit', key: 'quit' }], rest: '' });
});

test('erase on an empty line sends nothing', () => {
  check('\b\x7f\xffa\r', { out: 'a\r\n', results: [name('a')], rest: '' });
});

test('a name that is exactly NO CARRIER or ERROR is a modem error', () => {
  check('NO CARRIER\r', { out: 'NO CARRIER\r\n', results: [{ kind: 'modem-error', text: 'NO CARRIER' }], rest: '' });
  check('ERROR\n', { out: 'ERROR\n\r', results: [{ kind: 'modem-error', text: 'ERROR' }], rest: '' });
  check('ERRORS\r', { out: 'ERRORS\r\n', results: [name('ERRORS', 'cr', true)], rest: '' });
});

test('deliberate: control characters without a rule are not echoed and never stored', () => {
  check('a\tb\x07c\x16\x1a\x00d\r', { out: 'abcd\r\n', results: [name('abcd')], rest: '' });
  // Observed: mgetty echoes and stores TAB and BEL (name `a TAB b BEL c`). A control can never lead either.
  check('\t-x\r', { out: `-${ERASE}x\r\n`, results: [name('x')], rest: '' });
});

test('deliberate (Q27): 0x80 and 0x81 are dropped, not turned into NUL / 0x01', () => {
  check('ro\x80o\x81t\r', { out: 'root\r\n', results: [name('root')], rest: '' });
});

test('8-bit input is stripped to 7 bits, echo included', () => {
  check('\xea\xef\xe5\r', { out: 'joe\r\n', results: [name('joe')], rest: '' });
});

test('length limit (observed): 1024 characters; the 1025th is echoed, later ones and the terminator erased', () => {
  const x = (n: number): string => 'x'.repeat(n);
  const r1 = run([bytes(x(MAX_NAME_LENGTH) + '\r')]);
  assert.deepEqual(r1, { out: x(MAX_NAME_LENGTH) + '\r\n', results: [name(x(MAX_NAME_LENGTH))], rest: '' });
  const r2 = run([bytes(x(MAX_NAME_LENGTH + 1) + '\r')]);
  assert.deepEqual(r2, { out: x(MAX_NAME_LENGTH + 1) + `\r${ERASE}\n`, results: [name(x(MAX_NAME_LENGTH))], rest: '' });
  const r3 = run([bytes(x(MAX_NAME_LENGTH + 3) + '\r')]);
  assert.equal(r3.out, x(MAX_NAME_LENGTH + 1) + `x${ERASE}`.repeat(2) + `\r${ERASE}\n`);
  assert.deepEqual(r3.results, [name(x(MAX_NAME_LENGTH))]);
  // Same rule with a small limit, at every split; BS can take back the extra character.
  const three = { maxLength: 3 };
  check('abcde\b\bxy\n', { out: `abcde${ERASE}${ERASE}${ERASE}xy\n${ERASE}\r`, results: [name('abx', 'lf')], rest: '' }, three);
  check('abc\r', { out: 'abc\r\n', results: [name('abc')], rest: '' }, three);
  check('abcd\r', { out: `abcd\r${ERASE}\n`, results: [name('abc')], rest: '' }, three);
});

test('upper-case-only terminal is reported; the name stays as typed', () => {
  check('ROOT\r', { out: 'ROOT\r\n', results: [name('ROOT', 'cr', true)], rest: '' });
  check('Root\r', { out: 'Root\r\n', results: [name('Root')], rest: '' });
  assert.equal(isUpperOnly('JOE2'), true);
  assert.equal(isUpperOnly('123'), false);
  assert.equal(isUpperOnly('JOe'), false);
});

test('FIDO off (default): TSYNC/YOOHOO bytes are stripped characters and **EMSI_ is a name', () => {
  check('\xae\xf1\r', { out: '.q\r\n', results: [name('.q')], rest: '' });
  check('**EMSI_INQC816\r', { out: '**EMSI_INQC816\r\n', results: [name('**EMSI_INQC816', 'cr', true)], rest: '' });
});

test('FIDO on: TSYNC and YOOHOO end the read', () => {
  const fido = { fido: true };
  // Observed: CR LF ends these (neither CR nor LF was typed).
  check('ab\xaezz', { out: 'ab\r\n', results: [{ kind: 'fido', packet: 'tsync', nonInq: false }], rest: 'zz' }, fido);
  check('\xf1', { out: '\r\n', results: [{ kind: 'fido', packet: 'yoohoo', nonInq: false }], rest: '' }, fido);
});

test('FIDO on: **EMSI_ starts a packet read without echo; INQC816 completes it (observed **EMSI_ LF)', () => {
  const fido = { fido: true };
  check('xy**EMSI_INQC816', { out: 'xy**EMSI_\n', results: [{ kind: 'fido', packet: '**EMSI_INQC816', nonInq: false }], rest: '' }, fido);
  check('xy**EMSI_INQC816\rrest', { out: 'xy**EMSI_\n', results: [{ kind: 'fido', packet: '**EMSI_INQC816', nonInq: false }], rest: '\rrest' }, fido);
  // No editing inside the packet (BS is dropped, not applied); CR ends it.
  check('**EMSI_DAT\bA\r\n', {
    out: '**EMSI_\n',
    results: [{ kind: 'fido', packet: '**EMSI_DATA', nonInq: true }],
    rest: '\n',
  }, fido);
  // EMSI_CLI: prompt again, without the EMSI request; the reader goes on.
  check('**EMSI_CLIFA8C\rjoe\r', {
    out: `**EMSI_${P}joe\r\n`,
    results: [{ kind: 'restart', emsi: false }, name('joe')],
    rest: '',
  }, fido);
});

test('FIDO on: the EMSI packet gets the name filter: ESC, BEL, LF, NUL, DEL dropped, 8-bit stripped, 0x8D ends it', () => {
  const fido = { fido: true };
  check('**EMSI_\x1b[2J\x07x\ny\x00\x01\x7f\xc1\xff\x9b\r', {
    out: '**EMSI_\n',
    results: [{ kind: 'fido', packet: '**EMSI_[2JxyA', nonInq: true }],
    rest: '',
  }, fido);
  check('**EMSI_DAT\x8dz', { out: '**EMSI_\n', results: [{ kind: 'fido', packet: '**EMSI_DAT', nonInq: true }], rest: 'z' }, fido);
  // The filter is applied before the INQ test: a control inside does not stop INQC816 completing.
  check('**EMSI_INQ\x07C816', { out: '**EMSI_\n', results: [{ kind: 'fido', packet: '**EMSI_INQC816', nonInq: false }], rest: '' }, fido);
});

test('after a final result the reader consumes nothing more', () => {
  const r = new NameReader();
  const f = r.feed(bytes('joe\r'));
  assert.equal(f.result?.kind, 'name');
  assert.equal(r.done, true);
  const g = r.feed(bytes('x\r'));
  assert.deepEqual([text(g.echo), g.result, text(g.rest)], ['', undefined, 'x\r']);
});

test('fuzz: chunking never changes the transcript; names are safe for argv', () => {
  const byte = fc.oneof(
    fc.constantFrom(0x0d, 0x0a, 0x08, 0x7f, 0x15, 0x03, 0x04, 0x1c, 0x2d, 0x20, 0x7e, 0xff, 0x7d, 0x23, 0xc0, 0x21, 0x80, 0x09, 0xae, 0x2a),
    fc.integer({ min: 0, max: 255 }),
  );
  fc.assert(
    fc.property(fc.array(byte, { maxLength: 60 }), fc.array(fc.nat(60)), fc.boolean(), (arr, cuts, fido) => {
      const data = Uint8Array.from(arr);
      const whole = run([data], { fido });
      assert.deepEqual(run(cutAt(data, cuts), { fido }), whole);
      for (const res of whole.results) {
        if (res.kind === 'fido') assert.ok(/^[\x20-\x7e]+$/.test(res.packet), JSON.stringify(res.packet));
        if (res.kind !== 'name') continue;
        assert.ok(res.name.length >= 1 && res.name.length <= MAX_NAME_LENGTH);
        assert.ok(!res.name.startsWith('-') && !res.name.startsWith(' '));
        assert.ok(/^[\x20-\x7e]+$/.test(res.name), JSON.stringify(res.name));
      }
      // The echo never carries a byte with the 8th bit set.
      assert.ok([...bytes(whole.out.split(P).join(''))].every((b) => b < 0x80));
    }),
    { numRuns: 3000 },
  );
});
