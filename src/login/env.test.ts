import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CALL_ENV_NAMES, SAFE_PATH, childEnv, hookEnv, loginEnv } from './env.js';

/** A daemon environment as systemd plus the shipped unit and a careless admin give it. */
const DAEMON_ENV = {
  PATH: '/home/admin/bin:.:/usr/bin',
  HOME: '/root',
  USER: 'root',
  LOGNAME: 'root',
  SHELL: '/bin/bash',
  TERM: 'xterm-256color',
  NODE_OPTIONS: '--max-old-space-size=96',
  MALLOC_ARENA_MAX: '2',
  LD_LIBRARY_PATH: '/tmp/evil',
  LD_PRELOAD: '/tmp/evil.so',
  FAKE_SECRET: 's3cret',
  NOTIFY_SOCKET: '/run/systemd/notify',
  TZ: 'Europe/Berlin',
  LANG: 'de_DE.UTF-8',
  UNSET: undefined,
};

const NOBODY = { name: 'nobody', dir: '/nonexistent', shell: '/usr/sbin/nologin' };

test('loginEnv: only the allow-list and the call variables, nothing else of the daemon leaks', () => {
  const env = loginEnv(
    { inherit: DAEMON_ENV },
    { device: '/dev/ttyS1', connect: '33600/ARQ', callerId: '5551234', callerName: 'JOE  X', callDate: '1121', callTime: '1930' },
  );
  assert.deepEqual(env, {
    PATH: SAFE_PATH, TZ: 'Europe/Berlin', LANG: 'de_DE.UTF-8',
    CALLER_ID: '5551234', CALLER_NAME: 'JOE  X', CALL_DATE: '1121', CALL_TIME: '1930', CONNECT: '33600/ARQ', DEVICE: 'ttyS1',
  });
});

test('loginEnv: HOME/USER/LOGNAME/SHELL come from the target user, never from the daemon', () => {
  const env = loginEnv({ inherit: DAEMON_ENV, user: NOBODY }, { device: 'ttyS0' });
  assert.equal(env.HOME, '/nonexistent');
  assert.equal(env.USER, 'nobody');
  assert.equal(env.LOGNAME, 'nobody');
  assert.equal(env.SHELL, '/usr/sbin/nologin');
  // Root without a user column (/bin/login): none of them, login(1) sets them itself.
  const root = loginEnv({ inherit: DAEMON_ENV }, { device: 'ttyS0' });
  for (const k of ['HOME', 'USER', 'LOGNAME', 'SHELL']) assert.equal(root[k], undefined, k);
  // An empty passwd home or shell: the defaults login(1) uses.
  const bare = childEnv({ user: { name: 'x', dir: '', shell: '' } });
  assert.equal(bare.HOME, '/');
  assert.equal(bare.SHELL, '/bin/sh');
});

test('loginEnv: PATH is the fixed safe default whatever the daemon has', () => {
  assert.equal(loginEnv({ inherit: { PATH: '.:/tmp' } }, { device: 'ttyS0' }).PATH, SAFE_PATH);
  assert.equal(loginEnv({}, { device: 'ttyS0' }).PATH, SAFE_PATH);
  assert.doesNotMatch(SAFE_PATH, /(^|:)(\.|)(:|$)|tmp|home/);
});

test('loginEnv: unknown caller is none, empty values left out, CONNECT and DEVICE always', () => {
  const env = loginEnv({}, { device: 'pts/3', callerName: '', calledId: '' });
  assert.deepEqual(env, { PATH: SAFE_PATH, CALLER_ID: 'none', CONNECT: '', DEVICE: 'pts/3' });
});

test('loginEnv: TERM only from the term keyword (the daemon TERM is the admin terminal); ttyprompt sets TTYPROMPT', () => {
  const env = loginEnv({ inherit: { TERM: 'dumb' } }, { device: 'ttyS0', ttyPrompt: 'host login: ' }, 'vt100');
  assert.equal(env.TERM, 'vt100');
  assert.equal(env.TTYPROMPT, 'host login: ');
  assert.equal(loginEnv({ inherit: { TERM: 'dumb' } }, { device: 'ttyS0' }, '').TERM, undefined);
  assert.equal(loginEnv({ inherit: { TERM: 'dumb' } }, { device: 'ttyS0' }).TERM, undefined);
});

test('loginEnv: call variables of the daemon environment or of an earlier call never reach the child', () => {
  const base: Record<string, string> = {};
  for (const n of CALL_ENV_NAMES) base[n] = 'stale';
  assert.deepEqual(loginEnv({ inherit: base }, { device: 'ttyS0' }), { PATH: SAFE_PATH, CALLER_ID: 'none', CONNECT: '', DEVICE: 'ttyS0' });
  // Two calls in a row with the same input object: the second has no name, date or time (Q33).
  const input = { inherit: DAEMON_ENV, user: NOBODY };
  const first = loginEnv(input, { device: 'ttyS0', callerId: '111', callerName: 'FIRST', callDate: '0101', callTime: '0101', calledId: '9' });
  assert.equal(first.CALLER_NAME, 'FIRST');
  const second = loginEnv(input, { device: 'ttyS0', callerId: '222' });
  for (const k of ['CALLER_NAME', 'CALL_DATE', 'CALL_TIME', 'CALLED_ID', 'TTYPROMPT']) assert.equal(second[k], undefined, k);
  assert.equal(second.CALLER_ID, '222');
  const h1 = hookEnv(input, { CALLER_ID: '111', CALLER_NAME: 'FIRST', CONNECT: '', DEVICE: 'ttyS0' });
  assert.equal(h1.CALLER_NAME, 'FIRST');
  assert.equal(hookEnv(input, { CONNECT: '', DEVICE: 'ttyS0' }).CALLER_NAME, undefined);
});

test('hookEnv: the allow-list, the hook user and only call variables from the runner', () => {
  const env = hookEnv(
    { inherit: DAEMON_ENV, user: NOBODY },
    { CALLER_ID: '5551234', CONNECT: '', DEVICE: 'ttyS0', LD_PRELOAD: '/tmp/evil.so', PATH: '/tmp' },
  );
  assert.deepEqual(env, {
    PATH: SAFE_PATH, TZ: 'Europe/Berlin', LANG: 'de_DE.UTF-8',
    HOME: '/nonexistent', USER: 'nobody', LOGNAME: 'nobody', SHELL: '/usr/sbin/nologin',
    CALLER_ID: '5551234', CONNECT: '', DEVICE: 'ttyS0',
  });
});

test('loginEnv: NUL bytes from caller ID text are dropped (execve cannot pass them)', () => {
  const env = loginEnv({}, { device: 'ttyS0', callerName: 'A\0B', callerId: '12\u00003' });
  assert.equal(env.CALLER_NAME, 'AB');
  assert.equal(env.CALLER_ID, '123');
  assert.equal(hookEnv({}, { CALLER_NAME: 'A\0B' }).CALLER_NAME, 'AB');
});
