// Fax polling against Debian's real mgetty 1.2.1 as the polled side: mgetty on one
// virtual line with `fax-server-file` (a list of G3 files) tells its modem it has a
// document (AT+FLPL=1 / AT+FLP=1); a poller on another line dials it, and mgetty, seeing
// the poll request after ATA (+FCIG/+FDTC, +FPI/+FTC), sends the files with +FDT. The
// poller is real sendfax -p (which checks the simulator's two modems in their polling
// roles) and then tgetty sendfax -p; in class 2 and 2.0 the pages it stores decode pixel
// for pixel to the files mgetty serves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitmapsEqual } from '../../src/fax/codec/bitmap.js';
import { decodeG3, encodeG3 } from '../../src/fax/codec/t4.js';
import { createBank } from '../../src/sim/index.js';
import { randomPage, testPage } from '../helpers/fax-pages.js';
import { SENDFAX, faxPeerUnavailable, q, runInFaxNamespace } from '../helpers/fax-peers.js';
import { waitFor } from '../helpers/leaks.js';
import { mgettyUnavailable, startMgettyFaxLine } from '../helpers/mgetty-ns.js';
import { runSendfax } from '../helpers/sendfax-run.js';

for (const cls of ['cls2', 'c2.0'] as const) {
  for (const poller of ['real sendfax -p', 'tgetty sendfax -p'] as const) {
    test(`${poller} -C ${cls} polls real mgetty's fax-server-file on another line: both pages, pixel for pixel`, async (t) => {
      const why = mgettyUnavailable() ?? faxPeerUnavailable(SENDFAX);
      if (why !== undefined) {
        t.skip(why);
        return;
      }
      const dir = mkdtempSync(join(tmpdir(), 'tgetty-mgetty-poll-'));
      const got = join(dir, 'got');
      mkdirSync(got);
      const bank = await createBank({ lines: 2, dir: join(dir, 'lines'), fax: true, transcripts: true, faxPaceBps: 1_000_000 });
      const pages = [testPage(1728, 200), randomPage(5, 1728, 120)];
      pages.forEach((p, i) => writeFileSync(join(dir, `doc${i + 1}.g3`), encodeG3(p)));
      writeFileSync(join(dir, 'poll-list'), `# served to pollers\n${join(dir, 'doc1.g3')}\n${join(dir, 'doc2.g3')}\n`);
      const mg = startMgettyFaxLine(t, { bank, dir, spool: dir, args: ['-x', '9', '-C', cls], extraConfig: `  fax-server-file ${join(dir, 'poll-list')}\n` });
      let log = '';
      try {
        await waitFor(() => /faxpoll_server_init: OK/.test(mg.logText()) && /waiting\.\.\./.test(mg.logText()), 20_000, 'mgetty waiting for a call, ready to be polled');
        if (poller === 'real sendfax -p') {
          const run = await runInFaxNamespace({
            devices: [['ttySIM0', bank.line(0).path]],
            files: { 'sendfax.config': 'port ttySIM0\n  fax-id 49 30 5550000\n' },
            cmd: `${SENDFAX} -x 9 -p -d ${q(got)} -C ${cls} -l ttySIM0 ${bank.line(1).number}`,
            timeoutS: 60,
            logFile: '/var/log/mgetty/fax/sendfax.log',
          });
          log = run.log;
          assert.equal(run.code, 0, run.output);
        } else {
          const run = await runSendfax({ args: ['-p', '-d', got, '-x', '9', '-C', cls, '-l', bank.line(0).path, bank.line(1).number], sendfaxConfig: 'fax-id 49 30 5550000\n' });
          log = run.log;
          assert.equal(run.code, 0, run.output);
          assert.match(run.log, /##### success, polled 2 page\(s\)/);
        }
        assert.match(mg.logText(), /will send polled document/);
        const files = readdirSync(got).sort();
        assert.equal(files.length, 2, files.join(' '));
        // The poller names the pages after the sender's id (mgetty's fax-id).
        for (const f of files) assert.match(f, /^ff[0-9a-zA-Z]+M0-49-30-5550001\.0[12]$/);
        files.forEach((f, i) => assert.ok(bitmapsEqual(decodeG3(readFileSync(join(got, f)), { width: 1728, strict: true }).bitmap, pages[i] ?? testPage()), `page ${i + 1} (${f})`));
      } catch (err) {
        t.diagnostic(`poller log:\n${log.split('\n').filter((l) => !/read \d+, write/.test(l)).slice(-40).join('\n')}`);
        t.diagnostic(`mgetty log:\n${mg.logText().split('\n').filter((l) => !/key:/.test(l)).slice(-60).join('\n')}`);
        throw err;
      }
    });
  }
}
