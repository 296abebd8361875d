/**
 * System test: the systemd units in contrib/systemd pass `systemd-analyze verify` of the
 * installed systemd, are written as systemd's own serial-getty@.service is (rescue,
 * isolate, restart), and agree with tgetty about the utmp id. Booting the unit needs
 * systemd as PID 1 (not the case in CI's container), so that is not tested here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { utmpId } from '../../src/login/utmp.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const UNITS = ['tgetty.service', 'tgetty@.service'];
const unit = (name: string): string => readFileSync(`${root}contrib/systemd/${name}`, 'utf8');
const has = (prog: string): boolean => spawnSync('sh', ['-c', `command -v ${prog}`]).status === 0;
const SERIAL_GETTY = ['/lib/systemd/system/serial-getty@.service', '/usr/lib/systemd/system/serial-getty@.service'].find((p) => existsSync(p));

/** Every `Key=value` of one section, in order (comments and blank lines dropped). */
function section(text: string, name: string): [string, string][] {
  const out: [string, string][] = [];
  let cur = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const h = /^\[(.+)\]$/.exec(line);
    if (h !== null) cur = h[1] ?? '';
    else if (cur === name) {
      const i = line.indexOf('=');
      out.push([line.slice(0, i), line.slice(i + 1)]);
    }
  }
  return out;
}
const values = (text: string, sec: string, key: string): string[] => section(text, sec).filter(([k]) => k === key).map(([, v]) => v);

test('systemd-analyze verify accepts both units, Documentation= man pages included', { skip: has('systemd-analyze') ? false : 'systemd-analyze is not installed (apt-get install systemd)' }, (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-units-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // The man pages where `man` finds them, as the package installs them.
  for (const [page, sec] of [['tgetty.8', '8'], ['tgetty.config.5', '5'], ['tgetty-sim.1', '1']] as const) {
    mkdirSync(join(dir, 'man', `man${sec}`), { recursive: true });
    copyFileSync(`${root}man/${page}`, join(dir, 'man', `man${sec}`, page));
  }
  // verify checks that ExecStart= names an executable: the one this checkout has.
  const files: string[] = [];
  for (const u of UNITS) {
    const text = unit(u).replaceAll('/usr/local/bin/tgetty', `${root}bin/tgetty.mjs`);
    const name = u === 'tgetty@.service' ? 'tgetty@ttyS3.service' : u;
    writeFileSync(join(dir, name), text);
    files.push(join(dir, name));
  }
  const r = spawnSync('systemd-analyze', ['verify', ...files], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 60_000,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', MANPATH: `${join(dir, 'man')}:`, SYSTEMD_LOG_LEVEL: 'notice' },
  });
  assert.equal(r.stderr, '');
  assert.equal(r.status, 0);
});

test('both units are written as serial-getty@.service: docs, rescue, isolate, restart', () => {
  for (const u of UNITS) {
    const text = unit(u);
    assert.ok(values(text, 'Unit', 'Documentation').join(' ').includes('man:tgetty(8)'), `${u}: Documentation=`);
    assert.deepEqual(values(text, 'Unit', 'IgnoreOnIsolate'), ['yes'], `${u}: IgnoreOnIsolate=`);
    assert.ok(values(text, 'Unit', 'Conflicts').join(' ').split(' ').includes('rescue.service'), `${u}: Conflicts=rescue.service`);
    assert.ok(values(text, 'Unit', 'Before').join(' ').split(' ').includes('rescue.service'), `${u}: Before=rescue.service`);
    assert.ok(values(text, 'Unit', 'Before').join(' ').split(' ').includes('getty.target'), `${u}: Before=getty.target`);
    assert.deepEqual(values(text, 'Service', 'Restart'), ['always'], `${u}: Restart=always (issue 15.9)`);
  }
});

test("tgetty@.service has serial-getty@'s ordering and isolate/rescue settings", { skip: SERIAL_GETTY === undefined ? 'systemd is not installed: no serial-getty@.service to compare with' : false }, () => {
  const theirs = readFileSync(SERIAL_GETTY ?? '', 'utf8');
  const ours = unit('tgetty@.service');
  for (const key of ['After', 'Before', 'Conflicts', 'BindsTo', 'IgnoreOnIsolate']) {
    const want = values(theirs, 'Unit', key).join(' ').split(' ').filter((x) => x !== '');
    const got = values(ours, 'Unit', key).join(' ').split(' ');
    for (const w of want) assert.ok(got.includes(w), `${key}=${w}`);
  }
  assert.deepEqual(values(ours, 'Install', 'WantedBy'), values(theirs, 'Install', 'WantedBy'));
});

test("the utmp id systemd would write (UtmpIdentifier=) is the one tgetty writes", () => {
  // systemd keeps the last 4 characters of UtmpIdentifier= (src/shared/utmp-wtmp.c, sanitize_id);
  // tgetty picks its own (src/login/utmp.ts). Two ids for one line mean two records.
  const systemdId = (s: string): string => (s.length > 4 ? s.slice(-4) : s);
  for (const u of UNITS) {
    const ids = values(unit(u), 'Service', 'UtmpIdentifier');
    for (const instance of ['ttyS3', 'ttyUSB0', 'ttyACM0']) {
      for (const id of ids) {
        const resolved = id.replaceAll('%I', instance).replaceAll('%i', instance);
        assert.equal(systemdId(resolved), utmpId(`/dev/${instance}`), `${u}: UtmpIdentifier=${id} for ${instance}`);
      }
    }
  }
});

test('the daemon unit reads the metrics port from its environment', () => {
  const text = unit('tgetty.service');
  assert.deepEqual(values(text, 'Service', 'EnvironmentFile'), ['-/etc/default/tgetty']);
  assert.match(text, /TGETTY_METRICS_PORT=/);
  assert.doesNotMatch(values(text, 'Service', 'ExecStart').join(' '), /--metrics-port/);
});

test('the sandboxing left out is what breaks login or pppd, and docs/operations.md says why', () => {
  const ops = readFileSync(`${root}docs/operations.md`, 'utf8');
  const leftOut = ['ProtectHome', 'PrivateTmp', 'ProtectSystem', 'NoNewPrivileges', 'PrivateDevices', 'ProtectKernelTunables', 'ProtectKernelModules', 'ProtectKernelLogs', 'ProtectClock', 'ProtectHostname', 'PrivateNetwork', 'RestrictAddressFamilies', 'RestrictNamespaces', 'RestrictSUIDSGID', 'MemoryDenyWriteExecute', 'SystemCallFilter', 'ProtectProc'];
  for (const u of UNITS) {
    const keys = section(unit(u), 'Service').map(([k]) => k);
    for (const k of leftOut) assert.ok(!keys.includes(k), `${u} must not set ${k}=`);
    for (const k of ['ProtectControlGroups', 'LockPersonality', 'RestrictRealtime']) assert.ok(keys.includes(k), `${u}: ${k}=`);
  }
  for (const k of leftOut) assert.match(ops, new RegExp(`\`${k}=[^\`]*\`[^\\n]*`), `docs/operations.md explains ${k}=`);
});

