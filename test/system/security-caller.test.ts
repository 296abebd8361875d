/**
 * Security review, "what a caller can send": the real tgetty binary on a simulator line.
 * - A login name never reaches the login program as an option (`-froot`, `-f root`), and
 *   no control character reaches it.
 * - Caller ID text (number and name, chosen by whoever places the call) reaches the
 *   cid-program and cnd-program as plain argv words: no shell ever parses it.
 * See docs/security.md.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBank, type SimBank } from '../../src/sim/index.js';
import { startTgetty } from '../helpers/tgetty-run.js';

const skip = process.getuid?.() === 0 ? undefined : 'needs root (the hand-off switches the tty to a new session as root does)';

const CONFIG = 'login-prompt sim login:\nfido-send-emsi no\ntoggle-dtr no\n';

/** The getty finished its init chat and is waiting for RING. */
async function idle(bank: SimBank): Promise<void> {
  await bank.line(0).waitForDte(/ATQ0V1H0\r[^]*AT\r/, 10_000);
  await new Promise((r) => setTimeout(r, 600));
}

/** A program that writes its argv, one `<word>` each, to `out` (no shell parsing of its args). */
function recorder(out: string): string {
  return `#!/bin/sh\nfor a in "$@"; do printf '<%s>' "$a"; done > '${out}'\nprintf 'CALLER_ID=<%s> CALLER_NAME=<%s>' "$CALLER_ID" "$CALLER_NAME" > '${out}.env'\nexit 0\n`;
}

async function simLine(t: TestContext): Promise<{ bank: SimBank; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-sec-caller-'));
  const bank = await createBank({ lines: 1, dir });
  t.after(async () => {
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { bank, dir };
}

test('a login name never becomes an option of the login program, and no control character reaches it', { skip }, async (t) => {
  const { bank, dir } = await simLine(t);
  const out = join(dir, 'argv.out');
  const cases: [typed: string, expected: string][] = [
    ['-froot', '<login><froot>'],
    ['-f root', '<login><f root>'],
    ['--  -froot', '<login><froot>'],
    // TAB, BEL, VT, ESC, ^V, NUL, 0x81 and 0x9b (8-bit controls): none of them is stored.
    ['a\tb\x07c\x0bd\x1be\x16f\x00g\x81h\x9bi', '<login><abcdefghi>'],
  ];
  for (const [typed, expected] of cases) {
    rmSync(out, { force: true });
    const tg = startTgetty({
      tty: join(dir, 'ttySIM0'),
      config: CONFIG,
      loginConfig: `* - - ${dir}/rec.sh login @\n`,
    });
    writeFileSync(join(dir, 'rec.sh'), recorder(out));
    chmodSync(join(dir, 'rec.sh'), 0o755);
    try {
      await idle(bank);
      const call = bank.line(0).call({ cidFormat: 'none' });
      await call.waitFor(/sim login:/, 10_000);
      call.write(Buffer.concat([Buffer.from(typed, 'latin1'), Buffer.from('\r')]));
      assert.equal(await tg.exited, 0, tg.logText('ttySIM0'));
      const argv = readFileSync(out, 'latin1');
      assert.equal(argv, expected, `typed ${JSON.stringify(typed)}`);
      assert.doesNotMatch(argv, /[\x00-\x1f\x7f-\xff]/, 'no control or 8-bit byte in argv');
      await call.ended.catch(() => undefined);
    } finally {
      await tg.stop();
    }
  }
});

test('caller ID text with shell syntax reaches cid-program and cnd-program as argv words; no shell runs it', { skip }, async (t) => {
  const { bank, dir } = await simLine(t);
  const marks = ['m1', 'm2', 'm3', 'm4'].map((m) => join(dir, m));
  const number = `555$(touch ${marks[0]})`;
  const name = `\`touch ${marks[1]}\`;touch ${marks[2]}|touch ${marks[3]}`;
  for (const h of ['cid', 'cnd']) {
    writeFileSync(join(dir, `${h}.sh`), recorder(join(dir, `${h}.out`)));
    chmodSync(join(dir, `${h}.sh`), 0o755);
  }
  const tg = startTgetty({
    tty: join(dir, 'ttySIM0'),
    config: `${CONFIG}rings 3\ncid-program ${dir}/cid.sh\ncnd-program ${dir}/cnd.sh\n`,
    loginConfig: `* - - ${dir}/cid.sh @\n`,
  });
  t.after(() => tg.stop());
  await idle(bank);
  // MDMF keeps the text as sent (CLIP would keep only the digits). The whole block (NMBR
  // and NAME) counts as RING 2 (Q9) and runs the cid-program; the third RING runs the
  // cnd-program. Both see the number and the name.
  const call = bank.line(0).call({ callerId: number, callerName: name, cidFormat: 'mdmf' });
  await call.waitFor(/sim login:/, 20_000);
  call.hangup();
  await tg.exited;
  const words = (h: string): string[] => [...readFileSync(join(dir, `${h}.out`), 'latin1').matchAll(/<([^>]*)>/g)].map((m) => m[1] ?? '');
  // argv: device, caller id, caller name, distinctive ring, called number.
  assert.deepEqual(words('cnd'), ['ttySIM0', number, name, '0', '']);
  assert.equal(readFileSync(join(dir, 'cnd.out.env'), 'latin1'), `CALLER_ID=<${number}> CALLER_NAME=<${name}>`);
  const cid = words('cid');
  assert.equal(cid.length, 5);
  assert.equal(cid[1], number);
  for (const m of marks) assert.equal(existsSync(m), false, `${m} must not exist: no shell ran the caller's text`);
  assert.match(tg.logText('ttySIM0'), /cnd-program .*cnd\.sh exited with 0/);
});
