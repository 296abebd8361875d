import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMgettyConfig } from './mgetty-config.js';
import { formatDiagnostic } from './diagnostics.js';
import {
  resolvePort, formatEffective, effectiveRows, effectiveToJSON, sourceText, intOf, boolOf, stringOf, chatOf, flowOf,
  effectiveHasErrors,
} from './effective.js';
import { deviceFromArg, devicePath, devId, lockName, infix } from '../core/device.js';
import { KEYWORDS } from './keywords.js';

const F = 'mgetty.config';

test('spec §2.3 test vector, effective values after post-processing', () => {
  const text = [
    'autobauding 1', 'need-dsr on', 'toggle-dtr On', 'ignore-carrier', 'toggle-dtr-waittime 010', 'prompt-waittime 12abc',
    'answer-chat-timeout abc', 'modem-check-time 100', 'ringback-time 5', 'issue-file  /etc/foo    bar  ', 'notify',
    'fax-rec-flow rtscts', 'fax-send-flow bogus',
  ].join('\n');
  const eff = resolvePort(parseMgettyConfig(text, F), 'ttyS0');
  assert.equal(boolOf(eff, 'autobauding'), false);
  assert.equal(boolOf(eff, 'need-dsr'), true);
  assert.equal(boolOf(eff, 'toggle-dtr'), false);
  assert.equal(boolOf(eff, 'ignore-carrier'), true);
  assert.equal(intOf(eff, 'toggle-dtr-waittime'), 8);
  assert.equal(intOf(eff, 'prompt-waittime'), 12);
  assert.equal(intOf(eff, 'answer-chat-timeout'), 80);
  assert.equal(eff.entries.get('answer-chat-timeout')!.source.kind, 'default');
  assert.equal(intOf(eff, 'modem-check-time'), 900);
  assert.equal(eff.entries.get('modem-check-time')!.adjusted, '100 raised to the minimum of 900');
  assert.equal(intOf(eff, 'ringback-time'), 30);
  assert.equal(stringOf(eff, 'issue-file'), '/etc/foo bar');
  assert.equal(stringOf(eff, 'notify'), '');
  assert.equal(flowOf(eff, 'fax-rec-flow'), 'hard');
  assert.equal(flowOf(eff, 'fax-send-flow'), 'both');
  assert.ok(eff.diagnostics.some((d) => d.line === 13 && d.kind === 'bad-value'));
  assert.ok(eff.diagnostics.some((d) => formatDiagnostic(d) === 'mgetty.config:9: warning: ringback-time: 5 raised to the minimum of 30'));
});

test('precedence: command line > later matching section > earlier section > global > default', () => {
  const text = [
    'debug 5', 'rings 2', 'speed 19200', 'term vt100',
    'port ttyS?', 'rings 3', 'speed 57600',
    'port ttyS1', 'rings 4',
    'port ttyUSB0', 'rings 9',
  ].join('\n');
  const p = parseMgettyConfig(text, F);
  const eff = resolvePort(p, 'ttyS1', { speed: 115200 });
  assert.equal(intOf(eff, 'rings'), 4);
  assert.deepEqual(eff.entries.get('rings')!.source, { kind: 'port', pattern: 'ttyS1', file: F, line: 9 });
  assert.equal(intOf(eff, 'debug'), 5);
  assert.deepEqual(eff.entries.get('debug')!.source, { kind: 'global', file: F, line: 1 });
  // Q25: the config's speed lines are ignored for a CLI-set keyword.
  assert.equal(intOf(eff, 'speed'), 115200);
  assert.deepEqual(eff.entries.get('speed')!.source, { kind: 'command line' });
  assert.equal(intOf(eff, 'login-time'), 240);
  assert.deepEqual(eff.entries.get('login-time')!.source, { kind: 'default' });
  assert.deepEqual(eff.matchedSections, [{ pattern: 'ttyS?', file: F, line: 5 }, { pattern: 'ttyS1', file: F, line: 8 }]);

  const other = resolvePort(p, 'ttyS2');
  assert.equal(intOf(other, 'rings'), 3);
  assert.equal(intOf(other, 'speed'), 57600);
  const usb = resolvePort(p, 'ttyUSB0');
  assert.equal(intOf(usb, 'rings'), 9);
  assert.equal(intOf(usb, 'speed'), 19200);
});

test('a bad value in a port section keeps the value from before', () => {
  const eff = resolvePort(parseMgettyConfig('rings 3\nport ttyS0\nrings many\n', F), 'ttyS0');
  assert.equal(intOf(eff, 'rings'), 3);
  assert.equal(eff.entries.get('rings')!.source.kind, 'global');
});

test('diagnostics of non-matching sections are not reported for the port (mgetty skips them)', () => {
  const p = parseMgettyConfig('ringz 1\nport ttyS0\nfoo 1\nport ttyS1\nbar 2\n', F);
  assert.equal(p.diagnostics.length, 3);
  assert.deepEqual(resolvePort(p, 'ttyS1').diagnostics.map((d) => d.line), [1, 5]);
});

test('post-processing also applies to command-line values; invalid speeds are errors', () => {
  const eff = resolvePort(undefined, 'ttyS0', { rings: 0, 'ringback-time': 10 });
  assert.equal(intOf(eff, 'rings'), 1);
  assert.equal(intOf(eff, 'ringback-time'), 30);
  assert.equal(effectiveHasErrors(eff), false);

  const bad = resolvePort(undefined, 'ttyS0', { speed: 12345 });
  assert.equal(effectiveHasErrors(bad), true);
  assert.deepEqual(bad.diagnostics.map((d) => [d.code, formatDiagnostic(d)]), [
    ['CLI_BAD_SPEED', '<command line>: error: speed: 12345 is not a supported port speed (one of 50 75 110 134 150 200 300 600 1200 1800 2400 4800 9600 19200 38400 57600 115200 230400 460800); the line does not start with this value'],
  ]);
  const badFile = resolvePort(parseMgettyConfig('\nspeed 14400\n', F), 'ttyS0');
  assert.equal(badFile.diagnostics[0].code, 'CONFIG_OUT_OF_RANGE');
  assert.match(formatDiagnostic(badFile.diagnostics[0]), /^mgetty\.config:2: error: speed: 14400 is not a supported port speed/);
});

test('no config file: every keyword at its default', () => {
  const eff = resolvePort(undefined, 'ttyS0');
  assert.equal(eff.entries.size, KEYWORDS.length);
  for (const e of eff.entries.values()) assert.equal(e.source.kind, 'default');
  assert.deepEqual(chatOf(eff, 'init-chat'), ['', '\\dATQ0V1H0', 'OK', 'AT', 'OK']);
  assert.equal(stringOf(eff, 'term'), undefined);
});

test('accessors reject a wrong keyword or type (programming errors)', () => {
  const eff = resolvePort(undefined, 'ttyS0');
  assert.throws(() => intOf(eff, 'nope'), { code: 'INTERNAL' });
  assert.throws(() => intOf(eff, 'term'), /is string, not int/);
  assert.throws(() => resolvePort(undefined, 'ttyS0', { nope: 1 }), { code: 'INTERNAL' });
});

test('formatEffective: table with sources and markers', () => {
  const p = parseMgettyConfig('debug 5\nswitchbd 19200\nport ttyS1\nrings 0\n', F);
  const out = formatEffective(resolvePort(p, 'ttyS1', { speed: 9600 }));
  const lines = out.split('\n');
  assert.equal(lines[0], '# effective configuration for ttyS1');
  const row = (kw: string): string => lines.find((l) => l.slice(4).startsWith(`${kw} `))!;
  assert.match(row('speed'), /^ {4}speed +9600 +command line$/);
  assert.match(row('debug'), /^ {4}debug +5 +global \(mgetty\.config:1\)$/);
  assert.match(row('switchbd'), /^ - {2}switchbd +19200 +global \(mgetty\.config:2\)$/);
  assert.match(row('rings'), /^ {2}\* rings +1 +port ttyS1 \(mgetty\.config:4\) \[0 raised to 1\]$/);
  assert.match(row('port-mode'), /^ {4}port-mode +0660 +default$/);
  assert.match(row('hangup-grace'), /^T {3}hangup-grace +10 +default$/);
  assert.match(row('switchbd') ?? '', /switchbd/);
  assert.match(row('init-chat'), /init-chat +"" \\dATQ0V1H0 OK AT OK +default$/);
});

test('effectiveToJSON is JSON-able and keeps sources', () => {
  const p = parseMgettyConfig('port ttyS1\nterm vt100\n', 'x.config');
  const j = JSON.parse(JSON.stringify(effectiveToJSON(resolvePort(p, 'ttyS1')))) as ReturnType<typeof effectiveToJSON>;
  assert.deepEqual(j.values.term, { value: 'vt100', source: 'port ttyS1', file: 'x.config', line: 2, origin: 'mgetty', used: true });
  assert.deepEqual(j.values['open-delay'], { value: null, source: 'default', origin: 'mgetty', used: true });
  assert.deepEqual(j.values.switchbd.used, false);
  assert.deepEqual(j.matchedSections, [{ pattern: 'ttyS1', file: 'x.config', line: 1 }]);
  assert.equal(sourceText({ kind: 'port', pattern: 'tty?', file: 'f', line: 3 }), 'port tty? (f:3)');
});

test('device vocabulary (spec §0)', () => {
  assert.equal(deviceFromArg('ttyS3'), 'ttyS3');
  assert.equal(deviceFromArg('/dev/ttyS3'), 'ttyS3');
  assert.equal(deviceFromArg('/dev/usb/ttyUSB0'), 'usb/ttyUSB0');
  assert.equal(deviceFromArg('/tmp/sim/ttySIM0'), '/tmp/sim/ttySIM0');
  assert.equal(devicePath('ttyS3'), '/dev/ttyS3');
  assert.equal(devicePath('/tmp/sim/ttySIM0'), '/tmp/sim/ttySIM0');
  assert.equal(devId('usb/ttyUSB0'), 'usb-ttyUSB0');
  assert.equal(devId('/tmp/sim/ttySIM0'), '-tmp-sim-ttySIM0');
  assert.equal(lockName('usb/ttyUSB0'), 'ttyUSB0');
  assert.equal(lockName('ttyS0'), 'ttyS0');
  assert.equal(infix('ttyS0'), 'yS0');
  assert.equal(infix('ttyQZ0'), 'QZ0');
  assert.equal(infix('S0'), 'S0');
});

test('an invalid speed is not shown as the value used: the table and the JSON say the line does not start', () => {
  const eff = resolvePort(parseMgettyConfig('speed 115201\n', F), 'ttyS0');
  const row = effectiveRows(eff).find((r) => r.keyword === 'speed');
  assert.equal(row?.mark, '  !');
  assert.equal(row?.value, 'none: 115201 is invalid, the line does not start');
  assert.match(formatEffective(eff), /! speed +none: 115201 is invalid, the line does not start +global \(mgetty\.config:1\)/);
  assert.match(effectiveToJSON(eff).values.speed.invalid ?? '', /not a supported port speed/);
  assert.equal(effectiveRows(resolvePort(undefined, 'ttyS0')).find((r) => r.keyword === 'speed')?.value, '38400');
});

test('debug outside 0..9: a warning, and the level that is really used', () => {
  const eff = resolvePort(parseMgettyConfig('debug 12\n', F), 'ttyS0');
  assert.equal(intOf(eff, 'debug'), 9);
  assert.equal(effectiveHasErrors(eff), false);
  assert.deepEqual(eff.diagnostics.map((d) => [d.severity, d.line, d.message]), [['warning', 1, 'debug: 12 is above the highest level 9 (everything), 9 is used']]);
  assert.equal(intOf(resolvePort(undefined, 'ttyS0', { debug: -1 }), 'debug'), 0);
  assert.equal(resolvePort(parseMgettyConfig('debug 9\n', F), 'ttyS0').diagnostics.length, 0);
});
