import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, linkSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../core/clock.js';
import { isTgettyError } from '../core/errors.js';
import type { DaemonStatus } from './events.js';
import { MAX_REQUEST_BYTES, queryDaemon, startStatusServer, statusSocketPath } from './status-server.js';
import type { StatusHandlers } from './status-server.js';

const STATUS: DaemonStatus = {
  pid: 4242,
  version: '0.1.0',
  startedAt: 1_000,
  configDir: '/etc/mgetty',
  configLoadedAt: 2_000,
  lines: [{ line: 'ttyS3', path: '/dev/ttyS3', state: 'idle', since: 3_000, calls: 2, failures: 0 }],
};

function tempDir(t: { after(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'tgetty-status-'));
  t.after(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

const handlers = (over: Partial<StatusHandlers> = {}): StatusHandlers => ({
  status: () => STATUS,
  reload: () => Promise.resolve({ ok: true, errors: [] }),
  ...over,
});

/** Send raw bytes on a fresh connection; collect every response line until the server closes or `lines` arrive. */
function raw(path: string, data: string, lines: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(path);
    let buf = '';
    const done = (): void => {
      s.destroy();
      resolve(buf.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown));
    };
    s.setEncoding('utf8');
    s.on('connect', () => s.write(data));
    s.on('data', (c: string) => {
      buf += c;
      if (buf.split('\n').length - 1 >= lines) done();
    });
    s.on('end', done);
    s.on('error', reject);
  });
}

test('status and reload round-trip through the socket, which is created 0600 in a new run dir', async (t) => {
  const runDir = join(tempDir(t), 'run', 'tgetty');
  let reloads = 0;
  const srv = await startStatusServer({ runDir, handlers: handlers({ reload: () => Promise.resolve({ ok: ++reloads > 0, errors: [] }) }) });
  t.after(() => srv.close());
  assert.equal(srv.path, statusSocketPath(runDir));
  assert.equal(statSync(srv.path).mode & 0o777, 0o600);
  assert.equal(statSync(runDir).mode & 0o777, 0o755);
  assert.deepEqual(await queryDaemon(runDir, { cmd: 'status' }), { ok: true, status: STATUS });
  assert.deepEqual(await queryDaemon(runDir, { cmd: 'reload' }), { ok: true, reload: { ok: true, errors: [] } });
  assert.equal(reloads, 1);
});

test('a rejected reload answers ok:false with the errors', async (t) => {
  const runDir = tempDir(t);
  const srv = await startStatusServer({
    runDir,
    handlers: handlers({ reload: () => Promise.resolve({ ok: false, errors: ['mgetty.config:3: unknown keyword "rigns"'] }) }),
  });
  t.after(() => srv.close());
  const r = await queryDaemon(runDir, { cmd: 'reload' });
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.reload !== undefined);
  assert.deepEqual(r.reload.errors, ['mgetty.config:3: unknown keyword "rigns"']);
});

test('handler exceptions become error responses and the server keeps serving', async (t) => {
  const runDir = tempDir(t);
  const srv = await startStatusServer({
    runDir,
    handlers: handlers({
      status: () => {
        throw new Error('board broken');
      },
      reload: () => Promise.reject(new Error('disk gone')),
    }),
  });
  t.after(() => srv.close());
  assert.deepEqual(await queryDaemon(runDir, { cmd: 'status' }), { ok: false, error: 'status failed: board broken' });
  assert.deepEqual(await queryDaemon(runDir, { cmd: 'reload' }), { ok: false, error: 'reload failed: disk gone' });
});

test('bad requests get error lines; several requests on one connection are answered in order', async (t) => {
  const runDir = tempDir(t);
  const srv = await startStatusServer({ runDir, handlers: handlers() });
  t.after(() => srv.close());
  const r = await raw(srv.path, 'nonsense\n[1]\n{"cmd":"reboot"}\n\n{"cmd":"status"}\n', 4);
  assert.deepEqual(r, [
    { ok: false, error: 'bad request: not JSON' },
    { ok: false, error: 'bad request: expected {"cmd": "status" | "reload"}' },
    { ok: false, error: 'unknown command "reboot"' },
    { ok: true, status: STATUS },
  ]);
});

test('requests split into arbitrary chunks are reassembled', async (t) => {
  const runDir = tempDir(t);
  const srv = await startStatusServer({ runDir, handlers: handlers() });
  t.after(() => srv.close());
  const req = '{"cmd":"status"}\n';
  for (let cut = 1; cut < req.length; cut++) {
    const got = await new Promise<string>((resolve, reject) => {
      const s = net.createConnection(srv.path);
      s.setNoDelay?.(true);
      let buf = '';
      s.setEncoding('utf8');
      s.on('connect', () => {
        s.write(req.slice(0, cut), () => s.write(req.slice(cut)));
      });
      s.on('data', (c: string) => {
        buf += c;
        if (buf.endsWith('\n')) {
          s.destroy();
          resolve(buf);
        }
      });
      s.on('error', reject);
    });
    assert.deepEqual(JSON.parse(got), { ok: true, status: STATUS }, `split at ${cut}`);
  }
});

test('an oversized request is refused and the connection closed, without crashing the server', async (t) => {
  const runDir = tempDir(t);
  const srv = await startStatusServer({ runDir, handlers: handlers() });
  t.after(() => srv.close());
  const r = await raw(srv.path, 'x'.repeat(MAX_REQUEST_BYTES + 10), 1);
  assert.deepEqual(r, [{ ok: false, error: `request too long (over ${MAX_REQUEST_BYTES} bytes)` }]);
  assert.deepEqual(await queryDaemon(runDir, { cmd: 'status' }), { ok: true, status: STATUS });
});

test('a stale socket is replaced; a live one or a plain file is left alone', async (t) => {
  const runDir = tempDir(t);
  // Stale: what a daemon killed with SIGKILL leaves behind. A hard link keeps the socket
  // inode after its listener closes (net.Server unlinks only its own name).
  const stale = net.createServer();
  const first = join(runDir, 'first.sock');
  await new Promise<void>((r) => stale.listen(first, r));
  linkSync(first, statusSocketPath(runDir));
  await new Promise<void>((r) => stale.close(() => r()));
  assert.ok(existsSync(statusSocketPath(runDir)));
  const srv = await startStatusServer({ runDir, handlers: handlers() });
  assert.deepEqual(await queryDaemon(runDir, { cmd: 'status' }), { ok: true, status: STATUS });

  await assert.rejects(startStatusServer({ runDir, handlers: handlers() }), (e: unknown) => isTgettyError(e, 'DAEMON_FAILED') && /another tgetty daemon/.test(e.message));
  await srv.close();
  assert.equal(existsSync(srv.path), false, 'close removes the socket');

  writeFileSync(statusSocketPath(runDir), 'not a socket');
  await assert.rejects(startStatusServer({ runDir, handlers: handlers() }), /is not a socket/);
  assert.ok(existsSync(statusSocketPath(runDir)));
});

test('mode and group are applied to the socket', async (t) => {
  const runDir = tempDir(t);
  const gid = process.getuid?.() === 0 ? 65534 : (process.getgid?.() ?? 0); // root can give the socket to another group
  const srv = await startStatusServer({ runDir, handlers: handlers(), mode: 0o660, gid });
  t.after(() => srv.close());
  const st = statSync(srv.path);
  assert.equal(st.mode & 0o777, 0o660);
  assert.equal(st.gid, gid);
});

test('queryDaemon explains a missing daemon, a stale socket and a timeout', async (t) => {
  const runDir = tempDir(t);
  const path = statusSocketPath(runDir);
  await assert.rejects(queryDaemon(runDir, { cmd: 'status' }), { message: `no tgetty daemon is running (no socket at ${path})` });

  const gone = net.createServer();
  const first = join(runDir, 'first.sock');
  await new Promise<void>((r) => gone.listen(first, r));
  linkSync(first, path);
  await new Promise<void>((r) => gone.close(() => r()));
  await assert.rejects(queryDaemon(runDir, { cmd: 'status' }), { message: `no tgetty daemon is running (stale socket at ${path})` });
  rmSync(path);

  // A server that accepts and never answers: the client gives up when the (fake) clock says so.
  const clock = new FakeClock(0);
  const accepted: net.Socket[] = [];
  let onAccept: () => void = () => undefined;
  const mute = net.createServer((s) => {
    accepted.push(s);
    onAccept();
  });
  await new Promise<void>((r) => mute.listen(path, r));
  t.after(() => {
    for (const s of accepted) s.destroy();
    mute.close();
  });
  const acceptedP = new Promise<void>((r) => (onAccept = r));
  const q = queryDaemon(runDir, { cmd: 'status' }, 250, clock);
  await acceptedP;
  clock.advance(249);
  clock.advance(1);
  await assert.rejects(q, { message: `no answer from the tgetty daemon within 250 ms (${path})` });
});

test('queryDaemon: permission denied is explained (needs a non-root uid to check)', async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip('needs root to drop to another uid for the client');
    return;
  }
  const runDir = tempDir(t);
  chmodSync(runDir, 0o755); // so that only the socket's own mode stands in the way
  const srv = await startStatusServer({ runDir, handlers: handlers() });
  t.after(() => srv.close());
  // Run the client as nobody in a child process: root bypasses the socket's mode.
  const { spawnSync } = await import('node:child_process');
  const mod = new URL('./status-server.js', import.meta.url).pathname;
  const script = `import(${JSON.stringify(mod)}).then(m => m.queryDaemon(${JSON.stringify(runDir)}, {cmd:'status'})).then(() => console.log('OK'), e => console.log(e.message))`;
  const r = spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
  assert.equal(r.stdout.trim(), `permission denied: run as root (cannot connect to ${srv.path})`);
});
