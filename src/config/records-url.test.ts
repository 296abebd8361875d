// records-url: a daemon-wide keyword (global section only), checked with the daemon's own
// rules for a records setting, its password never shown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { daemonSetting, parseMgettyConfig } from './mgetty-config.js';
import { effectiveHasErrors, formatValue, resolvePort } from './effective.js';
import { formatDiagnostic } from './diagnostics.js';
import { keywordDef } from './keywords.js';

const F = 'mgetty.config';

test('records-url is read from the global section only; the last good line wins; a port section line is ignored with a warning', () => {
  const parsed = parseMgettyConfig(['records-url /srv/a.sqlite', 'records-url postgresql://tgetty@db/modems', 'port ttyS0', 'records-url postgresql://x@y/z'].join('\n'), F);
  const a = daemonSetting(parsed, 'records-url');
  assert.equal(a?.value, 'postgresql://tgetty@db/modems');
  assert.equal(a?.line, 2);
  const warn = parsed.diagnostics.map(formatDiagnostic);
  assert.deepEqual(warn, ["mgetty.config:4: warning: 'records-url' is a daemon-wide setting: a port section cannot set it, line ignored (move it above the first 'port' line)"]);
  // A port resolves the global value.
  assert.equal(resolvePort(parsed, 'ttyS0').entries.get('records-url')?.value, 'postgresql://tgetty@db/modems');
  assert.equal(daemonSetting(parseMgettyConfig('speed 9600\n', F), 'records-url'), undefined);
  assert.equal(daemonSetting(undefined, 'records-url'), undefined);
});

test('records-url with an unsupported scheme is a config error that names it (password hidden)', () => {
  for (const [value, why] of [
    ['mysql://u:pw@db/x', /records-url: the value 'mysql:\/\/u:\*\*\*@db\/x': unsupported scheme 'mysql:'; give a file path \(SQLite\) or a postgresql:\/\/user@host\/db URL; tgetty serve does not start with this value/],
    ['postgresq://u@db/x', /unsupported scheme 'postgresq:'/],
    ['file:calls.sqlite', /unsupported scheme 'file:'.*\(a file name with a colon: \.\/file:calls\.sqlite\)/],
    ['postgresql://u@db', /no database name/],
  ] as const) {
    const eff = resolvePort(parseMgettyConfig(`records-url ${value}\n`, F), 'ttyS0');
    assert.ok(effectiveHasErrors(eff), value);
    const msgs = eff.diagnostics.map(formatDiagnostic).join('\n');
    assert.match(msgs, why);
    assert.ok(!msgs.includes(':pw@'), msgs);
  }
  for (const ok of ['/var/lib/tgetty/calls.sqlite', 'postgresql://tgetty@db.example/modems', 'postgres://u:p@h:5433/d?sslmode=require']) {
    assert.equal(effectiveHasErrors(resolvePort(parseMgettyConfig(`records-url ${ok}\n`, F), 'ttyS0')), false, ok);
  }
});

test('records-url is shown without its password', () => {
  const def = keywordDef('records-url')!;
  assert.equal(def.scope, 'daemon');
  assert.equal(formatValue(def, 'postgresql://tgetty:s3cret@db/modems'), 'postgresql://tgetty:***@db/modems');
  assert.equal(formatValue(def, '/srv/calls.sqlite'), '/srv/calls.sqlite');
});
