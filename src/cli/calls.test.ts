import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import Database from 'better-sqlite3';
import { callsCommand, parseSince } from './calls.js';
import type { CallsOptions } from './calls.js';
import { CallRecords } from '../daemon/records.js';
import type { CallRow } from '../daemon/records.js';

// Local times in a zone with DST, so "local" really differs from UTC. Node re-reads TZ when it is set.
process.env.TZ = 'Europe/Berlin';

const T0 = Date.UTC(2026, 10, 21, 18, 0, 0); // 19:00 in Berlin (CET)
const HOUR = 3_600_000;

function tempDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-calls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function sampleDb(t: { after: (fn: () => void) => void }): string {
  const file = join(tempDir(t), 'calls.sqlite');
  const rec = CallRecords.open(file);
  try {
    rec.emit({ type: 'call-start', line: 'ttyS0', callId: 'a', at: T0 });
    rec.emit({ type: 'call-caller', line: 'ttyS0', callId: 'a', at: T0 + 900, callerId: '5551234', callerName: 'ALICE' });
    rec.emit({ type: 'call-connect', line: 'ttyS0', callId: 'a', at: T0 + 20_000, connect: '33600/ARQ' });
    rec.emit({ type: 'call-session', line: 'ttyS0', callId: 'a', at: T0 + 30_000, loginName: 'alice', program: '/bin/login', pid: 10 });
    rec.emit({ type: 'call-end', line: 'ttyS0', callId: 'a', at: T0 + 3_723_000, outcome: 'completed', exitStatus: 0 });

    rec.emit({ type: 'call-start', line: 'ttyS1', callId: 'b', at: T0 + 2 * HOUR });
    rec.emit({ type: 'call-caller', line: 'ttyS1', callId: 'b', at: T0 + 2 * HOUR + 500, callerId: '5559999', callerName: 'EVIL\x1b[2J' });
    rec.emit({ type: 'call-end', line: 'ttyS1', callId: 'b', at: T0 + 2 * HOUR + 1500, outcome: 'denied' });

    rec.emit({ type: 'call-start', line: 'ttyS1', callId: 'c', at: T0 + 3 * HOUR });
    rec.emit({ type: 'call-connect', line: 'ttyS1', callId: 'c', at: T0 + 3 * HOUR + 20_000, connect: '115200' });
    rec.emit({ type: 'call-session', line: 'ttyS1', callId: 'c', at: T0 + 3 * HOUR + 21_000, loginName: '/AutoPPP/', program: '/usr/sbin/pppd', pid: 11 });
    rec.emit({ type: 'call-end', line: 'ttyS1', callId: 'c', at: T0 + 3 * HOUR + 200_000, outcome: 'completed', signal: 'SIGHUP' });

    rec.emit({ type: 'call-start', line: 'ttyS0', callId: 'd', at: T0 + 4 * HOUR }); // still running
  } finally {
    rec.close();
  }
  return file;
}

function run(o: Partial<CallsOptions> & { records: string }): { code: number; out: string; err: string } {
  let out = '';
  let err = '';
  const code = callsCommand({ json: false, now: T0 + 5 * HOUR, out: (s) => (out += s), err: (s) => (err += s), ...o });
  return { code, out, err };
}

test('the table lists every call, newest first, with local times', (t) => {
  const r = run({ records: sampleDb(t) });
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '');
  const lines = r.out.trimEnd().split('\n');
  assert.equal(lines.length, 5);
  assert.deepEqual(lines[0].split(/\s+/), ['TIME', 'LINE', 'DURATION', 'OUTCOME', 'CALLER', 'NAME', 'CONNECT', 'LOGIN', 'PROGRAM', 'EXIT']);
  const cells = lines.slice(1).map((l) => l.split(/\s{2,}/));
  assert.deepEqual(cells, [
    ['2026-11-21 23:00:00', 'ttyS0', '-', 'unfinished', '-', '-', '-', '-', '-', '-'],
    ['2026-11-21 22:00:00', 'ttyS1', '3m 20s', 'completed', '-', '-', '115200', '/AutoPPP/', '/usr/sbin/pppd', 'SIGHUP'],
    ['2026-11-21 21:00:00', 'ttyS1', '2s', 'denied', '5559999', 'EVIL?[2J', '-', '-', '-', '-'],
    ['2026-11-21 19:00:00', 'ttyS0', '1h 2m', 'completed', '5551234', 'ALICE', '33600/ARQ', 'alice', '/bin/login', '0'],
  ]);
  // columns line up
  const at = lines[0].indexOf('OUTCOME');
  for (const l of lines.slice(1)) assert.match(l.slice(at), /^(unfinished|completed|denied)/);
});

test('--json prints the rows with times in ms since the epoch', (t) => {
  const r = run({ records: sampleDb(t), json: true });
  assert.equal(r.code, 0, r.err);
  const rows = JSON.parse(r.out) as CallRow[];
  assert.deepEqual(rows.map((x) => x.callId), ['d', 'c', 'b', 'a']);
  const a = rows[3];
  assert.equal(a.startedAt, T0);
  assert.equal(a.endedAt, T0 + 3_723_000);
  assert.equal(a.durationS, 3723);
  assert.equal(a.callerName, 'ALICE');
  assert.equal(a.exitStatus, 0);
  assert.equal(rows[2].callerName, 'EVIL\x1b[2J', 'JSON keeps the raw data');
  assert.equal(rows[0].outcome, null);
});

test('--line and --since filter, --limit cuts', (t) => {
  const file = sampleDb(t);
  const ids = (o: Partial<CallsOptions>): string[] => {
    const r = run({ records: file, json: true, ...o });
    assert.equal(r.code, 0, r.err);
    return (JSON.parse(r.out) as CallRow[]).map((x) => x.callId);
  };
  assert.deepEqual(ids({ line: 'ttyS1' }), ['c', 'b']);
  assert.deepEqual(ids({ line: '/dev/ttyS0' }), ['d', 'a']);
  assert.deepEqual(ids({ since: '2h' }), ['d', 'c']); // now = T0 + 5h
  assert.deepEqual(ids({ since: '2026-11-21T21:00' }), ['d', 'c', 'b'], 'local time, inclusive');
  assert.deepEqual(ids({ since: '2026-11-21T20:00:00Z' }), ['d', 'c', 'b']);
  assert.deepEqual(ids({ since: '2026-11-21' }), ['d', 'c', 'b', 'a']);
  assert.deepEqual(ids({ since: '2026-11-22' }), []);
  assert.deepEqual(ids({ line: 'ttyS0', since: '300m' }), ['d', 'a']);
  assert.deepEqual(ids({ limit: 1 }), ['d']);
  const none = run({ records: file, line: 'ttyS7' });
  assert.equal(none.code, 0);
  assert.equal(none.out, 'no calls match\n');
});

test('a bad --since or --limit is a usage error that says what is expected', (t) => {
  const file = sampleDb(t);
  for (const since of ['yesterday', '2026-13-01', '2026-02-30', '2026-11-21T25:00', '-5m', '5 minutes', '']) {
    const r = run({ records: file, since });
    assert.equal(r.code, 2, since);
    assert.equal(r.out, '');
    assert.match(r.err, /^tgetty calls: bad --since '.*': .*expected a date \(2026-11-21\)/, since);
  }
  const l = run({ records: file, limit: 0 });
  assert.equal(l.code, 2);
  assert.match(l.err, /bad --limit '0': expected/);
});

test('a missing file is an empty list, not a failure', (t) => {
  const file = join(tempDir(t), 'nothing', 'calls.sqlite');
  const r = run({ records: file });
  assert.equal(r.code, 0);
  assert.equal(r.out, '');
  assert.equal(r.err, `tgetty calls: no call records at ${file} yet\n`);
  const j = run({ records: file, json: true });
  assert.equal(j.code, 0);
  assert.equal(j.out, '[]\n');
});

test('a file that is not a tgetty database fails with a clear message', (t) => {
  const dir = tempDir(t);
  const text = join(dir, 'mgetty.config');
  writeFileSync(text, '# mgetty configuration\nport ttyS0\n  speed 38400\n'.repeat(50));
  const other = join(dir, 'other.db');
  const db = new Database(other);
  db.exec('CREATE TABLE t (x)');
  db.close();
  const empty = join(dir, 'empty.db');
  writeFileSync(empty, '');
  for (const [file, re] of [
    [text, /is not a tgetty call records database \(not an SQLite file\)/],
    [other, /is not a tgetty call records database \(tables: t\)/],
    [empty, /is not a tgetty call records database \(it is empty\)/],
  ] as const) {
    const r = run({ records: file });
    assert.equal(r.code, 1, file);
    assert.equal(r.out, '');
    assert.match(r.err, re);
  }
});

test('--since: an age counts back from now', () => {
  const unit = { s: 1000, m: 60_000, h: HOUR, d: 24 * HOUR, w: 7 * 24 * HOUR };
  fc.assert(
    fc.property(fc.nat(100_000), fc.constantFrom('s', 'm', 'h', 'd', 'w'), fc.boolean(), fc.integer({ min: 0, max: 4e12 }), (n, u, upper, now) => {
      const r = parseSince(`${n}${upper ? u.toUpperCase() : u}`, now);
      assert.deepEqual(r, { ok: true, ms: now - n * unit[u] });
    }),
  );
});

test('--since: an ISO time with Z or an offset is exact', () => {
  fc.assert(
    fc.property(
      fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('2999-12-31T23:59:59Z'), noInvalidDate: true }),
      fc.integer({ min: -14 * 60, max: 14 * 60 }),
      (d, offsetMin) => {
        assert.deepEqual(parseSince(d.toISOString(), 0), { ok: true, ms: d.getTime() });
        // the same instant written in another zone
        const local = new Date(d.getTime() + offsetMin * 60_000).toISOString().slice(0, 23);
        const sign = offsetMin < 0 ? '-' : '+';
        const abs = Math.abs(offsetMin);
        const zone = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
        assert.deepEqual(parseSince(local + zone, 0), { ok: true, ms: d.getTime() });
      },
    ),
  );
});

test('--since: a date and time without a zone is local time', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1971, max: 2100 }),
      fc.integer({ min: 1, max: 12 }),
      fc.integer({ min: 1, max: 28 }),
      fc.integer({ min: 0, max: 23 }),
      fc.integer({ min: 0, max: 59 }),
      fc.option(fc.integer({ min: 0, max: 59 }), { nil: undefined }),
      fc.constantFrom('T', ' '),
      (y, mo, d, h, mi, s, sep) => {
        const p = (n: number): string => String(n).padStart(2, '0');
        const text = `${y}-${p(mo)}-${p(d)}${sep}${p(h)}:${p(mi)}${s !== undefined ? `:${p(s)}` : ''}`;
        const r = parseSince(text, 0);
        assert.ok(r.ok, text);
        const t = new Date(r.ms);
        // A time in the spring-forward gap does not exist locally; it maps to a nearby instant.
        fc.pre(t.getHours() === h);
        assert.deepEqual([t.getFullYear(), t.getMonth() + 1, t.getDate(), t.getHours(), t.getMinutes(), t.getSeconds()], [y, mo, d, h, mi, s ?? 0], text);
        const day = parseSince(`${y}-${p(mo)}-${p(d)}`, 0);
        assert.ok(day.ok);
        assert.equal(new Date(day.ms).getDate(), d);
        assert.equal(new Date(day.ms).getHours(), 0, 'a date alone is its local midnight');
      },
    ),
  );
});

test('--since: anything else is rejected with what is expected', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 30 }), (s) => {
      fc.pre(!/^\s*\d{1,9}\s*[smhdw]\s*$/i.test(s) && !/^\s*\d{4}-\d{2}-\d{2}/.test(s));
      const r = parseSince(s, 0);
      assert.equal(r.ok, false, s);
      assert.ok(!r.ok && r.message.includes('expected a date'), s);
    }),
  );
  assert.equal(parseSince('2026-11-21Z', 0).ok, false, 'a zone needs a time');
  assert.equal(parseSince('2026-11-21T10:00+25:00', 0).ok, false);
  assert.equal(parseSince('2024-02-29', 0).ok, true, 'leap day');
  assert.equal(parseSince('2023-02-29', 0).ok, false);
});

test('fax calls: the sender id as the login, the pages (and how it broke off) as the program, the hang-up code as the exit', (t) => {
  const file = join(tempDir(t), 'calls.sqlite');
  const rec = CallRecords.open(file);
  try {
    const fax = (id: string, at: number, pages: number, end: string, code: number): void => {
      rec.emit({ type: 'call-start', line: 'ttyS2', callId: id, at });
      rec.emit({ type: 'call-connect', line: 'ttyS2', callId: id, at: at + 1000, connect: 'FAX' });
      rec.emit({ type: 'call-fax', line: 'ttyS2', callId: id, at: at + 60_000, fax: { pages, senderId: '+49 89 1234', speed: 9600, resolution: 'fine', hangupCode: code, files: [], end } });
      rec.emit({ type: 'call-end', line: 'ttyS2', callId: id, at: at + 61_000, outcome: end === 'complete' ? 'completed' : 'failed' });
    };
    fax('f1', T0, 1, 'complete', 0);
    fax('f2', T0 + HOUR, 2, 'carrier-lost', 70);
  } finally {
    rec.close();
  }
  const r = run({ records: file });
  assert.equal(r.code, 0, r.err);
  const cells = r.out.trimEnd().split('\n').slice(1).map((l) => l.split(/\s{2,}/));
  assert.deepEqual(cells.map((c) => c.slice(6)), [
    ['FAX', '+49 89 1234', 'fax (2 pages, carrier-lost)', 'FHNG 70'],
    ['FAX', '+49 89 1234', 'fax (1 page)', 'FHNG 0'],
  ]);
});
