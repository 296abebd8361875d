/**
 * The daemon's control socket: `<runDir>/tgetty.sock`, a unix stream socket that
 * `tgetty status` and `tgetty reload` talk to. One JSON request per line, one JSON
 * response line per request.
 *
 * Access control is the file mode of the socket (0600, root only, by default): the
 * status shows callers' numbers and names, and reload changes what the lines do.
 * A client can never crash the daemon: requests are size-bounded, bad JSON gets an
 * error response, and idle connections are dropped.
 */
import { chmodSync, lchownSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { systemClock } from '../core/clock.js';
import type { Clock } from '../core/clock.js';
import { TgettyError, errnoCode } from '../core/errors.js';
import type { DaemonStatus } from './events.js';

export const STATUS_SOCKET_NAME = 'tgetty.sock';
/** Longest request line accepted; real requests are ~20 bytes. */
export const MAX_REQUEST_BYTES = 4096;
/** Longest response a client reads (a status of a few hundred lines fits easily). */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** A connection that sends nothing for this long is closed (frees the fd of a stuck client). */
export const IDLE_TIMEOUT_MS = 10_000;

/** What `tgetty reload` and `tgetty status` say about a rejected reload, before its problems. */
export const RELOAD_REJECTED = 'the new configuration was rejected; the old one stays in force';

export type StatusRequest = { cmd: 'status' } | { cmd: 'reload' };

export interface ReloadResult {
  ok: boolean;
  errors: string[];
}

export type StatusResponse =
  | { ok: true; status: DaemonStatus }
  | { ok: true; reload: ReloadResult }
  | { ok: false; error: string; reload?: ReloadResult };

export interface StatusHandlers {
  status(): DaemonStatus;
  /** Re-read the config; `ok: false` means the new config was rejected and the old one stays. */
  reload(): Promise<ReloadResult>;
}

export interface StatusServerOptions {
  runDir: string;
  handlers: StatusHandlers;
  /** File mode of the socket; default 0o600 (root only). 0o660 with `gid` lets a group read the status. */
  mode?: number;
  /** Group owner of the socket (with a group-accessible `mode`). */
  gid?: number;
  log?: { warn(msg: string, fields?: Record<string, unknown>): void };
}

export interface StatusServer {
  readonly path: string;
  close(): Promise<void>;
}

export function statusSocketPath(runDir: string): string {
  return join(runDir, STATUS_SOCKET_NAME);
}

/** Does anything answer on the unix socket at `path`? */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * Remove a socket file left by a daemon that died, but never a live daemon's socket
 * and never a file that is not a socket.
 */
async function clearStale(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw new TgettyError('DAEMON_FAILED', `cannot check ${path}: ${(err as Error).message}`, { file: path }, { cause: err });
  }
  if (!st.isSocket()) throw new TgettyError('DAEMON_FAILED', `${path} exists and is not a socket; not removing it`, { file: path });
  if (await answers(path)) throw new TgettyError('DAEMON_FAILED', `another tgetty daemon is answering on ${path}`, { file: path });
  unlinkSync(path);
}

function parseRequest(line: string): StatusRequest | string {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return 'bad request: not JSON';
  }
  if (typeof v !== 'object' || v === null || !('cmd' in v)) return 'bad request: expected {"cmd": "status" | "reload"}';
  const cmd = v.cmd;
  if (cmd === 'status' || cmd === 'reload') return { cmd };
  return `unknown command ${JSON.stringify(cmd)}`;
}

async function answer(req: StatusRequest, handlers: StatusHandlers): Promise<StatusResponse> {
  try {
    if (req.cmd === 'status') return { ok: true, status: handlers.status() };
    const reload = await handlers.reload();
    return reload.ok ? { ok: true, reload } : { ok: false, error: RELOAD_REJECTED, reload };
  } catch (err) {
    return { ok: false, error: `${req.cmd} failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

function serve(sock: net.Socket, opts: StatusServerOptions): void {
  let buf = '';
  let busy: Promise<void> = Promise.resolve();
  sock.setEncoding('utf8');
  sock.setTimeout(IDLE_TIMEOUT_MS, () => sock.destroy());
  sock.on('error', () => undefined); // a client that vanishes mid-answer is not the daemon's problem
  const reply = (r: StatusResponse): void => {
    if (sock.destroyed || sock.writableEnded) return;
    let text: string;
    try {
      text = JSON.stringify(r);
    } catch (err) {
      text = JSON.stringify({ ok: false, error: `cannot encode the answer: ${(err as Error).message}` });
    }
    sock.write(`${text}\n`);
  };
  sock.on('data', (chunk: string) => {
    buf += chunk;
    for (;;) {
      const nl = buf.indexOf('\n');
      if (nl < 0) break;
      const line = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (line === '') continue;
      if (Buffer.byteLength(line) > MAX_REQUEST_BYTES) {
        reply({ ok: false, error: `request too long (over ${MAX_REQUEST_BYTES} bytes)` });
        sock.end();
        return;
      }
      const req = parseRequest(line);
      // Requests on one connection are answered in order, one at a time.
      busy = busy.then(async () => reply(typeof req === 'string' ? { ok: false, error: req } : await answer(req, opts.handlers)));
    }
    if (Buffer.byteLength(buf) > MAX_REQUEST_BYTES) {
      buf = '';
      reply({ ok: false, error: `request too long (over ${MAX_REQUEST_BYTES} bytes)` });
      sock.end();
    }
  });
}

/**
 * Listen on `<runDir>/tgetty.sock` (creating runDir with mode 0755 if needed). The
 * socket is created with its final mode (umask around bind), so there is no moment
 * when another user could connect.
 */
export async function startStatusServer(opts: StatusServerOptions): Promise<StatusServer> {
  const mode = opts.mode ?? 0o600;
  const path = statusSocketPath(opts.runDir);
  mkdirSync(opts.runDir, { recursive: true, mode: 0o755 });
  await clearStale(path);
  const conns = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    conns.add(sock);
    sock.on('close', () => conns.delete(sock));
    serve(sock, opts);
  });
  server.maxConnections = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new TgettyError('DAEMON_FAILED', `cannot listen on ${path}: ${err.message}`, { file: path }, { cause: err })));
    // bind() runs synchronously inside listen(), so the umask covers exactly this socket.
    const old = process.umask(0o777 & ~mode);
    try {
      server.listen(path, () => resolve());
    } finally {
      process.umask(old);
    }
  });
  server.on('error', (err) => opts.log?.warn('status socket error', { error: err.message }));
  try {
    // The umask around bind gave the socket exactly `mode`. Check the name still holds a
    // socket before touching it, and never follow a link: a run dir others can write could
    // have a symlink swapped in, and chmod/chown by name would change its target.
    const st = lstatSync(path);
    if (!st.isSocket()) throw new Error(`${path} was replaced by something that is not our socket`);
    if ((st.mode & 0o7777) !== mode) chmodSync(path, mode);
    if (opts.gid !== undefined) lchownSync(path, process.getuid?.() ?? 0, opts.gid);
  } catch (err) {
    server.close();
    throw new TgettyError('DAEMON_FAILED', `cannot set the mode of ${path}: ${(err as Error).message}`, { file: path }, { cause: err });
  }
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy();
        // net.Server unlinks its unix socket file on close.
        server.close(() => resolve());
      }),
  };
}

/**
 * Send one request to the daemon of `runDir` and return its response. Throws a
 * TgettyError (DAEMON_FAILED) with a message meant for the user: no daemon, permission,
 * timeout, or a garbled answer.
 */
export function queryDaemon(
  runDir: string,
  request: StatusRequest,
  timeoutMs = 5000,
  clock: Pick<Clock, 'setTimeout'> = systemClock,
): Promise<StatusResponse> {
  const path = statusSocketPath(runDir);
  return new Promise<StatusResponse>((resolve, reject) => {
    let buf = '';
    let done = false;
    const finish = (err: TgettyError | undefined, r?: StatusResponse): void => {
      if (done) return;
      done = true;
      timer.cancel();
      sock.destroy();
      if (err !== undefined) reject(err);
      else resolve(r as StatusResponse);
    };
    const fail = (msg: string, cause?: unknown): void =>
      finish(new TgettyError('DAEMON_FAILED', msg, { file: path }, cause !== undefined ? { cause } : undefined));
    const timer = clock.setTimeout(() => fail(`no answer from the tgetty daemon within ${timeoutMs} ms (${path})`), timeoutMs);
    const sock = net.createConnection(path);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write(`${JSON.stringify(request)}\n`));
    sock.on('error', (err) => {
      const code = errnoCode(err);
      if (code === 'ENOENT') fail(`no tgetty daemon is running (no socket at ${path})`, err);
      else if (code === 'ECONNREFUSED') fail(`no tgetty daemon is running (stale socket at ${path})`, err);
      else if (code === 'EACCES' || code === 'EPERM') fail(`permission denied: run as root (cannot connect to ${path})`, err);
      else fail(`cannot talk to the tgetty daemon at ${path}: ${err.message}`, err);
    });
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_RESPONSE_BYTES) return fail(`answer from ${path} is too long`);
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      try {
        const r = JSON.parse(buf.slice(0, nl)) as StatusResponse;
        if (typeof r !== 'object' || r === null || typeof r.ok !== 'boolean') return fail(`garbled answer from ${path}`);
        finish(undefined, r);
      } catch (err) {
        fail(`garbled answer from ${path}`, err);
      }
    });
    sock.on('end', () => fail(`the tgetty daemon closed ${path} without answering`));
  });
}
