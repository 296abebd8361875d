import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderConfigManPage, renderConfigReference, roffText } from './docs.js';
import { KEYWORDS } from './keywords.js';

// docs/config-reference.md is generated. After changing src/config/keywords.ts, rebuild and regenerate:
//   npx tsc -p tsconfig.json && node -e "import('./dist/src/config/docs.js').then(m=>process.stdout.write(m.renderConfigReference()))" > docs/config-reference.md
test('docs/config-reference.md is the rendered keyword table (no drift)', () => {
  const committed = readFileSync(new URL('../../../docs/config-reference.md', import.meta.url), 'utf8');
  assert.equal(committed, renderConfigReference());
});

test('the reference documents every keyword with origin and status', () => {
  const md = renderConfigReference();
  for (const k of KEYWORDS) {
    assert.ok(md.includes(`\n### ${k.name}\n`), k.name);
  }
  assert.match(md, /\| `switchbd` \| int \| bps \| `0` \|.*\| mgetty \| fax: not used yet \|/);
  assert.match(md, /\| `fax-server-file` \| string \| {2}\| \(unset\) \|.*\| mgetty \| used \|/);
  assert.match(md, /\| `fax-id` \| string \| {2}\| `" "` \|.*\| mgetty \| used \|/);
  assert.match(md, /\| `hangup-grace` \| int \| s \| `10` \|.*\| tgetty \| used \|/);
  assert.match(md, /\| `data-flow` \| flow \|.*no effect \(as in mgetty\) \|/);
  assert.match(md, /\| `port-mode` \| int \| mode \| `0660` \|/);
});

// man/tgetty.config.5 is generated from the same table. After changing keywords.ts, regenerate:
//   node -e "import('./dist/src/config/docs.js').then(m=>process.stdout.write(m.renderConfigManPage()))" > man/tgetty.config.5
test('man/tgetty.config.5 is the rendered keyword table (no drift)', () => {
  const committed = readFileSync(new URL('../../../man/tgetty.config.5', import.meta.url), 'utf8');
  assert.equal(committed, renderConfigManPage());
});

test('the man page lists every keyword, and no text line can be read as a roff request', () => {
  const page = renderConfigManPage();
  for (const k of KEYWORDS) assert.ok(page.includes(`\n.BI ${k.name.replaceAll('-', '\\-')} "`), k.name);
  for (const line of page.split('\n')) {
    if (line.startsWith('.') || line.startsWith("'")) assert.match(line, /^\.(\\"|TH|SH|TP|IP|PP|br|B|BI|BR|I)( |$)/, line);
  }
});

test('roffText escapes backslashes, dashes and leading dots, and shows `code` in bold', () => {
  assert.equal(roffText('a \\d b'), 'a \\ed b');
  assert.equal(roffText('.x'), '\\&.x');
  assert.equal(roffText("'x"), "\\&'x");
  assert.equal(roffText('use `-x 3`'), 'use \\fB\\-x 3\\fR');
});
