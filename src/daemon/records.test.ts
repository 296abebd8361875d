import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CallRecords, CallRecordsReader, RECORDS_SCHEMA_VERSION } from './records.js';
import type { CallRow } from './records.js';
import type { DaemonEvent } from './events.js';
import { isTgettyError } from '../core/errors.js';

const T0 = Date.UTC(2026, 10, 21, 18, 0, 0);
const RECORDS_URL = new URL('./records.js', import.meta.url).href;
const isRoot = process.getuid?.() === 0;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-records-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function has(program: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${program}`]).status === 0;
}

/** The events of four typical calls on two lines. */
function dayOfCalls(): DaemonEvent[] {
  return [
    // answered: a login session that ends normally
    { type: 'call-start', line: 'ttyS0', callId: 'c1', at: T0 },
    { type: 'call-caller', line: 'ttyS0', callId: 'c1', at: T0 + 900, callerId: '5551234', callerName: 'ALICE' },
    { type: 'call-answering', line: 'ttyS0', callId: 'c1', at: T0 + 6000, ringToAtaMs: 120 },
    { type: 'call-connect', line: 'ttyS0', callId: 'c1', at: T0 + 21_000, connect: '33600/ARQ/V34/LAPM/V42BIS' },
    { type: 'call-session', line: 'ttyS0', callId: 'c1', at: T0 + 30_000, loginName: 'alice', program: '/bin/login', pid: 4242 },
    { type: 'call-end', line: 'ttyS0', callId: 'c1', at: T0 + 754_500, outcome: 'completed', exitStatus: 0 },
    // denied by dialin.config
    { type: 'call-start', line: 'ttyS1', callId: 'c2', at: T0 + 60_000 },
    { type: 'call-caller', line: 'ttyS1', callId: 'c2', at: T0 + 61_000, callerId: '5559999', callerName: '' },
    { type: 'call-end', line: 'ttyS1', callId: 'c2', at: T0 + 61_500, outcome: 'denied', detail: 'dialin.config: !5559999' },
    // missed: the phone stopped ringing
    { type: 'call-start', line: 'ttyS1', callId: 'c3', at: T0 + 120_000 },
    { type: 'call-end', line: 'ttyS1', callId: 'c3', at: T0 + 128_000, outcome: 'missed' },
    // no carrier after ATA
    { type: 'call-start', line: 'ttyS0', callId: 'c4', at: T0 + 900_000 },
    { type: 'call-answering', line: 'ttyS0', callId: 'c4', at: T0 + 906_000, ringToAtaMs: 95 },
    { type: 'line-state', line: 'ttyS0', state: 'answering', at: T0 + 906_001 },
    { type: 'call-end', line: 'ttyS0', callId: 'c4', at: T0 + 966_000, outcome: 'no-carrier', detail: 'NO CARRIER' },
    // PPP session killed by a signal
    { type: 'call-start', line: 'ttyS1', callId: 'c5', at: T0 + 1_000_000 },
    { type: 'call-connect', line: 'ttyS1', callId: 'c5', at: T0 + 1_020_000, connect: '115200' },
    { type: 'call-session', line: 'ttyS1', callId: 'c5', at: T0 + 1_021_000, loginName: '/AutoPPP/', program: '/usr/sbin/pppd', pid: 777 },
    { type: 'modem-init', line: 'ttyS0', at: T0 + 1_030_000, ok: true },
    { type: 'call-end', line: 'ttyS1', callId: 'c5', at: T0 + 1_100_000, outcome: 'completed', exitStatus: null, signal: 'SIGHUP' },
  ];
}

function byCall(rows: CallRow[]): Map<string, CallRow> {
  return new Map(rows.map((r) => [r.callId, r]));
}

test('a realistic sequence of events gives one complete row per call', (t) => {
  const file = join(tempDir(t), 'calls.sqlite');
  const rec = CallRecords.open(file);
  try {
    for (const e of dayOfCalls()) rec.emit(e);
    assert.equal(rec.errorCount, 0);
    const rows = rec.query();
    assert.deepEqual(
      rows.map((r) => r.callId),
      ['c5', 'c4', 'c3', 'c2', 'c1'],
      'newest first, and line-state/modem-init events make no rows',
    );
    assert.deepEqual(rows.map((r) => r.id), [5, 4, 3, 2, 1], 'updates do not use up row ids');
    const c = byCall(rows);
    const { id: _id, run, ...c1 } = c.get('c1')!;
    assert.equal(run, rec.run);
    assert.deepEqual(c1, {
      host: rec.host,
      callId: 'c1',
      line: 'ttyS0',
      startedAt: T0,
      callerId: '5551234',
      callerName: 'ALICE',
      ringToAtaMs: 120,
      connectAt: T0 + 21_000,
      connect: '33600/ARQ/V34/LAPM/V42BIS',
      sessionAt: T0 + 30_000,
      loginName: 'alice',
      program: '/bin/login',
      pid: 4242,
      endedAt: T0 + 754_500,
      durationS: 754.5,
      outcome: 'completed',
      exitStatus: 0,
      signal: null,
      detail: null,
      faxPages: null,
      faxSenderId: null,
      faxSpeed: null,
      faxResolution: null,
      faxHangupCode: null,
      faxFiles: null,
      faxEnd: null,
    });
    const c2 = c.get('c2')!;
    assert.equal(c2.outcome, 'denied');
    assert.equal(c2.callerId, '5559999');
    assert.equal(c2.connectAt, null);
    assert.equal(c2.loginName, null);
    assert.equal(c2.detail, 'dialin.config: !5559999');
    assert.equal(c2.durationS, 1.5);
    const c3 = c.get('c3')!;
    assert.equal(c3.outcome, 'missed');
    assert.equal(c3.callerId, null);
    assert.equal(c3.durationS, 8);
    const c4 = c.get('c4')!;
    assert.equal(c4.outcome, 'no-carrier');
    assert.equal(c4.ringToAtaMs, 95);
    assert.equal(c4.connect, null);
    const c5 = c.get('c5')!;
    assert.equal(c5.loginName, '/AutoPPP/');
    assert.equal(c5.signal, 'SIGHUP');
    assert.equal(c5.exitStatus, null);

    assert.deepEqual(rec.query({ line: 'ttyS1' }).map((r) => r.callId), ['c5', 'c3', 'c2']);
    assert.deepEqual(rec.query({ since: T0 + 120_000 }).map((r) => r.callId), ['c5', 'c4', 'c3'], 'since is inclusive');
    assert.deepEqual(rec.query({ line: 'ttyS0', since: T0 + 1 }).map((r) => r.callId), ['c4']);
    assert.deepEqual(rec.query({ limit: 2 }).map((r) => r.callId), ['c5', 'c4']);
    assert.deepEqual(rec.query({ line: 'ttyS9' }), []);
  } finally {
    rec.close();
  }
});

test('every event is committed at once: another connection sees each change', (t) => {
  const file = join(tempDir(t), 'calls.sqlite');
  const rec = CallRecords.open(file);
  const reader = CallRecordsReader.open(file);
  try {
    const events = dayOfCalls().slice(0, 6);
    const seen: (string | number | null)[] = [];
    for (const e of events) {
      rec.emit(e);
      const [r] = reader.query();
      assert.ok(r !== undefined, `row visible after ${e.type}`);
      seen.push(
        e.type === 'call-start' ? r.startedAt : e.type === 'call-caller' ? r.callerId : e.type === 'call-answering' ? r.ringToAtaMs
          : e.type === 'call-connect' ? r.connect : e.type === 'call-session' ? r.pid : r.outcome,
      );
    }
    assert.deepEqual(seen, [T0, '5551234', 120, '33600/ARQ/V34/LAPM/V42BIS', 4242, 'completed']);
  } finally {
    reader.close();
    rec.close();
  }
});

test('the file is created 0640 in a 0750 directory, in WAL mode, with a schema version', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'var', 'lib', 'tgetty', 'calls.sqlite');
  const old = process.umask(0o022);
  let rec: CallRecords;
  try {
    rec = CallRecords.open(file);
  } finally {
    process.umask(old);
  }
  try {
    rec.emit({ type: 'call-start', line: 'ttyS0', callId: 'x', at: T0 });
    assert.equal(statSync(file).mode & 0o777, 0o640);
    assert.equal(statSync(join(dir, 'var', 'lib', 'tgetty')).mode & 0o777, 0o750);
    assert.equal(statSync(`${file}-wal`).mode & 0o777, 0o640, 'SQLite gives the WAL the mode of the database');
  } finally {
    rec.close();
  }
  const db = new Database(file, { readonly: true });
  try {
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.deepEqual(
      db.prepare('SELECT version FROM schema_version ORDER BY version').all(),
      Array.from({ length: RECORDS_SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })),
    );
  } finally {
    db.close();
  }
});

test('reopening keeps the rows and the schema; a new run never updates the old run\'s calls', (t) => {
  const file = join(tempDir(t), 'calls.sqlite');
  const a = CallRecords.open(file);
  a.emit({ type: 'call-start', line: 'ttyS0', callId: 'ttyS0-1', at: T0 });
  a.close();
  const b = CallRecords.open(file);
  try {
    // A restarted daemon counts its call ids from the beginning again.
    b.emit({ type: 'call-start', line: 'ttyS0', callId: 'ttyS0-1', at: T0 + 5000 });
    b.emit({ type: 'call-end', line: 'ttyS0', callId: 'ttyS0-1', at: T0 + 7000, outcome: 'missed' });
    const rows = b.query();
    assert.equal(rows.length, 2);
    assert.notEqual(rows[0].run, rows[1].run);
    assert.equal(rows[0].outcome, 'missed');
    assert.equal(rows[0].durationS, 2);
    assert.equal(rows[1].outcome, null, 'the old run\'s call stays unfinished');
  } finally {
    b.close();
  }
  const db = new Database(file, { readonly: true });
  try {
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM schema_version').get() as { n: number }).n, RECORDS_SCHEMA_VERSION, 'migrations ran once');
  } finally {
    db.close();
  }
});

test('an event for an unknown call still makes a row', (t) => {
  const file = join(tempDir(t), 'calls.sqlite');
  const rec = CallRecords.open(file);
  try {
    rec.emit({ type: 'call-connect', line: 'ttyS2', callId: 'lost', at: T0 + 3000, connect: '9600' });
    rec.emit({ type: 'call-end', line: 'ttyS2', callId: 'gone', at: T0 + 9000, outcome: 'failed', detail: 'boom' });
    rec.emit({ type: 'call-end', line: 'ttyS2', callId: 'lost', at: T0 + 8000, outcome: 'hangup' });
    assert.equal(rec.errorCount, 0);
    const c = byCall(rec.query());
    assert.equal(c.get('lost')!.startedAt, T0 + 3000, 'the first event seen stands in for the start');
    assert.equal(c.get('lost')!.connect, '9600');
    assert.equal(c.get('lost')!.durationS, 5);
    assert.equal(c.get('gone')!.startedAt, T0 + 9000);
    assert.equal(c.get('gone')!.durationS, 0);
    assert.equal(c.get('gone')!.outcome, 'failed');
  } finally {
    rec.close();
  }
});

test('events after close() are ignored, not thrown', (t) => {
  const file = join(tempDir(t), 'calls.sqlite');
  const rec = CallRecords.open(file);
  rec.close();
  rec.emit({ type: 'call-start', line: 'ttyS0', callId: 'late', at: T0 });
  rec.close();
  const r = CallRecordsReader.open(file);
  try {
    assert.deepEqual(r.query(), []);
  } finally {
    r.close();
  }
});

test('a reader holding a snapshot does not block the writer (WAL)', (t) => {
  const file = join(tempDir(t), 'calls.sqlite');
  // busy timeout 0: any lock conflict would fail at once and be counted.
  const rec = CallRecords.open(file, { busyTimeoutMs: 0 });
  const reader = new Database(file, { readonly: true });
  try {
    rec.emit({ type: 'call-start', line: 'ttyS0', callId: 'a', at: T0 });
    reader.exec('BEGIN');
    const count = reader.prepare('SELECT COUNT(*) AS n FROM calls');
    assert.equal((count.get() as { n: number }).n, 1);
    for (const e of dayOfCalls()) rec.emit(e);
    assert.equal(rec.errorCount, 0, String(rec.lastError));
    assert.equal((count.get() as { n: number }).n, 1, 'the reader keeps its snapshot');
    reader.exec('COMMIT');
    assert.equal((count.get() as { n: number }).n, 6);
  } finally {
    reader.close();
    rec.close();
  }
});

test('a locked database: errors are counted and logged once, never thrown; writing resumes', (t) => {
  const file = join(tempDir(t), 'calls.sqlite');
  const logs: string[] = [];
  const rec = CallRecords.open(file, { busyTimeoutMs: 0, log: { error: (m) => logs.push(m) } });
  const other = new Database(file);
  try {
    rec.emit({ type: 'call-start', line: 'ttyS0', callId: 'a', at: T0 });
    other.exec('BEGIN IMMEDIATE'); // someone else holds the write lock
    const during = dayOfCalls().filter((e) => e.type.startsWith('call-')).slice(1, 5);
    for (const e of during) assert.doesNotThrow(() => rec.emit(e));
    assert.equal(rec.errorCount, during.length);
    assert.match(rec.lastError ?? '', /locked|busy/i);
    assert.equal(logs.length, 1, 'one log entry per failure streak');
    assert.match(logs[0], /cannot record call-caller/);
    other.exec('COMMIT');
    rec.emit({ type: 'call-session', line: 'ttyS0', callId: 'a', at: T0 + 9000, loginName: 'bob', program: '/bin/login', pid: 5 });
    assert.equal(rec.errorCount, during.length);
    assert.equal(logs.length, 2);
    assert.match(logs[1], /writing again after 4 failed/);
    const [row] = rec.query();
    assert.equal(row.loginName, 'bob');
    assert.equal(row.connect, null, 'the lost update stays lost, the row is still usable');
  } finally {
    other.close();
    rec.close();
  }
});

test('open refuses files that are not tgetty records, and schemas from the future', (t) => {
  const dir = tempDir(t);
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'this is not a database, but it is long enough to have a header of some sort.\n'.repeat(20));
  const other = join(dir, 'other.sqlite');
  const db = new Database(other);
  db.exec('CREATE TABLE people (name TEXT)');
  db.close();
  const future = join(dir, 'future.sqlite');
  CallRecords.open(future).close();
  const f = new Database(future);
  f.exec('INSERT INTO schema_version (version, applied_at) VALUES (99, 0)');
  f.close();

  for (const [file, re] of [
    [text, /not a database|not a tgetty/],
    [other, /not a tgetty call records database \(tables: people\)/],
    [future, /schema 99, newer than this tgetty knows/],
  ] as const) {
    assert.throws(() => CallRecords.open(file), (err) => isTgettyError(err, 'RECORDS_FAILED') && re.test(err.message), file);
    assert.throws(() => CallRecordsReader.open(file), (err) => isTgettyError(err, 'RECORDS_FAILED') && re.test(err.message), file);
  }
  const check = new Database(other, { readonly: true });
  try {
    assert.deepEqual(
      check.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all(),
      [{ name: 'people' }],
      'a foreign database is left untouched',
    );
  } finally {
    check.close();
  }
  assert.throws(
    () => CallRecordsReader.open(join(dir, 'missing.sqlite')),
    (err) => isTgettyError(err, 'RECORDS_FAILED') && err.context.missing === true,
  );
  assert.equal(existsSync(join(dir, 'missing.sqlite')), false, 'the reader never creates the file');
});

test('records survive a SIGKILL of the writer right after call-connect', async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'calls.sqlite');
  const script = `
    const { CallRecords } = await import(${JSON.stringify(RECORDS_URL)});
    const rec = CallRecords.open(${JSON.stringify(file)});
    rec.emit({ type: 'call-start', line: 'ttyS0', callId: 'k', at: ${T0} });
    rec.emit({ type: 'call-caller', line: 'ttyS0', callId: 'k', at: ${T0 + 1000}, callerId: '42', callerName: 'BOB' });
    rec.emit({ type: 'call-connect', line: 'ttyS0', callId: 'k', at: ${T0 + 20_000}, connect: '28800' });
    process.stdout.write('connected ' + rec.errorCount + '\\n');
    setInterval(() => undefined, 60_000); // wait for the kill
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  try {
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const line = await new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('\n')) resolve(out.trim());
      });
      child.on('exit', () => reject(new Error(`writer exited early: ${stderr}`)));
    });
    assert.equal(line, 'connected 0');
    child.kill('SIGKILL');
    assert.deepEqual(await exited, { code: null, signal: 'SIGKILL' });
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }
  assert.ok(existsSync(`${file}-wal`), 'the rows are in the un-checkpointed WAL: a real crash, not a clean close');
  const reader = CallRecordsReader.open(file);
  try {
    const [row, ...rest] = reader.query();
    assert.equal(rest.length, 0);
    assert.equal(row.callerName, 'BOB');
    assert.equal(row.connect, '28800');
    assert.equal(row.connectAt, T0 + 20_000);
    assert.equal(row.endedAt, null);
    assert.equal(row.outcome, null);
  } finally {
    reader.close();
  }
  const rec = CallRecords.open(file); // the next daemon recovers the WAL and writes on
  try {
    rec.emit({ type: 'call-start', line: 'ttyS0', callId: 'k', at: T0 + 100_000 });
    assert.equal(rec.errorCount, 0);
    assert.equal(rec.query().length, 2);
  } finally {
    rec.close();
  }
});

/** Run a node ESM script inside a private mount namespace with a fresh tmpfs on `dir`. */
function inTmpfs(dir: string, tmpfsOpts: string, script: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(
    'unshare',
    ['-m', 'sh', '-c', 'mount -t tmpfs -o "$1" tmpfs "$2" && exec "$3" --input-type=module -e "$4"', 'sh', tmpfsOpts, dir, process.execPath, script],
    { encoding: 'utf8', timeout: 60_000 },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('a full disk: emit never throws, errors are counted, the row is completed once space is back', (t) => {
  if (!isRoot) return t.skip('needs root for a tmpfs in a private mount namespace');
  if (!has('unshare')) return t.skip('unshare not installed');
  const dir = tempDir(t);
  const script = `
    import { openSync, writeSync, closeSync, rmSync } from 'node:fs';
    const { CallRecords } = await import(${JSON.stringify(RECORDS_URL)});
    const logs = [];
    const file = ${JSON.stringify(join(dir, 'lib', 'calls.sqlite'))};
    const rec = CallRecords.open(file, { log: { error: (m) => logs.push(m) } });
    rec.emit({ type: 'call-start', line: 'ttyS0', callId: 'f', at: ${T0} });
    const filler = ${JSON.stringify(join(dir, 'filler'))};
    const fd = openSync(filler, 'w');
    const block = Buffer.alloc(4096, 120);
    try { for (;;) writeSync(fd, block); } catch (e) { if (e.code !== 'ENOSPC') throw e; }
    closeSync(fd);
    const thrown = [];
    for (let i = 0; i < 3; i++) {
      try {
        rec.emit({ type: 'call-caller', line: 'ttyS0', callId: 'f', at: ${T0} + i, callerId: 'x'.repeat(5000) + i, callerName: 'N' });
      } catch (e) { thrown.push(String(e)); }
    }
    const full = { errors: rec.errorCount, last: rec.lastError };
    rmSync(filler);
    rec.emit({ type: 'call-end', line: 'ttyS0', callId: 'f', at: ${T0 + 4000}, outcome: 'hangup' });
    const rows = rec.query();
    rec.close();
    process.stdout.write(JSON.stringify({ full, thrown, errors: rec.errorCount, logs, rows }));
  `;
  const r = inTmpfs(dir, 'size=256k', script);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { full: { errors: number; last: string }; thrown: string[]; errors: number; logs: string[]; rows: CallRow[] };
  assert.deepEqual(out.thrown, []);
  assert.equal(out.full.errors, 3);
  assert.match(out.full.last, /full|disk/i);
  assert.equal(out.errors, 3, 'the end event after the disk was freed succeeded');
  assert.equal(out.logs.length, 2, 'one entry for the failure streak, one for the recovery');
  assert.equal(out.rows.length, 1);
  assert.equal(out.rows[0].outcome, 'hangup');
  assert.equal(out.rows[0].callerId, null);
});

test('a read-only file system: the writer refuses to open with a clear error; the reader still reads', (t) => {
  if (!isRoot) return t.skip('needs root for a read-only tmpfs in a private mount namespace');
  if (!has('unshare')) return t.skip('unshare not installed');
  const dir = tempDir(t);
  const script = `
    import { execFileSync } from 'node:child_process';
    const { CallRecords, CallRecordsReader } = await import(${JSON.stringify(RECORDS_URL)});
    const file = ${JSON.stringify(join(dir, 'calls.sqlite'))};
    const rec = CallRecords.open(file);
    rec.emit({ type: 'call-start', line: 'ttyS3', callId: 'r', at: ${T0} });
    rec.emit({ type: 'call-end', line: 'ttyS3', callId: 'r', at: ${T0 + 2000}, outcome: 'missed' });
    rec.close();
    execFileSync('mount', ['-o', 'remount,ro', ${JSON.stringify(dir)}]);
    let openError = null;
    try { CallRecords.open(file).close(); } catch (e) { openError = { code: e.code, message: e.message }; }
    let fresh = null;
    try { CallRecords.open(${JSON.stringify(join(dir, 'new', 'calls.sqlite'))}).close(); } catch (e) { fresh = { code: e.code, message: e.message }; }
    const reader = CallRecordsReader.open(file);
    const rows = reader.query();
    reader.close();
    process.stdout.write(JSON.stringify({ openError, fresh, rows }));
  `;
  const r = inTmpfs(dir, 'size=1m', script);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { openError: { code: string; message: string }; fresh: { code: string; message: string }; rows: CallRow[] };
  assert.equal(out.openError.code, 'RECORDS_FAILED');
  assert.match(out.openError.message, /cannot open call records .*calls\.sqlite/);
  assert.equal(out.fresh.code, 'RECORDS_FAILED');
  assert.match(out.fresh.message, /read-only/i);
  assert.deepEqual(out.rows.map((x) => [x.callId, x.outcome]), [['r', 'missed']]);
});

test('a user who may not write the directory can still read a closed WAL file', (t) => {
  if (!isRoot) return t.skip('needs root to switch to an unprivileged user');
  if (!has('setpriv')) return t.skip('setpriv not installed');
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const file = join(dir, 'calls.sqlite');
  const rec = CallRecords.open(file);
  rec.emit({ type: 'call-start', line: 'ttyS0', callId: 'n', at: T0 });
  rec.close();
  chmodSync(file, 0o644); // stands in for group read access
  const script = `
    const { CallRecordsReader } = await import(${JSON.stringify(RECORDS_URL)});
    const r = CallRecordsReader.open(${JSON.stringify(file)});
    process.stdout.write(JSON.stringify(r.query().map((x) => x.callId)));
    r.close();
  `;
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0 && /EACCES|permission denied/i.test(r.stderr) && !r.stderr.includes('calls.sqlite')) {
    return t.skip('the build is not readable by nobody');
  }
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '["n"]');
  assert.equal(existsSync(`${file}-shm`), false, 'the reader left nothing behind');
});

test('a schema 1 file (before the pool) is upgraded in place: old rows kept with no host, new rows get one', (t) => {
  const file = join(tempDir(t), 'calls.sqlite');
  const v1 = new Database(file);
  v1.exec(`CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at INTEGER NOT NULL);
    INSERT INTO schema_version VALUES (1, 0);
    CREATE TABLE calls (id INTEGER PRIMARY KEY, run TEXT NOT NULL, call_id TEXT NOT NULL, line TEXT NOT NULL, started_at INTEGER NOT NULL,
      caller_id TEXT, caller_name TEXT, ring_to_ata_ms INTEGER, connect_at INTEGER, connect TEXT, session_at INTEGER, login_name TEXT,
      program TEXT, pid INTEGER, ended_at INTEGER, duration_s REAL, outcome TEXT, exit_status INTEGER, signal TEXT, detail TEXT, UNIQUE (run, call_id));
    INSERT INTO calls (run, call_id, line, started_at) VALUES ('old', '1', 'ttyS0', ${T0});`);
  v1.close();
  const rec = CallRecords.open(file, { host: 'pi7' });
  try {
    rec.emit({ type: 'call-start', line: 'ttyS1', callId: '1', at: T0 + 1000 });
    assert.deepEqual(rec.query().map((r) => [r.run === rec.run ? 'new' : r.run, r.host]), [['new', 'pi7'], ['old', null]]);
    assert.deepEqual(rec.outbox().count(), { events: 0, calls: 0 });
  } finally {
    rec.close();
  }
});

test('a schema 2 file (before fax rows) is upgraded in place: old rows get no fax columns, a fax call fills them', (t) => {
  const file = join(tempDir(t), 'calls.sqlite');
  const v2 = new Database(file);
  v2.exec(`CREATE TABLE schema_version (version INTEGER NOT NULL, applied_at INTEGER NOT NULL);
    INSERT INTO schema_version VALUES (1, 0), (2, 0);
    CREATE TABLE calls (id INTEGER PRIMARY KEY, run TEXT NOT NULL, call_id TEXT NOT NULL, line TEXT NOT NULL, started_at INTEGER NOT NULL,
      caller_id TEXT, caller_name TEXT, ring_to_ata_ms INTEGER, connect_at INTEGER, connect TEXT, session_at INTEGER, login_name TEXT,
      program TEXT, pid INTEGER, ended_at INTEGER, duration_s REAL, outcome TEXT, exit_status INTEGER, signal TEXT, detail TEXT, host TEXT,
      UNIQUE (run, call_id));
    CREATE TABLE outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, run TEXT NOT NULL, call_id TEXT NOT NULL, op TEXT NOT NULL);
    INSERT INTO calls (run, call_id, line, started_at, host) VALUES ('old', '1', 'ttyS0', ${T0}, 'pi7');`);
  v2.close();
  const rec = CallRecords.open(file, { host: 'pi7' });
  try {
    rec.emit({ type: 'call-start', line: 'ttyS1', callId: '1', at: T0 + 1000 });
    rec.emit({
      type: 'call-fax',
      line: 'ttyS1',
      callId: '1',
      at: T0 + 60_000,
      fax: { pages: 2, senderId: '+49 89 1234', speed: 14400, resolution: 'fine', hangupCode: 0, files: ['/sp/a.01', '/sp/a.02', '/sp/a.pdf'], end: 'complete' },
    });
    const rows = rec.query();
    assert.deepEqual(
      rows.map((r) => [r.run === rec.run ? 'new' : r.run, r.faxPages, r.faxSenderId, r.faxSpeed, r.faxResolution, r.faxHangupCode, r.faxFiles, r.faxEnd]),
      [
        ['new', 2, '+49 89 1234', 14400, 'fine', 0, ['/sp/a.01', '/sp/a.02', '/sp/a.pdf'], 'complete'],
        ['old', null, null, null, null, null, null, null],
      ],
    );
    assert.deepEqual(rec.query({ fax: true }).map((r) => r.callId), ['1']);
  } finally {
    rec.close();
  }
  const db = new Database(file, { readonly: true });
  try {
    assert.deepEqual(db.prepare('SELECT version FROM schema_version ORDER BY version').all(), [{ version: 1 }, { version: 2 }, { version: 3 }]);
  } finally {
    db.close();
  }
});
