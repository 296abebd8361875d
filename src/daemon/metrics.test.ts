import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { isTgettyError } from '../core/errors.js';
import { LINE_STATUS_STATES } from './events.js';
import type { DaemonEvent } from './events.js';
import { Metrics, isLoopback, startMetricsServer } from './metrics.js';
import { INTERRUPTED } from '../fax/queue.js';

/** The sample lines of `name` (with labels) from the exposition text, as "labels value". */
function samples(text: string, name: string): string[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .map((l) => l.slice(name.length).trim());
}

function call(line: string, id: string, outcome: 'completed' | 'no-carrier', opts: { session?: boolean; ms?: number } = {}): DaemonEvent[] {
  const ev: DaemonEvent[] = [
    { type: 'call-start', line, callId: id, at: 1 },
    { type: 'call-caller', line, callId: id, at: 2, callerId: '0301234', callerName: 'A' },
    { type: 'call-answering', line, callId: id, at: 3, ringToAtaMs: opts.ms ?? 4 },
  ];
  if (opts.session === true) {
    ev.push({ type: 'call-connect', line, callId: id, at: 4, connect: '33600' });
    ev.push({ type: 'call-session', line, callId: id, at: 5, loginName: 'u', program: '/bin/login', pid: 77 });
  }
  ev.push({ type: 'call-end', line, callId: id, at: 6, outcome });
  return ev;
}

test('calls by outcome, answer latency, init failures and active sessions', async () => {
  const m = new Metrics();
  m.addLine('ttyS0');
  const evs = [...call('ttyS0', 'c1', 'completed', { session: true, ms: 3 }), ...call('ttyS0', 'c2', 'no-carrier', { ms: 40 })];
  // One more call that is mid-session when we look.
  const open = call('ttyS1', 'c3', 'completed', { session: true, ms: 700 }).slice(0, -1);
  for (const e of [...evs, ...open]) m.emit(e);
  m.emit({ type: 'modem-init', line: 'ttyS1', at: 9, ok: false, detail: 'no OK' });
  m.emit({ type: 'modem-init', line: 'ttyS1', at: 10, ok: true });

  const text = await m.text();
  const calls = samples(text, 'tgetty_calls_total');
  assert.ok(calls.includes('{line="ttyS0",outcome="completed"} 1'));
  assert.ok(calls.includes('{line="ttyS0",outcome="no-carrier"} 1'));
  assert.ok(calls.includes('{line="ttyS0",outcome="timeout"} 0'), 'addLine creates every outcome at 0');
  assert.ok(!calls.some((c) => c.includes('ttyS1')), 'the open call has not ended');

  const lat = samples(text, 'tgetty_answer_latency_seconds_bucket');
  assert.ok(lat.includes('{le="0.001"} 0'));
  assert.ok(lat.includes('{le="0.005"} 1'));
  assert.ok(lat.includes('{le="0.05"} 2'));
  assert.ok(lat.includes('{le="0.5"} 2'));
  assert.ok(lat.includes('{le="1"} 3'));
  assert.deepEqual(samples(text, 'tgetty_answer_latency_seconds_count'), ['3']);

  assert.deepEqual(samples(text, 'tgetty_modem_init_failures_total'), ['{line="ttyS0"} 0', '{line="ttyS1"} 1']);
  assert.deepEqual(samples(text, 'tgetty_sessions_active'), ['1']);
  m.emit({ type: 'call-end', line: 'ttyS1', callId: 'c3', at: 11, outcome: 'completed' });
  m.emit({ type: 'call-end', line: 'ttyS1', callId: 'c3', at: 12, outcome: 'completed' });
  assert.deepEqual(samples(await m.text(), 'tgetty_sessions_active'), ['0'], 'a repeated end never goes negative');
});

test('line state: 1 for the current state, 0 for every other; removed lines vanish', async () => {
  const m = new Metrics();
  m.emit({ type: 'line-state', line: 'ttyS0', state: 'initializing', at: 1 });
  m.emit({ type: 'line-state', line: 'ttyS0', state: 'idle', at: 2 });
  const st = samples(await m.text(), 'tgetty_line_state');
  assert.equal(st.length, LINE_STATUS_STATES.length);
  for (const s of LINE_STATUS_STATES) assert.ok(st.includes(`{line="ttyS0",state="${s}"} ${s === 'idle' ? 1 : 0}`), s);
  m.removeLine('ttyS0');
  const after = await m.text();
  assert.deepEqual(samples(after, 'tgetty_line_state'), []);
  assert.deepEqual(samples(after, 'tgetty_calls_total'), []);
});

test('the registry is private and process metrics are off by default', async () => {
  const a = new Metrics();
  const b = new Metrics();
  a.emit({ type: 'call-end', line: 'x', callId: '1', at: 1, outcome: 'denied' });
  assert.deepEqual(samples(await b.text(), 'tgetty_calls_total'), []);
  assert.equal(samples(await a.text(), 'process_cpu_user_seconds_total').length, 0);
  const c = new Metrics({ processMetrics: true });
  assert.equal(samples(await c.text(), 'process_cpu_user_seconds_total').length, 1);
});

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the HTTP server: GET /metrics only, on loopback', async (t) => {
  const m = new Metrics();
  m.emit({ type: 'line-state', line: 'ttyS0', state: 'idle', at: 1 });
  const srv = await startMetricsServer({ port: 0, metrics: m });
  t.after(() => srv.close());
  assert.ok(srv.port > 0);
  const ok = await get(srv.port, '/metrics');
  assert.equal(ok.status, 200);
  assert.match(ok.type ?? '', /^text\/plain; version=0\.0\.4/);
  assert.ok(ok.body.includes('tgetty_line_state{line="ttyS0",state="idle"} 1'));
  assert.ok(ok.body.includes('# HELP tgetty_calls_total'));
  assert.equal((await get(srv.port, '/metrics?x=1')).status, 200);
  const head = await get(srv.port, '/metrics', 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body, '');
  assert.equal((await get(srv.port, '/')).status, 404);
  assert.equal((await get(srv.port, '/metrics/x')).status, 404);
  assert.equal((await get(srv.port, '/metrics', 'POST')).status, 405);
});

test('a non-loopback address needs allowRemote; bad ports are refused', async () => {
  const m = new Metrics();
  await assert.rejects(startMetricsServer({ port: 0, host: '0.0.0.0', metrics: m }), (e: unknown) => isTgettyError(e, 'DAEMON_FAILED') && /non-loopback/.test(e.message));
  await assert.rejects(startMetricsServer({ port: 70000, metrics: m }), /bad port/);
  const srv = await startMetricsServer({ port: 0, host: '0.0.0.0', metrics: m, allowRemote: true });
  await srv.close();
});

test('isLoopback', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopback(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.1', 'example.org', '1127.0.0.1']) assert.equal(isLoopback(h), false, h);
});

test('fax: calls by how they ended, pages received, failures by hang-up code; a removed line loses its fax series', async () => {
  const m = new Metrics();
  m.addLine('ttyS0');
  let text = await m.text();
  assert.deepEqual(samples(text, 'tgetty_fax_calls_total'), ['{line="ttyS0",end="complete"} 0']);
  assert.deepEqual(samples(text, 'tgetty_fax_pages_total'), ['{line="ttyS0"} 0']);
  const fax = (id: string, pages: number, end: string, hangupCode: number): DaemonEvent => ({
    type: 'call-fax', line: 'ttyS0', callId: id, at: 1, fax: { pages, senderId: 'X', speed: 14400, resolution: 'fine', hangupCode, files: [], end },
  });
  m.emit(fax('f1', 3, 'complete', 0));
  m.emit(fax('f2', 2, 'carrier-lost', 70));
  m.emit(fax('f3', 0, 'spool-failed', -1));
  m.emit(fax('f4', 1, 'carrier-lost', 70));
  text = await m.text();
  assert.deepEqual(samples(text, 'tgetty_fax_calls_total').sort(), [
    '{line="ttyS0",end="carrier-lost"} 2',
    '{line="ttyS0",end="complete"} 1',
    '{line="ttyS0",end="spool-failed"} 1',
  ]);
  assert.deepEqual(samples(text, 'tgetty_fax_pages_total'), ['{line="ttyS0"} 6']);
  assert.deepEqual(samples(text, 'tgetty_fax_failures_total').sort(), ['{line="ttyS0",hangup_code="-1"} 1', '{line="ttyS0",hangup_code="70"} 2']);
  m.removeLine('ttyS0');
  text = await m.text();
  for (const name of ['tgetty_fax_calls_total', 'tgetty_fax_pages_total', 'tgetty_fax_failures_total']) assert.deepEqual(samples(text, name), [], name);
});

test('fax queue series: none without a queue; with one, jobs by state from the last look, and sent / failed / retries / interrupted from the tries', async () => {
  const plain = new Metrics();
  assert.equal(samples(await plain.text(), 'tgetty_fax_queue_jobs').length, 0, 'a daemon without --fax-queue exports none');
  const m = new Metrics();
  const q = m.faxQueue();
  let text = await m.text();
  assert.deepEqual(samples(text, 'tgetty_fax_queue_jobs'), ['{state="waiting"} 0', '{state="due"} 0', '{state="sending"} 0']);
  for (const n of ['sent', 'failed', 'retries', 'interrupted']) assert.deepEqual(samples(text, `tgetty_fax_queue_${n}_total`), ['0'], n);
  q.onScan({ waiting: 3, due: 1, sending: 2 });
  const tr = (status: 'queued' | 'done' | 'failed', meaning = 'BUSY') => ({ job: { status, history: [{ meaning }] } });
  q.onTry(tr('done'));
  q.onTry(tr('done'));
  q.onTry(tr('failed'));
  q.onTry(tr('queued'));
  q.onTry(tr('queued', INTERRUPTED));
  text = await m.text();
  assert.deepEqual(samples(text, 'tgetty_fax_queue_jobs'), ['{state="waiting"} 3', '{state="due"} 1', '{state="sending"} 2']);
  assert.deepEqual(['sent', 'failed', 'retries', 'interrupted'].map((n) => samples(text, `tgetty_fax_queue_${n}_total`)[0]), ['2', '1', '1', '1']);
});

test('a caller that polled our fax-server-file: counted as a fax call (polled), its pages are not received pages, not a failure', async () => {
  const m = new Metrics();
  m.addLine('ttyS1');
  const fax = (end: string, pages: number, hangupCode: number) => ({ pages, senderId: 'P', speed: 14400, resolution: 'fine' as const, hangupCode, files: [], end });
  m.emit({ type: 'call-fax', line: 'ttyS1', callId: 'c1', at: 1, fax: fax('polled', 2, 0) });
  m.emit({ type: 'call-fax', line: 'ttyS1', callId: 'c2', at: 2, fax: fax('poll-failed', 0, -1) });
  const text = await m.text();
  assert.deepEqual(samples(text, 'tgetty_fax_pages_total'), ['{line="ttyS1"} 0']);
  assert.ok(samples(text, 'tgetty_fax_calls_total').includes('{line="ttyS1",end="polled"} 1'));
  assert.deepEqual(samples(text, 'tgetty_fax_failures_total'), ['{line="ttyS1",hangup_code="-1"} 1']);
});
