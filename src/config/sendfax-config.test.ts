// sendfax.config as mgetty's sendfax reads it: global settings, then `port` sections
// that override them for one line; unknown keywords and bad values are reported with
// their line, never thrown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SENDFAX_DEFAULTS, resolveSendfaxConfig } from './sendfax-config.js';

const TEXT = `# global
fax-devices ttyS0:ttyS1
fax-id +49-89-1234
modem-init ATM1L3
dial-prefix ATDT
max-tries 5
verbose y
modem-quirks 0x08

port ttyS1
  fax-id +1234567
  max-tries-continue no
  modem-type c2.0
  fax-devices ttyS9
port /dev/ttyS2
  speed 19200
  bogus 1
  max-tries many
`;

test('globals, then the port section of the line; fax-devices only globally', () => {
  const g = resolveSendfaxConfig(TEXT, undefined);
  assert.deepEqual(g.config.faxDevices, ['ttyS0', 'ttyS1']);
  assert.equal(g.config.faxId, '+49-89-1234');
  assert.equal(g.config.modemInit, 'ATM1L3');
  assert.equal(g.config.dialPrefix, 'ATDT');
  assert.equal(g.config.maxTries, 5);
  assert.equal(g.config.verbose, true);
  assert.equal(g.config.modemType, 'auto');
  assert.deepEqual(g.ignored, ['modem-quirks']);
  assert.deepEqual(g.diagnostics, []);
  const s1 = resolveSendfaxConfig(TEXT, 'ttyS1').config;
  assert.equal(s1.faxId, '+1234567');
  assert.equal(s1.maxTriesContinue, false);
  assert.equal(s1.modemType, 'c2.0');
  assert.deepEqual(s1.faxDevices, ['ttyS0', 'ttyS1']);
  assert.equal(resolveSendfaxConfig(TEXT, 'ttyS0').config.faxId, '+49-89-1234');
});

test('a port written as /dev/ttyS2; unknown keywords and bad values are diagnostics with the line', () => {
  const r = resolveSendfaxConfig(TEXT, 'ttyS2');
  assert.equal(r.config.speed, 19200);
  assert.equal(r.config.maxTries, 5);
  assert.deepEqual(r.diagnostics, [
    { line: 17, message: "unknown keyword 'bogus'" },
    { line: 18, message: "max-tries: bad value 'many' (a whole number)" },
  ]);
  assert.deepEqual(resolveSendfaxConfig('', 'ttyS0').config, { ...SENDFAX_DEFAULTS, faxDevices: [] });
});
