// Fuzz: the simulator's telnet codec: no negotiation loops, chunking invariance, round trips.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { chunk, cutPoints, fuzzParams, latin1String, protocolBytes } from '../../test/helpers/fuzz.js';
import { DO, DONT, IAC, OPT_BINARY, SB, SE, TelnetCodec, WILL, WONT } from './telnet.js';

const WORDS = ['\xff\xfb\x00', '\xff\xfd\x00', '\xff\xfb\x01', '\xff\xfd\x01', '\xff\xfb\x03', '\xff\xfd\x03', '\xff\xfe\x03', '\xff\xfc\x00', '\xff\xfb\x18', '\xff\xfa\x1f\x00\x50\xff\xf0', '\r\x00', '\r\n'];
const negotiation = fc.tuple(fc.constantFrom(WILL, WONT, DO, DONT), fc.constantFrom(0, 1, 3, 5, 24, 31, 34, 255)).map(([c, o]) => Uint8Array.of(IAC, c, o));

interface Played {
  data: string;
  sent: string;
}

function play(chunks: Uint8Array[], start: boolean): Played {
  let sent = '';
  const c = new TelnetCodec((b) => (sent += latin1String(b)));
  if (start) c.start();
  let data = '';
  for (const ch of chunks) {
    const before = sent.length;
    const out = c.decode(ch);
    // Never more application bytes than input; at most one 3-byte reply per 3-byte command.
    assert.ok(out.length <= ch.length);
    assert.ok(sent.length - before <= ch.length + 3);
    data += latin1String(out);
  }
  return { data, sent };
}

test('fuzz: decode: same data and replies at any chunking; output never longer than input', () => {
  fc.assert(
    fc.property(protocolBytes({ maxParts: 40, words: WORDS }), cutPoints(300), fc.boolean(), (data, cuts, start) => {
      assert.deepEqual(play(chunk(data, cuts), start), play([data], start));
    }),
    fuzzParams(1000),
  );
});

/** Two codecs wired back to back; returns how many delivery rounds it took to go quiet. */
function converge(a: TelnetCodec, b: TelnetCodec, toA: Uint8Array[], toB: Uint8Array[], limit: number): number {
  for (let round = 0; round < limit; round++) {
    if (toA.length === 0 && toB.length === 0) return round;
    const forA = toA.splice(0);
    const forB = toB.splice(0);
    for (const x of forA) a.decode(x);
    for (const x of forB) b.decode(x);
  }
  return limit;
}

test('fuzz: no negotiation loops: after any garbage from a client, two codecs wired together go quiet in a few rounds', () => {
  fc.assert(
    fc.property(protocolBytes({ maxParts: 20, words: WORDS }), fc.array(negotiation, { maxLength: 6 }), fc.boolean(), fc.boolean(), (junk, cmds, startA, startB) => {
      const toA: Uint8Array[] = [];
      const toB: Uint8Array[] = [];
      // The garbage (and any commands in it) comes from a client that reads none of the replies.
      let wired = false;
      const a = new TelnetCodec((x) => {
        if (wired) toB.push(Uint8Array.from(x));
      });
      a.decode(junk);
      for (const c of cmds) a.decode(c);
      // Then a codec of the same kind takes over the connection: A's answers and requests reach
      // B, B's reach A. A request is answered at most once and an answer never is, so it settles
      // in two rounds (request, answer); 4 leaves room, 64 would mean a loop.
      wired = true;
      const b = new TelnetCodec((x) => toA.push(Uint8Array.from(x)));
      if (startA) a.start();
      if (startB) b.start();
      assert.ok(converge(a, b, toA, toB, 64) <= 4);
    }),
    fuzzParams(500, 0.5),
  );
});

test('fuzz: in binary mode both ways, decode(encode(x)) == x; in NVT mode CR LF and CR NUL read as CR', () => {
  fc.assert(
    fc.property(protocolBytes({ maxParts: 30, words: WORDS }), fc.boolean(), (x, binary) => {
      const sender = new TelnetCodec(() => undefined);
      const receiver = new TelnetCodec(() => undefined);
      if (binary) {
        sender.decode(Uint8Array.of(IAC, DO, OPT_BINARY));
        receiver.decode(Uint8Array.of(IAC, WILL, OPT_BINARY));
        assert.ok(sender.ours(OPT_BINARY) && receiver.his(OPT_BINARY));
      }
      const back = latin1String(receiver.decode(sender.encode(x)));
      const s = latin1String(x);
      assert.equal(back, binary ? s : s.replace(/\r\n/g, '\r'));
    }),
    fuzzParams(500, 0.3),
  );
});

test('fuzz: a subnegotiation swallows everything up to IAC SE, whatever it holds', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 60 }), protocolBytes({ maxParts: 5 }), (payload, after) => {
      const body = Array.from(payload).flatMap((b) => (b === IAC ? [IAC, IAC] : [b]));
      const c = new TelnetCodec(() => undefined);
      const plain = after.filter((b) => b !== IAC && b !== 13);
      const out = c.decode(Uint8Array.from([IAC, SB, ...body, IAC, SE, ...plain]));
      assert.equal(latin1String(out), latin1String(plain));
    }),
    fuzzParams(300, 0.1),
  );
});
