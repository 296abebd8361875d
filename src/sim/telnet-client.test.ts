import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DO, DONT, IAC, OPT_BINARY, OPT_ECHO, OPT_SGA, TelnetCodec, WILL, WONT } from './telnet.js';
import { telnetClient } from './telnet-client.js';

const OPT_TTYPE = 24;
const OPT_NAWS = 31;
const OPT_LINEMODE = 34;

/**
 * The worst server there is: it answers EVERY option command, acknowledgements included,
 * by agreeing (DO -> WILL, WILL -> DO) or refusing back (DONT -> WONT, WONT -> DONT), and
 * asks for everything at the start. A client that answered acknowledgements would loop.
 */
class AnswerEverything {
  received: number[][] = [];
  constructor(private readonly send: (b: Buffer) => void) {}
  start(): void {
    this.send(Buffer.from([IAC, WILL, OPT_ECHO, IAC, WILL, OPT_SGA, IAC, DO, OPT_TTYPE, IAC, DO, OPT_NAWS, IAC, DO, OPT_LINEMODE, IAC, WILL, OPT_BINARY, IAC, DO, OPT_BINARY, IAC, DO, OPT_SGA]));
    this.send(Buffer.from('login: '));
  }
  feed(b: Buffer): void {
    for (let i = 0; i + 2 < b.length + 0; i++) {
      if (b[i] !== IAC) continue;
      const cmd = b[i + 1] ?? 0;
      const opt = b[i + 2] ?? 0;
      if (cmd < WILL || cmd > DONT) continue;
      this.received.push([cmd, opt]);
      const reply = cmd === DO ? WILL : cmd === WILL ? DO : cmd === DONT ? WONT : DONT;
      this.send(Buffer.from([IAC, reply, opt]));
      i += 2;
    }
  }
}

/** Run client and server against each other until nothing more flows (or give up). */
function converse(): { client: TelnetCodec; server: AnswerEverything; rounds: number; app: string; bytes: number } {
  let toClient: Buffer[] = [];
  let toServer: Buffer[] = [];
  const client = telnetClient((b) => toServer.push(b));
  const server = new AnswerEverything((b) => toClient.push(b));
  server.start();
  client.start();
  let app = '';
  let bytes = 0;
  let rounds = 0;
  while ((toClient.length > 0 || toServer.length > 0) && rounds < 100) {
    rounds++;
    const c = Buffer.concat(toClient);
    const s = Buffer.concat(toServer);
    toClient = [];
    toServer = [];
    bytes += c.length + s.length;
    app += client.decode(c).toString('latin1');
    server.feed(s);
  }
  return { client, server, rounds, app, bytes };
}

test('telnet client vs a server that answers everything: negotiation ends, no loop', () => {
  const { client, server, rounds, app, bytes } = converse();
  assert.ok(rounds < 10, `still negotiating after ${rounds} rounds (${bytes} bytes)`);
  assert.equal(app, 'login: ', 'application bytes pass, negotiation does not');
  // The server echoes and suppresses go-ahead; binary both ways; SGA on our side.
  assert.equal(client.his(OPT_ECHO), true);
  assert.equal(client.his(OPT_SGA), true);
  assert.equal(client.his(OPT_BINARY), true);
  assert.equal(client.ours(OPT_BINARY), true);
  assert.equal(client.ours(OPT_SGA), true);
  // Terminal type, window size, linemode: refused once each, never agreed to.
  for (const opt of [OPT_TTYPE, OPT_NAWS, OPT_LINEMODE]) {
    assert.equal(client.ours(opt), false);
    const said = server.received.filter(([, o]) => o === opt);
    assert.ok(said.every(([cmd]) => cmd === WONT), `only WONT for option ${opt}: ${JSON.stringify(said)}`);
    assert.ok(said.length <= 2, `option ${opt} refused at most twice (once, and once to the server's echo of DONT): ${said.length}`);
  }
});

test('telnet client vs our own server side: both settle in one exchange; CR LF from the server stays CR LF', () => {
  let toC: Buffer[] = [];
  let toS: Buffer[] = [];
  const client = telnetClient((b) => toS.push(b));
  const server = new TelnetCodec((b) => toC.push(b));
  server.start();
  client.start();
  for (let i = 0; i < 10 && (toC.length > 0 || toS.length > 0); i++) {
    const c = Buffer.concat(toC);
    const s = Buffer.concat(toS);
    toC = [];
    toS = [];
    client.decode(c);
    server.decode(s);
    assert.ok(i < 4, 'settles at once');
  }
  assert.equal(client.his(OPT_ECHO), true);
  assert.equal(client.ours(OPT_ECHO), false, 'the client never echoes');
  // Non-binary text from a server: CR LF is a line end for the terminal, CR NUL a bare CR.
  const plain = telnetClient(() => undefined);
  assert.equal(plain.decode(Buffer.from('a\r\nb\r\0c')).toString('latin1'), 'a\r\nb\rc');
  assert.equal(plain.decode(Buffer.from([0x41, IAC, IAC, 0x42])).toString('latin1'), 'A\xffB');
  assert.deepEqual([...plain.encode(Buffer.from([0x0d, 0xff]))], [0x0d, 0, 0xff, 0xff], 'a bare CR goes as CR NUL, IAC doubled');
});
