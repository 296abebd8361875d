// Being polled (fax-server-file), the pure parts: the modem's poll request as the
// receiver reads it, the set-up that offers a document, and the server file (a list of G3
// files with comments, or one G3 file).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { faxInitCommands } from './class2/init.js';
import { FaxReceiver, type ReceiveCommand } from './class2/receive.js';
import { parseFaxResponse } from './class2/responses.js';
import { isFileList, serverDocument } from './poll-serve.js';

test('poll request responses: +FCIG/+FPI are the poller id, +FDTC/+FTC what it can receive', () => {
  assert.deepEqual(parseFaxResponse('+FCIG:" 49 30 1"'), { kind: 'remote-id', id: '49 30 1', role: 'poller' });
  assert.deepEqual(parseFaxResponse('+FPI:"POLLER"'), { kind: 'remote-id', id: 'POLLER', role: 'poller' });
  assert.equal(parseFaxResponse('+FDTC:1,5,0,2,0,0,0,0').kind, 'poll-request');
  assert.equal(parseFaxResponse('+FTC:0,3,0,2,0,0,0,0').kind, 'poll-request');
  assert.equal(parseFaxResponse('+FPOLL').kind, 'poll');
  assert.equal(parseFaxResponse('+FPO').kind, 'poll');
});

test('the receiver after the answer: a poll request before the OK ends it as polled (with the poller and its capabilities), no AT+FDR', () => {
  const rx = new FaxReceiver();
  const out: ReceiveCommand[] = [...rx.start(), ...rx.feed(Buffer.from('\r\n+FCIG:"POLLER"\r\n\r\n+FDTC:1,5,0,2,0,0,0,0\r\n\r\nOK\r\n', 'latin1'))];
  assert.ok(!out.some((c) => c.type === 'send'), 'no AT+FDR');
  const done = out.find((c) => c.type === 'done');
  assert.ok(done?.type === 'done');
  assert.equal(done.result.end, 'polled');
  assert.equal(done.result.remoteId, 'POLLER');
  assert.equal(done.result.pollerCaps?.br, 5);
});

test('fax-server-file set: the set-up ends with +FLPL=1 (class 2) / +FLP=1 (class 2.0)', () => {
  const s = { faxId: 'X', maxSpeed: 14400, faxOnly: false };
  assert.equal(faxInitCommands('2', { ...s, pollServer: true }).at(-1), 'AT+FLPL=1');
  assert.equal(faxInitCommands('2.0', { ...s, pollServer: true }).at(-1), 'AT+FLP=1');
  assert.ok(!faxInitCommands('2', s).some((c) => /FLPL/.test(c)));
});

test('the server file: a list of G3 files (comments, blank lines, CRLF) or one G3 file; a missing file is a problem, not a crash', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tgetty-pollserve-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const g3 = Uint8Array.of(0x00, 0x10, 0x01, 0xb2, 0x59);
  writeFileSync(join(dir, 'a.g3'), g3);
  writeFileSync(join(dir, 'b.g3'), g3);
  writeFileSync(join(dir, 'list'), `# documents\r\n\r\n${join(dir, 'a.g3')}\r\n  ${join(dir, 'b.g3')}  \n`);
  assert.ok(isFileList(Buffer.from('a\nb\n')));
  assert.ok(!isFileList(g3));
  const doc = serverDocument(join(dir, 'list'));
  assert.ok('pages' in doc);
  assert.deepEqual(doc.files, [join(dir, 'a.g3'), join(dir, 'b.g3')]);
  assert.deepEqual(doc.pages.map((p) => [...p.data]), [[...g3], [...g3]]);
  const one = serverDocument(join(dir, 'a.g3'));
  assert.ok('pages' in one && one.pages.length === 1);
  writeFileSync(join(dir, 'bad'), `${join(dir, 'missing.g3')}\n`);
  const bad = serverDocument(join(dir, 'bad'));
  assert.ok('problem' in bad && /missing\.g3/.test(bad.problem));
  assert.ok('problem' in serverDocument(join(dir, 'nope')));
  writeFileSync(join(dir, 'empty'), '# nothing\n');
  assert.ok('problem' in serverDocument(join(dir, 'empty')));
});
