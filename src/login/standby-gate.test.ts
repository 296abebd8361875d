import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeStandby } from './standby-gate.js';

test('encodeStandby: one line a word (a = argument, e = export), then the go; the words as they are', () => {
  assert.equal(
    encodeStandby(['/bin/login', '--', 'joe $(id) `x` *', '', '-f'], { CALLER_ID: 'none', CONNECT: '33600/ARQ', TZ: 'a b' }),
    'a/bin/login\na--\najoe $(id) `x` *\na\na-f\neCALLER_ID=none\neCONNECT=33600/ARQ\neTZ=a b\ng\n',
  );
});

test('encodeStandby: a word with a newline or NUL, or a name export would refuse, cannot be carried', () => {
  assert.equal(encodeStandby(['/bin/login', 'a\nb'], {}), undefined);
  assert.equal(encodeStandby(['/bin/login', 'a\0b'], {}), undefined);
  assert.equal(encodeStandby(['/bin/login'], { CALLER_NAME: 'x\ny' }), undefined);
  assert.equal(encodeStandby(['/bin/login'], { 'BAD-NAME': 'x' }), undefined);
  assert.equal(encodeStandby(['/bin/login'], { '1X': 'x' }), undefined);
});
