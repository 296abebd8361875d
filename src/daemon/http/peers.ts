/**
 * The other tgetty daemons of a pool (`--peer URL`): each one's /api/host is fetched every
 * few seconds by this daemon (the browser talks to one daemon only, so one token and one
 * origin are enough). A peer that is down, slow, refuses us or answers anything but a
 * tgetty snapshot is shown as unreachable with the reason; it never affects this daemon.
 */
import { TgettyError } from '../../core/errors.js';
import { isHostSnapshot, type PoolEntry } from './snapshot.js';

export const PEER_INTERVAL_MS = 2000;
export const PEER_TIMEOUT_MS = 1500;
/** Largest answer read from a peer. */
export const PEER_MAX_BYTES = 2 * 1024 * 1024;

interface Peer {
  url: string;
  /** The URL without credentials, for display. */
  shown: string;
  endpoint: string;
  authorization?: string;
  entry: PoolEntry;
}

export function parsePeerUrl(raw: string): { shown: string; endpoint: string; authorization?: string } {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new TgettyError('CLI_USAGE', `--peer '${raw}': not a URL; expected http://host:port (another tgetty serve --http)`, { input: raw });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TgettyError('CLI_USAGE', `--peer '${u.protocol}//${u.host}': only http:// and https:// peers are supported`, { input: raw });
  // fetch() refuses URLs with credentials: they become a basic auth header.
  const authorization = u.username !== '' || u.password !== '' ? `Basic ${Buffer.from(`${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`).toString('base64')}` : undefined;
  u.username = '';
  u.password = '';
  const base = u.toString().replace(/\/+$/, '');
  return { shown: base, endpoint: `${base}/api/host`, ...(authorization !== undefined ? { authorization } : {}) };
}

export class PeerPoller {
  private readonly peers: Peer[];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    urls: readonly string[],
    private readonly o: { token?: string; onChange: () => void; intervalMs?: number; timeoutMs?: number; fetch?: typeof fetch },
  ) {
    this.peers = urls.map((url) => {
      const p = parsePeerUrl(url);
      const authorization = p.authorization ?? (o.token !== undefined ? `Bearer ${o.token}` : undefined);
      return { url, shown: p.shown, endpoint: p.endpoint, ...(authorization !== undefined ? { authorization } : {}), entry: { url: p.shown, ok: false, error: 'not asked yet' } };
    });
  }

  start(): void {
    if (this.peers.length === 0) return;
    void this.round();
    this.timer = setInterval(() => void this.round(), this.o.intervalMs ?? PEER_INTERVAL_MS);
    this.timer.unref();
  }

  entries(): PoolEntry[] {
    return this.peers.map((p) => p.entry);
  }

  private async round(): Promise<void> {
    await Promise.all(this.peers.map((p) => this.ask(p)));
  }

  private async ask(p: Peer): Promise<void> {
    const before = JSON.stringify(p.entry);
    const prevHost = p.entry.ok ? p.entry.snapshot.host : p.entry.host;
    const lastSeen = p.entry.ok ? p.entry.snapshot.generatedAt : p.entry.lastSeen;
    const down = (error: string): PoolEntry => ({ url: p.shown, ok: false, error, ...(lastSeen !== undefined ? { lastSeen } : {}), ...(prevHost !== undefined ? { host: prevHost } : {}) });
    try {
      const res = await (this.o.fetch ?? fetch)(p.endpoint, {
        headers: { accept: 'application/json', ...(p.authorization !== undefined ? { authorization: p.authorization } : {}) },
        signal: AbortSignal.timeout(this.o.timeoutMs ?? PEER_TIMEOUT_MS),
        redirect: 'error',
      });
      if (res.status !== 200) {
        await res.body?.cancel();
        p.entry = down(res.status === 401 ? 'refused us (HTTP 401: wrong or missing token)' : `answered HTTP ${res.status}`);
      } else {
        const text = await readCapped(res, PEER_MAX_BYTES);
        let data: unknown;
        try {
          data = JSON.parse(text);
        } catch {
          data = undefined;
          p.entry = down('bad answer: not JSON (is it a tgetty --http?)');
        }
        if (data !== undefined) p.entry = isHostSnapshot(data) ? { url: p.shown, ok: true, snapshot: data } : down('bad answer: not a tgetty status');
      }
    } catch (err) {
      p.entry = down(describeFetchError(err, this.o.timeoutMs ?? PEER_TIMEOUT_MS));
    }
    if (!this.stopped && JSON.stringify(p.entry) !== before) this.o.onChange();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
  }
}

async function readCapped(res: Response, max: number): Promise<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > max) {
      await reader.cancel();
      throw new Error(`answer larger than ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function describeFetchError(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${timeoutMs} ms`;
  const code = e?.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'unknown host';
  if (code === 'ECONNRESET' || code === 'UND_ERR_SOCKET') return 'the connection was closed (is it a tgetty --http?)';
  if (code !== undefined) return `${code}: ${e.cause?.message ?? ''}`.trim();
  return e?.message ?? String(err);
}
