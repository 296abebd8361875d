import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../core/clock.js';
import { readUtmp, readWhole, writeUtmp } from '../os/utmp.js';
import {
  DEAD_PROCESS, LOGIN_PROCESS, USER_PROCESS, UtmpWriter, deadRecord, loginHost, loginRecord, userRecord, utmpId, utmpLine,
} from './utmp.js';

test('utmpId: tty prefix dropped, then the last 4 characters', () => {
  assert.equal(utmpId('ttyS0'), 'S0');
  assert.equal(utmpId('/dev/ttyS0'), 'S0');
  assert.equal(utmpId('ttyQZ0'), 'QZ0');
  assert.equal(utmpId('ttyUSB10'), 'SB10');
  assert.equal(utmpId('pts/4'), 'ts/4');
  assert.equal(utmpId('pts/12'), 's/12');
  assert.equal(utmpId('tty'), 'tty');
  assert.equal(utmpId('ACM0'), 'ACM0');
  assert.equal(utmpLine('/dev/pts/4'), 'pts/4');
});

test('loginHost: caller ID when known, else the connect string', () => {
  assert.equal(loginHost('5551234', '33600/ARQ'), '5551234');
  assert.equal(loginHost('none', '33600/ARQ'), '33600/ARQ');
  assert.equal(loginHost('', '33600/ARQ'), '33600/ARQ');
  assert.equal(loginHost(undefined, undefined), '');
});

test('record builders', () => {
  const t = Date.UTC(2026, 10, 21, 19, 30, 5, 900);
  assert.deepEqual(loginRecord('ttyS1', 42, '33600/ARQ', t), {
    type: LOGIN_PROCESS, pid: 42, line: 'ttyS1', id: 'S1', user: 'LOGIN', host: '33600/ARQ', time: Math.floor(t / 1000),
  });
  assert.equal(userRecord('pts/3', 7, 'a_ppp', 'DIRECT', t).type, USER_PROCESS);
  assert.equal(userRecord('pts/3', 7, 'a_ppp', 'DIRECT', t).user, 'a_ppp');
  const d = deadRecord('pts/3', 7, t);
  assert.equal(d.type, DEAD_PROCESS);
  assert.equal(d.user, '');
  assert.equal(d.id, 'ts/3');
});

test('UtmpWriter: creates utmp 0664, writes LOGIN -> USER -> DEAD for one line, appends all to wtmp', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-utmp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const utmpFile = join(dir, 'utmp');
  const wtmpFile = join(dir, 'wtmp');
  writeFileSync(wtmpFile, '');
  const logged: string[] = [];
  const log = { error: (m: string) => logged.push(`E ${m}`), warn: (m: string) => logged.push(`W ${m}`), noise: () => undefined };
  const clock = new FakeClock(Date.UTC(2026, 10, 21, 19, 30, 0));
  const w = new UtmpWriter({ utmpFile, wtmpFile, clock, log });

  assert.equal(w.loginProcess('pts/9', 1234, '5551234'), true);
  assert.equal(statSync(utmpFile).mode & 0o777, 0o664);
  assert.ok(logged.some((l) => l.startsWith('W ') && l.includes('created')));
  clock.advance(1000);
  assert.equal(w.userProcess('pts/9', 1234, 'a_ppp', '33600/ARQ'), true);
  let recs = readUtmp(utmpFile).filter((r) => r.line === 'pts/9');
  assert.equal(recs.length, 1, 'pututxline replaces the entry with the same id');
  assert.equal(recs[0]?.type, USER_PROCESS);
  assert.equal(recs[0]?.user, 'a_ppp');
  assert.equal(recs[0]?.host, '33600/ARQ');
  clock.advance(60_000);
  assert.equal(w.deadProcess('pts/9', 1234), true);
  recs = readUtmp(utmpFile).filter((r) => r.line === 'pts/9');
  assert.deepEqual(recs.map((r) => [r.type, r.pid, r.id]), [[DEAD_PROCESS, 1234, 'ts/9']]);
  const wt = readUtmp(wtmpFile);
  assert.deepEqual(wt.map((r) => [r.type, r.user, r.time - wt[0].time]), [
    [LOGIN_PROCESS, 'LOGIN', 0], [USER_PROCESS, 'a_ppp', 1], [DEAD_PROCESS, '', 61],
  ]);
  assert.equal(logged.filter((l) => l.startsWith('E ')).length, 0);
});

test('UtmpWriter: a failing write is logged, never thrown', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-utmp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const errors: string[] = [];
  const w = new UtmpWriter({
    utmpFile: join(dir, 'no-such-dir', 'utmp'),
    log: { error: (m) => errors.push(m), warn: () => undefined, noise: () => undefined },
  });
  assert.equal(w.deadProcess('ttyS0', 1), false);
  assert.equal(errors.length, 1);
  assert.match(errors[0] ?? '', /cannot write type=8 for ttyS0/);
  const w2 = new UtmpWriter({
    utmpFile: join(dir, 'utmp'),
    write: () => {
      throw new Error('disk on fire');
    },
    log: { error: (m) => errors.push(m), warn: () => undefined, noise: () => undefined },
  });
  assert.equal(w2.loginProcess('ttyS0', 1, ''), false);
  assert.match(errors[1] ?? '', /disk on fire/);
});

test('readUtmp: the whole-file read gives what glibc gives, filters by line and type, ignores a torn tail', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-utmp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'utmp');
  writeFileSync(f, '');
  for (let i = 0; i < 40; i++) {
    writeUtmp(f, undefined, {
      type: i % 3 === 0 ? USER_PROCESS : LOGIN_PROCESS, pid: 1000 + i, line: `pts/${i}`, id: `p${i}`,
      user: i % 3 === 0 ? `us\u00e9r${i}` : 'LOGIN', host: i === 7 ? 'x'.repeat(256) : `h\u00f6st-${i}`, time: 1_700_000_000 + i,
    });
  }
  const fast = readUtmp(f);
  assert.equal(fast.length, 40);
  assert.deepEqual(fast, readUtmp(f, { viaGlibc: true }));
  assert.equal(fast[7]?.host.length, 256, 'a field that fills its array has no NUL');
  assert.equal(fast[3]?.user, 'us\u00e9r3');
  assert.deepEqual(readUtmp(f, { line: 'pts/9' }).map((r) => [r.pid, r.id]), [[1009, 'p9']]);
  assert.deepEqual(readUtmp(f, { line: 'pts/9' }), readUtmp(f, { line: 'pts/9', viaGlibc: true }));
  assert.equal(readUtmp(f, { types: [USER_PROCESS] }).length, 14);
  assert.deepEqual(readUtmp(f, { line: 'pts/3', types: [LOGIN_PROCESS] }), []);
  appendFileSync(f, Buffer.alloc(100, 1));
  assert.deepEqual(readUtmp(f), fast, 'a partial record at the end is not a record (as glibc)');
  assert.deepEqual(readUtmp(join(dir, 'missing')), []);
});

test('readUtmp: a whole-file read is declined while a writer holds the lock (glibc then waits for it)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-utmp-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const f = join(dir, 'utmp');
  writeFileSync(f, '');
  writeUtmp(f, undefined, { type: LOGIN_PROCESS, pid: 5, line: 'pts/1', id: 'p1', user: 'LOGIN', host: '', time: 1 });
  assert.equal(readWhole(f)?.length, 384);
  // Another process takes glibc's write lock (whole file) and holds it until its stdin closes.
  const py = spawn('python3', ['-c', 'import fcntl,sys\nf=open(sys.argv[1],"r+")\nfcntl.lockf(f,fcntl.LOCK_EX)\nprint("locked",flush=True)\nsys.stdin.read()', f], { stdio: ['pipe', 'pipe', 'inherit'] });
  const gone = new Promise<void>((r) => py.once('exit', () => r()));
  t.after(async () => {
    py.stdin.end();
    await gone;
  });
  const locked = await new Promise<boolean>((r) => {
    py.stdout.once('data', (d: Buffer) => r(d.toString().includes('locked')));
    py.once('error', () => r(false));
    py.once('exit', () => r(false));
  });
  if (!locked) {
    t.skip('python3 could not take the lock');
    return;
  }
  assert.equal(readWhole(f), undefined);
  py.stdin.end();
  await gone;
  assert.equal(readWhole(f)?.length, 384);
});
