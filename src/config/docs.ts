/**
 * docs/config-reference.md is generated from the keyword table so the two cannot drift
 * (a unit test compares the committed file with this output). Pure.
 */
import { KEYWORDS, SPEED_TABLE, isUsed } from './keywords.js';
import type { KeywordDef } from './keywords.js';
import { formatValue } from './effective.js';

const UNIT_TEXT: Record<NonNullable<KeywordDef['unit']>, string> = {
  ms: 'milliseconds',
  s: 'seconds',
  bps: 'bits per second',
  KB: 'kilobytes',
  mode: 'file mode (octal with leading 0)',
};

/** Escape text for a markdown table cell. */
function cell(s: string): string {
  return s.replaceAll('|', '\\|');
}

function code(s: string): string {
  // A backtick inside code needs a longer fence; none of our values contain one except by accident.
  return s.includes('`') ? `\`\` ${s} \`\`` : `\`${s}\``;
}

function status(def: KeywordDef): string {
  if (def.category === 'unused') return 'no effect (as in mgetty)';
  if (def.category === 'fax') return 'fax: not used yet';
  return 'used';
}

export function renderConfigReference(): string {
  const out: string[] = [];
  out.push('# mgetty.config keyword reference');
  out.push('');
  out.push('<!-- Generated from src/config/keywords.ts by renderConfigReference() in src/config/docs.ts. Do not edit by hand:');
  out.push('     node -e "import(\'./dist/src/config/docs.js\').then(m=>process.stdout.write(m.renderConfigReference()))" > docs/config-reference.md -->');
  out.push('');
  out.push('tgetty reads `mgetty.config` the way mgetty 1.2.1 (Debian build) does. File format in short:');
  out.push('');
  out.push('* One `keyword value` per line; keywords are case-sensitive; the value is the rest of the line.');
  out.push('* A line ending in `\\` continues on the next line (also for comment lines).');
  out.push('* Lines whose first non-blank character is `#` are comments; there are no comments after a value.');
  out.push('* Every run of blanks becomes one space, even inside double quotes; quotes are kept in string values.');
  out.push('* Lines before the first `port <pattern>` line are global; a `port` section applies when its pattern');
  out.push('  matches the device name (`?` matches any one character). Later matching sections win; the command');
  out.push('  line wins over the file.');
  out.push('');
  out.push('Value types:');
  out.push('');
  out.push('* **int**: a C integer: `0x4b00` is hex, `0660` octal, `660` decimal; text after the number is ignored.');
  out.push('* **bool**: true if empty or starting with `y`, `Y`, `t`, `T` or lowercase `on`; anything else');
  out.push('  (including `1` and `On`) is false.');
  out.push('* **string**: the rest of the line, as written (quotes included).');
  out.push('* **chat**: expect/send strings separated by spaces; `""` is an empty string; `\\r \\n \\t \\\\ \\"` are');
  out.push('  resolved, `\\d` (pause) and `\\c` (no CR) act when sending.');
  out.push('* **flow**: `rts`/`hard`, `xon`/`soft`, `both` or `none`.');
  out.push('');
  out.push(`Port speeds: ${SPEED_TABLE.join(', ')}.`);
  out.push('');
  out.push('Origin **mgetty** = accepted by mgetty 1.2.1 with the same meaning; **tgetty** = tgetty-only (mgetty');
  out.push('would reject the line). Status **fax: not used yet** = accepted and shown, but tgetty does not do fax yet.');
  out.push('');
  out.push('| Keyword | Type | Unit | Default | Bounds / adjustment | CLI | Origin | Status |');
  out.push('|---|---|---|---|---|---|---|---|');
  for (const d of KEYWORDS) {
    const def = d.default === undefined ? '(unset)' : code(formatValue(d, d.default));
    out.push(
      `| ${code(d.name)} | ${d.type} | ${d.unit ?? ''} | ${cell(def)} | ${cell(d.bounds ?? '')} | ${d.cli !== undefined ? cell(code(d.cli)) : ''} | ${d.origin} | ${status(d)} |`,
    );
  }
  out.push('');
  out.push('## Keywords');
  for (const d of KEYWORDS) {
    out.push('');
    out.push(`### ${d.name}`);
    out.push('');
    out.push(d.meaning);
    out.push('');
    out.push(`* Type: ${d.type}${d.unit !== undefined ? `, in ${UNIT_TEXT[d.unit]}` : ''}`);
    out.push(`* Default: ${d.default === undefined ? 'unset' : code(formatValue(d, d.default))}`);
    if (d.upstreamDefault !== undefined) out.push(`* Upstream mgetty default (not Debian): ${code(d.upstreamDefault)}`);
    if (d.bounds !== undefined) out.push(`* Bounds: ${d.bounds}`);
    if (d.cli !== undefined) out.push(`* Command line: ${code(d.cli)} (the command line wins over the file)`);
    out.push(`* Origin: ${d.origin === 'mgetty' ? 'mgetty-compatible' : 'tgetty-only'}`);
    out.push(`* Status: ${isUsed(d) ? 'used' : status(d)}`);
  }
  out.push('');
  return out.join('\n');
}
