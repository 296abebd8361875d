/**
 * `tgetty serve --http ADDR:PORT`: the read-only web status page. GET only; the page, its
 * script and stylesheet are served from memory (page.ts); /events streams the pool view as
 * server-sent events, pushed when a daemon event arrives (coalesced over PUSH_MS) or a peer
 * changes, so a call shows within a fraction of a second without any polling by the page.
 *
 * Loopback by default. Any other address needs a token (auth.ts): tgetty refuses to start
 * the page otherwise, because it shows callers' numbers and names.
 */
import http from 'node:http';
import { TgettyError } from '../../core/errors.js';
import type { DaemonEvent, EventSink } from '../events.js';
import { isLoopback } from '../loopback.js';
import type { TokenCheck } from './auth.js';
import { FAVICON_SVG, PAGE_CSS, PAGE_HTML, PAGE_JS } from './page.js';
import type { PeerPoller } from './peers.js';
import type { HostSnapshot, PoolView } from './snapshot.js';

/** Events within this window go out as one update. */
export const PUSH_MS = 50;
export const MAX_EVENT_CLIENTS = 32;
const PING_MS = 15_000;

export interface HttpStatusOptions {
  host: string;
  port: number;
  /** Required for a non-loopback host. */
  auth?: TokenCheck;
  snapshot: () => HostSnapshot;
  peers?: PeerPoller;
  log?: { error(msg: string, fields?: Record<string, unknown>): void };
}

export interface HttpStatusServer {
  readonly port: number;
  readonly url: string;
  /** Add to the daemon's sinks: every event schedules an update of the open pages. */
  readonly sink: EventSink;
  /** Schedule an update (a peer changed). */
  changed(): void;
  close(): Promise<void>;
}

/** `8080`, `127.0.0.1:8080`, `[::1]:8080`, `0.0.0.0:8080`: a bare port means loopback. */
export function parseListen(text: string): { host: string; port: number } {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(text.trim());
  const port = m !== null ? Number(m[2]) : NaN;
  if (m === null || port > 65535) throw new TgettyError('CLI_USAGE', `--http '${text}': expected PORT or ADDRESS:PORT, e.g. 127.0.0.1:8080`, { input: text });
  const host = m[1] === undefined ? '127.0.0.1' : m[1].replace(/^\[|\]$/g, '');
  return { host, port };
}

const SECURITY_HEADERS = {
  'content-security-policy': "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

export async function startHttpStatus(o: HttpStatusOptions): Promise<HttpStatusServer> {
  if (!isLoopback(o.host) && o.auth === undefined) {
    throw new TgettyError(
      'CONFIG_INSECURE',
      `--http ${o.host}:${o.port}: a non-loopback address needs a token (--http-auth-file FILE; 'tgetty token FILE' makes one): the page shows callers' numbers and names`,
      { input: o.host },
    );
  }
  const clients = new Set<http.ServerResponse>();
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  const view = (): PoolView => ({ self: o.snapshot(), peers: o.peers?.entries() ?? [] });
  const push = (): void => {
    timer = undefined;
    if (clients.size === 0) return;
    let data: string;
    try {
      data = JSON.stringify(view());
    } catch (err) {
      o.log?.error('http status page: cannot build the status', { err });
      return;
    }
    const msg = `event: pool\ndata: ${data}\n\n`;
    for (const c of clients) c.write(msg);
  };
  const changed = (): void => {
    if (closed || timer !== undefined || clients.size === 0) return;
    timer = setTimeout(push, PUSH_MS);
  };
  const ping = setInterval(() => {
    for (const c of clients) c.write(': ping\n\n');
  }, PING_MS);
  ping.unref();

  const send = (res: http.ServerResponse, head: boolean, status: number, type: string, body: string, extra: Record<string, string> = {}): void => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra });
    res.end(head ? undefined : body);
  };

  const server = http.createServer((req, res) => {
    const head = req.method === 'HEAD';
    if (req.method !== 'GET' && !head) {
      send(res, false, 405, 'text/plain; charset=utf-8', 'read-only: only GET and HEAD\n', { allow: 'GET, HEAD' });
      return;
    }
    if (o.auth !== undefined && !o.auth.check(req.headers.authorization)) {
      send(res, head, 401, 'text/plain; charset=utf-8', 'a token is needed (basic auth password, or Authorization: Bearer TOKEN)\n', { 'www-authenticate': 'Basic realm="tgetty", charset="UTF-8"' });
      return;
    }
    const path = (req.url ?? '/').split('?')[0];
    try {
      switch (path) {
        case '/':
        case '/index.html':
          send(res, head, 200, 'text/html; charset=utf-8', PAGE_HTML);
          return;
        case '/app.js':
          send(res, head, 200, 'text/javascript; charset=utf-8', PAGE_JS);
          return;
        case '/app.css':
          send(res, head, 200, 'text/css; charset=utf-8', PAGE_CSS);
          return;
        case '/favicon.svg':
        case '/favicon.ico':
          send(res, head, 200, 'image/svg+xml', FAVICON_SVG);
          return;
        case '/api/host':
          send(res, head, 200, 'application/json', JSON.stringify(o.snapshot()));
          return;
        case '/api/pool':
          send(res, head, 200, 'application/json', JSON.stringify(view()));
          return;
        case '/events': {
          if (head) {
            send(res, true, 200, 'text/event-stream', '');
            return;
          }
          if (clients.size >= MAX_EVENT_CLIENTS) {
            send(res, false, 503, 'text/plain; charset=utf-8', 'too many open pages\n', { 'retry-after': '10' });
            return;
          }
          res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
          res.write(`retry: 2000\nevent: pool\ndata: ${JSON.stringify(view())}\n\n`);
          clients.add(res);
          req.socket.setTimeout(0);
          const drop = (): void => {
            clients.delete(res);
          };
          req.on('close', drop);
          res.on('error', drop);
          return;
        }
        default:
          send(res, head, 404, 'text/plain; charset=utf-8', 'not found\n');
      }
    } catch (err) {
      o.log?.error('http status page: request failed', { err });
      if (!res.headersSent) send(res, head, 500, 'text/plain; charset=utf-8', 'internal error\n');
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 5000;
  server.headersTimeout = 10_000;
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new TgettyError('DAEMON_FAILED', `--http: cannot listen on ${o.host}:${o.port}: ${err.message}`, { input: `${o.host}:${o.port}` }, { cause: err })));
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : o.port;
  o.peers?.start();
  const hostPart = o.host.includes(':') ? `[${o.host}]` : o.host;
  return {
    port,
    url: `http://${hostPart}:${port}/`,
    sink: {
      emit(_e: DaemonEvent) {
        changed();
      },
    },
    changed,
    close: () =>
      new Promise<void>((resolve) => {
        closed = true;
        if (timer !== undefined) clearTimeout(timer);
        clearInterval(ping);
        o.peers?.stop();
        for (const c of clients) c.end();
        clients.clear();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
