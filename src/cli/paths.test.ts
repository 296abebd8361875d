import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultPaths, pathsFrom, SYSTEM_PATHS } from './paths.js';

test('root uses the system paths', () => {
  assert.deepEqual(defaultPaths(0, {}), SYSTEM_PATHS);
});

test('a normal user gets run dir, logs and records under its XDG dirs (so status finds its own daemon)', () => {
  const p = defaultPaths(1000, { HOME: '/home/ann', XDG_RUNTIME_DIR: '/run/user/1000' });
  assert.equal(p.runDir, '/run/user/1000/tgetty');
  assert.equal(p.records, '/home/ann/.local/state/tgetty/calls.sqlite');
  assert.equal(p.logDir, '/home/ann/.local/state/tgetty/log');
  assert.equal(p.lockDir, '/var/lock', 'locks stay shared with dial-out programs');
  const q = defaultPaths(1000, { HOME: '/home/ann', XDG_STATE_HOME: '/s' });
  assert.equal(q.records, '/s/tgetty/calls.sqlite');
  assert.match(q.runDir, /tgetty-1000\/tgetty$/);
});

test('options override the defaults, empty strings do not', () => {
  const p = pathsFrom({ lockDir: '/tmp/l', runDir: '', configDir: '/etc/x' });
  assert.equal(p.lockDir, '/tmp/l');
  assert.equal(p.configDir, '/etc/x');
  assert.notEqual(p.runDir, '');
});
