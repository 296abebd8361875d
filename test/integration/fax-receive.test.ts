// Fax reception end to end: the simulator's virtual fax machine calls a virtual line on
// which tgetty (single-line mode, as inittab runs it) answers. tgetty sets the modem up
// for fax (AT+FCLASS=?, class 2.0 or class 2), receives the pages into fax-spool-in under
// mgetty's names, writes the fax's PDF and TIFF beside them, runs <config>/new_fax with
// mgetty's arguments (no shell), and exits 0 after the hang-up. Every page decodes to
// the bitmap that was sent, with our decoder and, when installed, netpbm's g3topbm.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitmapsEqual, parsePbm, type Bitmap } from '../../src/fax/codec/bitmap.js';
import { decodeG3, encodeG3 } from '../../src/fax/codec/t4.js';
import { createBank } from '../../src/sim/index.js';
import { randomPage, testPage } from '../helpers/fax-pages.js';
import { waitFor } from '../helpers/leaks.js';
import { startTgetty } from '../helpers/tgetty-run.js';

const hasG3topbm = spawnSync('sh', ['-c', 'command -v g3topbm']).status === 0;

for (const modemType of ['c2.0', 'cls2'] as const) {
  test(`virtual fax machine -> tgetty (modem-type ${modemType}): pages in fax-spool-in as mgetty names them, PDF and TIFF, new_fax run`, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-faxrx-'));
    const spool = join(dir, 'incoming');
    mkdirSync(spool);
    const notified = join(dir, 'notified');
    const mailed = join(dir, 'mailed');
    const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, transcripts: true });
    const tg = startTgetty({
      tty: join(dir, 'lines', 'ttySIM0'),
      args: ['-x', '6'],
      config: `port ttySIM0\n  toggle-dtr n\n  rings 1\n  modem-type ${modemType}\n  fax-id 49 30 5550000\n  fax-spool-in /nonexistent-spool:${spool}\n  diskspace 1\n  fax-mode 0640\n  notify faxadmin\n  mail-program ${join(dir, 'sendmail')}\n`,
      loginConfig: '* - - /bin/true\n',
      files: { new_fax: `#!/bin/sh\necho "$@" > ${notified}\n` },
    });
    chmodSync(join(tg.paths.config, 'new_fax'), 0o755);
    // A fake mailer: records its argv and the message.
    writeFileSync(join(dir, 'sendmail'), `#!/bin/sh\n{ for a in "$@"; do printf '[%s]' "$a"; done; echo; cat; } > ${mailed}\n`);
    chmodSync(join(dir, 'sendmail'), 0o755);
    t.after(async () => {
      await tg.stop();
      await bank.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const pages: Bitmap[] = [testPage(1728, 300), randomPage(11, 1728, 200)];
    try {
      await waitFor(() => tg.logText('ttySIM0').includes('--> idle'), 20_000, 'tgetty idle');
      assert.match(tg.logText('ttySIM0'), new RegExp(`fax: class ${modemType === 'c2.0' ? '2\\.0' : '2'},`));
      const sent = await bank.faxCall(bank.line(0).number, pages.map((b) => ({ data: encodeG3(b), fine: true, mr: false })), { id: 'VIRTUAL FAX 1' });
      assert.equal(sent.outcome, 'sent');
      assert.deepEqual(sent.statuses, [1, 1]);
      const code = await tg.exited;
      assert.equal(code, 0, 'single-line mode exits 0 after a fax, as mgetty');
      const files = readdirSync(spool).sort();
      t.diagnostic(`spool: ${files.join(' ')}`);
      const pageFiles = files.filter((f) => /\.\d\d$/.test(f));
      assert.equal(pageFiles.length, 2);
      for (const f of files) assert.match(f, /^ff[0-9a-f]{7}M0-VIRTUAL-FAX-1\.(0[12]|pdf|tif)$/);
      pageFiles.forEach((f, i) => {
        const data = readFileSync(join(spool, f));
        assert.ok(bitmapsEqual(decodeG3(data, { width: 1728, strict: true }).bitmap, pages[i] ?? testPage()), `page ${i + 1} (${f})`);
        if (hasG3topbm) {
          const r = spawnSync('g3topbm', ['-stop_error', join(spool, f)], { maxBuffer: 16 << 20 });
          assert.equal(r.status, 0, r.stderr.toString());
          assert.ok(bitmapsEqual(parsePbm(r.stdout), pages[i] ?? testPage()), `page ${i + 1} through g3topbm`);
        }
      });
      assert.ok(files.some((f) => f.endsWith('.pdf')) && files.some((f) => f.endsWith('.tif')));
      const args = readFileSync(notified, 'latin1').trim();
      assert.match(args, new RegExp(`^0 VIRTUAL FAX 1 2 ${spool}/ff[0-9a-f]{7}M0-VIRTUAL-FAX-1\\.01 ${spool}/\\S+\\.02$`));
      assert.match(tg.logText('ttySIM0'), /fax dev=ttySIM0, .*id='VIRTUAL FAX 1', \+FHNG=0, pages=2, end=complete/);
      // notify: a notice to faxadmin through mail-program, no shell.
      const mail = readFileSync(mailed, 'utf8');
      assert.match(mail, /^\[-i\]\[--\]\[faxadmin\]\n/);
      assert.match(mail, /\nSubject: fax from VIRTUAL FAX 1: 2 pages\n/);
      assert.match(mail, new RegExp(`\\n  ${spool}/ff[0-9a-f]{7}M0-VIRTUAL-FAX-1\\.pdf\\n`));
    } catch (err) {
      t.diagnostic(`transcript:\n${bank.line(0).transcript.toString().replace(/(\[[0-9a-f]{2}\]|[^\n]){400,}/g, '[page data]')}`);
      t.diagnostic(`tgetty log:\n${tg.logText('ttySIM0')}`);
      throw err;
    }
  });
}
