// A rejected reload as the admin sees it: `tgetty reload` and `tgetty status` give the
// same message, each problem once, on its own line (no `\x0a`), without the parser's
// "the line is ignored and the previous value stays" (the whole file was refused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Daemon } from '../../src/daemon/daemon.js';
import { startStatusServer } from '../../src/daemon/status-server.js';
import { createLogger } from '../../src/log/logger.js';
import { reloadCommand, statusCommand } from '../../src/cli/status.js';
import { tempSystem } from '../helpers/temp-system.js';

test('a bad config on reload: one clear message, the same in `tgetty reload` and `tgetty status`', async (t) => {
  const sys = tempSystem('tgetty-reload-errors-');
  // Devices that do not exist: the lines only retry opening them; no modem is needed here.
  writeFileSync(join(sys.etc, 'mgetty.config'), 'toggle-dtr no\nport ttyQ8\nport ttyQ9\n');
  const daemonLog: string[] = [];
  const daemon = new Daemon({
    paths: sys.paths,
    lines: [join(sys.root, 'ttyQ8'), join(sys.root, 'ttyQ9')],
    trimHeap: false,
    log: createLogger({ device: 'tgetty', file: null, audit: 'none', stderr: (s) => daemonLog.push(s) }),
  });
  daemon.start();
  const srv = await startStatusServer({ runDir: sys.run, handlers: { status: () => daemon.status(), reload: () => daemon.reload() } });
  t.after(async () => {
    await srv.close();
    await daemon.stop();
    rmSync(sys.root, { recursive: true, force: true });
  });

  writeFileSync(join(sys.etc, 'mgetty.config'), 'toggle-dtr no\nrings abc\nport ttyQ8\nport ttyQ9\n  speed 115201\n');
  let out = '';
  let err = '';
  assert.equal(await reloadCommand({ runDir: sys.run, out: (s) => (out += s), err: (s) => (err += s) }), 1);
  assert.equal(out, '');
  const cfg = join(sys.etc, 'mgetty.config');
  const problems = [
    `${cfg}:2: error: bad value 'abc' for 'rings': expected an integer (decimal, 0octal or 0xhex)`,
    `ttyQ9: ${cfg}:5: error: speed: 115201 is not a supported port speed`,
  ];
  const lines = err.trimEnd().split('\n');
  assert.equal(lines[0], 'tgetty: the new configuration was rejected; the old one stays in force:');
  assert.equal(lines.length, 3, err);
  assert.equal(lines[1], `  ${problems[0]}`);
  assert.ok(lines[2]?.startsWith(`  ${problems[1]}`), err);
  assert.doesNotMatch(err, /previous value stays/);

  let st = '';
  assert.equal(await statusCommand({ runDir: sys.run, json: false, out: (s) => (st += s), err: (s) => (st += s) }), 0);
  assert.doesNotMatch(st, /\\x0a/);
  // The same message and problem lines as `tgetty reload`.
  assert.ok(st.includes(`last reload: ${lines.slice(0).join('\n').replace(/^tgetty: /, '')}\n`), st);
  assert.equal(daemon.status().lastReloadError, err.trimEnd().split('\n').slice(1).map((l) => l.slice(2)).join('\n'));
  // Logged once, on one line.
  const logged = daemonLog.join('').split('\n').filter((l) => /reload rejected/.test(l));
  assert.equal(logged.length, 1, daemonLog.join(''));
  assert.equal(logged[0]?.split("bad value 'abc'").length, 2, 'the global error once, not once per line');
});
