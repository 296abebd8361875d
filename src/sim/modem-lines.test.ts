import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TIOCM_CAR, TIOCM_CTS, TIOCM_DSR } from '../line/libc.js';
import { DtrInput } from './modem-lines.js';

test('DtrInput: the computer DTR is our DSR or DCD; the first reading is a level, later falls and rises are edges', () => {
  const seen: string[] = [];
  const d = new DtrInput(() => seen.push('drop'), () => seen.push('raise'));
  d.update(TIOCM_DSR | TIOCM_CAR);
  assert.equal(d.on, true);
  assert.deepEqual(seen, [], 'the first reading sets the level only');
  d.update(TIOCM_CAR); // a cable that wires DTR to DCD only still counts as on
  d.update(TIOCM_CTS); // CTS alone is not DTR: it fell
  assert.deepEqual(seen, ['drop']);
  d.update(0);
  assert.deepEqual(seen, ['drop'], 'no edge while it stays off');
  d.update(TIOCM_DSR);
  assert.deepEqual(seen, ['drop', 'raise']);
});
