// Fuzz: resolving the effective configuration of a port from any file and device name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { configTextOf, fuzzParams } from '../../test/helpers/fuzz.js';
import { KEYWORDS } from './keywords.js';
import { parseMgettyConfig } from './mgetty-config.js';
import { effectiveToJSON, formatEffective, resolvePort } from './effective.js';
import { devId, deviceFromArg, lockName } from '../core/device.js';

const F = '/etc/mgetty/mgetty.config';
const text = configTextOf([...KEYWORDS.map((k) => k.name), 'port', 'ttyS0', 'ttyS?', 'ttyACM0', 'pts/3', '?', '??????'], 60);
const device = fc.constantFrom('ttyS0', 'ttyS1', 'ttyACM0', 'pts/3', '', '?', 'ttyS', 'ttyS00');

test('fuzz: resolvePort never throws; values typed; sources and diagnostics located', () => {
  fc.assert(
    fc.property(text, device, (t, dev) => {
      const parsed = parseMgettyConfig(t, F);
      const eff = resolvePort(parsed, dev);
      assert.equal(eff.entries.size, KEYWORDS.length);
      for (const e of eff.entries.values()) {
        const v = e.value;
        if (v !== undefined) {
          const type = e.def.type;
          const ok =
            type === 'int' ? Number.isSafeInteger(v) : type === 'bool' ? typeof v === 'boolean' : type === 'chat' ? Array.isArray(v) : typeof v === 'string';
          assert.ok(ok, `${e.keyword}: ${JSON.stringify(v)}`);
        }
        if (e.source.kind === 'global' || e.source.kind === 'port') assert.ok(e.source.line >= 1 && e.source.line <= parsed.lineCount);
      }
      for (const d of eff.diagnostics) {
        assert.ok(d.message !== '' && d.line >= 0 && d.line <= parsed.lineCount, JSON.stringify(d));
      }
      for (const m of eff.matchedSections) assert.ok(m.line >= 1 && m.line <= parsed.lineCount);
    }),
    fuzzParams(1000),
  );
});

test('fuzz: the effective view (table and JSON) never throws and is deterministic', () => {
  fc.assert(
    fc.property(text, device, (t, dev) => {
      const parsed = parseMgettyConfig(t, F);
      const eff = resolvePort(parsed, dev);
      const table = formatEffective(eff);
      assert.equal(table, formatEffective(resolvePort(parsed, dev)));
      assert.equal(table.split('\n').length, KEYWORDS.length + 3);
      const json = JSON.parse(JSON.stringify(effectiveToJSON(eff))) as { values: Record<string, unknown> };
      assert.equal(Object.keys(json.values).length, KEYWORDS.length);
    }),
    fuzzParams(200, 0.05),
  );
});

test('fuzz: device-name vocabulary: no slash in DevID or lock name; /dev/ stripped once', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom('/', 'd', 'e', 'v', 't', 'S', '0'), maxLength: 12 }), (arg) => {
      const d = deviceFromArg(arg);
      assert.ok(!devId(d).includes('/') && !lockName(d).includes('/'));
      assert.equal(deviceFromArg('/dev/' + d), d);
    }),
    fuzzParams(300, 0.05),
  );
});
