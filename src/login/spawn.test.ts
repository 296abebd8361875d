import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_TOOLS, GATE_SCRIPT, directArgv, execProblem, gateArgv } from './spawn.js';

test('gateArgv: root -> setsid only; the name with a space stays ONE argument', () => {
  assert.deepEqual(gateArgv('/bin/login', ['--', 'joe doe'], undefined, DEFAULT_TOOLS), [
    GATE_SCRIPT, 'tgetty-handoff', '/usr/bin/setsid', '-c', '--', '/bin/login', '--', 'joe doe',
  ]);
});

test('gateArgv: a user -> setpriv with uid, gid and initgroups after setsid', () => {
  const a = gateArgv('/usr/sbin/pppd', ['auth'], { uid: 10, gid: 20, name: 'uucp' }, DEFAULT_TOOLS);
  assert.deepEqual(a.slice(2), [
    '/usr/bin/setsid', '-c', '--', '/usr/bin/setpriv', '--reuid=10', '--regid=20', '--init-groups', '--', '/usr/sbin/pppd', 'auth',
  ]);
  const b = gateArgv('/usr/sbin/pppd', [], { uid: 10, gid: 20, name: 'uucp' }, { ...DEFAULT_TOOLS, setpriv: undefined });
  assert.deepEqual(b.slice(2), ['/usr/bin/setsid', '-c', '--', '/usr/sbin/pppd']);
});

test('execProblem: missing, directory, not executable, not executable for the user, fine', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-exec-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const prog = join(dir, 'prog');
  writeFileSync(prog, '#!/bin/sh\n');
  chmodSync(prog, 0o644);
  mkdirSync(join(dir, 'sub'));
  assert.equal(execProblem(join(dir, 'missing'), undefined), 'No such file or directory');
  assert.equal(execProblem(join(dir, 'sub'), undefined), 'not a regular file');
  assert.match(execProblem(prog, undefined) ?? '', /Permission denied/);
  chmodSync(prog, 0o700);
  assert.equal(execProblem(prog, undefined), undefined);
  if (process.getuid?.() === 0) {
    // root may run any file with an x bit; a plain user needs one that applies to it
    assert.match(execProblem(prog, { uid: 4242, gid: 4242, name: 'nobody-like' }) ?? '', /not executable for nobody-like/);
  }
  chmodSync(prog, 0o755);
  assert.equal(execProblem(prog, { uid: 4242, gid: 4242, name: 'nobody-like' }), undefined);
});

test('directArgv: root -> the program itself; a user -> setpriv in front of it; a name with a space stays ONE argument', () => {
  assert.deepEqual(directArgv('/bin/login', ['--', 'joe doe'], undefined, DEFAULT_TOOLS), { path: '/bin/login', argv: ['/bin/login', '--', 'joe doe'] });
  assert.deepEqual(directArgv('/usr/sbin/pppd', ['auth'], { uid: 10, gid: 20, name: 'uucp' }, DEFAULT_TOOLS), {
    path: '/usr/bin/setpriv',
    argv: ['/usr/bin/setpriv', '--reuid=10', '--regid=20', '--init-groups', '--', '/usr/sbin/pppd', 'auth'],
  });
});
