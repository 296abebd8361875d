import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { currentDialinConfig } from './single-line.js';

test('currentDialinConfig: reused while unchanged, re-read after an edit, a chmod or removal', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-dialin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'dialin.config');
  assert.equal(currentDialinConfig(path).parsed, undefined);

  writeFileSync(path, '!5551234\n');
  chmodSync(path, 0o600);
  const a = currentDialinConfig(path);
  assert.equal(a.secure, true);
  assert.equal(a.parsed?.tokens[0]?.token, '5551234');
  assert.equal(currentDialinConfig(path), a, 'same file: the parsed result is reused');

  writeFileSync(path, '!5559999\n');
  const b = currentDialinConfig(path);
  assert.notEqual(b, a);
  assert.equal(b.parsed?.tokens[0]?.token, '5559999');

  // A world-writable file is no longer trusted: the chmod alone must be noticed.
  chmodSync(path, 0o666);
  const c = currentDialinConfig(path);
  assert.equal(c.secure, false);

  rmSync(path);
  assert.equal(currentDialinConfig(path).parsed, undefined);
});
