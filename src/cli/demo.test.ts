import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMgettyConfig } from '../config/mgetty-config.js';
import { resolvePort, boolOf, intOf, stringOf, effectiveHasErrors } from '../config/effective.js';
import { parseLoginConfig, matchLogin, expandArgs } from '../config/login-config.js';
import { expandTokens } from '../login/issue.js';
import { startStatusServer } from '../daemon/status-server.js';
import type { LineStatus } from '../daemon/events.js';
import { DEMO_ISSUE, LogTail, demoCommand, demoLoginConfig, demoMgettyConfig, demoSessionWrapper, describeChanges, shQuote } from './demo.js';

const ctx = { hostname: 'box', sysname: 'Linux', release: '6', version: '#1', machine: 'x86_64', device: 'ttySIM1', connect: '33600/ARQ', callerId: '5551234', speed: 38400, users: 0, now: 0 };

test('the demo mgetty.config reads without problems and says what the demo needs', () => {
  const parsed = parseMgettyConfig(demoMgettyConfig({ issueFile: '/d/etc/issue', ports: ['ttySIM0', 'ttySIM1'] }), '/d/etc/mgetty.config');
  assert.deepEqual(parsed.diagnostics.filter((d) => d.severity === 'error'), []);
  const eff = resolvePort(parsed, 'ttySIM1');
  assert.equal(effectiveHasErrors(eff), false);
  assert.deepEqual(eff.matchedSections.map((s) => s.pattern), ['ttySIM1']);
  // The caller ID comes between RING 1 and 2: answering on RING 2 lets the screens show it.
  assert.equal(intOf(eff, 'rings'), 2);
  assert.equal(boolOf(eff, 'fido-send-emsi'), false);
  assert.equal(boolOf(eff, 'toggle-dtr'), true, 'toggle-dtr stays at its default');
  assert.equal(stringOf(eff, 'issue-file'), '/d/etc/issue');
  // \040 gives the trailing space the file format cannot hold.
  assert.equal(expandTokens(stringOf(eff, 'login-prompt') ?? '', ctx), 'demo login: ');
});

test('the demo issue text names the line, the connect string and the caller ID', () => {
  const text = expandTokens(DEMO_ISSUE, ctx);
  assert.match(text, /tgetty demo on box\./);
  assert.match(text, /line ttySIM1; the modem said CONNECT 33600\/ARQ\./);
  assert.match(text, /caller ID is 5551234\./);
  // Each file line is expanded on its own, within mgetty's 296-character limit.
  for (const l of DEMO_ISSUE.split('\n')) assert.ok(expandTokens(l, ctx).length < 200);
});

test('the demo login.config sends every name, and PPP callers, to the demo program with the name', () => {
  const parsed = parseLoginConfig(demoLoginConfig('/d/etc/demo-session'), '/d/etc/login.config');
  assert.deepEqual(parsed.diagnostics, []);
  for (const name of ['joe', '', 'root', '/AutoPPP/']) {
    const e = matchLogin(parsed.entries, name, { autoppp: name === '/AutoPPP/' });
    assert.equal(e.program, '/d/etc/demo-session', name);
    assert.equal(e.user, undefined, 'runs as the user running the demo');
    assert.equal(e.utmp, undefined);
    assert.deepEqual(expandArgs(e, { name }), name === '' ? ['demo-session'] : ['demo-session', name]);
  }
});

test('the session wrapper passes paths and arguments through sh untouched', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-demo-wrap-'));
  try {
    const w = join(dir, 'w');
    // /bin/echo stands in for node: it shows exactly the argv the wrapper builds.
    writeFileSync(w, demoSessionWrapper('/bin/echo', "/odd path/it's $HOME `x`.js"));
    chmodSync(w, 0o755);
    const out = execFileSync(w, ['a b', '$(id)', "'"], { encoding: 'utf8' });
    assert.equal(out, "/odd path/it's $HOME `x`.js a b $(id) '\n");
    assert.equal(shQuote("a'b"), "'a'\\''b'");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const line = (over: Partial<LineStatus>): LineStatus => ({ line: 'ttySIM0', path: '/x/ttySIM0', state: 'idle', since: 0, calls: 0, failures: 0, ...over });

test('the activity feed tells a call from ring to hangup, and errors with where to look', () => {
  const idle = [line({})];
  const ringing = [line({ state: 'ringing', calls: 1, call: { callId: 'c1', startedAt: 1 } })];
  const withCid = [line({ state: 'answering', calls: 1, call: { callId: 'c1', startedAt: 1, callerId: '5551234', callerName: 'DEMO CALLER' } })];
  const inSession = [line({ state: 'in-session', calls: 1, call: { callId: 'c1', startedAt: 1, callerId: '5551234', callerName: 'DEMO CALLER', connect: '33600', loginName: 'joe', program: '/d/demo-session', pid: 7 } })];
  const after = [line({ calls: 1 })];
  assert.deepEqual(describeChanges(idle, ringing, '/logs'), ['ttySIM0: incoming call']);
  assert.deepEqual(describeChanges(ringing, withCid, '/logs'), ['ttySIM0: caller ID 5551234 (DEMO CALLER)']);
  assert.deepEqual(describeChanges(withCid, inSession, '/logs'), ["ttySIM0: CONNECT 33600", "ttySIM0: login name 'joe': running /d/demo-session [pid 7]"]);
  assert.deepEqual(describeChanges(inSession, inSession, '/logs'), []);
  assert.deepEqual(describeChanges(inSession, after, '/logs'), ['ttySIM0: call ended']);
  // A whole call between two looks: everything at once.
  assert.equal(describeChanges(idle, inSession, '/logs').length, 4);
  const err = [line({ state: 'resting', lastError: { at: 5, message: 'modem did not answer\x1b[2J' } })];
  assert.deepEqual(describeChanges(idle, err, '/logs'), [
    'ttySIM0: ERROR modem did not answer?[2J (details: /logs/ttySIM0.log)',
    'ttySIM0: failed too often; resting before the next try',
  ]);
});

function listenAny(): Promise<{ server: Server; port: number }> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({ server, port: typeof a === 'object' && a !== null ? a.port : 0 });
    });
  });
}

function capture(): { io: { out: (s: string) => void; err: (s: string) => void }; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { io: { out: (s) => (out += s), err: (s) => (err += s) }, out: () => out, err: () => err };
}

test('port in use: a clear error with a way out, exit 1, nothing left behind', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-demo-unit-'));
  const { server, port } = await listenAny();
  t.after(() => {
    server.close();
    rmSync(root, { recursive: true, force: true });
  });
  const c = capture();
  const code = await demoCommand({ port, io: c.io, baseDir: root, runDir: join(root, 'run'), records: join(root, 'calls.sqlite'), logDir: join(root, 'log'), cliCommand: 'tgetty', env: {}, stopSignal: new Promise(() => undefined) });
  assert.equal(code, 1);
  assert.match(c.err(), new RegExp(`port ${port} on 127\\.0\\.0\\.1 is already in use \\(another demo running\\?\\); try tgetty demo --port ${port + 1}`));
  assert.deepEqual(readdirSync(root), [], 'no demo dir, no run dir, no records');
  const viaNpm = capture();
  await demoCommand({ port, io: viaNpm.io, baseDir: root, runDir: join(root, 'run'), env: { npm_lifecycle_event: 'demo' }, stopSignal: new Promise(() => undefined) });
  assert.match(viaNpm.err(), /try npm run demo -- --port \d+/);
});

test('a daemon already answering on the run dir: say so, touch nothing', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-demo-unit-'));
  const runDir = join(root, 'run');
  const other = await startStatusServer({
    runDir,
    handlers: { status: () => ({ pid: 4321, version: 'x', startedAt: 0, configDir: '/etc/mgetty', configLoadedAt: 0, lines: [] }), reload: () => Promise.resolve({ ok: true, errors: [] }) },
  });
  t.after(async () => {
    await other.close();
    rmSync(root, { recursive: true, force: true });
  });
  const base = join(root, 'base');
  const c = capture();
  const code = await demoCommand({ port: 1, io: c.io, baseDir: base, runDir, env: {}, stopSignal: new Promise(() => undefined) });
  assert.equal(code, 1);
  assert.match(c.err(), /a tgetty daemon is already running \(pid 4321, status socket .*tgetty\.sock\)/);
  assert.match(c.err(), /--run-dir/);
  assert.equal(existsSync(base), false);
});

test('bad --port and --lines are refused before anything starts', async () => {
  const c = capture();
  assert.equal(await demoCommand({ port: 70000, io: c.io, stopSignal: Promise.resolve() }), 1);
  assert.equal(await demoCommand({ lines: 0, io: c.io, stopSignal: Promise.resolve() }), 1);
  assert.match(c.err(), /--port must be 1\.\.65535, got 70000/);
  assert.match(c.err(), /--lines must be 1\.\.64, got 0/);
});

test('LogTail: only what was logged after the start, whole lines, however the writes were split; a truncated file starts over', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-demo-tail-'));
  try {
    const a = join(dir, 'ttySIM0.log');
    writeFileSync(a, 'old run\n');
    const text = 'send: ATQ0V1H0[0d]\nwaiting for \'OK\' ** found **\n\x1b[2J\n';
    for (let cut = 0; cut <= text.length; cut++) {
      writeFileSync(a, 'old run\n');
      const tail = new LogTail([{ label: 'ttySIM0', file: a }, { label: 'ttySIM1', file: join(dir, 'missing.log') }]);
      assert.deepEqual(tail.poll(), []);
      appendFileSync(a, text.slice(0, cut));
      const got = tail.poll();
      appendFileSync(a, text.slice(cut));
      got.push(...tail.poll());
      assert.deepEqual(got, ['ttySIM0| send: ATQ0V1H0[0d]', "ttySIM0| waiting for 'OK' ** found **", 'ttySIM0| ?[2J'], `cut at ${cut}`);
    }
    const tail = new LogTail([{ label: 'L', file: a }]);
    writeFileSync(a, 'new\n');
    assert.deepEqual(tail.poll(), ['L| new']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
