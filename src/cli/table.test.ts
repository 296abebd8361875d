import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, formatTable } from './table.js';

const S = 1000;

test('formatDuration: whole seconds, the two largest units, the same for status and calls', () => {
  const cases: [number, string][] = [
    [0, '0s'], [999, '0s'], [-5 * S, '0s'], [45 * S, '45s'], [60 * S, '1m'], [192 * S, '3m 12s'], [3599 * S, '59m 59s'],
    [3600 * S, '1h'], [(2 * 3600 + 3 * 60 + 59) * S, '2h 3m'], [(3 * 86400 + 4 * 3600) * S, '3d 4h'], [90061 * S, '1d 1h'],
  ];
  for (const [ms, want] of cases) assert.equal(formatDuration(ms), want, String(ms));
});

test('formatTable: columns two spaces apart, aligned by display width, no trailing blanks', () => {
  const text = formatTable(['LINE', 'CALLER', 'LAST'], [
    ['ttyS0', 'Müller', '-'],
    ['ttyS10', '日本', 'x'],
    ['ttyS2', '-', ''],
  ]);
  assert.equal(text, ['LINE    CALLER  LAST', 'ttyS0   Müller  -', 'ttyS10  日本    x', 'ttyS2   -', ''].join('\n'));
});
