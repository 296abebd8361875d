/**
 * The tables and durations the CLI prints (`tgetty status`, `tgetty calls`): one kept
 * library each (cli-table3 measures wide and combining characters, pretty-ms writes the
 * durations), so both commands look the same and columns stay aligned whatever the
 * caller's name holds. Cells must already be printable (no control characters).
 */
import Table from 'cli-table3';
import prettyMs from 'pretty-ms';

const NO_BORDER = {
  top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
  bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
  left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '',
};

/** Columns two spaces apart, no borders, no colours: as `ps` and `ss` print, easy to grep. */
export function formatTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const t = new Table({ head: [...head], chars: NO_BORDER, style: { head: [], border: [], 'padding-left': 0, 'padding-right': 2, compact: true } });
  for (const r of rows) t.push([...r]);
  return `${t.toString().split('\n').map((l) => l.trimEnd()).join('\n')}\n`;
}

/** `45s`, `3m 12s`, `2h 3m`, `3d 4h`: whole seconds, the two largest units. */
export function formatDuration(ms: number): string {
  const whole = Math.max(0, Math.floor(ms / 1000)) * 1000;
  return whole === 0 ? '0s' : prettyMs(whole, { unitCount: 2, secondsDecimalDigits: 0 });
}
