import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, rmSync, writeFileSync, chmodSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseListen, startHttpStatus } from './server.js';
import { hashToken, loadTokenFile, parseHash } from './auth.js';
import { PeerPoller } from './peers.js';
import { buildSnapshot, isHostSnapshot, type HostSnapshot, type PoolView } from './snapshot.js';
import type { DaemonStatus } from '../events.js';
import type { CallRow } from '../record-store.js';
import { isTgettyError } from '../../core/errors.js';

const NOW = Date.UTC(2026, 10, 21, 18, 30, 0);

function status(state: 'idle' | 'in-session' = 'idle'): DaemonStatus {
  return {
    pid: 1, version: '0.1.0', startedAt: NOW - 60_000, configDir: '/etc/mgetty', configLoadedAt: NOW - 60_000,
    lines: [{ line: 'ttyS0', path: '/dev/ttyS0', state, since: NOW - 1000, calls: 1, failures: 0, ...(state === 'in-session' ? { call: { callId: 'x', startedAt: NOW, callerId: '555' } } : {}) }],
  };
}

function row(p: Partial<CallRow>): CallRow {
  return {
    id: 1, host: 'h', run: 'r', callId: 'c', line: 'ttyS0', startedAt: NOW, callerId: null, callerName: null, ringToAtaMs: null, connectAt: null, connect: null,
    sessionAt: null, loginName: null, program: null, pid: null, endedAt: null, durationS: null, outcome: null, exitStatus: null, signal: null, detail: null,
    faxPages: null, faxSenderId: null, faxSpeed: null, faxResolution: null, faxHangupCode: null, faxFiles: null, faxEnd: null, ...p,
  };
}

function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('parseListen: a bare port is loopback; addresses and [v6] work; junk is refused', () => {
  assert.deepEqual(parseListen('8080'), { host: '127.0.0.1', port: 8080 });
  assert.deepEqual(parseListen('0.0.0.0:80'), { host: '0.0.0.0', port: 80 });
  assert.deepEqual(parseListen('[::1]:9'), { host: '::1', port: 9 });
  for (const bad of ['', 'x', ':80', '1.2.3.4:', '1.2.3.4:99999', 'a:b:c']) assert.throws(() => parseListen(bad), /--http .*expected PORT or ADDRESS:PORT/, bad);
});

test('buildSnapshot: calls per hour by answered/failed, latency oldest first, the last calls', () => {
  const rows = [
    row({ callId: '3', startedAt: NOW - 10_000, outcome: null }),
    row({ callId: '2', startedAt: NOW - 3_600_000, connectAt: NOW - 3_590_000, ringToAtaMs: 40, outcome: 'completed' }),
    row({ callId: '1', startedAt: NOW - 3_700_000, ringToAtaMs: 70, outcome: 'no-carrier' }),
  ];
  const s = buildSnapshot({ host: 'pi1', status: status(), rows, now: NOW });
  assert.equal(s.callsPerHour.length, 24);
  assert.deepEqual(s.callsPerHour.slice(-2).map((h) => [h.answered, h.failed]), [[1, 1], [0, 0]], 'the running call counts in neither');
  assert.deepEqual(s.latency.map((p) => p.ms), [70, 40]);
  assert.equal(s.lastCalls.length, 3);
  assert.ok(isHostSnapshot(JSON.parse(JSON.stringify(s))));
  assert.equal(isHostSnapshot({ ...s, lines: [{ line: 1 }] }), false);
  assert.equal(isHostSnapshot('<html>'), false);
});

test('a non-loopback address without a token is refused; loopback serves the page read-only with a strict CSP', async () => {
  await assert.rejects(startHttpStatus({ host: '0.0.0.0', port: 0, snapshot: () => buildSnapshot({ host: 'h', status: status(), rows: [], now: NOW }) }), (err: unknown) => isTgettyError(err, 'CONFIG_INSECURE') && /needs a token/.test(err.message));
  const srv = await startHttpStatus({ host: '127.0.0.1', port: 0, snapshot: () => buildSnapshot({ host: 'h', status: status(), rows: [], now: NOW }) });
  try {
    const page = await get(srv.url);
    assert.equal(page.status, 200);
    assert.match(page.body, /<script src="\/app.js" defer><\/script>/);
    assert.doesNotMatch(page.body, /https?:\/\/(?!www\.w3\.org)/, 'nothing from the network');
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
    assert.equal((await get(`${srv.url}app.js`)).status, 200);
    assert.doesNotMatch((await get(`${srv.url}app.js`)).body, /innerHTML|https?:\/\/(?!www\.w3\.org)/);
    assert.equal((await get(srv.url, {}, 'POST')).status, 405);
    assert.equal((await get(`${srv.url}nope`)).status, 404);
    const host = JSON.parse((await get(`${srv.url}api/host`)).body) as HostSnapshot;
    assert.equal(host.host, 'h');
  } finally {
    await srv.close();
  }
});

test('/events: the first view at once, then one update soon after daemon events', async () => {
  let st = status();
  const srv = await startHttpStatus({ host: '127.0.0.1', port: 0, snapshot: () => buildSnapshot({ host: 'h', status: st, rows: [], now: NOW }) });
  const views: PoolView[] = [];
  const req = http.get(`${srv.url}events`);
  try {
    await new Promise<void>((resolve, reject) => {
      req.on('error', reject);
      req.on('response', (res) => {
        assert.match(String(res.headers['content-type']), /text\/event-stream/);
        let buf = '';
        res.on('data', (c: Buffer) => {
          buf += c.toString();
          for (let i = buf.indexOf('\n\n'); i >= 0; i = buf.indexOf('\n\n')) {
            const msg = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const data = /^data: (.*)$/m.exec(msg);
            if (data !== null) views.push(JSON.parse(data[1]) as PoolView);
            if (views.length === 1) {
              st = status('in-session');
              for (let k = 0; k < 5; k++) srv.sink.emit({ type: 'line-state', line: 'ttyS0', state: 'in-session', at: NOW });
            }
            if (views.length === 2) resolve();
          }
        });
      });
    });
    assert.equal(views[0].self.lines[0].state, 'idle');
    assert.equal(views[1].self.lines[0].state, 'in-session');
    assert.equal(views[1].self.lines[0].call?.callerId, '555');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(views.length, 2, 'five events within the window made one update');
  } finally {
    req.destroy();
    await srv.close();
  }
});

test('with a token: 401 (and a basic auth prompt) without it, in with Bearer or as the basic auth password; the hash file is checked', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-http-auth-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'auth');
  writeFileSync(file, `${hashToken('s3cret-token')}\n`, { mode: 0o600 });
  const srv = await startHttpStatus({ host: '127.0.0.1', port: 0, auth: loadTokenFile(file), snapshot: () => buildSnapshot({ host: 'h', status: status(), rows: [], now: NOW }) });
  try {
    const none = await get(srv.url);
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^Basic realm="tgetty"/);
    assert.equal((await get(srv.url, { authorization: 'Bearer wrong' })).status, 401);
    assert.equal((await get(srv.url, { authorization: 'Bearer s3cret-token' })).status, 200);
    assert.equal((await get(`${srv.url}api/host`, { authorization: `Basic ${Buffer.from('anyone:s3cret-token').toString('base64')}` })).status, 200);
    assert.equal((await get(`${srv.url}events`, { authorization: `Basic ${Buffer.from('x:nope').toString('base64')}` })).status, 401);
  } finally {
    await srv.close();
  }
  chmodSync(file, 0o666);
  assert.throws(() => loadTokenFile(file), /writable by group or others/);
  symlinkSync(file, join(dir, 'link'));
  assert.throws(() => loadTokenFile(join(dir, 'link')), /ELOOP|symbolic/);
  assert.throws(() => parseHash('plain-text-password', 'f'), /not a tgetty token hash/);
});

test('peers: a real one is shown, one answering garbage, one refusing and one not listening are unreachable with the reason', async () => {
  const real = await startHttpStatus({ host: '127.0.0.1', port: 0, snapshot: () => buildSnapshot({ host: 'pi2', status: status(), rows: [], now: NOW }) });
  const garbage = http.createServer((_req, res) => res.end('<html>hello</html>'));
  const wrongShape = http.createServer((_req, res) => res.end('{"v":1,"host":"x"}'));
  for (const s of [garbage, wrongShape]) await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const closedPort = await new Promise<number>((r) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => r(p));
    });
  });
  const port = (s: http.Server): number => (s.address() as net.AddressInfo).port;
  let changes = 0;
  const poller = new PeerPoller([real.url, `http://127.0.0.1:${port(garbage)}`, `http://u:pw@127.0.0.1:${port(wrongShape)}/`, `http://127.0.0.1:${closedPort}`], { onChange: () => changes++, intervalMs: 100 });
  try {
    poller.start();
    const deadline = Date.now() + 5000;
    while (poller.entries().some((e) => !e.ok && e.error === 'not asked yet') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const [a, b, c, d] = poller.entries();
    assert.ok(a.ok && a.snapshot.host === 'pi2', JSON.stringify(a));
    assert.deepEqual(b, { url: `http://127.0.0.1:${port(garbage)}`, ok: false, error: 'bad answer: not JSON (is it a tgetty --http?)' });
    assert.equal(!c.ok && c.error, 'bad answer: not a tgetty status');
    assert.equal(c.url, `http://127.0.0.1:${port(wrongShape)}`, 'credentials are not shown');
    assert.equal(!d.ok && d.error, 'connection refused');
    assert.ok(changes >= 4);
    assert.throws(() => new PeerPoller(['ftp://x'], { onChange: () => undefined }), /only http:\/\/ and https:\/\//);
  } finally {
    poller.stop();
    await real.close();
    for (const s of [garbage, wrongShape]) await new Promise<void>((r) => s.close(() => r()));
  }
});

test('peers that answer too much, too slowly, with an HTTP error or with a lookalike of the wrong types are unreachable with the reason', async () => {
  // An endless answer: 64 KB chunks until the poller gives up at PEER_MAX_BYTES.
  const flood = http.createServer((_req, res) => {
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const more = (): void => {
      while (!res.destroyed && res.write(chunk));
      if (!res.destroyed) res.once('drain', more);
    };
    more();
  });
  const held: http.ServerResponse[] = [];
  const silent = http.createServer((_req, res) => held.push(res));
  const error = http.createServer((_req, res) => {
    res.statusCode = 500;
    res.end('oops');
  });
  // Parses as JSON and names a host, but its lines are not a list of lines.
  const lookalike = http.createServer((_req, res) => res.end(JSON.stringify({ v: 1, host: 'x', lines: 'all fine', calls: [], charts: {} })));
  const servers = [flood, silent, error, lookalike];
  for (const s of servers) await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const url = (s: http.Server): string => `http://127.0.0.1:${(s.address() as net.AddressInfo).port}`;
  const poller = new PeerPoller(servers.map(url), { onChange: () => undefined, intervalMs: 100, timeoutMs: 500 });
  try {
    poller.start();
    const deadline = Date.now() + 10_000;
    while (poller.entries().some((e) => !e.ok && e.error === 'not asked yet') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const [a, b, c, d] = poller.entries().map((e) => (e.ok ? 'ok' : e.error));
    assert.match(a, /answer larger than 2097152 bytes/);
    assert.equal(b, 'no answer within 500 ms');
    assert.equal(c, 'answered HTTP 500');
    assert.equal(d, 'bad answer: not a tgetty status');
  } finally {
    poller.stop();
    for (const r of held) r.destroy();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
  }
});
