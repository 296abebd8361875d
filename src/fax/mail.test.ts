import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { composeMail, headerValue, sendMail, validAddress } from './mail.js';
import { noticeMessage } from './fax-call.js';

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-mail-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('a sender id cannot add a header or a recipient: header values are one printable line', () => {
  const evil = 'ACME\r\nBcc: victim@example.org\nX-Evil: 1';
  const m = composeMail({ to: 'root', subject: `fax from ${evil}`, body: `id ${evil}\x1b[2J\n`, headers: { 'X-Fax-Sender-Id': evil, 'Bad Header': 'x' } }, new Date(0));
  const [head, body] = m.split('\n\n');
  const names = head.split('\n').map((l) => l.slice(0, l.indexOf(':')));
  assert.deepEqual(names, ['To', 'Subject', 'Date', 'MIME-Version', 'Content-Type', 'Content-Transfer-Encoding', 'Auto-Submitted', 'X-Fax-Sender-Id']);
  assert.match(head, /^Subject: fax from ACME$/m);
  assert.equal(headerValue('a\tb\x00c'), 'a?b?c');
  assert.match(body, /^id ACME\n/);
  assert.ok(!body.includes('\x1b'), 'no escape sequences in the body');
});

test('addresses: a user or user@domain; never an option or two words', () => {
  for (const a of ['root', 'fax-admin', 'a.b+fax@example.org']) assert.ok(validAddress(a), a);
  for (const a of ['', '-oQ/tmp', 'a b', 'a,b', 'a@b c', 'x\ny', '`id`']) assert.ok(!validAddress(a), JSON.stringify(a));
});

test('sendMail runs PROGRAM -i -- ADDRESS without a shell, the message on stdin; no mailer and a failing mailer are reported', async (t) => {
  const dir = tempDir(t);
  const rec = join(dir, 'rec');
  const mailer = join(dir, 'sendmail');
  writeFileSync(mailer, `#!/bin/sh\n{ for a in "$@"; do printf '[%s]' "$a"; done; echo; cat; } > ${rec}\n`);
  chmodSync(mailer, 0o755);
  const notice = noticeMessage(
    'faxadmin@example.org',
    { pages: 2, senderId: '49 30 5550000', speed: 14400, resolution: 'fine', hangupCode: 0, files: ['/var/spool/fax/incoming/ff1.01', '/var/spool/fax/incoming/ff1.pdf'], end: 'complete' },
    'ttyS1',
    '5551234',
  );
  assert.deepEqual(await sendMail(notice, { program: mailer, env: { PATH: '/usr/bin:/bin' } }), { sent: true });
  const got = readFileSync(rec, 'utf8');
  assert.match(got, /^\[-i\]\[--\]\[faxadmin@example\.org\]\n/);
  assert.match(got, /\nSubject: fax from 49 30 5550000: 2 pages\n/);
  assert.match(got, /\nX-Fax-Pages: 2\n/);
  assert.match(got, /Pages: +2\nResolution: +fine, 14400 bit\/s\nEnd: +complete \(hang-up code 0\)/);
  assert.match(got, /\n {2}\/var\/spool\/fax\/incoming\/ff1\.pdf\n/);
  const broke = noticeMessage('root', { pages: 1, senderId: '', speed: null, resolution: null, hangupCode: 70, files: [], end: 'carrier-lost' }, 'ttyS1', '');
  assert.equal(broke.subject, 'fax from an unknown sender: 1 page, broke off (carrier-lost)');
  const none = await sendMail(notice, { program: join(dir, 'none'), env: {} });
  assert.deepEqual([none.sent, !none.sent && none.reason], [false, 'no-mailer']);
  const bad = await sendMail({ ...notice, to: '-oQ/tmp/x' }, { program: mailer, env: {} });
  assert.deepEqual([bad.sent, !bad.sent && bad.reason], [false, 'bad-address']);
  writeFileSync(mailer, '#!/bin/sh\necho "no route" >&2\nexit 75\n');
  const failed = await sendMail(notice, { program: mailer, env: {} });
  assert.ok(!failed.sent && failed.reason === 'failed' && /exited 75: no route/.test(failed.detail), JSON.stringify(failed));
});
