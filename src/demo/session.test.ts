import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BBS_BANNER, LineQueue, MENU, PROMPT, callInfoFrom, runSession, welcomeScreen, type CallInfo } from './session.js';

const info: CallInfo = callInfoFrom(
  ['joe'],
  { DEVICE: 'ttySIM2', CALLER_ID: '5551234', CALLER_NAME: 'DEMO CALLER', CONNECT: '33600/ARQ/V34', CALL_DATE: '1121', CALL_TIME: '2053' },
  Date.UTC(2026, 10, 21, 19, 0, 0),
  'box',
  4242,
);

async function drain(q: LineQueue): Promise<string[]> {
  const out: string[] = [];
  for (let l = await q.next(); l !== undefined; l = await q.next()) out.push(l);
  return out;
}

test('LineQueue: lines come out the same at every chunk split (CR, LF, CR LF, CR NUL, partial last line)', async () => {
  const input = '1\r\n22\n\0q\r\0echo me\rtail';
  const want = ['1', '22', 'q', 'echo me'];
  for (let i = 0; i <= input.length; i++) {
    for (let j = i; j <= input.length; j++) {
      const q = new LineQueue();
      q.push(input.slice(0, i));
      q.push(input.slice(i, j));
      q.push(input.slice(j));
      q.end();
      assert.deepEqual(await drain(q), want, `splits at ${i},${j}`);
    }
  }
});

test('LineQueue: any text split anywhere gives the lines of the whole', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.stringMatching(/^[a-z 1-4\0]{0,6}$/), { maxLength: 6 }), fc.array(fc.nat(), { maxLength: 5 }), async (lines, cuts) => {
      const text = lines.map((l) => `${l}\n`).join('');
      const q = new LineQueue();
      const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
      let at = 0;
      for (const p of points) {
        q.push(text.slice(at, p));
        at = p;
      }
      q.push(text.slice(at));
      q.end();
      assert.deepEqual(await drain(q), lines.map((l) => l.replace(/\0/g, '')));
    }),
  );
});

test('LineQueue: a reader waiting before the line arrives gets it; end wakes it with undefined', async () => {
  const q = new LineQueue();
  const first = q.next();
  q.push('abc');
  q.push('\n');
  assert.equal(await first, 'abc');
  const second = q.next();
  q.end();
  assert.equal(await second, undefined);
});

test('the welcome screen shows the name, line, caller ID and name, CONNECT, and says what the program is', () => {
  const w = welcomeScreen(info);
  assert.match(w, /Hello joe!/);
  assert.match(w, /line {8}ttySIM2\r\n/);
  assert.match(w, /caller ID {3}5551234 {2}\(DEMO CALLER\)\r\n/);
  assert.match(w, /CONNECT {5}33600\/ARQ\/V34\r\n/);
  assert.match(w, /stands in for \/bin\/login/);
  // Every line ends CR LF (the tty may have ONLCR off).
  assert.doesNotMatch(w.replace(/\r\n/g, ''), /[\r\n]/);
});

test('control characters from the network or the caller are shown escaped, never sent raw', () => {
  const evil = callInfoFrom(['a\x1b[2Jb'], { DEVICE: 'ttyS0', CALLER_ID: '1\x07', CALLER_NAME: 'X\x9bY' }, 0, 'h', 1);
  const w = welcomeScreen(evil);
  assert.ok(!/[\x07\x1b\x9b]/.test(w), 'no raw control characters');
  assert.match(w, /a\\x1b\[2Jb/);
  assert.match(w, /1\\x07/);
  assert.match(w, /X\\x9bY/);
});

test('missing call data reads as none; a PPP caller is named as such', () => {
  const w = welcomeScreen(callInfoFrom(['/AutoPPP/'], {}, 0, 'h', 1));
  assert.match(w, /\/AutoPPP\/ \(a PPP caller\)/);
  assert.match(w, /caller ID {3}none/);
  assert.match(w, /CONNECT {5}\(none\)/);
});

function session(c: CallInfo = info): { out: () => string; q: LineQueue; done: Promise<'quit' | 'hangup'> } {
  let out = '';
  const q = new LineQueue();
  const done = runSession(c, { write: (s) => (out += s), lines: q });
  return { out: () => out, q, done };
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

test('the menu: every item answers, unknown input is named, q hangs up', async () => {
  const s = session();
  await tick();
  assert.ok(s.out().endsWith(MENU + PROMPT));
  const step = async (input: string): Promise<string> => {
    const before = s.out().length;
    s.q.push(input);
    await tick();
    return s.out().slice(before);
  };
  assert.match(await step('1\r\n'), /modem getty for Linux/);
  assert.match(await step('2\n'), /CALLER_ID=5551234[\s\S]*CALL_DATE=1121 {2}CALL_TIME=2053[\s\S]*login\.config's @\): joe/);
  assert.equal((await step('4\n')).startsWith(BBS_BANNER), true);
  assert.match(await step('zz\n'), /no such choice: "zz"/);
  // An empty line (e.g. a bare Enter) just prompts again.
  assert.equal(await step('\n'), PROMPT);
  const echo = await step('3\n');
  assert.match(echo, /Echo test/);
  assert.ok(echo.endsWith('echo> '));
  assert.match(await step('hello world\n'), /you typed "hello world" \(11 characters\); backwards: "dlrow olleh"/);
  assert.ok((await step('\n')).endsWith(MENU + PROMPT), 'an empty line ends the echo test');
  assert.match(await step('q\n'), /Thanks for calling/);
  assert.equal(await s.done, 'quit');
});

test('hangup (end of input) ends the session quietly, also inside the echo test', async () => {
  const a = session();
  a.q.end();
  assert.equal(await a.done, 'hangup');
  const b = session();
  b.q.push('3\nsome text\n');
  b.q.end();
  assert.equal(await b.done, 'hangup');
  assert.match(b.out(), /you typed "some text"/);
});
