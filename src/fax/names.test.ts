import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faxStem, pageFileName, senderIdForName } from './names.js';

const T = Date.UTC(2026, 11, 2, 15, 40, 0);

test('names: f<res><seq><line>-<id>.<page> as mgetty names received faxes', () => {
  const stem = faxStem({ fine: true, time: T, device: '/dev/ttyS1', senderId: ' 49 30 5551234 ' });
  assert.match(stem, /^ff[0-9a-f]{7}S1-49-30-5551234$/);
  assert.equal(stem.slice(2, 9), (Math.floor(T / 1000) % 0x10000000).toString(16).padStart(7, '0'));
  assert.equal(pageFileName(stem, 3), `${stem}.03`);
  assert.match(faxStem({ fine: false, time: T, device: 'ttyACM0', senderId: '' }), /^fn[0-9a-f]{7}M0$/);
  assert.notEqual(faxStem({ fine: false, time: T, device: 'ttyS0', senderId: '' }, 1), faxStem({ fine: false, time: T, device: 'ttyS0', senderId: '' }));
});

test('names: a hostile sender id never gives a path, a dot file or a control character', () => {
  for (const id of ['../../etc/passwd', '/root/.ssh', '\x1b[2J\x07', '.hidden', 'a\0b', 'x'.repeat(200)]) {
    const s = senderIdForName(id);
    assert.doesNotMatch(s, /[/.\x00-\x1f]/);
    assert.ok(s.length <= 40);
    assert.doesNotMatch(faxStem({ fine: true, time: T, device: 'ttyS1', senderId: id }), /[/\x00-\x1f]|\.\./);
  }
  assert.equal(senderIdForName('+49 (30) 123'), '+49-30-123');
});
