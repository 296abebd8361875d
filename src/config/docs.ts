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
    if (d.scope === 'daemon') out.push('* Scope: daemon-wide, for `tgetty serve` as a whole: only the global section sets it (a `port` section\'s line is ignored with a warning)');
    out.push(`* Origin: ${d.origin === 'mgetty' ? 'mgetty-compatible' : 'tgetty-only'}`);
    out.push(`* Status: ${isUsed(d) ? 'used' : status(d)}`);
  }
  out.push('');
  return out.join('\n');
}

/**
 * Text for a roff (man(7)) line: backslashes doubled as \e, a line that starts with a dot
 * or quote protected by \&, and `code` shown in bold as the markdown reference shows it.
 */
export function roffText(s: string): string {
  const esc = s.replaceAll('\\', '\\e').replaceAll('-', '\\-');
  const bold = esc.replace(/`([^`]+)`/g, '\\fB$1\\fR');
  return bold
    .split('\n')
    .map((l) => (l.startsWith('.') || l.startsWith("'") ? `\\&${l}` : l))
    .join('\n');
}

/**
 * man/tgetty.config.5, from the same table as docs/config-reference.md (a unit test compares
 * the committed page with this output). The date is left out so that regenerating it
 * changes nothing unless the table changed.
 */
export function renderConfigManPage(): string {
  const t = roffText;
  const out: string[] = [];
  out.push('.\\" Generated from src/config/keywords.ts by renderConfigManPage() in src/config/docs.ts. Do not edit by hand:');
  out.push('.\\"   node -e "import(\'./dist/src/config/docs.js\').then(m=>process.stdout.write(m.renderConfigManPage()))" > man/tgetty.config.5');
  out.push('.TH TGETTY.CONFIG 5 "" "tgetty" "File Formats"');
  out.push('.SH NAME');
  out.push('tgetty.config \\- the mgetty.config keywords tgetty reads');
  out.push('.SH SYNOPSIS');
  out.push('.I /etc/mgetty/mgetty.config');
  out.push('.SH DESCRIPTION');
  out.push(t('tgetty(8) reads `mgetty.config` the way mgetty 1.2.1 (Debian build) does.'));
  out.push('.IP \\(bu 2');
  out.push(t('One `keyword value` per line; keywords are case-sensitive; the value is the rest of the line.'));
  out.push('.IP \\(bu 2');
  out.push(t('A line ending in `\\` continues on the next line (also for comment lines).'));
  out.push('.IP \\(bu 2');
  out.push(t('Lines whose first non-blank character is `#` are comments; there are no comments after a value.'));
  out.push('.IP \\(bu 2');
  out.push(t('Every run of blanks becomes one space, even inside double quotes; quotes are kept in string values.'));
  out.push('.IP \\(bu 2');
  out.push(t('Lines before the first `port <pattern>` line are global; a `port` section applies when its pattern'));
  out.push(t('matches the device name (`?` matches any one character). Later matching sections win; the command'));
  out.push(t('line wins over the file.'));
  out.push('.PP');
  out.push('Value types:');
  out.push('.TP');
  out.push('.B int');
  out.push(t('A C integer: `0x4b00` is hex, `0660` octal, `660` decimal; text after the number is ignored.'));
  out.push('.TP');
  out.push('.B bool');
  out.push(t('True if empty or starting with `y`, `Y`, `t`, `T` or lowercase `on`; anything else'));
  out.push(t('(including `1` and `On`) is false.'));
  out.push('.TP');
  out.push('.B string');
  out.push(t('The rest of the line, as written (quotes included).'));
  out.push('.TP');
  out.push('.B chat');
  out.push(t('Expect/send strings separated by spaces; `""` is an empty string; `\\r \\n \\t \\\\ \\"` are'));
  out.push(t('resolved, `\\d` (pause) and `\\c` (no CR) act when sending.'));
  out.push('.TP');
  out.push('.B flow');
  out.push(t('`rts`/`hard`, `xon`/`soft`, `both` or `none`.'));
  out.push('.PP');
  out.push(t(`Port speeds: ${SPEED_TABLE.join(', ')}.`));
  out.push('.PP');
  out.push(t('Origin "mgetty-compatible": accepted by mgetty 1.2.1 with the same meaning; "tgetty-only": mgetty'));
  out.push(t('would reject the line. Status "fax: not used yet": accepted and shown, but tgetty does not do fax yet.'));
  out.push('.SH KEYWORDS');
  for (const d of KEYWORDS) {
    out.push('.TP');
    out.push(`.BI ${d.name.replaceAll('-', '\\-')} " ${d.type}"`);
    out.push(t(d.meaning));
    const facts: string[] = [];
    facts.push(`Type: ${d.type}${d.unit !== undefined ? `, in ${UNIT_TEXT[d.unit]}` : ''}.`);
    facts.push(`Default: ${d.default === undefined ? 'unset' : code(formatValue(d, d.default))}.`);
    if (d.upstreamDefault !== undefined) facts.push(`Upstream mgetty default (not Debian): ${code(d.upstreamDefault)}.`);
    if (d.bounds !== undefined) facts.push(`Bounds: ${d.bounds}.`);
    if (d.cli !== undefined) facts.push(`Command line: ${code(d.cli)} (the command line wins over the file).`);
    if (d.scope === 'daemon') facts.push("Scope: daemon-wide, for `tgetty serve` as a whole: only the global section sets it (a `port` section's line is ignored with a warning).");
    facts.push(`Origin: ${d.origin === 'mgetty' ? 'mgetty-compatible' : 'tgetty-only'}.`);
    facts.push(`Status: ${isUsed(d) ? 'used' : status(d)}.`);
    for (const f of facts) {
      out.push('.br');
      out.push(t(f));
    }
  }
  out.push('.SH FILES');
  out.push('.TP');
  out.push('.I /etc/mgetty/mgetty.config');
  out.push(t('The configuration (or `/etc/mgetty+sendfax/mgetty.config` on older layouts; `--config-dir` moves it).'));
  out.push('.TP');
  out.push('.I /etc/mgetty/login.config');
  out.push(t('Which program a caller gets (must be owned by root, mode 0600).'));
  out.push('.TP');
  out.push('.I /etc/mgetty/dialin.config');
  out.push(t('Which caller numbers are answered.'));
  out.push('.SH SEE ALSO');
  out.push('.BR tgetty (8),');
  out.push('.BR tgetty\\-sim (1),');
  out.push('.BR mgetty (8),');
  out.push('.BR login (1),');
  out.push('.BR pppd (8)');
  out.push('.PP');
  out.push(t('`tgetty config check --port ttyS3` prints the effective value of every keyword and where it came from.'));
  out.push('');
  return out.join('\n');
}
