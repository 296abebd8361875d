/**
 * Names of received fax files, as mgetty gives them, so scripts written for mgetty's
 * spool keep working:
 *   f<res><seq><line>[-<sender id>].<page>
 * res `n` (normal) or `f` (fine); seq 7 hex digits from the reception time (seconds);
 * line the last two characters of the device name; the sender id with blanks as
 * dashes; the page number in two digits. The PDF and TIFF of the whole fax take the
 * same stem with `.pdf` and `.tif`. Pure.
 *
 * The sender id comes from the far end: only letters, digits and `+` survive (blanks
 * become `-`), so no name can hold `/`, `..`, a control character or a leading dot.
 */

export interface FaxNameParts {
  fine: boolean;
  /** Reception time, ms since the epoch. */
  time: number;
  /** Device name, e.g. `ttyS1` or `/dev/ttyS1`. */
  device: string;
  senderId: string;
}

export function senderIdForName(id: string): string {
  return id
    .trim()
    .replace(/\s+/g, '-')
    .replace(/[^A-Za-z0-9+-]/g, '')
    .slice(0, 40);
}

/** The stem, without the page suffix. `bump` makes the sequence unique when a name is taken. */
export function faxStem(p: FaxNameParts, bump = 0): string {
  const seq = ((Math.floor(p.time / 1000) + bump) % 0x10000000).toString(16).padStart(7, '0');
  const base = p.device.replace(/^.*\//, '');
  const line = base.slice(-2);
  const id = senderIdForName(p.senderId);
  return `f${p.fine ? 'f' : 'n'}${seq}${line}${id !== '' ? `-${id}` : ''}`;
}

export function pageFileName(stem: string, page: number): string {
  return `${stem}.${String(page).padStart(2, '0')}`;
}
