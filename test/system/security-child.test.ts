/**
 * Security review, "what a child inherits" (issue 15 items 3, 5, 6, 8): the real tgetty
 * binary on a simulator line, started the way a careless admin would (NODE_OPTIONS,
 * LD_LIBRARY_PATH, a secret in the environment, HOME=/root, an extra open fd 251).
 * - The login.config program and the cid-/cnd-program see none of it: an allow-listed
 *   environment, HOME/USER of the user they run as, and only fds 0-2 (the gate pipe, fd 3,
 *   is closed before the program runs).
 * - An EMSI caller's control and 8-bit bytes are filtered before argv and the call record;
 *   without a /FIDO/ line an EMSI packet is an ordinary (filtered) name.
 * - A login name with quotes comes out as one escaped audit field.
 * See docs/security.md.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBank, type SimBank } from '../../src/sim/index.js';
import { getpwnam } from '../../src/os/passwd.js';
import { startChild } from '../helpers/child.js';
import { startTgetty } from '../helpers/tgetty-run.js';

const nobody = getpwnam('nobody');
const skip =
  process.getuid?.() !== 0 ? 'needs root (the hand-off switches users and the tty to a new session as root does)'
  : nobody === undefined ? 'needs the user nobody'
  : undefined;

const CONFIG = 'login-prompt sim login:\nfido-send-emsi no\ntoggle-dtr no\n';
const SECRET = 'tgetty-test-secret-7f3a';
/** What the daemon has in its environment and no child may see. */
const LEAKY_ENV = {
  NODE_OPTIONS: '--max-old-space-size=200',
  LD_LIBRARY_PATH: '/nonexistent-tgetty-lib',
  MALLOC_ARENA_MAX: '2',
  FAKE_SECRET: SECRET,
  HOME: '/root',
  USER: 'root',
  TERM: 'xterm-256color',
  PATH: `/nonexistent-tgetty-bin:${process.env.PATH ?? '/usr/bin:/bin'}`,
  TZ: 'UTC',
};
const EXTRA_FD = 251;

/** The getty finished its init chat and is waiting for RING. */
async function idle(bank: SimBank): Promise<void> {
  await bank.line(0).waitForDte(/ATQ0V1H0\r[^]*AT\r/, 10_000);
  await new Promise((r) => setTimeout(r, 600));
}

/** Dumps argv, `env` and `ls -l /proc/self/fd` (as seen by ls, a child of the program) to OUT.<tag>. */
function recorder(out: string, tag: string): string {
  return [
    '#!/bin/sh',
    `o='${out}.${tag}'`,
    'for a in "$@"; do printf "<%s>" "$a"; done > "$o.argv"',
    'env > "$o.env"',
    'ls -l /proc/self/fd > "$o.fds"',
    'id -u > "$o.uid"',
    'exit 0',
    '',
  ].join('\n');
}

async function simLine(t: TestContext, lines = 1): Promise<{ bank: SimBank; dir: string; out: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-sec-child-'));
  // The programs run as nobody: they must be able to run from and write into the out dir.
  const out = join(dir, 'out');
  mkdirSync(out);
  chmodSync(dir, 0o755);
  chmodSync(out, 0o777);
  const bank = await createBank({ lines, dir });
  t.after(async () => {
    await bank.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { bank, dir, out };
}

function envOf(file: string): Map<string, string> {
  return new Map(readFileSync(file, 'utf8').split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

/** fd number -> link target, from `ls -l /proc/self/fd` (ls's own fd on that directory left out). */
function fdsOf(file: string): Map<number, string> {
  const fds = new Map<number, string>();
  for (const m of readFileSync(file, 'utf8').matchAll(/ (\d+) -> (.*)$/gm)) {
    if (/^\/proc\/\d+\/fd$/.test(m[2] ?? '')) continue;
    fds.set(Number(m[1]), m[2] ?? '');
  }
  return fds;
}

function assertClean(tag: string, env: Map<string, string>, fds: Map<number, string>): void {
  for (const k of ['NODE_OPTIONS', 'LD_LIBRARY_PATH', 'MALLOC_ARENA_MAX', 'FAKE_SECRET']) assert.equal(env.get(k), undefined, `${tag}: ${k} leaked`);
  for (const [k, v] of env) assert.ok(!v.includes(SECRET) && !v.includes('nonexistent-tgetty'), `${tag}: ${k}=${v}`);
  assert.equal(env.get('PATH'), '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', `${tag}: PATH`);
  assert.equal(env.get('TZ'), 'UTC', `${tag}: TZ is allow-listed`);
  assert.deepEqual([...fds.keys()].sort((a, b) => a - b), [0, 1, 2], `${tag}: only fds 0-2, got ${JSON.stringify([...fds])}`);
}

test('the login program and the hooks get an allow-listed environment, the run-as user\'s HOME/USER, and no inherited fd', { skip }, async (t) => {
  const { bank, dir, out } = await simLine(t);
  writeFileSync(join(out, 'rec.sh'), recorder(join(out, 'r'), 'login'));
  writeFileSync(join(out, 'cid.sh'), recorder(join(out, 'r'), 'cid'));
  writeFileSync(join(out, 'cnd.sh'), recorder(join(out, 'r'), 'cnd'));
  for (const f of ['rec.sh', 'cid.sh', 'cnd.sh']) chmodSync(join(out, f), 0o755);
  const tg = startTgetty({
    tty: join(dir, 'ttySIM0'),
    config: `${CONFIG}rings 3\ncid-program ${out}/cid.sh\ncnd-program ${out}/cnd.sh\ncnd-program-user nobody\n`,
    loginConfig: `* nobody - ${out}/rec.sh @\n`,
    env: { ...process.env, ...LEAKY_ENV },
    extraFd: EXTRA_FD,
  });
  t.after(() => tg.stop());
  // The daemon itself does have fd 251 (marked close-on-exec, not closed).
  assert.match(readFileSync('/etc/hostname', 'utf8'), /./);
  await idle(bank);
  const pid = tg.proc.pid ?? 0;
  assert.ok(existsSync(`/proc/${pid}/fd/${EXTRA_FD}`), 'the test did give tgetty an fd 251');
  const call = bank.line(0).call({ callerId: '5551234', callerName: 'JOE X', cidFormat: 'mdmf' });
  await call.waitFor(/sim login:/, 20_000);
  call.write('joe\r');
  assert.equal(await tg.exited, 0, tg.logText('ttySIM0'));
  await call.ended.catch(() => undefined);
  const r = (tag: string, what: string): string => join(out, `r.${tag}.${what}`);
  for (const tag of ['login', 'cid', 'cnd']) {
    assert.ok(existsSync(r(tag, 'env')), `${tag} program ran: ${tg.logText('ttySIM0')}`);
    const env = envOf(r(tag, 'env'));
    assertClean(tag, env, fdsOf(r(tag, 'fds')));
    assert.equal(readFileSync(r(tag, 'uid'), 'utf8').trim(), String(nobody?.uid), `${tag} runs as nobody`);
    assert.equal(env.get('HOME'), nobody?.dir, `${tag}: HOME of nobody`);
    assert.equal(env.get('USER'), 'nobody', `${tag}: USER`);
    assert.equal(env.get('LOGNAME'), 'nobody', `${tag}: LOGNAME`);
    assert.equal(env.get('CALLER_ID'), '5551234', `${tag}: CALLER_ID`);
  }
  const login = envOf(r('login', 'env'));
  assert.equal(login.get('TERM'), undefined, 'no TERM without the term keyword (the daemon TERM is the admin terminal)');
  assert.equal(login.get('CALLER_NAME'), 'JOE X');
  assert.equal(login.get('DEVICE'), 'ttySIM0');
  assert.equal(readFileSync(r('login', 'argv'), 'utf8'), '<joe>');
  // The tty is the program's stdin/stdout/stderr.
  const fds = fdsOf(r('login', 'fds'));
  assert.match(fds.get(0) ?? '', /^\/dev\/pts\/\d+$/);
});

test('an EMSI caller: control and 8-bit bytes never reach argv or the call record; no /FIDO/ line, no FidoNet', { skip }, async (t) => {
  const { bank, dir, out } = await simLine(t);
  const root = join(dir, 'sys');
  const d = { etc: join(root, 'etc'), lock: join(root, 'lock'), log: join(root, 'log'), run: join(root, 'run') };
  for (const x of Object.values(d)) mkdirSync(x, { recursive: true });
  writeFileSync(join(root, 'utmp'), '');
  writeFileSync(join(root, 'wtmp'), '');
  writeFileSync(join(d.etc, 'mgetty.config'), CONFIG);
  writeFileSync(join(out, 'fido.sh'), recorder(join(out, 'r'), 'fido'));
  writeFileSync(join(out, 'rec.sh'), recorder(join(out, 'r'), 'login'));
  for (const f of ['fido.sh', 'rec.sh']) chmodSync(join(out, f), 0o755);
  const conf = join(d.etc, 'login.config');
  const records = join(root, 'calls.sqlite');
  const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');
  const paths = ['--config-dir', d.etc, '--lock-dir', d.lock, '--log-dir', d.log, '--run-dir', d.run, '--utmp', join(root, 'utmp'), '--wtmp', join(root, 'wtmp'), '--records', records];
  const rows = (): { loginName: string | null; program: string | null; outcome: string | null }[] =>
    JSON.parse(execFileSync(process.execPath, [BIN, 'calls', '--records', records, '--json'], { encoding: 'utf8' })) as { loginName: string | null; program: string | null; outcome: string | null }[];
  const emsi = Buffer.concat([Buffer.from('**EMSI_DAT'), Buffer.from([0x1b, 0x5b, 0x32, 0x4a, 0x07, 0x0a, 0xc1, 0xff, 0x9b, 0x00]), Buffer.from('X\r')]);

  for (const [lc, tag, argv] of [
    // With a /FIDO/ line: the packet, filtered (0xc1 -> A, 0xff -> DEL dropped, 0x9b -> ESC dropped).
    [`/FIDO/ nobody - ${out}/fido.sh @\n* nobody - ${out}/rec.sh @\n`, 'fido', '<**EMSI_DAT[2JAX>'],
    // Without one: an ordinary name, same filter (ESC, BEL dropped; LF ends it).
    [`* nobody - ${out}/rec.sh @\n`, 'login', '<**EMSI_DAT[2J>'],
  ] as const) {
    writeFileSync(conf, lc);
    chmodSync(conf, 0o600);
    rmSync(records, { force: true });
    const c = startChild(process.execPath, [BIN, 'serve', ...paths, '--lines', join(dir, 'ttySIM0')]);
    try {
      await idle(bank);
      const call = bank.line(0).call({ cidFormat: 'none' });
      await call.waitFor(/sim login:/, 10_000);
      call.write(emsi);
      const argvFile = join(out, `r.${tag}.argv`);
      for (let i = 0; i < 100 && !existsSync(join(out, `r.${tag}.uid`)); i++) await new Promise((res) => setTimeout(res, 100));
      const got = readFileSync(argvFile, 'latin1');
      assert.equal(got, argv, `${tag}: ${c.output()}`);
      assert.doesNotMatch(got, /[\x00-\x1f\x7f-\xff]/);
      let rs = rows();
      for (let i = 0; i < 100 && rs[0]?.loginName == null; i++) {
        await new Promise((res) => setTimeout(res, 100));
        rs = rows();
      }
      assert.equal(rs[0]?.loginName, argv.slice(1, -1), `${tag}: call record login name`);
      assert.doesNotMatch(rs[0]?.loginName ?? '', /[\x00-\x1f\x7f-\xff]/);
      const log = readFileSync(join(d.log, 'ttySIM0.log'), 'utf8');
      assert.match(log, new RegExp(`##### data dev=ttySIM0, .*cmd='${out}/${tag === 'fido' ? 'fido' : 'rec'}.sh', user='\\*\\*EMSI_DAT\\[2J`));
      await call.ended.catch(() => undefined);
    } finally {
      await c.stop();
    }
    rmSync(join(d.log, 'ttySIM0.log'), { force: true });
  }
});

test('a login name with quotes gives one escaped audit field, in the log file (and so in syslog)', { skip }, async (t) => {
  const { bank, dir, out } = await simLine(t);
  writeFileSync(join(out, 'rec.sh'), recorder(join(out, 'r'), 'login'));
  chmodSync(join(out, 'rec.sh'), 0o755);
  const forged = "x', cmd='/bin/sh', user='root";
  const tg = startTgetty({ tty: join(dir, 'ttySIM0'), config: CONFIG, loginConfig: `* - - ${out}/rec.sh @\n` });
  t.after(() => tg.stop());
  await idle(bank);
  const call = bank.line(0).call({ cidFormat: 'none' });
  await call.waitFor(/sim login:/, 10_000);
  call.write(`${forged}\r`);
  assert.equal(await tg.exited, 0, tg.logText('ttySIM0'));
  await call.ended.catch(() => undefined);
  assert.equal(readFileSync(join(out, 'r.login.argv'), 'utf8'), `<${forged}>`, 'the program gets the name as typed');
  const audit = tg.logText('ttySIM0').split('\n').filter((l) => l.includes('##### data'));
  assert.equal(audit.length, 1, tg.logText('ttySIM0'));
  const line = audit[0] ?? '';
  const fields = [...line.matchAll(/(\w+)='((?:[^'\\]|\\.)*)'/g)].map((m) => [m[1], m[2]?.replace(/\\(.)/g, '$1')]);
  assert.deepEqual(fields.map((f) => f[0]), ['caller', 'conn', 'name', 'cmd', 'user'], line);
  assert.deepEqual(fields.at(-1), ['user', forged]);
  assert.deepEqual(fields.find((f) => f[0] === 'cmd'), ['cmd', `${out}/rec.sh`]);
  assert.ok(line.endsWith(`user='x\\', cmd=\\'/bin/sh\\', user=\\'root'`), line);
});
