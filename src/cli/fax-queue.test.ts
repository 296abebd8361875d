// The fax queue through its commands, with a fake sender (a script that records its argv
// and environment, renames the files it "sent" to <file>.done as sendfax -r does, and
// exits with the code the test chose) and a fake mailer (records argv and stdin).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { faxListCommand, faxQueueCommand, faxRemoveCommand, faxRunCommand } from './fax-queue.js';
import type { FaxJob } from '../fax/queue.js';

const T0 = Date.UTC(2026, 10, 21, 18, 0, 0);

function rig(t: { after: (fn: () => void) => void }) {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxrun-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const q = join(dir, 'outgoing');
  const codes = join(dir, 'codes'); // one exit code a line, used in turn
  const calls = join(dir, 'calls');
  const sender = join(dir, 'sender');
  // Per call: argv (one word a line), then ENV and the environment's names. Renames the
  // files of the first N (the code file's second field) to .done.
  writeFileSync(
    sender,
    `#!/bin/sh
n=$(wc -l < ${calls} 2>/dev/null || echo 0)
line=$(sed -n "$((n + 1))p" ${codes})
code=\${line%% *}; done=\${line#* }; [ "$done" = "$line" ] && done=0
{ printf 'CALL'; for a in "$@"; do printf ' [%s]' "$a"; done; printf ' ENV'; env | cut -d= -f1 | sort | tr '\\n' ' '; echo; } >> ${calls}
i=0; for a in "$@"; do case "$a" in /*) if [ $i -lt "$done" ]; then mv "$a" "$a.done"; fi; i=$((i + 1));; esac; done
echo "sending to the modem"
exit $code
`,
  );
  chmodSync(sender, 0o755);
  const mailer = join(dir, 'sendmail');
  const mails = join(dir, 'mails');
  writeFileSync(mailer, `#!/bin/sh\n{ printf 'ARGV'; for a in "$@"; do printf ' [%s]' "$a"; done; echo; cat; echo '--END--'; } >> ${mails}\n`);
  chmodSync(mailer, 0o755);
  const page = join(dir, 'page.g3');
  writeFileSync(page, 'G3PAGE');
  let out = '';
  let err = '';
  const io = { out: (s: string) => (out += s), err: (s: string) => (err += s) };
  let now = T0;
  return {
    dir, q, page, io, codes, mailer,
    setCodes: (lines: string[]) => writeFileSync(codes, `${lines.join('\n')}\n`),
    calls: () => (existsSync(calls) ? readFileSync(calls, 'utf8').trim().split('\n') : []),
    mails: () => (existsSync(mails) ? readFileSync(mails, 'utf8') : ''),
    output: () => ({ out, err }),
    clear: () => { out = ''; err = ''; },
    at: (ms: number) => { now = ms; },
    run: (extra: Partial<Parameters<typeof faxRunCommand>[0]> = {}) =>
      faxRunCommand({ dir: q, sender: { program: sender, args: [] }, line: 'ttyS1', limits: { retryDelayMs: 60_000 }, mailProgram: mailer, now: () => now, ...io, ...extra }),
    list: (): FaxJob[] => {
      let s = '';
      assert.equal(faxListCommand({ dir: q, json: true, out: (x) => (s += x), err: io.err }), 0);
      return JSON.parse(s) as FaxJob[];
    },
  };
}

test('a job sent at the first try: the sender gets -r -l LINE PHONE and private copies, no shell, the allow-listed env; a mail says so', async (t) => {
  const r = rig(t);
  assert.equal(faxQueueCommand({ dir: r.q, phone: '+49 89 1234', files: [r.page, r.page], mail: 'alice@example.org', normal: true, now: T0, ...r.io }), 0, r.output().err);
  const id = r.output().out.trim();
  r.setCodes(['0 2']);
  assert.equal(await r.run(), 0, r.output().err);
  const [c] = r.calls();
  const words = [...c.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]);
  assert.deepEqual(words.slice(0, 5), ['-r', '-n', '-l', 'ttyS1', '+49 89 1234'], 'the phone number is one argv word');
  assert.equal(words.length, 7);
  for (const f of words.slice(5)) {
    assert.ok(!f.startsWith(r.q), `a private copy, not the job dir's file: ${f}`);
    assert.equal(existsSync(f), false, 'the copies are removed afterwards');
  }
  const env = c.slice(c.indexOf(' ENV') + 4).trim().split(' ');
  assert.ok(env.every((k) => ['PATH', 'TZ', 'LANG', 'PWD', 'SHLVL', '_'].includes(k)), `only the allow-listed environment: ${env.join(' ')}`);
  const [job] = r.list();
  assert.deepEqual([job.id, job.status, job.tries, job.sent.length], [id, 'done', 1, 2]);
  const mail = r.mails();
  assert.match(mail, /^ARGV \[-i\] \[--\] \[alice@example\.org\]\n/);
  assert.match(mail, /\nSubject: fax to \+49 89 1234 sent\n/);
  assert.match(mail, /exit 0: all pages sent/);
  r.clear();
  assert.equal(await r.run(), 0);
  assert.equal(r.calls().length, 1, 'a done job is not sent again');
});

test('retries: BUSY is free, a dropped connection costs and sends only the pages left; the delay is kept; max costly gives up and mails', async (t) => {
  const r = rig(t);
  assert.equal(faxQueueCommand({ dir: r.q, phone: '5551234', files: [r.page, r.page, r.page], mail: 'bob', normal: false, now: T0, ...r.io }), 0);
  r.setCodes(['4', '12 1', '10', '10']);
  await r.run();
  let [job] = r.list();
  assert.deepEqual([job.status, job.tries, job.costlyFailures, job.nextTry], ['queued', 1, 0, T0 + 60_000]);
  await r.run(); // not due yet
  assert.equal(r.calls().length, 1);
  r.at(T0 + 60_000);
  await r.run();
  [job] = r.list();
  assert.deepEqual([job.tries, job.costlyFailures, job.sent], [2, 1, ['01-page.g3']], 'page 1 went before the connection dropped');
  r.at(T0 + 120_000);
  await r.run({ limits: { retryDelayMs: 60_000, maxCostly: 2 } });
  const third = r.calls()[2];
  assert.equal([...third.matchAll(/\[(\/[^\]]*)\]/g)].length, 2, 'the retry sends only the two pages left');
  [job] = r.list();
  assert.deepEqual([job.status, job.costlyFailures], ['failed', 2]);
  assert.match(r.mails(), /Subject: fax to 5551234 NOT sent: given up/);
  assert.match(r.mails(), /exit 4: BUSY/);
  r.at(T0 + 1e9);
  await r.run();
  assert.equal(r.calls().length, 3, 'a failed job is not tried again');
  // remove: gone from the list.
  assert.equal(faxRemoveCommand({ dir: r.q, id: job.id, ...r.io }), 0);
  assert.deepEqual(r.list(), []);
});

test('exit 1 (command line error) gives up at once; no mailer installed: said plainly, the queue still runs', async (t) => {
  const r = rig(t);
  faxQueueCommand({ dir: r.q, phone: '5551234', files: [r.page], mail: 'carol', normal: false, now: T0, ...r.io });
  r.setCodes(['1']);
  r.clear();
  assert.equal(await r.run({ mailProgram: join(r.dir, 'no-such-sendmail') }), 0);
  const [job] = r.list();
  assert.deepEqual([job.status, job.tries], ['failed', 1]);
  assert.match(r.output().err, /no mail to carol: .*no-such-sendmail is not there/);
});

test('queue: a bad phone number or a missing file is a usage error (exit 2); --at delays the first try', async (t) => {
  const r = rig(t);
  assert.equal(faxQueueCommand({ dir: r.q, phone: '555;reboot', files: [r.page], mail: null, normal: false, ...r.io }), 2);
  assert.equal(faxQueueCommand({ dir: r.q, phone: '555', files: [join(r.dir, 'nope')], mail: null, normal: false, ...r.io }), 2);
  assert.equal(faxQueueCommand({ dir: r.q, phone: '555', files: [r.page], mail: null, normal: false, at: '2h', now: T0, ...r.io }), 0);
  const [job] = r.list();
  assert.equal(job.nextTry, T0 + 7_200_000);
  r.setCodes(['0']);
  await r.run();
  assert.equal(r.calls().length, 0, 'not before --at');
  r.at(T0 + 7_200_000);
  await r.run();
  assert.equal(r.calls().length, 1);
  assert.equal(r.mails(), '', '--no-mail (null): no mail');
});

test('run refuses a queue dir anybody may write without the sticky bit (others could swap the jobs)', async (t) => {
  const r = rig(t);
  faxQueueCommand({ dir: r.q, phone: '5551234', files: [r.page], mail: null, normal: false, now: T0, ...r.io });
  chmodSync(r.q, 0o777);
  r.setCodes(['0']);
  r.clear();
  assert.equal(await r.run(), 1);
  assert.match(r.output().err, /writable by everyone without the sticky bit/);
  assert.equal(r.calls().length, 0);
  chmodSync(r.q, 0o1777);
  assert.equal(await r.run(), 0);
  assert.equal(r.calls().length, 1);
});

test("run does nothing while faxrunq's stop file is in the queue dir", async (t) => {
  const r = rig(t);
  faxQueueCommand({ dir: r.q, phone: '5551234', files: [r.page], mail: null, normal: false, now: T0, ...r.io });
  r.setCodes(['0']);
  writeFileSync(join(r.q, 'stop'), '');
  assert.equal(await r.run(), 0);
  assert.equal(r.calls().length, 0);
  rmSync(join(r.q, 'stop'));
  assert.equal(await r.run(), 0);
  assert.equal(r.calls().length, 1);
});
