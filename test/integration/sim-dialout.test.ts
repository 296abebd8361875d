/**
 * Dial-out from a virtual line to TCP hosts, against real peers on loopback only: servers
 * this test starts on 127.0.0.1 (port 0), and Debian's inetutils telnetd and netkit's (the helper's
 * inetd). The DTE is this test on the pty slave, as a terminal program would be.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeFd, O_NOCTTY, O_NONBLOCK, O_RDWR, openFd } from '../../src/line/libc.js';
import { createBank, type SimBank, type BankOptions } from '../../src/sim/index.js';
import { parsePhonebook } from '../../src/sim/phonebook.js';
import { startTelnetd, telnetdSkipReason, type TelnetdKind } from '../helpers/telnetd.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Server {
  port: number;
  conns: net.Socket[];
  closed: number;
  close(): Promise<void>;
}

/** A TCP server on loopback; `onConn` scripts each connection. */
async function server(onConn: (s: net.Socket) => void): Promise<Server> {
  const conns: net.Socket[] = [];
  const st = { closed: 0 };
  const srv = net.createServer((s) => {
    conns.push(s);
    s.on('error', () => undefined);
    s.on('close', () => st.closed++);
    onConn(s);
    s.resume(); // read, so that the peer's close is seen even when the script ignores data
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.address() as net.AddressInfo).port,
    conns,
    get closed() {
      return st.closed;
    },
    close: async () => {
      for (const c of conns) c.destroy();
      await new Promise((r) => srv.close(r));
    },
  };
}

/** A free loopback port nobody listens on (refused). */
async function refusedPort(): Promise<number> {
  const s = await server(() => undefined);
  const p = s.port;
  await s.close();
  return p;
}

async function withLine(opts: Partial<BankOptions>, fn: (o: { bank: SimBank; dte: (s: string) => void; closeDte: () => void; want: (re: RegExp, ms?: number) => Promise<void> }) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sim-dialout-'));
  const bank = await createBank({ lines: 1, dir, ...opts });
  const line = bank.line(0);
  let fd = openFd(line.path, O_RDWR | O_NOCTTY | O_NONBLOCK);
  try {
    await fn({
      bank,
      dte: (s) => {
        writeSync(fd, Buffer.from(s, 'latin1'));
      },
      closeDte: () => {
        closeFd(fd);
        fd = -1;
      },
      want: async (re, ms = 5000) => {
        await line.waitForModem(re, ms);
      },
    });
  } finally {
    if (fd >= 0) closeFd(fd);
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** +++ with the guard times (S12 = 1 s): the modem goes to online command mode. */
async function escape(dte: (s: string) => void, want: (re: RegExp, ms?: number) => Promise<void>): Promise<void> {
  await sleep(1100);
  dte('+++');
  await want(/OK\r\n/, 3000);
}

test('ATDT host:port through the phone book (raw): CONNECT 33600, data both ways, +++ OK, ATO, ATH drops the connection', async () => {
  const echo = await server((s) => s.on('data', (d: Buffer) => s.write(Buffer.concat([Buffer.from('echo:'), d]))));
  try {
    const phonebook = parsePhonebook(`5551000 = 127.0.0.1:${echo.port} raw\n`);
    await withLine({ dialout: { phonebook } }, async ({ bank, dte, want }) => {
      dte('ATDT555-1000\r');
      await want(/\r\nCONNECT 33600\r\n/);
      assert.equal(bank.line(0).modem.currentMode, 'data');
      dte('hello\xff');
      await want(/echo:hello\xff/);
      await escape(dte, want);
      assert.equal(bank.line(0).modem.currentMode, 'online-command');
      dte('ATO\r');
      await want(/CONNECT 33600\r\n/);
      dte('again');
      await want(/echo:again/);
      await escape(dte, want);
      dte('ATH\r');
      await want(/ATH\r\r\nOK\r\n/);
      for (let i = 0; i < 40 && echo.closed === 0; i++) await sleep(25);
      assert.equal(echo.closed, 1, 'the host saw the hang-up');
      assert.equal(bank.line(0).modem.state, 'idle');
      assert.equal(bank.line(0).dialCall?.state, 'ended');
      assert.equal(bank.line(0).dialCall?.peer, `127.0.0.1:${echo.port}`);
      assert.ok((bank.line(0).dialCall?.bytesIn ?? 0) >= 'echo:hello'.length);
    });
  } finally {
    await echo.close();
  }
});

test('refused: BUSY (NO CARRIER with ATX0); a plain number not in the book still rings the bank; the host closing: its last bytes, then NO CARRIER', async () => {
  const port = await refusedPort();
  const bye = await server((s) => s.end('see you\r\n'));
  try {
    await withLine({}, async ({ dte, want, bank }) => {
      dte(`ATD127.0.0.1:${port}\r`);
      await want(/\r\nBUSY\r\n/);
      dte(`ATX0DT127.0.0.1:${port}\r`);
      await want(/\r\nNO CARRIER\r\n/);
      dte('ATX4D5550000\r'); // the bank's own number: it is itself, so busy
      await want(/\r\nBUSY\r\n/);
      dte(`ATDT127.0.0.1:${bye.port}\r`);
      await want(/CONNECT 33600\r\nsee you\r\n\r\nNO CARRIER\r\n/);
      assert.equal(bank.line(0).modem.state, 'idle');
    });
  } finally {
    await bye.close();
  }
});

test('NO ANSWER after S7 when the host never answers; a DTE byte while dialling aborts (NO CARRIER)', async () => {
  const pending: net.Socket[] = [];
  // A connection attempt that never completes (no packet leaves the machine).
  const connect = (): net.Socket => {
    const s = new net.Socket();
    pending.push(s);
    return s;
  };
  await withLine({ dialout: { connect } }, async ({ dte, want, bank }) => {
    const t0 = Date.now();
    dte('ATS7=1DTbbs.example.org\r');
    await want(/\r\nNO ANSWER\r\n/, 4000);
    assert.ok(Date.now() - t0 >= 900, 'after S7 seconds');
    assert.equal(pending[0]?.destroyed, true, 'the attempt was dropped');
    dte('ATS7=30DTbbs.example.org\r');
    await sleep(200);
    assert.equal(bank.line(0).modem.state, 'dialing');
    dte('x');
    await want(/\r\nNO CARRIER\r\n/);
    assert.equal(pending[1]?.destroyed, true);
  });
});

test('the DTE closing the line (DTR drop, &D2) ends a dial-out call: the host sees the close', async () => {
  const echo = await server(() => undefined);
  try {
    await withLine({}, async ({ dte, want, closeDte, bank }) => {
      dte(`ATD127.0.0.1:${echo.port}\r`);
      await want(/CONNECT 33600/);
      closeDte();
      for (let i = 0; i < 40 && echo.closed === 0; i++) await sleep(25);
      assert.equal(echo.closed, 1);
      assert.equal(bank.line(0).modem.state, 'idle');
    });
  } finally {
    await echo.close();
  }
});

test('pacing at the CONNECT speed: 2400 bytes at 9600 bps take 2.5 s; unpaced they come at once', async () => {
  const blob = Buffer.alloc(2400, 0x41);
  const src = await server((s) => s.end(blob));
  try {
    for (const pace of [true, false]) {
      await withLine({ dialout: { pace, speed: 9600 } }, async ({ dte, want }) => {
        dte(`ATD127.0.0.1:${src.port}\r`);
        await want(/CONNECT 9600\r\n/);
        const t0 = Date.now();
        await want(/A{2400}\r\nNO CARRIER/, 10_000);
        const took = Date.now() - t0;
        if (pace) assert.ok(took >= 2300 && took <= 3500, `paced: ${took} ms`);
        else assert.ok(took < 1000, `unpaced: ${took} ms`);
      });
    }
  } finally {
    await src.close();
  }
});

for (const kind of ['inetutils', 'netkit'] as const) {
  test(`dial-out to ${kind} telnetd: fake login, no option loop, clean hang-up both ways`, { skip: telnetdSkipReason(kind) }, async () => {
    await telnetdCalls(kind);
  });
}

async function telnetdCalls(kind: TelnetdKind): Promise<void> {
  const td = await startTelnetd(kind);
  try {
    await withLine({}, async ({ dte, want, bank }) => {
      // 1: the host hangs up (the program telnetd runs exits).
      dte(`ATDT127.0.0.1:${td.port}\r`);
      await want(/CONNECT 33600\r\n/);
      await want(/fake login: /);
      dte('joe\r');
      await want(/welcome joe/);
      dte('hello\r');
      await want(/you said: hello/);
      const settled = { ...td.counts };
      await sleep(1000);
      assert.deepEqual(td.counts, settled, 'no negotiation after the session settled');
      assert.ok(td.counts.fromServer + td.counts.toServer < 40, `option commands: ${JSON.stringify(td.counts)}`);
      dte('bye\r');
      await want(/\r\nNO CARRIER\r\n/); // telnetd may close before the program's last line is out
      assert.equal(bank.line(0).modem.state, 'idle');
    });
    await withLine({}, async ({ dte, want }) => {
      // 2: we hang up (+++, ATH): telnetd's session ends.
      dte(`ATD127.0.0.1:${td.port}\r`);
      await want(/fake login: /);
      await escape(dte, want);
      dte('ATH\r');
      await want(/OK\r\n/);
      const s = td.sessions[1];
      assert.ok(s !== undefined);
      if (s.exitCode === null && s.signalCode === null) {
        await Promise.race([new Promise((r) => s.once('exit', r)), sleep(5000)]);
      }
      assert.ok(s.exitCode !== null || s.signalCode !== null, 'telnetd ended after our hang-up');
    });
  } finally {
    await td.close();
  }
}
