import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CommandExchange, MAX_EXCHANGE_LINES, classifyResult, lastResult, type ExchangeOutcome } from './result.js';
import { bytes, cutAt, everyChunking, text } from './chunks.js';

test('verbose result codes, tolerant of stray CR/LF, blanks and control bytes', () => {
  const table: [string, string | undefined, string?][] = [
    ['OK', 'OK'],
    ['\r\nOK\r\n', 'OK'],
    ['  ERROR ', 'ERROR'],
    ['NO CARRIER', 'NO CARRIER'],
    ['BUSY\x00', 'BUSY'],
    ['NO DIALTONE', 'NO DIALTONE'],
    ['NO ANSWER', 'NO ANSWER'],
    ['RING', 'RING'],
    ['CONNECT', 'CONNECT', ''],
    ['CONNECT 33600/ARQ', 'CONNECT', '33600/ARQ'],
    ['CONNECT  2400 ', 'CONNECT', '2400'],
    ['CONNECTED', undefined],
    ['OKAY', undefined],
    ['ATA', undefined],
    ['RING 1', undefined],
    ['Test Modem 1.0', undefined],
    ['', undefined],
  ];
  for (const [line, kind, rest] of table) {
    const r = classifyResult(line);
    assert.equal(r?.kind, kind, JSON.stringify(line));
    if (rest !== undefined) assert.equal(r?.rest, rest);
    if (r !== undefined) assert.equal(r.numeric, false);
  }
});

test('numeric (V0) result codes', () => {
  const map: Record<string, string> = { '0': 'OK', '1': 'CONNECT', '2': 'RING', '3': 'NO CARRIER', '4': 'ERROR', '5': 'CONNECT', '6': 'NO DIALTONE', '7': 'BUSY', '8': 'NO ANSWER' };
  for (const [code, kind] of Object.entries(map)) {
    const r = classifyResult(`${code}\r`);
    assert.equal(r?.kind, kind, code);
    assert.equal(r?.numeric, true);
  }
  assert.equal(classifyResult('5')?.rest, '1200');
  assert.equal(classifyResult('9'), undefined);
  assert.equal(classifyResult('10'), undefined);
});

test('lastResult finds the final code in a block with echo and information lines', () => {
  assert.equal(lastResult('ATI\r\r\nTest Modem 1.0\r\n\r\nOK\r\n')?.kind, 'OK');
  assert.equal(lastResult('ATD123\r\r\nBUSY\r\n')?.kind, 'BUSY');
  assert.equal(lastResult('garbage'), undefined);
});

function exchange(cmd: string, chunks: Uint8Array[], answerLine?: number): { outcome: 'pending' | ExchangeOutcome; after: string } {
  const x = new CommandExchange(cmd, answerLine !== undefined ? { answerLine } : {});
  let outcome: 'pending' | ExchangeOutcome = 'pending';
  let after = '';
  for (const c of chunks) {
    if (outcome !== 'pending') {
      after += text(c);
      continue;
    }
    outcome = x.feed(c);
    if (outcome !== 'pending') after += text(outcome.rest);
  }
  return { outcome, after };
}

test('exchange bytes are the command and CR', () => {
  assert.deepEqual(new CommandExchange('AT').bytes, bytes('AT\r'));
});

test('exchange: echo skipped, OK ends it, bytes after OK are handed back (every split)', () => {
  const input = bytes('AT\r\r\nOK\r\nRING\r\n');
  for (const chunks of everyChunking(input)) {
    const r = exchange('AT', chunks);
    assert.notEqual(r.outcome, 'pending');
    if (r.outcome === 'pending') continue;
    assert.equal(r.outcome.ok, true);
    assert.deepEqual(r.outcome.lines, []);
    assert.equal(r.after, '\nRING\r\n');
  }
});

test('exchange: unsolicited RING is consumed; only printable bytes are kept', () => {
  for (const chunks of everyChunking(bytes('\r\nRING\r\nat\r\r\nO\x00K\x11\r\n'))) {
    const o = exchange('AT', chunks).outcome;
    assert.ok(o !== 'pending' && o.ok);
    assert.deepEqual(o.lines, ['RING']);
  }
});

test('exchange: ERROR fails; a timeout fails; OK must be the whole line', () => {
  const e = exchange('AT+FCLASS=2.0', [bytes('AT+FCLASS=2.0\r\r\nERROR\r\n')]).outcome;
  assert.ok(e !== 'pending' && !e.ok && e.error === 'ERROR');
  const x = new CommandExchange('AT');
  assert.equal(x.feed(bytes('AT\r\r\nOK then\r\nOKAY\r\n')), 'pending');
  const t = x.timeout();
  assert.ok(!t.ok && t.error === 'timeout');
  assert.deepEqual(t.lines, ['OK then', 'OKAY']);
  assert.equal(x.state, t);
  assert.equal(x.feed(bytes('OK\r\n')), t, 'finished exchanges stay finished');
});

test('identification variant returns the n-th non-echo line (every split)', () => {
  const input = bytes('ATI\r\r\nTest Modem 1.0\r\n\r\nrev 2\r\nOK\r\n');
  for (const chunks of everyChunking(input)) {
    const one = exchange('ATI', chunks, 1).outcome;
    assert.ok(one !== 'pending' && one.ok);
    assert.equal(one.answer, 'Test Modem 1.0');
    const two = exchange('ATI', chunks, 2).outcome;
    assert.ok(two !== 'pending' && two.ok && two.answer === 'rev 2');
    const three = exchange('ATI', chunks, 3).outcome;
    assert.ok(three !== 'pending' && three.ok && three.answer === undefined);
  }
  // Q32: an answer without OK is a failure
  const x = new CommandExchange('ATI', { answerLine: 1 });
  x.feed(bytes('ATI\r\nmodem\r\n'));
  assert.equal(x.timeout().ok, false);
});

test('property: any bytes, any chunking: same outcome, lines bounded', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 2000 }), fc.array(fc.nat({ max: 2000 })), (data, cuts) => {
      const whole = exchange('AT', [data]);
      const cut = exchange('AT', cutAt(data, cuts));
      const view = (r: typeof whole): unknown => (r.outcome === 'pending' ? r : { ...r.outcome, rest: undefined, after: r.after });
      assert.deepEqual(view(cut), view(whole));
      if (whole.outcome !== 'pending') for (const l of whole.outcome.lines) assert.ok(l.length <= 512);
    }),
  );
});

test('CommandExchange keeps at most MAX_EXCHANGE_LINES lines of a babbling modem, and still finds OK', () => {
  const ex = new CommandExchange('ATI');
  for (let i = 0; i < 10_000; i++) assert.equal(ex.feed(`line ${i}\r\n`), 'pending');
  const out = ex.feed('OK\r\n');
  assert.ok(out !== 'pending' && out.ok, 'OK found');
  assert.equal(out.lines.length, MAX_EXCHANGE_LINES);
  assert.equal(out.lines[0], 'line 0');
});
