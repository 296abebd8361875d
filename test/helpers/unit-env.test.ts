import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { parseEnvAssignments, SHIPPED_UNIT, shippedUnitEnvironment, unitEnvironment } from './unit-env.js';

test('parseEnvAssignments: words, quotes, escapes and empty values as systemd reads them', () => {
  assert.deepEqual(parseEnvAssignments('A=1 B=2'), [['A', '1'], ['B', '2']]);
  assert.deepEqual(parseEnvAssignments('"NODE_OPTIONS=--a --b"  X='), [['NODE_OPTIONS', '--a --b'], ['X', '']]);
  assert.deepEqual(parseEnvAssignments("K='it''s'"), [['K', 'its']]);
  assert.deepEqual(parseEnvAssignments('K="a\\"b" L=c\\ d'), [['K', 'a"b'], ['L', 'c d']]);
  assert.deepEqual(parseEnvAssignments(''), []);
  assert.throws(() => parseEnvAssignments('"A=1'), /unterminated quote/);
  assert.throws(() => parseEnvAssignments('=1'), /not an assignment/);
  assert.throws(() => parseEnvAssignments('NOEQUALS'), /not an assignment/);
});

test('unitEnvironment: only [Service], in order, continuation lines joined, an empty line resets', () => {
  const unit = [
    '[Unit]',
    'Environment=IGNORED=1',
    '[Service]',
    '# a comment',
    'Environment=A=1 \\',
    '  B=2',
    'Environment=',
    'Environment="C=x y"',
    '; another comment',
    'Environment = D=4',
    '[Install]',
    'Environment=ALSO_IGNORED=1',
  ].join('\n');
  assert.deepEqual(unitEnvironment(unit), [['C', 'x y'], ['D', '4']]);
});

test('unitEnvironment: the shipped units give the daemon the V8 and glibc memory settings', () => {
  for (const unit of [SHIPPED_UNIT, resolve(dirname(SHIPPED_UNIT), 'tgetty@.service')]) {
    const name = basename(unit);
    const env = new Map(unitEnvironment(readFileSync(unit, 'utf8')));
    assert.equal(env.get('NODE_OPTIONS'), '--max-semi-space-size=1', name);
    assert.equal(env.get('MALLOC_ARENA_MAX'), '2', name);
  }
  assert.deepEqual(shippedUnitEnvironment(), unitEnvironment(readFileSync(SHIPPED_UNIT, 'utf8')));
});
