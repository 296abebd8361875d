/**
 * `tgetty sim` status over a unix socket, as the daemon has one: DIR/tgetty-sim.sock
 * (mode 0600: it shows callers' addresses), one JSON request a line (`{"cmd":"status"}`),
 * one JSON answer a line. `tgetty sim status --dir DIR` is the client.
 *
 * The socket is bound with its final mode (umask around bind), a stale socket is removed
 * only if it is a socket nobody answers on, and the name is checked (lstat) after bind, so
 * a DIR others can write cannot trick the sim into chmod-ing something else.
 */
import { lstatSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { TgettyError, errnoCode } from '../core/errors.js';
import type { SimBank } from './bank.js';

export const SIM_STATUS_SOCKET = 'tgetty-sim.sock';
const MAX_REQUEST = 4096;
const MAX_RESPONSE = 16 * 1024 * 1024;
const IDLE_MS = 10_000;

export interface SimLineStatus {
  line: string;
  path: string;
  slave: string;
  number: string;
  /** idle, ringing, answering, dialing, connected. */
  state: string;
  /** command, data, online-command. */
  mode: string;
  /** Who the current (or last) call is with: a caller's address or number, a host:port dialled. */
  peer: string;
  /** Bytes in the current (or last) call: from the DTE, to the DTE. */
  bytesFromDte: number;
  bytesToDte: number;
  /** ms since the epoch of the last state change. */
  since: number;
}

export interface SimStatus {
  pid: number;
  startedAt: number;
  lines: SimLineStatus[];
  /** Telnet callers waiting for a line (--queue). */
  queued: number;
}

export type SimStatusResponse = { ok: true; status: SimStatus } | { ok: false; error: string };

export function simStatusPath(dir: string): string {
  return join(dir, SIM_STATUS_SOCKET);
}

export function bankStatus(bank: SimBank, startedAt: number): SimStatus {
  return {
    pid: process.pid,
    startedAt,
    queued: bank.queued,
    lines: bank.lines.map((l) => ({
      line: l.name,
      path: l.path,
      slave: l.slave,
      number: l.number,
      state: l.modem.state,
      mode: l.modem.currentMode,
      peer: l.peer,
      bytesFromDte: l.bytesFromDte,
      bytesToDte: l.bytesToDte,
      since: l.since,
    })),
  };
}

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

async function clearStale(path: string): Promise<void> {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return;
    throw new TgettyError('SIM_FAILED', `cannot check ${path}`, { file: path }, { cause: err });
  }
  if (!st.isSocket()) throw new TgettyError('SIM_FAILED', `${path} exists and is not a socket; not removing it`, { file: path });
  if (await answers(path)) throw new TgettyError('SIM_FAILED', `another tgetty sim answers on ${path}`, { file: path });
  unlinkSync(path);
}

export interface SimStatusServer {
  readonly path: string;
  close(): Promise<void>;
}

export async function startSimStatus(bank: SimBank, dir: string, startedAt = Date.now()): Promise<SimStatusServer> {
  const path = simStatusPath(dir);
  await clearStale(path);
  const conns = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    conns.add(sock);
    sock.on('close', () => conns.delete(sock));
    sock.on('error', () => undefined);
    sock.setTimeout(IDLE_MS, () => sock.destroy());
    sock.setEncoding('utf8');
    let buf = '';
    sock.on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (line === '') continue;
        let r: SimStatusResponse;
        try {
          const req = JSON.parse(line) as unknown;
          r = typeof req === 'object' && req !== null && (req as { cmd?: unknown }).cmd === 'status'
            ? { ok: true, status: bankStatus(bank, startedAt) }
            : { ok: false, error: 'bad request: expected {"cmd": "status"}' };
        } catch {
          r = { ok: false, error: 'bad request: not JSON' };
        }
        sock.write(`${JSON.stringify(r)}\n`);
      }
      if (buf.length > MAX_REQUEST) {
        sock.end(`${JSON.stringify({ ok: false, error: 'request too long' })}\n`);
        buf = '';
      }
    });
  });
  server.maxConnections = 64;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new TgettyError('SIM_FAILED', `cannot listen on ${path}: ${err.message}`, { file: path }, { cause: err })));
    const old = process.umask(0o177);
    try {
      server.listen(path, () => resolve());
    } finally {
      process.umask(old);
    }
  });
  const st = lstatSync(path);
  if (!st.isSocket() || (st.mode & 0o077) !== 0) {
    server.close();
    throw new TgettyError('SIM_FAILED', `${path} is not the socket just made (or not mode 0600)`, { file: path });
  }
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Ask the sim of `dir` for its status. Errors are TgettyErrors meant for the user. */
export function querySimStatus(dir: string, timeoutMs = 5000): Promise<SimStatus> {
  const path = simStatusPath(dir);
  return new Promise<SimStatus>((resolve, reject) => {
    let buf = '';
    let done = false;
    const sock = net.createConnection(path);
    const finish = (err: Error | undefined, st?: SimStatus): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      if (err !== undefined) reject(err);
      else resolve(st as SimStatus);
    };
    const fail = (msg: string, cause?: unknown): void => finish(new TgettyError('SIM_FAILED', msg, { file: path }, cause !== undefined ? { cause } : undefined));
    const timer = setTimeout(() => fail(`no answer from tgetty sim within ${timeoutMs} ms (${path})`), timeoutMs);
    sock.setEncoding('utf8');
    sock.on('connect', () => sock.write('{"cmd":"status"}\n'));
    sock.on('error', (err) => {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ECONNREFUSED') fail(`no tgetty sim is running with --dir ${dir} (no socket at ${path})`, err);
      else if (code === 'EACCES' || code === 'EPERM') fail(`permission denied: ${path} is its owner's only`, err);
      else fail(`cannot talk to tgetty sim at ${path}: ${err.message}`, err);
    });
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_RESPONSE) return fail(`answer from ${path} is too long`);
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      try {
        const r = JSON.parse(buf.slice(0, nl)) as SimStatusResponse;
        if (r.ok) finish(undefined, r.status);
        else fail(`tgetty sim: ${r.error}`);
      } catch (err) {
        fail(`garbled answer from ${path}`, err);
      }
    });
    sock.on('end', () => fail(`tgetty sim closed ${path} without answering`));
  });
}
