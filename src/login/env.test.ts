import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CALL_ENV_NAMES, loginEnv } from './env.js';

test('loginEnv: call variables as mgetty sets them, base kept', () => {
  const env = loginEnv(
    { PATH: '/usr/bin:/bin', HOME: '/', TERM: 'linux', UNSET: undefined },
    { device: '/dev/ttyS1', connect: '33600/ARQ', callerId: '5551234', callerName: 'JOE  X', callDate: '1121', callTime: '1930' },
  );
  assert.deepEqual(env, {
    PATH: '/usr/bin:/bin', HOME: '/', TERM: 'linux',
    CALLER_ID: '5551234', CALLER_NAME: 'JOE  X', CALL_DATE: '1121', CALL_TIME: '1930', CONNECT: '33600/ARQ', DEVICE: 'ttyS1',
  });
});

test('loginEnv: unknown caller is none, empty values left out, CONNECT and DEVICE always', () => {
  const env = loginEnv({}, { device: 'pts/3', callerName: '', calledId: '' });
  assert.deepEqual(env, { CALLER_ID: 'none', CONNECT: '', DEVICE: 'pts/3' });
});

test('loginEnv: term overrides the base TERM; ttyprompt sets TTYPROMPT', () => {
  const env = loginEnv({ TERM: 'dumb' }, { device: 'ttyS0', ttyPrompt: 'host login: ' }, 'vt100');
  assert.equal(env.TERM, 'vt100');
  assert.equal(env.TTYPROMPT, 'host login: ');
  assert.equal(loginEnv({ TERM: 'dumb' }, { device: 'ttyS0' }, '').TERM, 'dumb');
});

test('loginEnv: stale call variables of the daemon environment never reach the child', () => {
  const base: Record<string, string> = {};
  for (const n of CALL_ENV_NAMES) base[n] = 'stale';
  const env = loginEnv(base, { device: 'ttyS0' });
  assert.deepEqual(env, { CALLER_ID: 'none', CONNECT: '', DEVICE: 'ttyS0' });
});

test('loginEnv: NUL bytes from caller ID text are dropped (execve cannot pass them)', () => {
  const env = loginEnv({}, { device: 'ttyS0', callerName: 'A\0B', callerId: '12\u00003' });
  assert.equal(env.CALLER_NAME, 'AB');
  assert.equal(env.CALLER_ID, '123');
});
