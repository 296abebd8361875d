import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, cpSync, chmodSync, mkdirSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dialinConfigPermissionProblem, findConfigDir, loadConfigFiles, loadDialinConfig, loadLoginConfig, resolveLoginConfFile } from './load.js';
import { formatDiagnostic } from './diagnostics.js';
import { resolvePort, intOf, stringOf, boolOf, chatOf } from './effective.js';
import { matchLogin, expandArgs, utmpName } from './login-config.js';
import { evaluateDialin } from './dialin-config.js';

// dist/src/config -> repository root
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/config/', import.meta.url));

function tempDir(t: { after: (fn: () => void) => void }): string {
  const d = mkdtempSync(join(tmpdir(), 'tgetty-config-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** Copy a corpus directory and give login.config the mode mgetty demands (git cannot store it). */
function corpusCopy(t: { after: (fn: () => void) => void }, name: string): string {
  const d = join(tempDir(t), name);
  cpSync(join(FIXTURES, name), d, { recursive: true });
  if (existsSync(join(d, 'login.config'))) chmodSync(join(d, 'login.config'), 0o600);
  return d;
}

test('findConfigDir: explicit, then /etc/mgetty, then /etc/mgetty+sendfax, else /etc/mgetty', () => {
  assert.equal(findConfigDir('/x/y', () => true), '/x/y');
  assert.equal(findConfigDir(undefined, (p) => p === '/etc/mgetty'), '/etc/mgetty');
  assert.equal(findConfigDir(undefined, (p) => p === '/etc/mgetty+sendfax'), '/etc/mgetty+sendfax');
  assert.equal(findConfigDir(undefined, () => false), '/etc/mgetty');
  assert.equal(findConfigDir('', (p) => p === '/etc/mgetty+sendfax'), '/etc/mgetty+sendfax');
});

test('login-conf-file: relative names live in the config directory', () => {
  assert.equal(resolveLoginConfFile('/c', undefined), '/c/login.config');
  assert.equal(resolveLoginConfFile('/c', 'other.config'), '/c/other.config');
  assert.equal(resolveLoginConfFile('/c', '/abs/l.config'), '/abs/l.config');
});

test('every corpus directory loads with zero errors', (t) => {
  const dirs = readdirSync(FIXTURES, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  assert.ok(dirs.length >= 4, dirs.join(','));
  for (const name of dirs) {
    const loaded = loadConfigFiles(corpusCopy(t, name));
    const errors = loaded.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
    assert.deepEqual(errors, [], name);
    if (loaded.mgetty.parsed !== undefined) {
      for (const dev of ['ttyS0', 'ttyS1', 'ttyS3', 'ttyUSB0']) {
        assert.deepEqual(resolvePort(loaded.mgetty.parsed, dev).diagnostics.filter((d) => d.severity === 'error'), [], `${name} ${dev}`);
      }
    }
  }
});

test('the 2001 guide config: effective values for ttyS3 and the login lines', (t) => {
  const loaded = loadConfigFiles(corpusCopy(t, 'seed-2001'));
  const eff = resolvePort(loaded.mgetty.parsed, 'ttyS3');
  assert.equal(intOf(eff, 'debug'), 4);
  assert.equal(intOf(eff, 'speed'), 115200);
  assert.equal(stringOf(eff, 'port-owner'), 'root');
  assert.equal(stringOf(eff, 'port-group'), 'staff');
  assert.equal(intOf(eff, 'port-mode'), 0o666);
  assert.equal(boolOf(eff, 'data-only'), true);
  assert.deepEqual(chatOf(eff, 'init-chat'), ['', 'AT&F1', 'OK', 'ATS0=0', 'OK', 'AT#CID=1', 'OK']);
  const other = resolvePort(loaded.mgetty.parsed, 'ttyS4');
  assert.equal(boolOf(other, 'data-only'), false);

  assert.equal(loaded.login.usable, true);
  const entries = loaded.login.parsed!.entries;
  const ppp = matchLogin(entries, '/AutoPPP/');
  assert.deepEqual(expandArgs(ppp, { name: '/AutoPPP/' }), ['pppd', 'debug', 'require-chap']);
  assert.equal(utmpName(ppp, '/AutoPPP/'), 'a_ppp');
  assert.deepEqual(expandArgs(matchLogin(entries, 'joe'), { name: 'joe' }), ['login', 'joe']);

  const strict = loadConfigFiles(corpusCopy(t, 'seed-2001-nologin'));
  const e = matchLogin(strict.login.parsed!.entries, 'joe');
  assert.deepEqual([e.user, utmpName(e, 'joe'), expandArgs(e, { name: 'joe' })], ['nobody', 'joe', ['false']]);
  assert.equal(strict.mgetty.parsed, undefined);
});

test("Debian's templates: values and the active AutoPPP line", (t) => {
  const loaded = loadConfigFiles(corpusCopy(t, 'debian'));
  const eff = resolvePort(loaded.mgetty.parsed, 'ttyS0');
  assert.equal(intOf(eff, 'speed'), 38400);
  assert.equal(stringOf(eff, 'fax-id'), '');
  assert.equal(stringOf(eff, 'issue-file'), '/etc/issue.mgetty');
  assert.deepEqual(expandArgs(matchLogin(loaded.login.parsed!.entries, '/AutoPPP/'), { name: '/AutoPPP/' }), [
    'pppd', 'auth', '-chap', '+pap', 'login', 'debug',
  ]);
  assert.deepEqual(loaded.dialin.parsed!.tokens, []);
  assert.equal(evaluateDialin(loaded.dialin.parsed!.tokens, '5551234').accept, true);
});

test('missing files: mgetty.config is a warning, login/dialin are silent defaults', (t) => {
  const d = tempDir(t);
  const loaded = loadConfigFiles(d);
  assert.deepEqual(loaded.diagnostics.map(formatDiagnostic), [`${d}/mgetty.config: warning: no config file found; built-in defaults are used`]);
  assert.equal(loaded.mgetty.parsed, undefined);
  assert.equal(loaded.login.usable, false);
  assert.equal(loaded.dialin.parsed, undefined);
});

test('unreadable files give a file-located error and defaults', (t) => {
  const d = tempDir(t);
  // A directory where a file is expected fails with EISDIR even for root.
  mkdirSync(join(d, 'mgetty.config'));
  mkdirSync(join(d, 'dialin.config'));
  const loaded = loadConfigFiles(d);
  assert.deepEqual(loaded.diagnostics.map((x) => [x.code, formatDiagnostic(x)]), [
    ['CONFIG_UNREADABLE', `${d}/mgetty.config: error: cannot read the file (EISDIR); built-in defaults are used instead`],
    ['CONFIG_UNREADABLE', `${d}/dialin.config: error: cannot read the file (EISDIR); built-in defaults are used instead`],
  ]);
  assert.equal(loaded.mgetty.parsed, undefined);
});

test('login.config with wrong permissions is ignored with an insecure error', (t) => {
  const d = tempDir(t);
  const f = join(d, 'login.config');
  writeFileSync(f, '* - - /bin/sh\n', { mode: 0o644 });
  chmodSync(f, 0o644);
  const l = loadLoginConfig(f);
  assert.equal(l.usable, false);
  assert.deepEqual(l.stat?.mode !== undefined ? l.stat.mode & 0o777 : undefined, 0o644);
  assert.deepEqual(l.diagnostics.map((x) => [x.code, formatDiagnostic(x)]), [
    [
      'CONFIG_INSECURE',
      `${f}: error: ignored because its mode 0644 gives group or others access; it must be owned by root and have mode 0600; the built-in default '* - - /bin/login @' is used instead`,
    ],
  ]);
  chmodSync(f, 0o600);
  assert.equal(loadLoginConfig(f).usable, process.getuid?.() === 0);
});

test('dialin.config writable by group or others, or owned by someone else: CONFIG_INSECURE and every call refused (fail closed)', (t) => {
  const d = tempDir(t);
  const f = join(d, 'dialin.config');
  writeFileSync(f, '5551234\n');
  chmodSync(f, 0o644); // readable by all is fine (Debian ships it so)
  const runAs = process.getuid?.() ?? 0;
  const ok = loadDialinConfig(f, runAs);
  assert.equal(ok.secure, true);
  assert.deepEqual(ok.diagnostics, []);
  assert.equal(evaluateDialin(ok.parsed!.tokens, '5551234').accept, true);

  chmodSync(f, 0o666);
  const bad = loadDialinConfig(f, runAs);
  assert.equal(bad.secure, false);
  assert.deepEqual(bad.diagnostics.map((x) => [x.code, formatDiagnostic(x)]), [
    [
      'CONFIG_INSECURE',
      `${f}: error: not trusted because its mode 0666 lets group or others write it; it must be owned by ${runAs === 0 ? 'root' : `root or uid ${runAs}`} and not writable by group or others; every call is refused until this is fixed`,
    ],
  ]);
  for (const cid of ['5551234', '', '0800']) {
    const v = evaluateDialin(bad.parsed!.tokens, cid);
    assert.equal(v.accept, false, cid);
    assert.match(v.reason, /dialin\.config \(insecure\):0: '!all' matches caller/);
  }
  chmodSync(f, 0o620);
  assert.equal(loadDialinConfig(f, runAs).secure, false, 'group-writable');
  chmodSync(f, 0o600);
  assert.equal(loadDialinConfig(f, runAs).secure, true);
  // The diagnostic also shows in loadConfigFiles (and so in `tgetty config check`).
  chmodSync(f, 0o646);
  assert.ok(loadConfigFiles(d).diagnostics.some((x) => x.code === 'CONFIG_INSECURE' && x.file === f));
});

test('dialinConfigPermissionProblem: owner root or the uid tgetty runs as; no group/other write bit', () => {
  assert.equal(dialinConfigPermissionProblem({ uid: 0, mode: 0o100644 }), undefined);
  assert.equal(dialinConfigPermissionProblem({ uid: 0, mode: 0o100600 }), undefined);
  assert.equal(dialinConfigPermissionProblem({ uid: 1000, mode: 0o100644 }, 1000), undefined);
  assert.match(dialinConfigPermissionProblem({ uid: 1000, mode: 0o100644 }) ?? '', /owned by uid 1000; it must be owned by root/);
  assert.match(dialinConfigPermissionProblem({ uid: 0, mode: 0o100664 }) ?? '', /mode 0664 lets group or others write it/);
  assert.match(dialinConfigPermissionProblem({ uid: 5, mode: 0o100642 }, 1000) ?? '', /^not trusted because it is owned by uid 5 and its mode 0642 lets group or others write it; .* root or uid 1000/);
});

test('config bytes are read as latin1 (one char per byte)', (t) => {
  const d = tempDir(t);
  writeFileSync(join(d, 'mgetty.config'), Buffer.from([...Buffer.from('login-prompt caf'), 0xe9, 0x0a]));
  const eff = resolvePort(loadConfigFiles(d).mgetty.parsed, 'ttyS0');
  assert.equal(stringOf(eff, 'login-prompt'), 'caf\xe9');
});
