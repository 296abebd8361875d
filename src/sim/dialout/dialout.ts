/**
 * Dial-out to TCP hosts, as a handler set for `D` (registered on each modem, so it is asked
 * before the built-in dialler): `ATD host:port`, `ATDT host` (port 23), `ATDT [::1]:23`, or
 * a phone book number (`--phonebook`). A plain number that is not in the phone book is
 * passed on ('next') to the simulator's own exchange (sim-to-sim calls).
 *
 * Result codes as a modem gives them: CONNECT <speed> once the TCP connection is up;
 * BUSY when the host refuses (NO CARRIER with X0-X2); NO ANSWER when it does not answer
 * within S7 seconds; NO CARRIER when the host closes the connection (after the bytes
 * still on their way). `+++`, ATH, ATO, DTR (&D) work on these calls as on any other.
 */
import { connect as tcpConnect, type Socket } from 'node:net';
import type { Clock } from '../../core/clock.js';
import { errnoCode } from '../../core/errors.js';
import type { CallLeg, PendingDial } from '../at/calls.js';
import type { AtContext, HandlerSet } from '../at/registry.js';
import { resolveDial, type DialTarget, type Phonebook } from '../phonebook.js';
import { telnetClient } from '../telnet-client.js';
import { Pacer } from './pacer.js';

export interface DialoutOptions {
  clock: Clock;
  phonebook?: Phonebook;
  /** The line rate reported after CONNECT, bps (default 33600). */
  speed?: number;
  /** Deliver the host's bytes no faster than `speed` (default off: as fast as they come). */
  pace?: boolean;
  /** Opens the TCP connection (default net.connect). */
  connect?: (host: string, port: number) => Socket;
  /** What is happening, for the transcript and the console. */
  event?: (text: string) => void;
  /** Bytes of the current call: for status. */
  onCall?: (info: DialCallInfo) => void;
  /** The line's flow control (SimLine.flow): the socket stops being read while the DTE is behind, and the DTE while the socket is. */
  flow?: {
    toDte(pause: () => void, resume: () => void): void;
    fromDte(queued: number, waitDrain: (fn: () => void) => void): void;
  };
}

/** A dial-out call, as status shows it. */
export interface DialCallInfo {
  peer: string;
  protocol: DialTarget['protocol'];
  /** Bytes from the host to the DTE, and from the DTE to the host. */
  bytesIn: number;
  bytesOut: number;
  state: 'dialling' | 'connected' | 'ended';
}

export const DEFAULT_DIAL_SPEED = 33600;

/** Strip the Hayes dial modifier (T tone, P pulse) that may start a dial string. */
export function dialAddress(arg: string): string {
  return /^[TtPp]/.test(arg) ? arg.slice(1) : arg;
}

export function dialoutCommands(o: DialoutOptions): HandlerSet {
  let last: DialTarget | undefined;
  return {
    D: (c, ctx) => {
      const arg = dialAddress(c.arg);
      if (arg.endsWith(';')) return 'next'; // stay in command mode: not a call
      const target = arg.toUpperCase() === 'L' && last !== undefined ? last : resolveDial(arg, o.phonebook);
      if (target === undefined) return 'next';
      if (ctx.calls.state !== 'idle') {
        ctx.result('ERROR');
        return 'done';
      }
      last = target;
      dial(target, ctx, o);
      return 'done';
    },
  };
}

function dial(target: DialTarget, ctx: AtContext, o: DialoutOptions): void {
  const speed = o.speed ?? DEFAULT_DIAL_SPEED;
  const peer = target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
  const info: DialCallInfo = { peer, protocol: target.protocol, bytesIn: 0, bytesOut: 0, state: 'dialling' };
  const report = (): void => o.onCall?.(info);
  let sock: Socket;
  try {
    sock = (o.connect ?? ((host, port) => tcpConnect({ host, port })))(target.host, target.port);
  } catch (err) {
    // A target net.connect rejects outright (it validates what parseAddress let through).
    o.event?.(`dial-out to ${peer}: ${err instanceof Error ? err.message : String(err)}`);
    ctx.result('NO CARRIER');
    return;
  }
  let leg: CallLeg | undefined;
  let over = false;
  const finish = (): void => {
    if (over) return;
    over = true;
    info.state = 'ended';
    report();
    pacer?.clear();
    sock.destroy();
  };
  const pending = ctx.calls.beginDial(`${peer} (${target.protocol})`, (reason) => {
    o.event?.(`dial-out to ${peer} ended before CONNECT: ${reason}`);
    finish();
  });
  report();
  sock.setNoDelay(true);
  const codec = target.protocol === 'telnet' ? telnetClient((b) => sock.write(b)) : undefined;
  const toDte = (b: Uint8Array): void => {
    info.bytesIn += b.length;
    leg?.send(b);
  };
  const pacer = o.pace === true
    ? new Pacer({ clock: o.clock, bps: speed, out: toDte, onPause: () => sock.pause(), onResume: () => sock.resume() })
    : undefined;
  sock.on('connect', () => {
    codec?.start();
    leg = pending.connect(String(speed), {
      connected: () => undefined,
      data: (b) => {
        info.bytesOut += b.length;
        if (sock.destroyed) return;
        sock.write(codec !== undefined ? codec.encode(b) : b);
        o.flow?.fromDte(sock.writableLength, (fn) => drainedOrClosed(sock, fn));
      },
      // The DTE ended the call (ATH, DTR drop): drop the connection.
      ended: (reason) => {
        o.event?.(`dial-out to ${peer} ended by the DTE: ${reason}`);
        finish();
      },
    });
    if (leg === undefined) {
      finish();
      return;
    }
    info.state = 'connected';
    report();
    o.event?.(`dial-out to ${peer} connected`);
  });
  sock.on('data', (d: Buffer) => {
    const app = codec !== undefined ? codec.decode(d) : d;
    if (app.length === 0) return;
    if (pacer !== undefined) pacer.push(app);
    else {
      toDte(app);
      // Unpaced: the socket is not read while the line holds bytes the DTE has not taken.
      o.flow?.toDte(() => sock.pause(), () => sock.resume());
    }
  });
  watchSocketEnd({ sock, ctx, o, peer, pending, finish, leg: () => leg, pacer, over: () => over });
}

/** `fn` once, when the socket has drained or closed. */
export function drainedOrClosed(sock: Socket, fn: () => void): void {
  const once = (): void => {
    sock.off('drain', once);
    sock.off('close', once);
    fn();
  };
  sock.on('drain', once);
  sock.on('close', once);
}

/** The connection failed or the host hung up: the result code for the DTE, then the end. */
function watchSocketEnd(w: {
  sock: Socket; ctx: AtContext; o: DialoutOptions; peer: string; pending: PendingDial; finish: () => void;
  leg: () => CallLeg | undefined; pacer: Pacer | undefined; over: () => boolean;
}): void {
  const { sock, ctx, o, peer, pending, finish, pacer } = w;
  sock.on('error', (err) => {
    const code = errnoCode(err);
    o.event?.(`dial-out to ${peer}: ${code ?? err.message}`);
    if (!pending.active) return;
    if (code === 'ECONNREFUSED') pending.fail(ctx.profile.x >= 3 ? 'BUSY' : 'NO CARRIER', 'busy');
    else pending.fail('NO CARRIER', 'no-carrier');
    finish();
  });
  sock.on('close', () => {
    if (w.over()) return;
    if (pending.active) {
      pending.fail('NO CARRIER', 'no-carrier');
      finish();
      return;
    }
    // The host hung up: what it sent last still reaches the DTE, then NO CARRIER.
    const l = w.leg();
    const end = (): void => {
      finish();
      l?.hangup();
    };
    if (pacer !== undefined && pacer.pending > 0) void pacer.drained().then(end);
    else end();
  });
}
