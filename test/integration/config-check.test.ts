// `tgetty config check` as an admin runs it: the real binary on Debian's stock templates
// (package mgetty) and on a config with a broken chat. Exit codes as linters have them.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');
/** Where Debian's mgetty package keeps the files its postinst copies to /etc/mgetty (`dpkg -L mgetty`). */
const TEMPLATES = '/usr/share/mgetty/templates/etc';
const noTemplates = existsSync(join(TEMPLATES, 'mgetty.config')) ? false : `${TEMPLATES} is missing (apt-get install mgetty)`;

function run(args: string[]): { code: number | null; out: string } {
  const r = spawnSync(process.execPath, [BIN, 'config', 'check', ...args], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

function tempDir(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tgetty-cfgcheck-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test("Debian's stock templates, installed as the package installs them, pass with rc 0, no fax-id warning (fax-id is used now); --strict fails exactly when a warning is left", { skip: noTemplates }, (t) => {
  const etc = tempDir(t);
  // What mgetty's postinst does: copy the three files, then chmod 0600 login.config.
  for (const f of ['mgetty.config', 'login.config', 'dialin.config']) copyFileSync(join(TEMPLATES, f), join(etc, f));
  chmodSync(join(etc, 'login.config'), 0o600);
  const r = run(['--config-dir', etc]);
  assert.equal(r.code, 0, r.out);
  assert.doesNotMatch(r.out, /warning: 'fax-id'/, 'fax-id is used for fax reception now (docs/fax.md)');
  assert.doesNotMatch(r.out, /: error: /);
  const m = /config check: OK \(0 errors, (\d+) warnings?/.exec(r.out);
  assert.ok(m !== null, r.out);
  // What is left is the machine's (e.g. /usr/sbin/pppd not installed): --strict counts it.
  assert.equal(run(['--config-dir', etc, '--strict']).code, Number(m[1]) > 0 ? 1 : 0);
  const j = JSON.parse(run(['--config-dir', etc, '--json']).out) as { ok: boolean; errors: number };
  assert.deepEqual([j.ok, j.errors], [true, 0]);
});

test("the templates dir itself: login.config is 0644 there, so it is ignored (as mgetty does) and that is an error", { skip: noTemplates }, () => {
  const r = run(['--config-dir', TEMPLATES]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /login\.config: error: ignored because its mode 0644 gives group or others access; it must be owned by root and have mode 0600/);
});

test('an init-chat without the leading "" and an unterminated quote: rc 1, file:line, what the chat will do', (t) => {
  const etc = tempDir(t);
  writeFileSync(join(etc, 'mgetty.config'), 'init-chat AT&F1 OK ATS0=0 OK AT#CID=1 OK\npost-init-chat "" ATS0=0 OK "AT#CID=1 OK\n');
  const r = run(['--config-dir', etc]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, new RegExp(`${etc}/mgetty\\.config:1: error: init-chat waits for 'AT&F1' from the modem before sending anything.*did you mean \`"" AT&F1 OK ATS0=0 OK AT#CID=1 OK\`\\?`));
  assert.match(r.out, new RegExp(`${etc}/mgetty\\.config:2: error: post-init-chat: unterminated quote`));
});

test('--config-dir that does not exist and --port with no section: diagnostics, rc 1 for the missing dir', (t) => {
  const etc = tempDir(t);
  const gone = join(etc, 'nope');
  const r = run(['--config-dir', gone]);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, new RegExp(`${gone}: error: the config directory does not exist`));
  writeFileSync(join(etc, 'mgetty.config'), 'port ttyS0\n  rings 2\n');
  const p = run(['--config-dir', etc, '--port', 'ttyQQ9']);
  assert.equal(p.code, 0, p.out);
  assert.match(p.out, /warning: no port section matches ttyQQ9: only the global section applies \(sections: ttyS0\)/);
  assert.match(p.out, /\/dev\/ttyQQ9: warning: no such device/);
});
