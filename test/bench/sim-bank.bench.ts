// Benchmark (not a test) of the modem bank's data path (issue 18), with the simulator in a
// child process of its own (so its CPU is its own, read from /proc schedstat):
//  - throughput: a telnet caller -> telnet in -> virtual line 0 -> the DTE (this process,
//    a bridge between the two pty slaves) -> virtual line 1 -> dial-out -> a telnet host
//    (this process), unpaced, both ways; the sim's CPU per MB; bytes compared by hash;
//  - 256 simultaneous dial-outs (all connect, none lost; time to all connected);
//  - answer-to-connect: telnet connect -> RING at the DTE; ATA -> CONNECT (the modelled
//    answer delay is 500 ms); ATD -> CONNECT to a loopback host;
//  - pacing accuracy of the dial-out at 33600 and 2400 bps.
// Run: npm run bench -- sim-bank   [--mb N] [--dialouts N] [--pace-seconds S] [--throughput-only]
//      [--socat-bridge]: the DTE bridge between the two lines is socat, not this process
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, rmSync, writeSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tty from 'node:tty';
import { fileURLToPath } from 'node:url';
import { closeFd, O_NOCTTY, O_NONBLOCK, O_RDWR, openFd } from '../../src/line/libc.js';
import { createBank } from '../../src/sim/index.js';
import { cpuNs } from '../helpers/proc-stats.js';

const IAC = 255;
const WILL = 251;
const DO = 253;
const BINARY = 0;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : NaN;
  return Number.isFinite(v) && v > 0 ? v : dflt;
}

// ---- child: the simulator ----
async function serve(): Promise<void> {
  const dir = process.argv[process.argv.indexOf('--serve') + 1] ?? '';
  const lines = arg('lines', 2);
  const speed = arg('speed', 33600);
  const pace = process.argv.includes('--pace');
  const bank = await createBank({ lines, dir, dialout: { speed, pace } });
  const addr = await bank.listen({ port: 0 });
  process.stdout.write(`${JSON.stringify({ port: addr.port })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void bank.close().then(() => process.exit(0)));
}

// ---- the parent's helpers ----
interface Sim {
  child: ChildProcess;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

async function startSim(extra: string[]): Promise<Sim> {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-bank-bench-'));
  // BENCH_CPU_PROF=DIR: a CPU profile of the simulator (to find its bottleneck).
  const prof = process.env.BENCH_CPU_PROF !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawn(process.execPath, [...prof, fileURLToPath(import.meta.url), '--serve', dir, ...extra], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((res, rej) => {
    let buf = '';
    child.stdout?.on('data', (d: Buffer) => {
      buf += d.toString();
      const m = /\{"port":(\d+)\}/.exec(buf);
      if (m !== null) res(Number(m[1]));
    });
    child.once('exit', (c) => rej(new Error(`sim exited ${c}`)));
  });
  return {
    child,
    port,
    dir,
    stop: async () => {
      const gone = new Promise((r) => child.once('exit', r));
      child.stdin?.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await gone;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A DTE on a virtual line: reads through a stream, writes AT commands with write(2). */
class Dte {
  readonly rfd: number;
  readonly wfd: number;
  /** A blocking fd for the data phase's writes. */
  readonly bfd: number;
  readonly r: tty.ReadStream;
  text = '';
  private waiters: { re: RegExp; res: (t: number) => void }[] = [];
  constructor(path: string) {
    this.rfd = openFd(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
    this.wfd = openFd(path, O_RDWR | O_NOCTTY | O_NONBLOCK);
    this.bfd = openFd(path, O_RDWR | O_NOCTTY);
    this.r = new tty.ReadStream(this.rfd);
    this.r.on('data', this.onText);
    this.r.on('error', () => undefined);
  }
  private readonly onText = (d: Buffer): void => {
    this.text += d.toString('latin1');
    const now = performance.now();
    this.waiters = this.waiters.filter((w) => {
      if (!w.re.test(this.text)) return true;
      w.res(now);
      return false;
    });
  };
  /** Resolves with the time the match arrived; the text so far is consumed. */
  wait(re: RegExp): Promise<number> {
    if (re.test(this.text)) return Promise.resolve(performance.now());
    return new Promise((res) => this.waiters.push({ re, res }));
  }
  at(cmd: string): number {
    this.text = '';
    writeSync(this.wfd, `${cmd}\r`);
    return performance.now();
  }
  /** Stop reading text: the data phase takes the stream. */
  toData(): void {
    this.r.off('data', this.onText);
  }
  close(): void {
    this.r.destroy();
    for (const fd of [this.wfd, this.bfd]) {
      try {
        closeFd(fd);
      } catch {
        // a write stream of the data phase closed it
      }
    }
  }
}

/** Telnet data bytes from a stream: IAC IAC is 0xff, IAC WILL/WONT/DO/DONT x and other commands are dropped. */
function telnetData(): (b: Buffer) => Buffer {
  let st: 'data' | 'iac' | 'opt' = 'data';
  return (b) => {
    if (st === 'data' && !b.includes(IAC)) return b;
    const out = Buffer.allocUnsafe(b.length);
    let n = 0;
    for (let i = 0; i < b.length; i++) {
      if (st === 'data') {
        const j = b.indexOf(IAC, i);
        n += b.copy(out, n, i, j < 0 ? b.length : j);
        if (j < 0) break;
        i = j;
        st = 'iac';
      } else if (st === 'iac') {
        const x = b[i] ?? 0;
        if (x === IAC) {
          out[n++] = x;
          st = 'data';
        } else st = x >= 251 && x <= 254 ? 'opt' : 'data';
      } else st = 'data';
    }
    return out.subarray(0, n);
  };
}

/** IAC doubled. */
function telnetEscape(b: Buffer): Buffer {
  const out = Buffer.allocUnsafe(b.length * 2);
  let n = 0;
  for (let i = 0; i < b.length; ) {
    const j = b.indexOf(IAC, i);
    const end = j < 0 ? b.length : j + 1;
    n += b.copy(out, n, i, end);
    if (j >= 0) out[n++] = IAC;
    i = end;
  }
  return out.subarray(0, n);
}

/** A telnet host on loopback that asks for BINARY both ways and counts/hashes what comes. */
interface Host {
  port: number;
  conns: net.Socket[];
  accepted: number;
  close(): Promise<void>;
}

async function startHost(onConn?: (s: net.Socket) => void): Promise<Host> {
  const conns: net.Socket[] = [];
  const h = { accepted: 0 };
  const srv = net.createServer((s) => {
    h.accepted++;
    conns.push(s);
    s.on('error', () => undefined);
    s.setNoDelay(true);
    s.write(Buffer.from([IAC, DO, BINARY, IAC, WILL, BINARY]));
    onConn?.(s);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  return {
    port: (srv.address() as net.AddressInfo).port,
    conns,
    get accepted() {
      return h.accepted;
    },
    close: async () => {
      for (const c of conns) c.destroy();
      await new Promise((r) => srv.close(r));
    },
  };
}

/** Collects a stream's telnet data until `want` bytes; resolves with the time and the hash. */
function collect(s: net.Socket | tty.ReadStream, want: number, decode: boolean, progress: { got: number }): Promise<{ t: number; hash: string; got: number }> {
  const h = createHash('sha256');
  const dec = telnetData();
  let got = 0;
  return new Promise((res) => {
    const on = (d: Buffer): void => {
      const b = decode ? dec(d) : d;
      h.update(b);
      got += b.length;
      progress.got = got;
      if (got >= want) {
        s.off('data', on);
        res({ t: performance.now(), hash: h.digest('hex'), got });
      }
    };
    s.on('data', on);
  });
}

/** Writes `data` to a socket in 64 KB pieces, heeding backpressure. */
async function send(s: net.Socket, data: Buffer): Promise<void> {
  for (let off = 0; off < data.length; off += 65536) {
    if (!s.write(data.subarray(off, off + 65536))) await new Promise((r) => s.once('drain', r));
  }
}

function simCpuMs(sim: Sim): number {
  const c = cpuNs(sim.child.pid ?? 0);
  return c === undefined ? NaN : c.total / 1e6;
}

const pct = (n: number): string => `${n.toFixed(2)} %`;

// ---- throughput and answer-to-connect ----
async function throughput(mb: number): Promise<void> {
  const sim = await startSim(['--lines', '2']);
  let host: Host | undefined;
  const dtes: Dte[] = [];
  let bridge: ChildProcess | undefined;
  try {
    host = await startHost();
    const d0 = new Dte(join(sim.dir, 'ttySIM0'));
    const d1 = new Dte(join(sim.dir, 'ttySIM1'));
    dtes.push(d0, d1);
    const caller = net.connect({ host: '127.0.0.1', port: sim.port });
    caller.setNoDelay(true);
    const callerText: string[] = [];
    const onCallerText = (d: Buffer): void => void callerText.push(d.toString('latin1'));
    caller.on('data', onCallerText);
    const tConn = await new Promise<number>((r) => caller.once('connect', () => r(performance.now())));
    caller.write(Buffer.from([IAC, DO, BINARY, IAC, WILL, BINARY]));
    const tRing = await d0.wait(/RING/);
    const tAta = d0.at('ATA');
    const tConnect = await d0.wait(/CONNECT/);
    await new Promise((r) => setTimeout(r, 100)); // the caller hears no CONNECT (no connect banner)
    caller.off('data', onCallerText);
    const tAtd = d1.at(`ATD127.0.0.1:${host.port}`);
    const tDialed = await d1.wait(/CONNECT/);
    while (host.conns.length === 0) await new Promise((r) => setTimeout(r, 5));
    const hs = host.conns[0];
    if (hs === undefined) throw new Error('the host has no connection');
    d0.toData();
    d1.toData();
    if (process.argv.includes('--socat-bridge')) {
      // The DTE bridge as a C program (socat, 64 KB buffers), so the bench process's own
      // JavaScript bridge is out of the measured path: what the emulator can do on its own.
      d0.r.destroy();
      d1.r.destroy();
      bridge = spawn('socat', ['-b', '65536', `FILE:${join(sim.dir, 'ttySIM0')},raw,echo=0`, `FILE:${join(sim.dir, 'ttySIM1')},raw,echo=0`], { stdio: 'ignore' });
    } else {
      // The DTE: a bridge between the two lines, as a BBS door that dials on would be. Its
      // writes go through the thread pool on blocking fds (a tty.WriteStream blocks the loop).
      const w0 = createWriteStream('', { fd: d0.bfd });
      const w1 = createWriteStream('', { fd: d1.bfd });
      d0.r.pipe(w1);
      d1.r.pipe(w0);
    }
    await new Promise((r) => setTimeout(r, 300)); // negotiation done (BINARY both ways)
    const rows: string[] = [];
    for (const dir of ['caller -> host', 'host -> caller'] as const) {
      const data = randomBytes(mb * 1024 * 1024);
      const wire = telnetEscape(data);
      const want = createHash('sha256').update(data).digest('hex');
      const [from, to] = dir === 'caller -> host' ? [caller, hs] : [hs, caller];
      const c0 = simCpuMs(sim);
      const u0 = process.cpuUsage();
      const t0 = performance.now();
      const progress = { got: 0 };
      const done = collect(to, data.length, true, progress);
      await send(from, wire);
      const r = await Promise.race([done, new Promise<undefined>((res) => setTimeout(() => res(undefined), 60_000))]);
      if (r === undefined) {
        rows.push(`| ${dir} | did not finish in 60 s: ${progress.got} of ${data.length} bytes arrived | | |`);
        continue;
      }
      const s = (r.t - t0) / 1000;
      const cpu = simCpuMs(sim) - c0;
      const u = process.cpuUsage(u0);
      const benchMs = (u.user + u.system) / 1000;
      rows.push(`| ${dir} | ${(mb / s).toFixed(1)} MB/s (${mb} MB in ${(s * 1000).toFixed(0)} ms) | ${(cpu / mb).toFixed(1)} ms (${((cpu / (s * 1000)) * 100).toFixed(0)} % of a core) | ${((benchMs / (s * 1000)) * 100).toFixed(0)} % | ${r.hash === want ? 'yes' : `NO (${r.got} bytes)`} |`);
    }
    console.log('### Throughput (unpaced), telnet in -> line 0 -> DTE bridge -> line 1 -> dial-out telnet\n');
    console.log('| direction | throughput | sim CPU per MB | bench process (caller, DTE, host) CPU | bytes identical |');
    console.log('|---|---|---|---|---|');
    for (const r of rows) console.log(r);
    console.log('\n### Answer and connect\n');
    console.log('| step | time |');
    console.log('|---|---|');
    console.log(`| telnet connect -> RING at the DTE | ${(tRing - tConn).toFixed(1)} ms |`);
    console.log(`| ATA -> CONNECT (answer delay modelled: 500 ms) | ${(tConnect - tAta).toFixed(1)} ms |`);
    console.log(`| ATD 127.0.0.1:port -> CONNECT | ${(tDialed - tAtd).toFixed(1)} ms |`);
    caller.destroy();
  } finally {
    bridge?.kill();
    for (const d of dtes) d.close();
    await host?.close();
    await sim.stop();
  }
}


// ---- 256 dial-outs at once ----
async function dialouts(n: number): Promise<void> {
  const sim = await startSim(['--lines', String(n)]);
  let host: Host | undefined;
  const dtes: Dte[] = [];
  try {
    host = await startHost();
    for (let i = 0; i < n; i++) dtes.push(new Dte(join(sim.dir, `ttySIM${i}`)));
    const c0 = simCpuMs(sim);
    const t0 = performance.now();
    const times = dtes.map((d) => {
      d.at(`ATD127.0.0.1:${host?.port ?? 0}`);
      return d.wait(/CONNECT|BUSY|NO CARRIER|NO ANSWER/);
    });
    const done = await Promise.race([Promise.all(times), new Promise<undefined>((r) => setTimeout(() => r(undefined), 60_000))]);
    const cpu = simCpuMs(sim) - c0;
    const connects = dtes.filter((d) => /CONNECT/.test(d.text)).length;
    console.log(`\n### ${n} simultaneous dial-outs\n`);
    console.log('| metric | value |');
    console.log('|---|---|');
    console.log(`| CONNECT at the DTEs | ${connects} of ${n} |`);
    console.log(`| connections the host accepted | ${host.accepted} |`);
    if (done !== undefined) {
      const rel = done.map((t) => t - t0).sort((a, b) => a - b);
      console.log(`| time to all connected | ${(rel[rel.length - 1] ?? 0).toFixed(0)} ms (median ${(rel[rel.length >> 1] ?? 0).toFixed(0)} ms) |`);
    } else console.log('| time to all connected | not all within 60 s |');
    console.log(`| sim CPU for the burst | ${cpu.toFixed(0)} ms |`);
  } finally {
    for (const d of dtes) d.close();
    await host?.close();
    await sim.stop();
  }
}

// ---- pacing ----
async function pacing(speed: number, seconds: number): Promise<string> {
  const sim = await startSim(['--lines', '1', '--speed', String(speed), '--pace']);
  const bytes = Math.round((speed / 10) * seconds);
  let host: Host | undefined;
  const dtes: Dte[] = [];
  try {
    host = await startHost((s) => {
      // The host sends everything at once, after the negotiation; the modem paces it.
      setTimeout(() => s.write(telnetEscape(randomBytes(bytes))), 200);
    });
    const d = new Dte(join(sim.dir, 'ttySIM0'));
    dtes.push(d);
    d.at(`ATD127.0.0.1:${host.port}`);
    await d.wait(/CONNECT \d+\r\n/);
    d.toData();
    let first = 0;
    let last = 0;
    let got = 0;
    await new Promise<void>((res) => {
      d.r.on('data', (b: Buffer) => {
        const now = performance.now();
        if (got === 0) first = now;
        got += b.length;
        last = now;
        if (got >= bytes) res();
      });
    });
    // Byte 1 may go at once; byte n after n-1 byte times: rate over the bytes after the first chunk.
    const bps = ((got - 1) * 10) / ((last - first) / 1000);
    return `| ${speed} bps | ${got} bytes in ${((last - first) / 1000).toFixed(2)} s | ${bps.toFixed(0)} bps | ${pct(((bps - speed) / speed) * 100)} |`;
  } finally {
    for (const d of dtes) d.close();
    await host?.close();
    await sim.stop();
  }
}

if (process.argv.includes('--serve')) {
  await serve();
} else {
  console.log('Machine shared with other work (2 cores): figures are noisy.\n');
  await throughput(arg('mb', 32));
  // --throughput-only: the data path alone (for profiling it, BENCH_CPU_PROF).
  if (process.argv.includes('--throughput-only')) process.exit(0);
  await dialouts(arg('dialouts', 256));
  const secs = arg('pace-seconds', 10);
  const rows = [await pacing(33600, secs), await pacing(2400, secs / 2)];
  console.log('\n### Pacing of dial-out data (--pace), host sends all at once\n');
  console.log('| CONNECT speed | delivered | measured rate | error |');
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(r);
}
