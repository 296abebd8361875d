import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogLevel, clampLevel, levelName, parseLogLevel } from './levels.js';

test('levels have mgetty numbers and names', () => {
  assert.deepEqual(
    [LogLevel.FATAL, LogLevel.ERROR, LogLevel.AUDIT, LogLevel.WARN, LogLevel.MESG, LogLevel.NOISE, LogLevel.JUNK],
    [0, 1, 2, 3, 4, 5, 6],
  );
  assert.equal(levelName(LogLevel.AUDIT), 'audit');
  assert.equal(levelName(LogLevel.JUNK), 'junk');
});

test('parseLogLevel reads like atoi and clamps to 0..9', () => {
  const cases: [string, number][] = [
    ['4', 4], ['0', 0], ['9', 9], ['12', 9], ['-3', 0], ['+5', 5], ['  6', 6], ['7x', 7],
    ['x', 0], ['', 0], ['debug', 0], ['3.9', 3],
  ];
  for (const [input, want] of cases) assert.equal(parseLogLevel(input), want, JSON.stringify(input));
});

test('clampLevel keeps configured levels in 0..9', () => {
  assert.equal(clampLevel(-1), 0);
  assert.equal(clampLevel(42), 9);
  assert.equal(clampLevel(5.7), 5);
  assert.equal(clampLevel(Number.NaN), 0);
  assert.equal(clampLevel(Number.POSITIVE_INFINITY), 9);
});
