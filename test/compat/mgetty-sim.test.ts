// The proof: Debian's real mgetty 1.2.1 answers a simulated call end to end. Its init
// chat, RING, ATA, CONNECT, then the issue file and the login prompt reach a telnet
// caller, and the name typed there reaches the login program mgetty starts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/core/clock.js';
import { ExpectBuffer, createBank } from '../../src/sim/index.js';
import { mgettyUnavailable, startMgetty } from '../helpers/mgetty-ns.js';

test('real mgetty answers a telnet call through the simulator', async (t) => {
  const why = mgettyUnavailable();
  if (why !== undefined) {
    t.skip(why);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-sim-mgetty-'));
  const bank = await createBank({ lines: 1, dir });
  const mg = startMgetty({
    args: ['-x', '6', 'ttySIM0'],
    config: 'port ttySIM0\n  speed 38400\n  rings 1\n  toggle-dtr n\n  issue-file /etc/mgetty/issue\n  login-prompt sim login: \n',
    loginConfig: '* - - /bin/echo tgetty-login-ok @\n',
    device: ['ttySIM0', join(dir, 'ttySIM0')],
    files: { issue: 'Welcome to the simulated line\n' },
  });
  t.after(async () => {
    await mg.stop();
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const line = bank.line(0);
  try {
    // mgetty's start-up: its init chat, then the fax probing (the sim is data-only).
    await line.waitForDte(/ATQ0V1H0\r/, 10_000);
    await line.waitForDte(/AT\+FCLASS=2\r/, 5_000);
    // Let it reach WAITING (0.3 s quiet, lock removed) before the phone rings.
    await new Promise((r) => setTimeout(r, 800));

    const addr = await bank.listen({ port: 0, ring: { answerDelayMs: 100, cidFormat: 'none' } });
    const sock = connect(addr.port, '127.0.0.1');
    const rx = new ExpectBuffer(systemClock, 'telnet caller');
    sock.on('data', (d: Buffer) => rx.push(d));
    sock.on('error', () => undefined);
    t.after(() => sock.destroy());

    await line.waitForDte(/ATA\r/, 5_000);
    await line.waitForModem(/CONNECT 33600\/ARQ\/V34\/LAPM\/V42BIS\r\n/, 5_000);
    await rx.waitFor(/Welcome to the simulated line/, 5_000);
    await rx.waitFor(/sim login:/, 5_000);
    sock.write('joe\r\n');
    await rx.waitFor(/tgetty-login-ok joe/, 5_000);
    const log = mg.logText();
    assert.match(log, /waiting\.\.\./);
    assert.match(log, /CONNECT/);
  } catch (err) {
    // Everything needed to see why: the line transcript, mgetty's log, the namespace script.
    t.diagnostic(`transcript:\n${line.transcript.toString()}`);
    t.diagnostic(`mgetty log:\n${mg.logText()}`);
    t.diagnostic(`namespace stderr:\n${mg.stderr()}`);
    throw err;
  }
});
