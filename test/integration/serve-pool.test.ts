// `tgetty serve --records postgresql://...` as a user runs it: calls are answered while the
// database is down or refuses the password, rows wait (status says how many) and arrive
// when it is back; `tgetty calls` reads the pool; an unsupported scheme is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createBank, type SimBank as Bank } from '../../src/sim/index.js';
import { startChild, type Child } from '../helpers/child.js';
import { waitFor } from '../helpers/leaks.js';
import { pgUnavailable, startPgCluster, type PgCluster } from '../helpers/pg-cluster.js';

const BIN = resolve(import.meta.dirname, '../../../bin/tgetty.mjs');
const skip = process.getuid?.() !== 0 ? 'needs root (login.config owned by root, as in production)' : pgUnavailable();
/** More than the daemon needs to stop (2 s for the records to flush, then the lines), also on a loaded machine. */
const STOP_GRACE_MS = 15_000;

const run = (args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { code: number | null; out: string; err: string } => {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: opts.cwd, env: opts.env ?? process.env, timeout: 30_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('an unsupported records scheme is refused by serve and calls, and creates nothing in the working directory', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'tgetty-scheme-'));
  try {
    const s = run(['serve', '--records', 'mysql://u:pw@db/x', '--run-dir', join(cwd, 'run'), '--log-dir', join(cwd, 'log'), '--lines', 'ttyNONE'], { cwd });
    assert.equal(s.code, 2, s.err);
    assert.match(s.err, /--records 'mysql:\/\/u:\*\*\*@db\/x': unsupported scheme 'mysql:'; give a file path \(SQLite\) or a postgresql:\/\/user@host\/db URL/);
    const env = { ...process.env, TGETTY_RECORDS: 'postgresq://u@db/x' };
    const c = run(['calls'], { cwd, env });
    assert.equal(c.code, 2, c.err);
    assert.match(c.err, /TGETTY_RECORDS 'postgresq:\/\/u@db\/x': unsupported scheme 'postgresq:'/);
    // --records wins over TGETTY_RECORDS.
    const both = run(['calls', '--records', join(cwd, 'none.sqlite')], { cwd, env });
    assert.equal(both.code, 0, both.err);
    assert.match(both.err, /no call records at .*none\.sqlite yet/);
    // --records-spool is the local SQLite copy: a URL there is refused too.
    const spool = run(['serve', '--records', 'postgresql://u@db/x', '--records-spool', 'postgresql://u@db/y', '--run-dir', join(cwd, 'run'), '--log-dir', join(cwd, 'log'), '--lines', 'ttyNONE'], { cwd });
    assert.equal(spool.code, 2, spool.err);
    assert.match(spool.err, /--records-spool 'postgresql:\/\/u@db\/y': the local copy is an SQLite file; give a file path/);
    // tgetty demo --records: a file only, checked before anything starts.
    const demo = run(['demo', '--records', 'mysql://u:pw@db/x', '--dir', join(cwd, 'demo')], { cwd });
    assert.equal(demo.code, 2, demo.err);
    assert.match(demo.err, /tgetty demo: --records 'mysql:\/\/u:\*\*\*@db\/x': unsupported scheme 'mysql:'/);
    const demoPg = run(['demo', '--records', 'postgresql://u@db/x', '--dir', join(cwd, 'demo')], { cwd });
    assert.equal(demoPg.code, 2, demoPg.err);
    assert.match(demoPg.err, /the demo keeps its call records in an SQLite file; give a file path/);
    assert.deepEqual(readdirSync(cwd).filter((f) => f.includes(':')), [], 'no directory named after a scheme');
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

test('records-url in mgetty.config: an unsupported scheme is refused naming the file and line; TGETTY_RECORDS and --records win over it', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'tgetty-records-url-'));
  try {
    const etc = join(cwd, 'etc');
    mkdirSync(etc);
    const conf = join(etc, 'mgetty.config');
    writeFileSync(conf, 'toggle-dtr no\nrecords-url mysql://u:pw@db/x\n');
    const noEnv = { ...process.env };
    delete noEnv.TGETTY_RECORDS;
    const paths = ['--config-dir', etc, '--run-dir', join(cwd, 'run'), '--log-dir', join(cwd, 'log'), '--lines', 'ttyNONE'];
    const s = run(['serve', ...paths], { cwd, env: noEnv });
    assert.equal(s.code, 2, s.err);
    assert.match(s.err, new RegExp(`records-url \\(${conf.replace(/[.]/g, '\\.')}:2\\) 'mysql://u:\\*\\*\\*@db/x': unsupported scheme 'mysql:'`));
    assert.ok(!s.err.includes(':pw@'), s.err);
    const c = run(['calls', '--config-dir', etc], { cwd, env: noEnv });
    assert.equal(c.code, 2, c.err);
    assert.match(c.err, /tgetty calls: records-url \(.*mgetty\.config:2\) 'mysql:\/\/u:\*\*\*@db\/x': unsupported scheme/);
    // config check says so too.
    const check = run(['config', 'check', '--config-dir', etc], { cwd, env: noEnv });
    assert.match(check.out + check.err, /mgetty\.config:2: error: records-url: the value 'mysql:\/\/u:\*\*\*@db\/x': unsupported scheme 'mysql:'/);
    // TGETTY_RECORDS wins over the file, --records over both.
    const env = run(['calls', '--config-dir', etc], { cwd, env: { ...noEnv, TGETTY_RECORDS: join(cwd, 'env.sqlite') } });
    assert.equal(env.code, 0, env.err);
    assert.match(env.err, /no call records at .*env\.sqlite yet/);
    const cli = run(['calls', '--config-dir', etc, '--records', join(cwd, 'cli.sqlite')], { cwd, env: { ...noEnv, TGETTY_RECORDS: join(cwd, 'env.sqlite') } });
    assert.match(cli.err, /no call records at .*cli\.sqlite yet/);
    // A file path in records-url is the SQLite file.
    writeFileSync(conf, `toggle-dtr no\nrecords-url ${join(cwd, 'conf.sqlite')}\n`);
    const fromConf = run(['calls', '--config-dir', etc], { cwd, env: noEnv });
    assert.equal(fromConf.code, 0, fromConf.err);
    assert.match(fromConf.err, /no call records at .*conf\.sqlite yet/);
    assert.deepEqual(readdirSync(cwd).filter((f) => f.includes(':')), [], 'no directory named after a scheme');
  } finally {
    rmSync(cwd, { recursive: true, force: true });
  }
});

interface Rig {
  root: string;
  d: { sim: string; etc: string; lock: string; log: string; run: string };
  bank: Bank;
  serve(records: string): Child;
  cli(...args: string[]): string;
  status(): { records?: { connected?: boolean; waiting?: { calls: number; events: number }; lastError?: string; location: string } };
  call(line: number, name: string): Promise<void>;
  close(): Promise<void>;
}

async function rig(): Promise<Rig> {
  const root = mkdtempSync(join(tmpdir(), 'tgetty-serve-pool-'));
  const d = { sim: join(root, 'sim'), etc: join(root, 'etc'), lock: join(root, 'lock'), log: join(root, 'log'), run: join(root, 'run') };
  for (const x of Object.values(d)) mkdirSync(x);
  writeFileSync(join(root, 'utmp'), '');
  writeFileSync(join(root, 'wtmp'), '');
  writeFileSync(join(d.etc, 'mgetty.config'), 'toggle-dtr no\nfido-send-emsi no\nlogin-prompt login:\n');
  writeFileSync(join(d.etc, 'hi.sh'), '#!/bin/sh\necho "hi $1"\nexit 0\n');
  chmodSync(join(d.etc, 'hi.sh'), 0o755);
  writeFileSync(join(d.etc, 'login.config'), `* - - ${d.etc}/hi.sh @\n`);
  chmodSync(join(d.etc, 'login.config'), 0o600);
  const bank = await createBank({ lines: 1, dir: d.sim });
  const children: Child[] = [];
  const cli = (...args: string[]): string => execFileSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
  const r: Rig = {
    root,
    d,
    bank,
    serve(records) {
      const paths = ['--config-dir', d.etc, '--lock-dir', d.lock, '--log-dir', d.log, '--run-dir', d.run, '--utmp', join(root, 'utmp'), '--wtmp', join(root, 'wtmp')];
      const c = startChild(process.execPath, [BIN, 'serve', ...paths, '--records', records, '--records-spool', join(root, 'spool.sqlite'), '--lines', `${d.sim}/ttySIM0`], { cwd: root });
      children.push(c);
      return c;
    },
    cli,
    status: () => JSON.parse(cli('status', '--run-dir', d.run, '--json')) as ReturnType<Rig['status']>,
    async call(line, name) {
      const call = bank.line(line).call({ callerId: '5551234', cidFormat: 'clip' });
      try {
        await call.waitFor(/login:/, 10_000);
        call.write(`${name}\r`);
        await call.waitFor(new RegExp(`hi ${name}`), 5_000);
      } catch (err) {
        // What the daemon saw of this call (the caller's view alone cannot tell why).
        let log: string;
        try {
          log = readFileSync(join(d.log, 'ttySIM0.log'), 'latin1').split('\n').slice(-40).join('\n');
        } catch (e) {
          log = `(no log: ${e instanceof Error ? e.message : String(e)})`;
        }
        throw new Error(`call ${name}: ${err instanceof Error ? err.message : String(err)}\n--- ttySIM0.log:\n${log}`, { cause: err });
      }
    },
    async close() {
      for (const c of children) await c.stop({ graceMs: STOP_GRACE_MS });
      await bank.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
  return r;
}

async function waitIdle(r: Rig): Promise<void> {
  await waitFor(
    () => {
      try {
        return (JSON.parse(r.cli('status', '--run-dir', r.d.run, '--json')) as { lines: { state: string }[] }).lines.every((l) => l.state === 'idle');
      } catch {
        return false;
      }
    },
    15_000,
    'the line is idle',
  );
}

describe('tgetty serve with PostgreSQL records', { skip }, () => {
  let cluster: PgCluster;
  before(async () => {
    cluster = await startPgCluster();
  });
  after(async () => {
    await cluster?.destroy();
  });

  test('the database down: the call is answered, status says one row waits, it arrives once when the database is back; calls reads the pool', { timeout: 90_000 }, async (t) => {
    const r = await rig();
    t.after(() => r.close());
    const url = cluster.url();
    const serve = r.serve(url);
    await waitIdle(r);
    await waitFor(() => r.status().records?.connected === true, 10_000, 'connected to the database');
    await r.call(0, 'alice');
    await waitFor(() => cluster.psql("SELECT COUNT(*) FROM calls WHERE outcome = 'completed'").trim() === '1', 10_000, 'the first row in PostgreSQL');

    await cluster.stop();
    await waitIdle(r);
    await r.call(0, 'bob');
    await waitFor(() => (r.status().records?.waiting?.calls ?? 0) === 1, 10_000, 'one call row waits');
    const st = r.status().records!;
    assert.equal(st.connected, false);
    assert.match(st.lastError ?? '', /connect|terminat|ECONNREFUSED|refused/i);
    assert.match(r.cli('status', '--run-dir', r.d.run), /records postgresql:\/\/tgetty@127\.0\.0\.1:\d+\/tgetty: not reachable: .*; 1 call row\(s\) waiting \(\d+ write\(s\)\) in .*spool\.sqlite/);

    await cluster.start();
    await waitFor(() => r.status().records?.waiting?.events === 0, 20_000, 'the outbox drained');
    assert.equal(cluster.psql('SELECT COUNT(*) FROM calls').trim(), '2');
    assert.equal(cluster.psql("SELECT string_agg(login_name || '@' || host, ',' ORDER BY started_at) FROM calls").trim(), `alice@${hostname()},bob@${hostname()}`);

    // tgetty calls on the pool: the filters, --json, --summary.
    const rows = JSON.parse(r.cli('calls', '--records', url, '--json')) as { host: string; loginName: string; outcome: string }[];
    assert.deepEqual(rows.map((x) => [x.host, x.loginName, x.outcome]), [[hostname(), 'bob', 'completed'], [hostname(), 'alice', 'completed']]);
    assert.match(r.cli('calls', '--records', url), new RegExp(`TIME\\s+HOST\\s+LINE[^\\n]*\\n[^\\n]+${hostname()}\\s+ttySIM0\\s`));
    assert.equal(r.cli('calls', '--records', url, '--host', 'elsewhere'), 'no calls match\n');
    assert.equal((JSON.parse(r.cli('calls', '--records', url, '--outcome', 'completed', '--line', 'ttySIM0', '--since', '1h', '--json')) as unknown[]).length, 2);
    const sum = JSON.parse(r.cli('calls', '--records', url, '--summary', '--json')) as { host: string; line: string; calls: number; answered: number; failed: number }[];
    assert.deepEqual(sum.map(({ host, line, calls, answered, failed }) => ({ host, line, calls, answered, failed })), [{ host: hostname(), line: 'ttySIM0', calls: 2, answered: 2, failed: 0 }]);
    assert.match(r.cli('calls', '--records', url, '--summary'), /HOST\s+LINE\s+CALLS\s+ANSWERED\s+FAILED\s+MEAN DURATION\s+MEAN RING-ATA\n.*ttySIM0\s+2\s+2\s+0\s/);
    // The local copy has both calls too.
    assert.equal((JSON.parse(r.cli('calls', '--records', join(r.root, 'spool.sqlite'), '--json')) as unknown[]).length, 2);

    await serve.stop({ graceMs: STOP_GRACE_MS });
    assert.equal(await serve.exited, 0, serve.output());
    assert.deepEqual(readdirSync(r.root).filter((f) => f.includes(':')), [], 'no postgresql: directory');
  });

  test('a refused password: said once at start, the daemon answers calls anyway, rows wait', { timeout: 90_000 }, async (t) => {
    const secured = await startPgCluster({ password: 'right' });
    const r = await rig();
    t.after(async () => {
      await r.close();
      await secured.destroy();
    });
    const serve = r.serve(secured.url({ password: 'wrong' }));
    await waitFor(() => /password authentication failed/.test(serve.output()), 10_000, 'the error on stderr');
    assert.match(serve.output(), /tgetty serve: call records: postgresql:\/\/tgetty:\*\*\*@127\.0\.0\.1:\d+\/tgetty refused the login: password authentication failed for user "tgetty"; rows wait in .*spool\.sqlite/);
    assert.ok(!serve.output().includes('wrong'), 'the password is never printed');
    assert.match(serve.output(), /warning: the password in --records is visible to every local user \(ps\); put the URL in TGETTY_RECORDS/);
    await waitIdle(r);
    await r.call(0, 'carol');
    await waitFor(() => r.status().records?.waiting?.calls === 1, 10_000, 'the row waits');
    assert.match(r.status().records?.lastError ?? '', /password authentication failed/);
    assert.ok(existsSync(join(r.root, 'spool.sqlite')));
    assert.equal(JSON.stringify(r.status()).includes('wrong'), false, 'status never shows the password');
    // tgetty calls with the refused password: exit 1, the reason, never the password.
    const c = run(['calls', '--records', secured.url({ password: 'wrong' })]);
    assert.equal(c.code, 1, c.err);
    assert.match(c.err, /tgetty calls: .*postgresql:\/\/tgetty:\*\*\*@127\.0\.0\.1:\d+\/tgetty refused the login: password authentication failed/);
    assert.ok(!c.err.includes('wrong'), c.err);
  });

  test('a wrong database URL (no such database): said at start, the daemon answers calls, rows wait; tgetty calls fails clearly', { timeout: 90_000 }, async (t) => {
    const r = await rig();
    t.after(() => r.close());
    const bad = cluster.url({ database: 'nosuchdb' });
    const serve = r.serve(bad);
    await waitFor(() => /nosuchdb/.test(serve.output()), 10_000, 'the error on stderr');
    assert.match(serve.output(), /tgetty serve: call records: .*\/nosuchdb: database "nosuchdb" does not exist; rows wait in .*spool\.sqlite/);
    await waitIdle(r);
    await r.call(0, 'dave');
    await waitFor(() => r.status().records?.waiting?.calls === 1, 10_000, 'the row waits');
    assert.equal(r.status().records?.connected, false);
    assert.match(r.cli('status', '--run-dir', r.d.run), /records postgresql:\/\/tgetty@127\.0\.0\.1:\d+\/nosuchdb: not reachable: .*database "nosuchdb" does not exist; 1 call row\(s\) waiting/);
    // The call was answered and is in the local copy.
    const local = JSON.parse(r.cli('calls', '--records', join(r.root, 'spool.sqlite'), '--json')) as { loginName: string; outcome: string }[];
    assert.deepEqual(local.map((x) => [x.loginName, x.outcome]), [['dave', 'completed']]);
    const c = run(['calls', '--records', bad]);
    assert.equal(c.code, 1, c.err);
    assert.match(c.err, /tgetty calls: .*nosuchdb: database "nosuchdb" does not exist/);
    const t0 = Date.now();
    await serve.stop({ graceMs: 10_000 }); // the sender gets up to 2 s to send what waits
    t.diagnostic(`stopped in ${Date.now() - t0} ms`);
    assert.equal(await serve.exited, 0, serve.output());
  });
});
