/**
 * Whether a listen address stays on this machine. Its own module so the web page
 * (http/server.ts) can ask without loading the metrics code and prom-client.
 */
import net from 'node:net';

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  const kind = net.isIP(host);
  if (kind === 4) return host.startsWith('127.');
  if (kind === 6) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}
