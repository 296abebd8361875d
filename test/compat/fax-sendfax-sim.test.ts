// Real sendfax (Debian's mgetty-fax 1.2.1) sends through a virtual line to the simulator's
// virtual fax machine, in class 2 and in class 2.0: the pages the machine stores decode
// (netpbm's g3topbm, no -reversebits) pixel for pixel to the bitmaps that were sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bitmapsEqual, formatPbm } from '../../src/fax/codec/bitmap.js';
import { encodeG3 } from '../../src/fax/codec/t4.js';
import { createBank } from '../../src/sim/index.js';
import { randomPage, testPage } from '../helpers/fax-pages.js';
import { SENDFAX, faxPeerUnavailable, g3ToBitmap, pbmToG3, q, runInFaxNamespace } from '../helpers/fax-peers.js';

// -l takes a name under /dev or a full path: one of each.
for (const [cls, flag, dev] of [['2', 'cls2', 'ttySIM0'], ['2.0', 'c2.0', '/dev/ttySIM0']] as const) {
  test(`real sendfax -C ${flag} -l ${dev} -> virtual fax machine: 2 pages stored, decoding to the bitmaps sent`, async (t) => {
    const why = faxPeerUnavailable(SENDFAX);
    if (why !== undefined) {
      t.skip(why);
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'tgetty-sendfax-sim-'));
    const bank = await createBank({ lines: 1, dir: join(dir, 'lines'), fax: true, transcripts: true });
    t.after(async () => {
      await bank.close();
      rmSync(dir, { recursive: true, force: true });
    });
    const machine = bank.addFaxMachine({ number: '5551000', dir: join(dir, 'in'), id: 'VIRTUAL FAX' });
    const pages = [testPage(1728, 64), randomPage(7, 1728, 48)];
    // Page 1 from our codec, page 2 from netpbm: both in the order sendfax takes (MSB first).
    writeFileSync(join(dir, 'p1.g3'), encodeG3(pages[0] ?? testPage()));
    writeFileSync(join(dir, 'p2.g3'), pbmToG3(formatPbm(pages[1] ?? testPage())));
    const got = machine.nextFax();
    // The namespace's /dev/ttySIM0 is the sim's line.
    const run = await runInFaxNamespace({
      devices: [['ttySIM0', bank.line(0).path]],
      files: { 'sendfax.config': 'port ttySIM0\n  fax-id 49 89 1234\n' },
      cmd: `${SENDFAX} -x 9 -C ${flag} -l ${dev} 5551000 ${q(join(dir, 'p1.g3'))} ${q(join(dir, 'p2.g3'))}`,
      timeoutS: 60,
      logFile: '/var/log/mgetty/fax/sendfax.log',
    });
    try {
      assert.equal(run.code, 0, `sendfax exit code (0 = all pages sent)\n${run.output}`);
      assert.match(run.log, /##### success, phone="5551000".*pages=2/);
      assert.match(run.log, cls === '2' ? /\+FHNG:0/ : /\+FHS:00/);
      const fax = await got;
      assert.equal(fax.sender, '49 89 1234');
      assert.equal(fax.complete, true);
      assert.equal(fax.files.length, 2);
      fax.files.forEach((f, i) => {
        const { bitmap } = g3ToBitmap(f);
        assert.ok(bitmapsEqual(bitmap, pages[i] ?? testPage()), `page ${i + 1} decodes to the bitmap sent`);
      });
    } catch (err) {
      t.diagnostic(`sendfax log:\n${run.log.split('\n').filter((l) => !/read \d+, write/.test(l)).slice(-80).join('\n')}`);
      throw err;
    }
  });
}
