import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FakeClock } from '../core/clock.js';
import { LogLevel } from './levels.js';
import type { MessageLevel } from './levels.js';
import { batchedDeferral, createLogger, deviceId, logFilePath } from './logger.js';
import type { LoggerOptions } from './logger.js';
import type { AuditSink } from './sinks.js';

process.env.TZ = 'UTC';
const START = Date.UTC(2026, 10, 21, 19, 30, 0);

function tempDir(t: TestContext): string {
  const d = mkdtempSync(join(tmpdir(), 'tgetty-log-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function capture(): { sink: AuditSink; got: [MessageLevel, string][] } {
  const got: [MessageLevel, string][] = [];
  return { sink: { write: (l, s) => got.push([l, s]) }, got };
}

function setup(t: TestContext, extra: LoggerOptions = {}) {
  const dir = tempDir(t);
  const err: string[] = [];
  const audit = capture();
  const clock = new FakeClock(START);
  const log = createLogger({ device: 'ttyS3', logDir: dir, clock, audit: audit.sink, stderr: (s) => err.push(s), ...extra });
  t.after(() => log.close());
  const read = (): string => readFileSync(log.file ?? '', 'utf8');
  return { dir, err, audit: audit.got, clock, log, read };
}

test('file path: logDir + devId.log, devId with / -> -', () => {
  assert.equal(deviceId('pts/4'), 'pts-4');
  assert.equal(deviceId('/dev/ttyS3'), 'ttyS3');
  assert.equal(logFilePath('/var/log/tgetty', 'pts/4'), '/var/log/tgetty/pts-4.log');
  assert.equal(createLogger({ device: '/dev/ttyS1', logDir: '/l', audit: 'none' }).file, '/l/ttyS1.log');
  assert.equal(createLogger({ audit: 'none' }).file, '/var/log/tgetty/unknown.log');
  assert.equal(createLogger({ file: null, audit: 'none' }).file, undefined);
});

test('level filter: written iff level <= configured, and setLevel applies at once', (t) => {
  const { log, read, clock } = setup(t);
  log.mesg('m1');
  log.noise('n1');
  log.setLevel(6);
  clock.advance(1000);
  log.noise('n2');
  log.junk('j2');
  log.setLevel(2);
  log.warn('w3');
  log.audit('a3');
  log.setLevel(42);
  assert.equal(log.level, 9);
  assert.equal(log.enabled(LogLevel.JUNK), true);
  assert.equal(
    read(),
    '11/21 19:30:00 yS3  m1\n11/21 19:30:01 yS3   n2\n11/21 19:30:01 yS3    j2\n11/21 19:30:01 ##### a3\n',
  );
});

test('every level method writes its own layout; file is created 0640', (t) => {
  const { log, read, dir } = setup(t, { level: 9 });
  log.fatal('f', { err: new Error('why') });
  log.error('e');
  log.audit('a');
  log.warn('w');
  log.mesg('m');
  log.noise('n');
  log.junk('j');
  log.dump(LogLevel.NOISE, 'got: ', Buffer.from('ATQ0\r\nOK'));
  log.dump(LogLevel.NOISE, 'str: ', '\x10\x03');
  assert.equal(
    read(),
    [
      '11/21 19:30:00 yS3  f: why', '11/21 19:30:00 yS3  e', '11/21 19:30:00 ##### a', '11/21 19:30:00 yS3  w',
      '11/21 19:30:00 yS3  m', '11/21 19:30:00 yS3   n', '11/21 19:30:00 yS3    j',
      '11/21 19:30:00 yS3   got: ATQ0[0d][0a]OK', '11/21 19:30:00 yS3   str: [10][03]', '',
    ].join('\n'),
  );
  assert.equal(statSync(join(dir, 'ttyS3.log')).mode & 0o777, 0o640 & ~process.umask());
});

test('json format: one object per line with structured fields', (t) => {
  const { log, read } = setup(t, { format: 'json', device: 'pts/7' });
  log.audit("data dev=pts/7, caller='555'", { event: 'call', caller: '555' });
  log.dump(LogLevel.MESG, 'got: ', Buffer.from('OK\r'));
  const lines = read().split('\n');
  assert.equal(lines.pop(), '');
  assert.deepEqual(lines.map((l) => JSON.parse(l) as unknown), [
    { time: '2026-11-21T19:30:00.000Z', level: 'audit', levelNo: 2, dev: 'pts/7', msg: "data dev=pts/7, caller='555'", event: 'call', caller: '555' },
    { time: '2026-11-21T19:30:00.000Z', level: 'mesg', levelNo: 4, dev: 'pts/7', msg: 'got: OK[0d]' },
  ]);
});

test('audit channel gets AUDIT, ERROR, FATAL only, after the level filter', (t) => {
  const { log, audit } = setup(t, { level: 4 });
  log.audit('denied caller dev=ttyS3');
  log.error('cannot open', { err: 'EIO' });
  log.fatal('dead');
  log.warn('not audit');
  log.mesg('not audit');
  log.setLevel(1);
  log.audit('filtered out');
  log.setLevel(0);
  log.error('filtered out');
  assert.deepEqual(audit, [
    [LogLevel.AUDIT, 'denied caller dev=ttyS3'],
    [LogLevel.ERROR, 'ttyS3: cannot open: EIO'],
    [LogLevel.FATAL, 'ttyS3: dead'],
  ]);
});

test("audit 'auto' under systemd: <prio> lines on stderr; file: null puts every line on stderr", (t) => {
  const dir = tempDir(t);
  const err: string[] = [];
  const env = { INVOCATION_ID: 'abc' };
  const log = createLogger({ device: 'ttyS3', logDir: dir, clock: new FakeClock(START), stderr: (s) => err.push(s), env });
  t.after(() => log.close());
  log.audit('a');
  log.error('e');
  log.fatal('f');
  log.mesg('m');
  assert.deepEqual(err, ['<5>a\n', '<3>ttyS3: e\n', '<1>ttyS3: f\n']);
  assert.equal(readFileSync(join(dir, 'ttyS3.log'), 'utf8').split('\n').length, 5);

  const err2: string[] = [];
  const log2 = createLogger({ device: 'ttyS3', file: null, clock: new FakeClock(START), stderr: (s) => err2.push(s), env, level: 5 });
  log2.audit('a');
  log2.noise('n');
  // One copy per entry, with the journald priority of its level.
  assert.deepEqual(err2, ['<5>11/21 19:30:00 ##### a\n', '<7>11/21 19:30:00 yS3   n\n']);

  const err3: string[] = [];
  const log3 = createLogger({ device: 'ttyS3', file: null, clock: new FakeClock(START), stderr: (s) => err3.push(s), audit: 'none' });
  log3.audit('a');
  assert.deepEqual(err3, ['11/21 19:30:00 ##### a\n']);
});

test('missing log dir is created once (0755)', (t) => {
  const dir = tempDir(t);
  const logDir = join(dir, 'a', 'b');
  const log = createLogger({ device: 'ttyS0', logDir, clock: new FakeClock(START), audit: 'none', stderr: () => assert.fail('no warning expected') });
  t.after(() => log.close());
  log.mesg('hello');
  assert.equal(readFileSync(join(logDir, 'ttyS0.log'), 'utf8'), '11/21 19:30:00 yS0  hello\n');
  assert.equal(statSync(logDir).mode & 0o777, 0o755 & ~process.umask());
});

test('unopenable file: one warning, entries to stderr, counted, retried after idle', (t) => {
  const dir = tempDir(t);
  const blocker = join(dir, 'blocker');
  writeFileSync(blocker, 'a file where the log dir should be');
  const err: string[] = [];
  const log = createLogger({ device: 'ttyS0', logDir: blocker, clock: new FakeClock(START), audit: 'none', stderr: (s) => err.push(s) });
  t.after(() => log.close());
  assert.doesNotThrow(() => {
    log.mesg('one');
    log.mesg('two');
  });
  assert.equal(err.length, 3);
  assert.match(err[0] ?? '', new RegExp(`cannot open log file ${blocker}/ttyS0\\.log: ENOTDIR`));
  assert.deepEqual(err.slice(1), ['11/21 19:30:00 yS0  one\n', '11/21 19:30:00 yS0  two\n']);
  assert.equal(log.droppedCount, 2);

  // Still broken: retried after idle, but no second warning.
  log.idle();
  log.mesg('three');
  assert.equal(err.length, 4);
  assert.equal(log.droppedCount, 3);

  rmSync(blocker);
  mkdirSync(blocker);
  log.idle();
  log.mesg('four');
  assert.equal(readFileSync(join(blocker, 'ttyS0.log'), 'utf8'), '11/21 19:30:00 yS0  four\n');
  assert.equal(err.length, 4);
  assert.equal(log.droppedCount, 3);
});

test('write failure (ENOSPC on /dev/full) falls back to stderr without throwing', () => {
  const err: string[] = [];
  const log = createLogger({ device: 'ttyS0', file: '/dev/full', clock: new FakeClock(START), audit: 'none', stderr: (s) => err.push(s) });
  try {
    log.mesg('lost');
    log.audit('kept');
    assert.match(err[0] ?? '', /cannot write log file \/dev\/full: ENOSPC/);
    assert.deepEqual(err.slice(1), ['11/21 19:30:00 yS0  lost\n', '11/21 19:30:00 ##### kept\n']);
    assert.equal(log.droppedCount, 2);
  } finally {
    log.close();
  }
});

test('idle lets rotation happen: the next entry goes to a fresh file', (t) => {
  const { log, dir } = setup(t);
  const path = join(dir, 'ttyS3.log');
  log.mesg('before');
  rmSync(path); // logrotate moved it away
  log.idle();
  log.mesg('after');
  assert.equal(readFileSync(path, 'utf8'), '11/21 19:30:00 yS3  after\n');
  rmSync(path);
  log.reopen(); // SIGHUP-style: the file exists again at once
  assert.equal(readFileSync(path, 'utf8'), '');
  log.mesg('again');
  assert.equal(readFileSync(path, 'utf8'), '11/21 19:30:00 yS3  again\n');
});

test('idle keeps the file open unless it was rotated; a rename (logrotate create) is noticed', (t) => {
  const { log, dir } = setup(t);
  const path = join(dir, 'ttyS3.log');
  log.mesg('one');
  const fdsBefore = readdirSync('/proc/self/fd').length;
  log.idle();
  log.mesg('two');
  assert.equal(readdirSync('/proc/self/fd').length, fdsBefore);
  assert.equal(readFileSync(path, 'utf8'), '11/21 19:30:00 yS3  one\n11/21 19:30:00 yS3  two\n');
  renameSync(path, `${path}.1`);
  log.mesg('three'); // not idle yet: still the open (renamed) file, as any appender would
  log.idle();
  log.mesg('four');
  assert.equal(readFileSync(`${path}.1`, 'utf8'), '11/21 19:30:00 yS3  one\n11/21 19:30:00 yS3  two\n11/21 19:30:00 yS3  three\n');
  assert.equal(readFileSync(path, 'utf8'), '11/21 19:30:00 yS3  four\n');
});

test('a throwing stderr or audit sink never reaches the caller', (t) => {
  const dir = tempDir(t);
  const boom = (): never => {
    throw new Error('stderr gone');
  };
  const log = createLogger({
    device: 'ttyS0', logDir: join(dir, 'f'), file: join(dir, 'nodir', 'x', '..', 'y', 'z'), audit: { write: boom }, stderr: boom,
  });
  t.after(() => log.close());
  writeFileSync(join(dir, 'nodir'), '');
  assert.doesNotThrow(() => {
    log.audit('a');
    log.error('e');
  });
  assert.equal(log.droppedCount, 2);
});

test('defer: the entries of one turn are written together at the deferred flush, in order, with their own times', (t) => {
  const jobs: (() => void)[] = [];
  const { log, read, clock, audit } = setup(t, { defer: (fn) => jobs.push(fn) });
  log.mesg('got RING');
  clock.advance(1000);
  log.audit('failed NO CARRIER');
  log.mesg('send: ATA');
  assert.equal(jobs.length, 1, 'one flush per batch');
  assert.throws(() => read(), /ENOENT/, 'nothing written before the flush');
  assert.equal(audit.length, 1, 'audit lines are not deferred');
  jobs[0]?.();
  assert.equal(read(), '11/21 19:30:00 yS3  got RING\n11/21 19:30:01 ##### failed NO CARRIER\n11/21 19:30:01 yS3  send: ATA\n');
  log.mesg('later');
  assert.equal(jobs.length, 2);
  log.close(); // close (and idle, reopen) write what is pending first
  assert.match(read(), /later\n$/);
  jobs[1]?.();
  assert.equal(read().match(/later/g)?.length, 1, 'the late turn finds nothing left');
});

test('defer: a file that cannot be written sends the whole batch to stderr, counted', (t) => {
  const jobs: (() => void)[] = [];
  const err: string[] = [];
  const log = createLogger({ device: 'ttyS0', file: '/dev/full', clock: new FakeClock(START), audit: 'none', stderr: (s) => err.push(s), defer: (fn) => jobs.push(fn) });
  t.after(() => log.close());
  log.mesg('a');
  log.mesg('b');
  jobs[0]?.();
  assert.match(err[0] ?? '', /ENOSPC/);
  assert.deepEqual(err.slice(1), ['11/21 19:30:00 yS0  a\n', '11/21 19:30:00 yS0  b\n']);
  assert.equal(log.droppedCount, 2);
});

test('defer: entries still pending when the process exits are written', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'x.log');
  const mod = new URL('./logger.js', import.meta.url).href;
  const code = `import(${JSON.stringify(mod)}).then((m) => {
    const log = m.createLogger({ device: 'ttyS0', file: ${JSON.stringify(file)}, audit: 'none', defer: (fn) => setTimeout(fn, 60000) });
    log.mesg('pending at exit');
    process.exit(3);
  });`;
  const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 3, r.stderr);
  assert.match(readFileSync(file, 'utf8'), /ttyS0|yS0  pending at exit\n$/);
});

test('batchedDeferral: the flushes of many loggers run together, once, after the delay', () => {
  const clock = new FakeClock(START);
  const defer = batchedDeferral(clock, 25);
  const ran: string[] = [];
  defer(() => ran.push('a'));
  clock.advance(10);
  defer(() => ran.push('b'));
  assert.equal(ran.join(), '', 'nothing before the delay');
  clock.advance(14);
  assert.equal(ran.join(), '');
  clock.advance(1);
  assert.equal(ran.join(), 'a,b', 'both, in order, 25 ms after the first');
  defer(() => ran.push('c'));
  clock.advance(25);
  assert.equal(ran.join(), 'a,b,c', 'a new batch after the last one ran');
});

test('batchedDeferral with loggers: entries of several lines reach their files in one batch, close() writes what is pending', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-logbatch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new FakeClock(START);
  const defer = batchedDeferral(clock, 25);
  const a = createLogger({ device: 'ttyS0', logDir: dir, clock, audit: 'none', defer });
  const b = createLogger({ device: 'ttyS1', logDir: dir, clock, audit: 'none', defer });
  a.mesg('one');
  b.mesg('two');
  const read = (dev: string): string => (existsSync(join(dir, `${dev}.log`)) ? readFileSync(join(dir, `${dev}.log`), 'utf8') : '');
  assert.equal(read('ttyS0'), '');
  clock.advance(25);
  assert.match(read('ttyS0'), /one/);
  assert.match(read('ttyS1'), /two/);
  a.mesg('three');
  a.close();
  assert.match(read('ttyS0'), /three/, 'close writes the pending entry at once');
  b.close();
});

test('a symlink or a FIFO planted as the line log in a log dir others can write: refused (entries to stderr), never written through, never blocking', (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'victim');
  writeFileSync(target, 'precious\n');
  symlinkSync(target, join(dir, 'ttyS1.log'));
  assert.equal(spawnSync('mkfifo', [join(dir, 'ttyS2.log')]).status, 0);
  // In a child with a time limit: open(O_WRONLY) of a FIFO without a reader blocks for good without O_NONBLOCK.
  const url = new URL('./logger.js', import.meta.url).href;
  const script = `const { createLogger } = await import(${JSON.stringify(url)});
    const err = [];
    for (const device of ['ttyS1', 'ttyS2']) {
      const log = createLogger({ device, logDir: process.argv[1], audit: 'none', stderr: (s) => err.push(s) });
      log.mesg('secret');
      log.close();
    }
    process.stdout.write(JSON.stringify(err));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, dir], { encoding: 'utf8', timeout: 10_000, killSignal: 'SIGKILL' });
  assert.equal(r.signal, null, `the child hung and was killed ${r.stderr}`);
  const err = JSON.parse(r.stdout) as string[];
  assert.match(err[0] ?? '', /cannot open log file .*ttyS1\.log: ELOOP/);
  assert.match(err[2] ?? '', /cannot open log file .*ttyS2\.log: (ENXIO|ENOTREG)/);
  assert.equal(readFileSync(target, 'utf8'), 'precious\n', 'nothing written through the link');
  assert.equal(err.filter((l) => l.includes('secret')).length, 2, 'the entries went to stderr');
});
