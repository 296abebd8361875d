import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isTgettyError } from '../core/errors.js';
import { closeFd, openPty } from './libc.js';
import {
  INVALID_LOCK_GRACE_MS, LockTemplate, foreignLockOwner, formatLockPid, isLockTemplate, isProcessAlive, lockName, lockPath, makeLock,
  parseLockContent, processCommand, readLock, removeLock, watchLock,
} from './lock.js';

function tempDir(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tgetty-lock-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A pid that certainly belonged to a process which has exited and been reaped. */
function deadPid(): number {
  const r = spawnSync('true');
  assert.equal(r.status, 0);
  assert.equal(isProcessAlive(r.pid), false);
  return r.pid;
}

/** A live process of our own (killed when the test ends). */
function liveProcess(t: TestContext): number {
  const child = spawn('sleep', ['300'], { stdio: 'ignore' });
  t.after(() => {
    child.kill('SIGKILL');
  });
  assert.ok(child.pid !== undefined);
  return child.pid;
}

function logSpy(): { log: { warn(m: string): void; mesg(m: string): void }; lines: string[] } {
  const lines: string[] = [];
  return { lines, log: { warn: (m) => lines.push(`W ${m}`), mesg: (m) => lines.push(`M ${m}`) } };
}

test('names and HDB content', () => {
  assert.equal(lockName('ttyS0'), 'ttyS0');
  assert.equal(lockName('/dev/ttyUSB1'), 'ttyUSB1');
  assert.equal(lockName('pts/3'), '3');
  assert.equal(lockPath('/var/lock', '/dev/ttyS1'), '/var/lock/LCK..ttyS1');
  assert.equal(formatLockPid(12722), '     12722\n');
  assert.equal(formatLockPid(1234567890), '1234567890\n');
});

test('parseLockContent: ASCII first, binary only for 4 non-ASCII bytes, invalid otherwise', () => {
  const b = (s: string): Buffer => Buffer.from(s, 'latin1');
  assert.deepEqual(parseLockContent(b('     12722\n')), { pid: 12722, format: 'ascii' });
  assert.deepEqual(parseLockContent(b('12722')), { pid: 12722, format: 'ascii' });
  assert.deepEqual(parseLockContent(b('  4242 cu root\n')), { pid: 4242, format: 'ascii' });
  // Unlike mgetty (Q15): 4 bytes that read as ASCII digits + LF are ASCII.
  assert.deepEqual(parseLockContent(b('123\n')), { pid: 123, format: 'ascii' });
  const bin = Buffer.alloc(4);
  bin.writeInt32LE(31337);
  assert.deepEqual(parseLockContent(bin), { pid: 31337, format: 'binary' });
  for (const bad of ['', '\n', 'hello\n', '         0\n', '12ab\n', '99999999999999\n', '\0\0\0\0', '\xff\xff\xff\xff']) {
    assert.equal(parseLockContent(b(bad)), undefined, JSON.stringify(bad));
  }
});

test('create and release; content is 10-char pid + LF, mode 0644; temp file gone', (t) => {
  const dir = tempDir(t);
  const r = makeLock(dir, '/dev/ttyS0');
  assert.deepEqual(r, { ok: true, path: join(dir, 'LCK..ttyS0') });
  assert.equal(readFileSync(join(dir, 'LCK..ttyS0'), 'latin1'), formatLockPid(process.pid));
  assert.equal(statSync(join(dir, 'LCK..ttyS0')).mode & 0o777, 0o644);
  assert.deepEqual(readdirSync(dir), ['LCK..ttyS0']);
  assert.deepEqual(readLock(join(dir, 'LCK..ttyS0')), { state: 'pid', pid: process.pid, format: 'ascii' });
  assert.equal(foreignLockOwner(dir, 'ttyS0'), undefined, 'our own lock is not foreign');
  assert.equal(removeLock(dir, 'ttyS0'), true);
  assert.deepEqual(readdirSync(dir), []);
  assert.equal(removeLock(dir, 'ttyS0'), false);
  assert.deepEqual(readLock(join(dir, 'LCK..ttyS0')), { state: 'absent' });
});

test('own pid already in the lock counts as success', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'LCK..ttyS1'), formatLockPid(4711));
  assert.equal(makeLock(dir, 'ttyS1', { pid: 4711 }).ok, true);
  assert.equal(readFileSync(join(dir, 'LCK..ttyS1'), 'latin1'), formatLockPid(4711));
  assert.equal(removeLock(dir, 'ttyS1'), false, 'not our pid: kept');
  assert.equal(removeLock(dir, 'ttyS1', { pid: 4711 }), true);
});

test('stale lock of a dead pid is removed, logged, and the lock taken', (t) => {
  const dir = tempDir(t);
  const dead = deadPid();
  writeFileSync(join(dir, 'LCK..ttyS2'), formatLockPid(dead));
  const { log, lines } = logSpy();
  assert.equal(makeLock(dir, 'ttyS2', { log }).ok, true);
  assert.equal(readFileSync(join(dir, 'LCK..ttyS2'), 'latin1'), formatLockPid(process.pid));
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? '', new RegExp(`^M removing stale lock file .*LCK\\.\\.ttyS2 of dead process ${dead}`));

  // The foreign-lock test deletes a stale lock too.
  writeFileSync(join(dir, 'LCK..ttyS3'), formatLockPid(dead));
  assert.equal(foreignLockOwner(dir, 'ttyS3'), undefined);
  assert.deepEqual(readdirSync(dir).sort(), ['LCK..ttyS2']);
});

test('live foreign lock: not taken, owner pid and command line reported', (t) => {
  const dir = tempDir(t);
  const pid = liveProcess(t);
  writeFileSync(join(dir, 'LCK..ttyS4'), formatLockPid(pid));
  const r = makeLock(dir, 'ttyS4');
  assert.equal(r.ok, false);
  if (r.ok) return;
  assert.equal(r.ownerPid, pid);
  assert.equal(r.ownerCmd, 'sleep 300');
  assert.equal(r.reason, 'live');
  assert.ok(isTgettyError(r.error, 'LOCK_HELD'));
  assert.equal(r.error.context.pid, pid);
  assert.match(r.error.message, /ttyS4 is locked by process \d+ \(sleep 300\)/);
  assert.deepEqual(foreignLockOwner(dir, 'ttyS4'), { pid, cmd: 'sleep 300', reason: 'live' });
  assert.equal(removeLock(dir, 'ttyS4'), false);
  assert.equal(readFileSync(join(dir, 'LCK..ttyS4'), 'latin1'), formatLockPid(pid), 'left alone');
  assert.deepEqual(readdirSync(dir), ['LCK..ttyS4'], 'no temp file left');
});

test('binary and 4-byte ASCII locks of a live process are both honoured', (t) => {
  const dir = tempDir(t);
  const pid = liveProcess(t);
  const bin = Buffer.alloc(4);
  bin.writeInt32LE(pid);
  writeFileSync(join(dir, 'LCK..ttyS5'), bin);
  assert.deepEqual(readLock(join(dir, 'LCK..ttyS5')), { state: 'pid', pid, format: 'binary' });
  assert.equal(makeLock(dir, 'ttyS5').ok, false);

  // `1\n` + pad: a short ASCII pid; pid 1 (init) is always alive.
  writeFileSync(join(dir, 'LCK..ttyS6'), '  1\n');
  assert.deepEqual(readLock(join(dir, 'LCK..ttyS6')), { state: 'pid', pid: 1, format: 'ascii' });
  const r = makeLock(dir, 'ttyS6');
  assert.equal(r.ok, false);
  assert.equal(r.ok ? 0 : r.ownerPid, 1);
});

test('empty / garbage / pid-0 lock: held while fresh, removed once older than the grace time', (t) => {
  const dir = tempDir(t);
  for (const [i, content] of ['', 'garbage\n', '         0\n'].entries()) {
    const dev = `ttyG${i}`;
    const path = join(dir, `LCK..${dev}`);
    writeFileSync(path, content);
    const mtime = statSync(path).mtimeMs;
    const fresh = makeLock(dir, dev, { now: () => mtime + 1000 });
    assert.equal(fresh.ok, false, JSON.stringify(content));
    assert.equal(fresh.ok ? '' : fresh.reason, 'invalid');
    assert.deepEqual(foreignLockOwner(dir, dev, { now: () => mtime }), { pid: 0, cmd: '', reason: 'invalid' });
    const { log, lines } = logSpy();
    assert.equal(makeLock(dir, dev, { now: () => mtime + INVALID_LOCK_GRACE_MS + 1, log }).ok, true);
    assert.match(lines[0] ?? '', /^M removing invalid lock file/);
    assert.equal(readFileSync(path, 'latin1'), formatLockPid(process.pid));
  }
  // An old invalid lock is stale for the foreign-lock test too.
  const old = join(dir, 'LCK..ttyOld');
  writeFileSync(old, 'x');
  utimesSync(old, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  assert.equal(foreignLockOwner(dir, 'ttyOld'), undefined);
  assert.deepEqual(readLock(old), { state: 'absent' });
});

test('unreadable lock (a directory in its place) is held, never removed', (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'LCK..ttyD'));
  const { log, lines } = logSpy();
  const r = makeLock(dir, 'ttyD', { log });
  assert.equal(r.ok, false);
  assert.equal(r.ok ? '' : r.reason, 'unreadable');
  assert.deepEqual(foreignLockOwner(dir, 'ttyD'), { pid: 0, cmd: '', reason: 'unreadable' });
  assert.match(lines[0] ?? '', /^W lock file .* is not a regular file \(directory\): not reading or removing it/);
  assert.ok(statSync(join(dir, 'LCK..ttyD')).isDirectory());
});

test('missing or unusable lock dir: LOCK_FAILED with path, errno and a hint', (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'nope');
  assert.throws(() => makeLock(missing, 'ttyS0'), (e: unknown) => {
    assert.ok(isTgettyError(e, 'LOCK_FAILED'));
    assert.equal(e.context.errno, 'ENOENT');
    assert.match(e.message, new RegExp(`lock directory ${missing} does not exist; create it`));
    return true;
  });
  // As root, permissions do not stop us: a file where the directory should be does.
  const file = join(dir, 'file');
  writeFileSync(file, '');
  assert.throws(() => makeLock(file, 'ttyS0'), (e: unknown) => isTgettyError(e, 'LOCK_FAILED') && e.context.errno === 'ENOTDIR');
  assert.throws(() => watchLock(missing, 'ttyS0', () => undefined), (e: unknown) => isTgettyError(e, 'LOCK_FAILED'));
});

test('processCommand: NULs as spaces, capped at 60 chars, empty for a dead pid', (t) => {
  const long = 'x'.repeat(100);
  // sh stays the process (its last command is a builtin), so its argv is what we read.
  // Own process group, so the cleanup also ends sh's sleep child.
  const child = spawn('sh', ['-c', 'sleep 300; :', 'sh', long], { stdio: 'ignore', detached: true });
  t.after(() => {
    process.kill(-(child.pid as number), 'SIGKILL');
  });
  // spawn() returns after exec, so /proc/<pid>/cmdline shows the new program.
  const cmd = processCommand(child.pid as number);
  assert.equal(cmd, `sh -c sleep 300; : sh ${long}`.slice(0, 60));
  assert.equal(processCommand(deadPid()), '');
});

test('watchLock reports the lock appearing and disappearing (inotify, no polling)', { timeout: 10_000 }, async (t) => {
  const dir = tempDir(t);
  const events: boolean[] = [];
  let wake: (() => void) | undefined;
  const next = (): Promise<void> => new Promise((res) => (wake = res));
  const w = watchLock(dir, '/dev/ttyS7', (present) => {
    events.push(present);
    wake?.();
  });
  t.after(() => w.close());
  assert.equal(w.present, false);

  writeFileSync(join(dir, 'LCK..ttyS8'), 'other line'); // ignored: another device
  let p = next();
  assert.equal(makeLock(dir, 'ttyS7').ok, true);
  await p;
  assert.deepEqual(events, [true]);
  assert.equal(w.present, true);

  p = next();
  assert.equal(removeLock(dir, 'ttyS7'), true);
  await p;
  assert.deepEqual(events, [true, false]);
  assert.equal(w.present, false);
});

test('watchLock: lines watching one lock dir share it; one leaving does not blind the others', { timeout: 10_000 }, async (t) => {
  const dir = tempDir(t);
  const seen: string[] = [];
  let wake: (() => void) | undefined;
  const next = (): Promise<void> => new Promise((res) => (wake = res));
  const cb = (dev: string) => (present: boolean): void => {
    seen.push(`${dev}:${present}`);
    wake?.();
  };
  const a = watchLock(dir, 'ttyS1', cb('S1'));
  const a2 = watchLock(dir, 'ttyS1', cb('S1b'));
  const b = watchLock(dir, 'ttyS2', cb('S2'));
  t.after(() => {
    a.close();
    a2.close();
    b.close();
  });
  a.close();
  a.close(); // twice is harmless
  let p = next();
  assert.equal(makeLock(dir, 'ttyS1').ok, true);
  await p;
  assert.deepEqual(seen, ['S1b:true']);
  p = next();
  assert.equal(makeLock(dir, 'ttyS2').ok, true);
  await p;
  assert.deepEqual(seen, ['S1b:true', 'S2:true']);
  a2.close();
  b.close();
  // All gone: the shared watch is closed, and a new subscriber gets a fresh one that works.
  const c = watchLock(dir, 'ttyS2', cb('S2c'));
  t.after(() => c.close());
  assert.equal(c.present, true);
  p = next();
  assert.equal(removeLock(dir, 'ttyS2'), true);
  await p;
  assert.deepEqual(seen, ['S1b:true', 'S2:true', 'S2c:false']);
});

test('lock template: prepared while idle, a lock is one link to it; it stays for the next lock, dispose removes it', (t) => {
  const dir = tempDir(t);
  const tpl = new LockTemplate(dir, 4242);
  const fileOf = (x: LockTemplate): string | undefined => x.file; // no narrowing across calls
  assert.equal(fileOf(tpl), undefined);
  assert.ok(tpl.prepare());
  const file = fileOf(tpl);
  assert.ok(file !== undefined);
  assert.match(file, /\/LTMP\.tgetty\.4242\.[0-9a-z]+$/);
  assert.ok(isLockTemplate(file.slice(dir.length + 1)));
  assert.equal(readFileSync(file, 'latin1'), formatLockPid(4242));
  assert.equal(statSync(file).mode & 0o777, 0o644);
  assert.ok(tpl.prepare(), 'prepare again: the same file');
  assert.equal(tpl.file, file);

  for (let round = 0; round < 2; round++) {
    const r = makeLock(dir, 'ttyS0', { pid: 4242, template: tpl });
    assert.ok(r.ok);
    assert.equal(readFileSync(lockPath(dir, 'ttyS0'), 'latin1'), formatLockPid(4242));
    assert.equal(statSync(lockPath(dir, 'ttyS0')).ino, statSync(file).ino, 'the lock is a hard link to the template');
    assert.deepEqual(readdirSync(dir).sort(), ['LCK..ttyS0', file.slice(dir.length + 1)], 'no temp file of the slow way');
    assert.ok(removeLock(dir, 'ttyS0', { pid: 4242 }));
    assert.ok(statSync(file).isFile(), 'the template outlives the lock');
  }
  tpl.dispose();
  assert.equal(fileOf(tpl), undefined);
  assert.deepEqual(readdirSync(dir), []);
  tpl.dispose();
});

test('lock template: removed behind our back, the lock is still taken (the slow way) and the template forgotten', (t) => {
  const dir = tempDir(t);
  const tpl = new LockTemplate(dir, 4243);
  assert.ok(tpl.prepare());
  rmSync(tpl.file ?? '');
  const r = makeLock(dir, 'ttyS1', { pid: 4243, template: tpl });
  assert.ok(r.ok);
  assert.equal(tpl.file, undefined);
  assert.equal(readFileSync(lockPath(dir, 'ttyS1'), 'latin1'), formatLockPid(4243));
  assert.deepEqual(readdirSync(dir), ['LCK..ttyS1']);
});

test('lock template: a live foreign lock is still honoured, the template left as it is', (t) => {
  const dir = tempDir(t);
  const other = liveProcess(t);
  writeFileSync(lockPath(dir, 'ttyS2'), formatLockPid(other));
  const tpl = new LockTemplate(dir, 4244);
  assert.ok(tpl.prepare());
  const r = makeLock(dir, 'ttyS2', { pid: 4244, template: tpl });
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.ownerPid, other);
  assert.equal(readFileSync(lockPath(dir, 'ttyS2'), 'latin1'), formatLockPid(other));
  assert.ok(tpl.file !== undefined && statSync(tpl.file).isFile());
  tpl.dispose();
});

test('lock template: the first prepare in a lock dir removes templates of dead processes, not of live ones or foreign files', (t) => {
  const dir = tempDir(t);
  const dead = deadPid();
  const live = liveProcess(t);
  writeFileSync(join(dir, `LTMP.tgetty.${dead}.1`), formatLockPid(dead));
  writeFileSync(join(dir, `LTMP.tgetty.${live}.1`), formatLockPid(live));
  writeFileSync(join(dir, `LTMP.${dead}`), formatLockPid(dead));
  const tpl = new LockTemplate(dir, 4245);
  assert.ok(tpl.prepare());
  const left = readdirSync(dir).sort();
  assert.ok(!left.includes(`LTMP.tgetty.${dead}.1`), 'a dead process left it: removed');
  assert.ok(left.includes(`LTMP.tgetty.${live}.1`), 'a live process may still use it');
  assert.ok(left.includes(`LTMP.${dead}`), 'not ours: untouched');
  tpl.dispose();
});

test('lock template: an unwritable lock dir gives no template, and the lock reports why', (t) => {
  const dir = join(tempDir(t), 'missing');
  const tpl = new LockTemplate(dir, 4246);
  assert.equal(tpl.prepare(), false);
  assert.equal(tpl.file, undefined);
  assert.throws(() => makeLock(dir, 'ttyS3', { pid: 4246, template: tpl }), (e: unknown) => isTgettyError(e) && e.code === 'LOCK_FAILED');
});

/**
 * Issue 15 (1, 2): whatever another user plants under a lock's name in the world-writable
 * lock dir. Each case runs in a child process with a time limit, because the FIFO case
 * blocked the process for good in open(2) (no timer of the test could fire), and as a
 * session leader without a controlling tty (detached), so that opening a pty slave without
 * O_NOCTTY would visibly make it the child's controlling tty.
 */
interface AttackResult {
  ms: number;
  content: { state: string; code?: string; detail?: string };
  ok: boolean;
  reason: string;
  foreign: { reason: string } | null;
  ttyNr: number;
  log: string[];
}

function attackChild(dir: string, device: string): { res?: AttackResult; status: number | null; signal: string | null; stderr: string } {
  const lockUrl = new URL('./lock.js', import.meta.url).href;
  const script = `
    import { readFileSync } from 'node:fs';
    const { readLock, makeLock, foreignLockOwner, lockPath } = await import(${JSON.stringify(lockUrl)});
    const log = [];
    const spy = { warn: (m) => log.push('W ' + m), mesg: (m) => log.push('M ' + m) };
    const t0 = Date.now();
    const content = readLock(lockPath(process.argv[1], process.argv[2]));
    // Old enough that an invalid file would count as stale: only the refusal may keep it.
    const now = () => Date.now() + 3_600_000;
    const r = makeLock(process.argv[1], process.argv[2], { log: spy, now });
    const foreign = foreignLockOwner(process.argv[1], process.argv[2], { now }) ?? null;
    const stat = readFileSync('/proc/self/stat', 'latin1');
    // Field 7 (tty_nr); the fields after the command name, which ends at the last ')'.
    const ttyNr = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[4]);
    process.stdout.write(JSON.stringify({ ms: Date.now() - t0, content, ok: r.ok, reason: r.ok ? '' : r.reason, foreign, ttyNr, log }) + String.fromCharCode(10));
  `;
  // setsid: a new session, no controlling tty (setsid execs without forking: the timeout kills node itself).
  const r = spawnSync('setsid', ['-w', process.execPath, '--input-type=module', '-e', script, dir, device], { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL' });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  return { ...(line.startsWith('{') ? { res: JSON.parse(line) as AttackResult } : {}), status: r.status, signal: r.signal, stderr: r.stderr };
}

function assertRefused(t: TestContext, dir: string, device: string, what: RegExp, still: () => boolean): AttackResult {
  const out = attackChild(dir, device);
  assert.ok(out.res !== undefined, `the child gave no answer (status ${out.status}, signal ${out.signal}: hung?) ${out.stderr}`);
  const res = out.res;
  t.diagnostic(JSON.stringify(res));
  assert.ok(res.ms < 2000, `readLock and makeLock took ${res.ms} ms`);
  assert.equal(res.content.state, 'unreadable');
  assert.match(res.content.detail ?? '', what);
  assert.equal(res.ok, false, 'the line is not taken');
  assert.equal(res.reason, 'unreadable');
  assert.deepEqual(res.foreign, { pid: 0, cmd: '', reason: 'unreadable' }, 'a foreign lock, not stale');
  assert.equal(res.ttyNr, 0, 'no controlling tty');
  assert.match(res.log[0] ?? '', /^W lock file .*: not reading or removing it; treating the line as locked$/);
  assert.equal(res.log.some((l) => l.startsWith('M removing')), false);
  assert.ok(still(), 'the planted file is still there');
  return res;
}

function stillLinkTo(path: string, target: string): () => boolean {
  return () => lstatSync(path).isSymbolicLink() && readlinkSync(path) === target;
}

test('a FIFO as the lock file: refused at once (no blocking open), held, not removed', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'LCK..ttyFifo');
  assert.equal(spawnSync('mkfifo', [path]).status, 0);
  assertRefused(t, dir, 'ttyFifo', /^not a regular file \(fifo\)$/, () => lstatSync(path).isFIFO());
});

test('a symlink to a pty slave as the lock file: never opened (no controlling tty), held, not removed', (t) => {
  const dir = tempDir(t);
  const pty = openPty();
  t.after(() => closeFd(pty.master));
  const path = join(dir, 'LCK..ttyPty');
  symlinkSync(pty.slave, path);
  assertRefused(t, dir, 'ttyPty', /^a symbolic link$/, stillLinkTo(path, pty.slave));
});

test('a symlink to a regular file (a dead pid, or our own) as the lock file: not followed, held, not removed', (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'elsewhere');
  writeFileSync(target, formatLockPid(deadPid()));
  const path = join(dir, 'LCK..ttyLnk');
  symlinkSync(target, path);
  assertRefused(t, dir, 'ttyLnk', /^a symbolic link$/, stillLinkTo(path, target));
  assert.equal(readFileSync(target, 'latin1').trim() !== '', true, 'the target is untouched');
  // In-process too: a symlink to a file holding our own pid is not "our lock".
  writeFileSync(target, formatLockPid(process.pid));
  assert.equal(makeLock(dir, 'ttyLnk').ok, false);
  assert.equal(removeLock(dir, 'ttyLnk'), false);
  assert.ok(stillLinkTo(path, target)());
});

test('a huge (10 MB sparse) lock file with a dead pid first: refused, held, not removed', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'LCK..ttyBig');
  writeFileSync(path, formatLockPid(deadPid()));
  truncateSync(path, 10 * 1024 * 1024);
  utimesSync(path, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
  assertRefused(t, dir, 'ttyBig', /^too large \(10485760 bytes, at most 1024 expected\)$/, () => statSync(path).size === 10 * 1024 * 1024);
});

test('a directory as the lock file: refused, held, not removed (in a child too)', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'LCK..ttyDir');
  mkdirSync(path);
  assertRefused(t, dir, 'ttyDir', /^not a regular file \(directory\)$/, () => statSync(path).isDirectory());
});

test('a symlink planted over a lock template is not linked as our lock; removing a stale lock leaves nothing moved aside', (t) => {
  const dir = tempDir(t);
  // A template replaced by a symlink to a file of another pid (a non-sticky lock dir lets others do that).
  const tpl = new LockTemplate(dir);
  t.after(() => tpl.dispose());
  assert.equal(tpl.prepare(), true);
  const file = tpl.file as string;
  const foreign = join(dir, 'foreign');
  writeFileSync(foreign, formatLockPid(process.pid));
  rmSync(file);
  symlinkSync(foreign, file);
  const { log, lines } = logSpy();
  const r = makeLock(dir, 'ttyTpl', { template: tpl, log });
  assert.equal(r.ok, true);
  const st = lstatSync(join(dir, 'LCK..ttyTpl'));
  assert.ok(st.isFile(), 'our lock is a regular file, not the planted link');
  assert.equal(readFileSync(join(dir, 'LCK..ttyTpl'), 'latin1'), formatLockPid(process.pid));
  assert.match(lines.join('\n'), /lock template .* was replaced behind our back/);
  assert.equal(tpl.file, undefined, 'the template is forgotten');
  tpl.dispose();
  assert.ok(lstatSync(file).isSymbolicLink(), 'dispose leaves a file that is not ours');
  // A stale lock is moved aside, checked and removed: no LTMP.*.rm* file is left.
  const dead = deadPid();
  writeFileSync(join(dir, 'LCK..ttyRace'), formatLockPid(dead));
  assert.equal(makeLock(dir, 'ttyRace').ok, true);
  assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.rm')), [], 'nothing moved aside is left');
});

test('a stale lock replaced by a fresh one just before its removal: the fresh lock is put back, not deleted', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'LCK..ttyRace');
  writeFileSync(path, formatLockPid(deadPid()));
  const live = liveProcess(t);
  const lines: string[] = [];
  // The "removing stale lock" message comes between the verdict and the removal: another
  // getty removes the stale lock and makes its own in that moment.
  const log = {
    warn: (m: string) => lines.push(`W ${m}`),
    mesg: (m: string) => {
      lines.push(`M ${m}`);
      if (!m.startsWith('removing stale')) return;
      rmSync(path);
      writeFileSync(path, formatLockPid(live));
    },
  };
  const r = makeLock(dir, 'ttyRace', { log });
  assert.equal(r.ok, false);
  assert.equal(r.ok ? 0 : r.ownerPid, live);
  assert.equal(readFileSync(path, 'latin1'), formatLockPid(live), 'the fresh lock is still there');
  assert.deepEqual(readdirSync(dir), ['LCK..ttyRace'], 'nothing moved aside is left');
});
