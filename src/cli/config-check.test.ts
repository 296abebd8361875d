// `tgetty config check` on config files in a temp dir, with the system lookups (users,
// groups, programs, devices) answered by a fake, so the results do not depend on the machine.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configCheck, realSystem, wrap, type CheckSystem } from './config-check.js';
import { SYSTEM_PATHS } from './paths.js';

interface Fake {
  missing?: string[];
  notExecutable?: string[];
  users?: string[];
  groups?: string[];
}

/** Paths in the temp dir are real; every other path is an executable file unless listed. */
function fakeSystem(dir: string, f: Fake = {}): CheckSystem {
  const users = new Set(f.users ?? ['root', 'uucp']);
  const groups = new Set(f.groups ?? ['root', 'dialout']);
  return {
    kind: (p) => (f.missing?.includes(p) ? 'missing' : p.startsWith(dir) ? realSystem.kind(p) : 'file'),
    executable: (p) => !(f.notExecutable?.includes(p) ?? false),
    unreadable: (p) => (p.startsWith(dir) ? realSystem.unreadable(p) : undefined),
    userExists: (n) => users.has(n),
    groupExists: (n) => groups.has(n),
  };
}

interface Run {
  code: number;
  out: string;
  dir: string;
}

function setup(t: TestContext, files: { mgetty?: string; login?: string }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  if (files.mgetty !== undefined) writeFileSync(join(dir, 'mgetty.config'), files.mgetty);
  if (files.login !== undefined) {
    writeFileSync(join(dir, 'login.config'), files.login);
    chmodSync(join(dir, 'login.config'), 0o600);
  }
  return dir;
}

function check(dir: string, o: { port?: string; strict?: boolean; json?: boolean; fake?: Fake; columns?: number; configDir?: string } = {}): Run {
  let out = '';
  const code = configCheck({
    paths: { ...SYSTEM_PATHS, configDir: o.configDir ?? dir },
    port: o.port,
    json: o.json === true,
    strict: o.strict,
    overrides: {},
    io: { out: (s) => (out += s), err: (s) => (out += s) },
    system: fakeSystem(dir, o.fake),
    columns: o.columns ?? 120,
  });
  return { code, out, dir };
}

/** The diagnostic lines of the text output. */
const diagLines = (r: Run): string[] => r.out.split('\n').filter((l) => /: (error|warning): /.test(l));

test('an init-chat without the leading "": error at file:line saying what the chat does, rc 1', (t) => {
  const dir = setup(t, { mgetty: 'debug 4\ninit-chat AT&F1 OK ATS0=0 OK AT#CID=1 OK\n' });
  const r = check(dir);
  assert.equal(r.code, 1);
  assert.deepEqual(diagLines(r), [
    `${dir}/mgetty.config:2: error: init-chat waits for 'AT&F1' from the modem before sending anything (a chat starts with an expect string), and the modem sends nothing unasked, so it times out after 20 s (did you mean \`"" AT&F1 OK ATS0=0 OK AT#CID=1 OK\`?)`,
  ]);
  assert.match(r.out, /config check: FAILED \(1 error, 0 warnings\)/);
  assert.equal(check(setup(t, { mgetty: 'init-chat "" AT&F1 OK ATS0=0 OK AT#CID=1 OK\n' })).code, 0);
});

test('an unterminated quote in a port section chat: error with file:line for that port', (t) => {
  const dir = setup(t, { mgetty: 'port ttyS1\n  answer-chat "" ATA OK "AT#CID=1 OK\n' });
  const r = check(dir, { port: 'ttyS1' });
  assert.equal(r.code, 1);
  assert.match(diagLines(r).join('\n'), new RegExp(`mgetty\\.config:2: error: answer-chat: unterminated quote: .*'AT#CID=1 OK' is sent to the modem as one command line`));
});

test('exit codes as a linter: warnings alone give 0, --strict makes them count, errors give 1', (t) => {
  const dir = setup(t, { mgetty: 'switchbd 19200\n' });
  const r = check(dir);
  assert.deepEqual(diagLines(r).map((l) => l.replace(dir, 'D')), ["D/mgetty.config:1: warning: 'switchbd' is a fax keyword: accepted, but not used by tgetty yet"]);
  assert.equal(r.code, 0);
  assert.match(r.out, /config check: OK \(0 errors, 1 warning; warnings do not fail the check without --strict\)/);
  const s = check(dir, { strict: true });
  assert.equal(s.code, 1);
  assert.match(s.out, /config check: FAILED \(0 errors, 1 warning; --strict: warnings count\)/);
  const j = JSON.parse(check(dir, { json: true, strict: true }).out) as { ok: boolean; strict: boolean; errors: number; warnings: number };
  assert.deepEqual([j.ok, j.strict, j.errors, j.warnings], [false, true, 0, 1]);
  // Missing files are mgetty's defaults: not a failure, not even with --strict.
  const empty = setup(t, {});
  assert.equal(check(empty, { strict: true }).code, 0);
  assert.equal(check(setup(t, { mgetty: 'bogus 1\n' })).code, 1);
});

test('debug 12 is a warning naming the level used; speed 115201 is an error and the table does not show it as used', (t) => {
  const dir = setup(t, { mgetty: 'debug 12\nspeed 115201\n' });
  const r = check(dir);
  assert.equal(r.code, 1);
  const d = diagLines(r).map((l) => l.replace(dir, 'D'));
  assert.equal(d[0], 'D/mgetty.config:1: warning: debug: 12 is above the highest level 9 (everything), 9 is used');
  assert.match(d[1] ?? '', /^D\/mgetty\.config:2: error: speed: 115201 is not a supported port speed .*; the line does not start with this value$/);
  const speedRow = r.out.split('\n').find((l) => /^\S*\s+speed /.test(l)) ?? '';
  assert.match(speedRow, /^!\s+speed\s+none: 115201 is invalid, the line does/);
  assert.doesNotMatch(speedRow, /\s115201\s+global/);
  const debugRow = r.out.split('\n').find((l) => /^\S*\s+debug /.test(l)) ?? '';
  assert.match(debugRow, /^\*\s+debug\s+9\s+global/);
  const j = JSON.parse(check(dir, { json: true }).out) as { effective: { values: Record<string, { value: unknown; invalid?: string }> } };
  assert.equal(j.effective.values.debug?.value, 9);
  assert.match(j.effective.values.speed?.invalid ?? '', /not a supported port speed/);
});

test('port-owner / port-group that do not exist are errors; numbers and unknown lookups are not checked', (t) => {
  const dir = setup(t, { mgetty: 'port-owner nosuchuser\nport-group nosuchgroup\n' });
  const r = check(dir);
  assert.equal(r.code, 1);
  assert.deepEqual(diagLines(r).map((l) => l.replace(dir, 'D')), [
    "D/mgetty.config:1: error: port-owner: there is no user 'nosuchuser' on this system; the device keeps its owner",
    "D/mgetty.config:2: error: port-group: there is no group 'nosuchgroup' on this system; the device keeps its group",
  ]);
  assert.equal(check(setup(t, { mgetty: 'port-owner 1234\nport-group 99\n' })).code, 0);
  assert.equal(check(setup(t, { mgetty: 'port-owner uucp\n' })).code, 0);
});

test('login.config: a missing program is a warning, a program that cannot run and an unknown user are errors', (t) => {
  const dir = setup(t, {
    mgetty: '',
    login: '/AutoPPP/ - a_ppp /usr/sbin/pppd auth -chap +pap login debug\n*\tnobody9\t-\t/bin/login @\nfido - - /usr/lib/fido/ifcico x\n',
  });
  const r = check(dir, { fake: { missing: ['/usr/sbin/pppd'], notExecutable: ['/usr/lib/fido/ifcico'] } });
  assert.equal(r.code, 1);
  assert.deepEqual(diagLines(r).map((l) => l.replace(dir, 'D')), [
    'D/login.config:1: warning: the program /usr/sbin/pppd does not exist: calls that reach this line (/AutoPPP/) fail (install it, or comment the line out)',
    "D/login.config:2: error: there is no user 'nobody9' on this system: calls that reach this line (*) are refused",
    'D/login.config:3: error: the program /usr/lib/fido/ifcico is not executable: calls that reach this line (fido) fail',
  ]);
});

test('an issue-file that cannot be read is a warning; literal issue text is not a file', (t) => {
  const dir = setup(t, { mgetty: `issue-file ${'/nonexistent'}/issue.mgetty\n` });
  const r = check(dir, { fake: { missing: ['/nonexistent/issue.mgetty'] } });
  assert.equal(r.code, 0);
  assert.deepEqual(diagLines(r).map((l) => l.replace(dir, 'D')), [
    'D/mgetty.config:1: warning: issue-file: cannot read /nonexistent/issue.mgetty (ENOENT); callers get no issue text before the prompt',
  ]);
  assert.deepEqual(diagLines(check(setup(t, { mgetty: 'issue-file Welcome\n' }))), []);
  assert.equal(check(setup(t, { mgetty: 'issue-file !/usr/bin/fortune -s\n' }), { fake: { notExecutable: ['/usr/bin/fortune'] } }).code, 1);
});

test('--port with no matching section and no such device: warnings; --config-dir that does not exist: error', (t) => {
  const dir = setup(t, { mgetty: 'port ttyS0\n  rings 2\nport ttyS1\n  rings 3\n' });
  const r = check(dir, { port: 'ttyS9', fake: { missing: ['/dev/ttyS9'] } });
  assert.equal(r.code, 0);
  assert.deepEqual(diagLines(r).map((l) => l.replace(dir, 'D')), [
    'D/mgetty.config: warning: no port section matches ttyS9: only the global section applies (sections: ttyS0, ttyS1)',
    '/dev/ttyS9: warning: no such device: a line started on it exits at once',
  ]);
  assert.deepEqual(diagLines(check(dir, { port: 'ttyS1' })), []);
  // A config without port sections applies to every port: nothing to say.
  assert.deepEqual(diagLines(check(setup(t, { mgetty: 'rings 2\n' }), { port: 'ttyS9' })), []);

  const gone = join(dir, 'no-such-dir');
  const m = check(dir, { configDir: gone });
  assert.equal(m.code, 1);
  assert.equal(diagLines(m)[0], `${gone}: error: the config directory does not exist: nothing was read, every value is a default (check --config-dir)`);
});

test('the settings table stays aligned with a long force-init-chat and fits the width', (t) => {
  const chat = '"" \\d\\d\\d+++\\d\\d\\d\\r\\dATQ0V1H0 OK ATZ OK AT&F1&C1&D2S0=0E1Q0V1X4 OK ATS7=60S10=20L0M0 OK AT+MS=V34,1,300,33600 OK';
  const dir = setup(t, { mgetty: `force-init-chat ${chat}\n` });
  for (const columns of [80, 120]) {
    const r = check(dir, { columns });
    const table = r.out.slice(r.out.indexOf('# markers'), r.out.indexOf('\nconfig check:')).split('\n').slice(1).filter((l) => l !== '');
    assert.ok(table.length > 50);
    for (const l of table) assert.ok(l.length <= columns, `${l.length} > ${columns}: ${l}`);
    // Where the value and source columns start: the same on every row.
    const valueAt = new Set(table.filter((l) => /^\S*\s+[a-z-]+\s/.test(l)).map((l) => /^\S*\s+[a-z-]+\s+/.exec(l)?.[0].length));
    assert.equal(valueAt.size, 1, `value column starts at ${[...valueAt].join(', ')}`);
    const sourceAt = new Set(table.filter((l) => / default$/.test(l)).map((l) => l.length - 'default'.length));
    assert.equal(sourceAt.size, 1, `source column starts at ${[...sourceAt].join(', ')}`);
    // The chat is all there, wrapped inside its column.
    const rowAt = table.findIndex((l) => /\sforce-init-chat\s/.test(l));
    const start = [...valueAt][0] ?? 0;
    const cont = table.slice(rowAt + 1).findIndex((l) => !/^\s+$/.test(l.slice(0, start)));
    const pieces = table.slice(rowAt, rowAt + 1 + (cont < 0 ? 0 : cont)).map((l) => l.slice(start).split(/\s{2,}/)[0]);
    assert.equal(pieces.join('').replace(/\s+/g, ''), chat.replace(/\s+/g, ''));
  }
});

test('wrap: at blanks, and words longer than the width are broken, never cut', () => {
  assert.equal(wrap('a bb ccc', 4), 'a bb\nccc');
  assert.equal(wrap('abcdefghij', 4), 'abcd\nefgh\nij');
  assert.equal(wrap('', 4), '');
  assert.equal(wrap('x abcdefgh y', 4), 'x\nabcd\nefgh\ny');
});

test('a records-url password in an mgetty.config every local user can read: a warning at its line; 0600 or no password: none', (t) => {
  const dir = setup(t, { mgetty: 'debug 4\nrecords-url postgresql://tgetty:s3cret@db/modems\n' });
  chmodSync(join(dir, 'mgetty.config'), 0o644);
  const r = check(dir);
  assert.equal(r.code, 0);
  const lines = diagLines(r).filter((l) => l.includes('records-url'));
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? '', /mgetty\.config:2: warning: the password in records-url is readable by every local user .*mode 0644/);
  assert.ok(!r.out.includes('s3cret'), 'the password itself is never printed');
  assert.equal(check(dir, { strict: true }).code, 1, '--strict: the warning fails the check');
  chmodSync(join(dir, 'mgetty.config'), 0o600);
  assert.deepEqual(diagLines(check(dir)).filter((l) => l.includes('records-url')), []);
  const noPassword = setup(t, { mgetty: 'records-url postgresql://tgetty@db/modems\n' });
  chmodSync(join(noPassword, 'mgetty.config'), 0o644);
  assert.deepEqual(diagLines(check(noPassword)).filter((l) => l.includes('records-url')), []);
});
