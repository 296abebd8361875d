import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configRecordsSetting } from './records-setting.js';

function dir(t: { after: (fn: () => void) => void }, config?: string, mode = 0o644): string {
  const d = mkdtempSync(join(tmpdir(), 'tgetty-rs-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  if (config !== undefined) {
    writeFileSync(join(d, 'mgetty.config'), config);
    chmodSync(join(d, 'mgetty.config'), mode);
  }
  return d;
}

test('configRecordsSetting: records-url of the global section, named by file and line', (t) => {
  const d = dir(t, 'speed 38400\nrecords-url postgresql://tgetty@db/modems\nport ttyS0\n');
  assert.deepEqual(configRecordsSetting(d), { records: 'postgresql://tgetty@db/modems', recordsFrom: `records-url (${join(d, 'mgetty.config')}:2)` });
  assert.equal(configRecordsSetting(dir(t, 'speed 38400\n')), undefined, 'not set');
  assert.equal(configRecordsSetting(dir(t)), undefined, 'no config file');
});

test('configRecordsSetting: a password in a file every user can read is warned about; 0640 is fine', (t) => {
  const open = configRecordsSetting(dir(t, 'records-url postgresql://tgetty:s3cret@db/modems\n', 0o644));
  assert.match(open?.warning ?? '', /the password in records-url is readable by every local user \(.*mgetty\.config has mode 0644\); chmod 0640/);
  assert.ok(!(open?.warning ?? '').includes('s3cret'));
  assert.equal(configRecordsSetting(dir(t, 'records-url postgresql://tgetty:s3cret@db/modems\n', 0o640))?.warning, undefined);
  assert.equal(configRecordsSetting(dir(t, 'records-url postgresql://tgetty@db/modems\n', 0o644))?.warning, undefined, 'no password, nothing to hide');
});
