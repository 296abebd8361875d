/**
 * The web status page as `tgetty serve` starts it: the server, its snapshot of this host
 * (status board + local call records), the peers, and the token file.
 */
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import { TgettyError } from '../../core/errors.js';
import type { DaemonStatus, DaemonEvent, EventSink } from '../events.js';
import type { CallQuery, CallRow } from '../record-store.js';
import { loadTokenFile } from './auth.js';
import { PeerPoller } from './peers.js';
import { buildSnapshot } from './snapshot.js';
import { parseListen, startHttpStatus, type HttpStatusServer } from './server.js';

export { parseListen } from './server.js';

/** A sink for the daemon's constructor that reaches the page once it runs. */
export class LateSink implements EventSink {
  target: EventSink | undefined;
  emit(e: DaemonEvent): void {
    this.target?.emit(e);
  }
}

export interface PageOptions {
  listen: string;
  authFile?: string;
  peers?: readonly string[];
  /** A file holding the token to send to peers (the raw token, mode 0600). */
  peerTokenFile?: string;
  status: () => DaemonStatus;
  /** The local records (newest first), if any. */
  calls?: (q: CallQuery) => CallRow[];
  host?: string;
  log?: { error(msg: string, fields?: Record<string, unknown>): void };
}

const DAY = 86_400_000;
/** The page reads the call records at most this often. */
export const RECORDS_EVERY_MS = 300;

export async function startPage(o: PageOptions): Promise<HttpStatusServer> {
  const { host, port } = parseListen(o.listen);
  const auth = o.authFile !== undefined ? loadTokenFile(o.authFile) : undefined;
  let token: string | undefined;
  if (o.peerTokenFile !== undefined) {
    try {
      token = readFileSync(o.peerTokenFile, 'utf8').split('\n')[0].trim();
    } catch (err) {
      throw new TgettyError('CONFIG_UNREADABLE', `cannot read --peer-token-file ${o.peerTokenFile}: ${err instanceof Error ? err.message : String(err)}`, { file: o.peerTokenFile }, { cause: err });
    }
  }
  const name = o.host ?? hostname();
  const late: { server?: HttpStatusServer } = {};
  const peers = o.peers !== undefined && o.peers.length > 0 ? new PeerPoller(o.peers, { ...(token !== undefined ? { token } : {}), onChange: () => late.server?.changed() }) : undefined;
  // The records are read at most every RECORDS_EVERY_MS (the status board on every push):
  // 64 busy lines must not mean 20 queries a second on the daemon's event loop. A call event
  // marks them stale; a push that had to use stale rows is followed by one more.
  let cache: { at: number; rows: CallRow[] } | undefined;
  let stale = true;
  let trailing: NodeJS.Timeout | undefined;
  const rowsNow = (now: number): CallRow[] => {
    if (cache !== undefined && (!stale || now - cache.at < RECORDS_EVERY_MS)) {
      if (stale && trailing === undefined) {
        trailing = setTimeout(() => {
          trailing = undefined;
          late.server?.changed();
        }, RECORDS_EVERY_MS - (now - cache.at));
        trailing.unref();
      }
      return cache.rows;
    }
    let rows: CallRow[] = [];
    try {
      rows = o.calls?.({ since: now - DAY, limit: 20_000 }) ?? [];
    } catch (err) {
      o.log?.error('http status page: cannot read the call records', { err });
    }
    cache = { at: now, rows };
    stale = false;
    return rows;
  };
  const snapshot = () => {
    const now = Date.now();
    return buildSnapshot({ host: name, status: o.status(), rows: rowsNow(now), now });
  };
  const server = await startHttpStatus({ host, port, ...(auth !== undefined ? { auth } : {}), snapshot, ...(peers !== undefined ? { peers } : {}), ...(o.log !== undefined ? { log: o.log } : {}) });
  late.server = server;
  return {
    ...server,
    port: server.port,
    url: server.url,
    sink: {
      emit(e: DaemonEvent) {
        if (e.type.startsWith('call-')) stale = true;
        server.sink.emit(e);
      },
    },
    close: async () => {
      if (trailing !== undefined) clearTimeout(trailing);
      await server.close();
    },
  };
}
