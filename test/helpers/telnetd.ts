/**
 * A real telnet daemon on loopback for dial-out tests: Debian's inetutils `telnetd`, run
 * inetd-style by a tiny in-process inetd (a TCP server on 127.0.0.1, port 0; each
 * connection's socket becomes telnetd's stdin/stdout). telnetd runs a harmless program
 * instead of login (`-E`): a shell script with a `fake login:` prompt that greets the
 * name, echoes lines and exits on `bye`. Between the dialler and telnetd sits a counting
 * proxy, so a test can see every telnet option command each side sent (a negotiation
 * loop shows as a count that keeps growing). Everything is ours and is ended by pid.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TELNETD = '/usr/sbin/telnetd';

/**
 * netkit's telnetd. Debian 12's `telnetd` package is a dummy for inetutils-telnetd; the netkit
 * code lives on as `telnetd-ssl` (clear text with `-z nossl`), which conflicts with
 * inetutils-telnetd, so CI unpacks it (apt-get download, dpkg-deb -x) into a directory of its
 * own instead of installing it: TGETTY_NETKIT_TELNETD, or that directory's in.telnetd.
 */
export const NETKIT_TELNETD = process.env.TGETTY_NETKIT_TELNETD ?? '/opt/tgetty-ci/netkit-telnetd/usr/sbin/in.telnetd';

export type TelnetdKind = 'inetutils' | 'netkit';

export function telnetdSkipReason(kind: TelnetdKind = 'inetutils'): string | undefined {
  if (kind === 'netkit') {
    if (spawnSync('openssl', ['version'], { stdio: 'ignore' }).status !== 0) return 'openssl is not installed (netkit telnetd needs a certificate even with -z nossl)';
    return existsSync(NETKIT_TELNETD) ? undefined : `netkit telnetd not at ${NETKIT_TELNETD} (telnetd-ssl unpacked there, see .ci/run; or set TGETTY_NETKIT_TELNETD)`;
  }
  return existsSync(TELNETD) ? undefined : 'inetutils-telnetd not installed (apt-get install inetutils-telnetd)';
}

/** The daemon and its arguments: no host banner, our script instead of login. */
function telnetdCommand(kind: TelnetdKind, script: string, cert: string): [string, string[]] {
  return kind === 'netkit' ? [NETKIT_TELNETD, ['-h', '-z', 'nossl', '-z', `cert=${cert}`, '-L', script]] : [TELNETD, ['-h', '-E', script]];
}

/**
 * telnetd-ssl loads a certificate at start even with `-z nossl` (and exits without one), so
 * the test makes a throwaway self-signed one in its temp dir.
 */
function makeCert(dir: string): string {
  const key = join(dir, 'telnetd.pem');
  const crt = join(dir, 'telnetd.crt');
  const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', crt, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  if (r.status !== 0) throw new Error('openssl could not make a certificate for netkit telnetd');
  writeFileSync(key, readFileSync(crt), { flag: 'a' });
  return key;
}

const FAKE_LOGIN = `#!/bin/sh
printf 'fake login: '
read name
echo "welcome $name"
while read line; do
  [ "$line" = "bye" ] && { echo "goodbye $name"; exit 0; }
  echo "you said: $line"
done
`;

const IAC = 255;

export interface Telnetd {
  /** Where to dial: the counting proxy in front of the inetd. */
  port: number;
  /** telnetd processes started so far. */
  readonly sessions: ChildProcess[];
  /** Option commands (WILL/WONT/DO/DONT) seen per direction, on every connection so far. */
  readonly counts: { fromServer: number; toServer: number };
  /** Connections the proxy has seen close (from either side). */
  readonly closed: number;
  close(): Promise<void>;
}

/** Count IAC WILL/WONT/DO/DONT in a stream (state carried across chunks). */
function counter(): (b: Buffer) => number {
  let st: 'data' | 'iac' = 'data';
  return (b) => {
    let n = 0;
    for (const x of b) {
      if (st === 'iac') {
        if (x >= 251 && x <= 254) n++;
        st = 'data';
      } else if (x === IAC) st = 'iac';
    }
    return n;
  };
}

export async function startTelnetd(kind: TelnetdKind = 'inetutils'): Promise<Telnetd> {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-telnetd-'));
  const script = join(dir, 'fake-login.sh');
  writeFileSync(script, FAKE_LOGIN);
  chmodSync(script, 0o755);
  const cert = kind === 'netkit' ? makeCert(dir) : '';
  const sessions: ChildProcess[] = [];
  const counts = { fromServer: 0, toServer: 0 };
  let closed = 0;
  const inetd = net.createServer({ pauseOnConnect: true }, (sock) => {
    const [cmd, args] = telnetdCommand(kind, script, cert);
    const c = spawn(cmd, args, { stdio: [sock, sock, 'ignore'], env: { PATH: '/usr/bin:/bin' } });
    c.on('error', () => undefined);
    sessions.push(c);
    sock.destroy(); // the child has its own copy
  });
  const socks = new Set<net.Socket>();
  const proxy = net.createServer((a) => {
    const b = net.connect({ host: '127.0.0.1', port: (inetd.address() as net.AddressInfo).port });
    socks.add(a);
    socks.add(b);
    const up = counter();
    const down = counter();
    a.on('data', (d: Buffer) => {
      counts.toServer += up(d);
      b.write(d);
    });
    b.on('data', (d: Buffer) => {
      counts.fromServer += down(d);
      a.write(d);
    });
    let done = false;
    const end = (): void => {
      if (done) return;
      done = true;
      closed++;
      a.destroy();
      b.destroy();
    };
    for (const s of [a, b]) {
      s.on('error', end);
      s.on('close', end);
      s.on('end', end);
    }
  });
  await new Promise<void>((res) => inetd.listen(0, '127.0.0.1', () => res()));
  await new Promise<void>((res) => proxy.listen(0, '127.0.0.1', () => res()));
  return {
    port: (proxy.address() as net.AddressInfo).port,
    sessions,
    counts,
    get closed() {
      return closed;
    },
    async close() {
      for (const s of socks) s.destroy();
      for (const c of sessions) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await Promise.all(sessions.map((c) => (c.exitCode !== null || c.signalCode !== null ? Promise.resolve() : new Promise<void>((r) => c.once('exit', () => r())))));
      await new Promise((r) => inetd.close(r));
      await new Promise((r) => proxy.close(r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
