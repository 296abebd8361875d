import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DO, DONT, IAC, OPT_BINARY, OPT_ECHO, OPT_SGA, SB, SE, TelnetCodec, WILL, WONT } from './telnet.js';

/** Commands (cmd, opt) in a byte stream from the server. */
function commands(bytes: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === IAC && [DO, DONT, WILL, WONT].includes(bytes[i + 1] ?? -1)) {
      out.push([bytes[i + 1] ?? 0, bytes[i + 2] ?? 0]);
      i += 2;
    }
  }
  return out;
}

test('opening offers: WILL ECHO, WILL SGA, WILL BINARY, DO SGA, DO BINARY', () => {
  const sent: number[] = [];
  const c = new TelnetCodec((b) => sent.push(...b));
  c.start();
  assert.deepEqual(commands(sent), [[WILL, OPT_ECHO], [WILL, OPT_SGA], [WILL, OPT_BINARY], [DO, OPT_SGA], [DO, OPT_BINARY]]);
  c.start();
  assert.equal(sent.length, 15, 'no second round of requests');
});

/** A naive client that answers every command, acknowledgements included (the classic loop maker). */
function runAgainstNaive(agree: boolean, clientOpens: number[][]) {
  const toClient: number[] = [];
  const c = new TelnetCodec((b) => toClient.push(...b));
  c.start();
  let toServer: number[] = clientOpens.flat();
  let rounds = 0;
  let total = 0;
  while ((toClient.length > 0 || toServer.length > 0) && rounds < 50) {
    rounds++;
    const replies: number[] = [];
    for (const [cmd, opt] of commands(toClient.splice(0))) {
      const yes = agree || opt === OPT_SGA;
      if (cmd === DO) replies.push(IAC, yes ? WILL : WONT, opt);
      if (cmd === DONT) replies.push(IAC, WONT, opt);
      if (cmd === WILL) replies.push(IAC, yes ? DO : DONT, opt);
      if (cmd === WONT) replies.push(IAC, DONT, opt);
    }
    const data = c.decode(Buffer.from(toServer));
    assert.equal(data.length, 0);
    total += toServer.length;
    toServer = replies;
  }
  return { c, rounds, total };
}

test('no negotiation loop with a client that answers everything, agreeing or refusing', () => {
  const yes = runAgainstNaive(true, [[IAC, WILL, 31], [IAC, WILL, 24], [IAC, DO, 5]]);
  assert.ok(yes.rounds < 5, `rounds ${yes.rounds}`);
  assert.ok(yes.c.ours(OPT_ECHO) && yes.c.ours(OPT_SGA) && yes.c.ours(OPT_BINARY));
  assert.ok(yes.c.his(OPT_BINARY) && yes.c.his(OPT_SGA));
  assert.ok(!yes.c.his(31), 'NAWS refused');
  const no = runAgainstNaive(false, []);
  assert.ok(no.rounds < 5, `rounds ${no.rounds}`);
  assert.ok(!no.c.ours(OPT_ECHO) && !no.c.ours(OPT_BINARY) && no.c.ours(OPT_SGA));
});

test('unsupported options are refused once; DONT on an enabled option is acknowledged once', () => {
  const sent: number[] = [];
  const c = new TelnetCodec((b) => sent.push(...b));
  c.decode(Buffer.from([IAC, WILL, 31, IAC, DO, 6, IAC, WONT, 31, IAC, DONT, 6]));
  assert.deepEqual(commands(sent), [[DONT, 31], [WONT, 6]]);
  sent.length = 0;
  c.decode(Buffer.from([IAC, DO, OPT_ECHO]));
  assert.deepEqual(commands(sent), [[WILL, OPT_ECHO]]);
  c.decode(Buffer.from([IAC, DO, OPT_ECHO]));
  assert.deepEqual(commands(sent), [[WILL, OPT_ECHO]], 'repeat DO is an acknowledgement: no answer');
  c.decode(Buffer.from([IAC, DONT, OPT_ECHO, IAC, DONT, OPT_ECHO]));
  assert.deepEqual(commands(sent), [[WILL, OPT_ECHO], [WONT, OPT_ECHO]]);
});

test('IAC IAC is a 0xFF data byte both ways; subnegotiations are skipped', () => {
  const c = new TelnetCodec(() => undefined);
  assert.deepEqual([...c.decode(Buffer.from([65, IAC, IAC, 66]))], [65, 255, 66]);
  assert.deepEqual([...c.encode(Buffer.from([1, 255, 2]))], [1, 255, 255, 2]);
  const sb = [IAC, SB, 24, 0, ...Buffer.from('xterm'), IAC, IAC, 7, IAC, SE];
  assert.deepEqual([...c.decode(Buffer.from([88, ...sb, 89]))], [88, 89]);
});

test('NVT line ends from the client: CR NUL and CR LF become CR; binary mode passes bytes through', () => {
  const c = new TelnetCodec(() => undefined);
  assert.equal(c.decode(Buffer.from('joe\r\0')).toString('latin1'), 'joe\r');
  assert.equal(c.decode(Buffer.from('joe\r\n')).toString('latin1'), 'joe\r');
  assert.equal(c.decode(Buffer.from('a\rb')).toString('latin1'), 'a\rb');
  assert.deepEqual([...c.encode(Buffer.from('a\rb\r\n'))], [...Buffer.from('a\r\0b\r\n')]);
  c.start();
  c.decode(Buffer.from([IAC, WILL, OPT_BINARY, IAC, DO, OPT_BINARY]));
  assert.equal(c.decode(Buffer.from('joe\r\n')).toString('latin1'), 'joe\r\n');
  assert.deepEqual([...c.encode(Buffer.from('a\rb'))], [...Buffer.from('a\rb')]);
});

test('the decoder gives the same data and replies at every chunk split', () => {
  const stream = Buffer.from([
    IAC, DO, OPT_ECHO, ...Buffer.from('ab\r'), 0, IAC, IAC, IAC, SB, 31, 0, 80, IAC, IAC, 0, 24, IAC, SE, IAC, WILL, 24,
    ...Buffer.from('x\r\ny'), IAC, 241,
  ]);
  const run = (cuts: number[]) => {
    const sent: number[] = [];
    const c = new TelnetCodec((b) => sent.push(...b));
    const data: number[] = [];
    let prev = 0;
    for (const p of [...cuts, stream.length]) {
      data.push(...c.decode(stream.subarray(prev, p)));
      prev = p;
    }
    return { data, sent };
  };
  const whole = run([]);
  assert.equal(Buffer.from(whole.data).toString('latin1'), 'ab\r\xffx\ry');
  for (let cut = 0; cut <= stream.length; cut++) assert.deepEqual(run([cut]), whole, `split at ${cut}`);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 10 }), (cuts) => {
      assert.deepEqual(run([...new Set(cuts)].sort((a, b) => a - b)), whole);
    }),
  );
});
