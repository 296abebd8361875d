/**
 * `tgetty sim status --dir DIR`: the client of a running `tgetty sim`'s status socket
 * (src/sim/status.ts). A table per modem (state, mode, peer, bytes, since), or `--json`.
 */
import { isTgettyError } from '../core/errors.js';
import { querySimStatus, type SimStatus } from '../sim/status.js';
import { printable } from './status.js';
import { formatDuration, formatTable } from './table.js';

export function formatSimStatus(st: SimStatus, now: number): string {
  const head = `tgetty sim, pid ${st.pid}, up ${formatDuration(now - st.startedAt)}, ${st.lines.length} line(s)${st.queued > 0 ? `, ${st.queued} caller(s) queued` : ''}\n`;
  const rows = st.lines.map((l) => [
    l.line,
    l.number,
    l.state === 'connected' && l.mode !== 'data' ? `${l.state} (${l.mode})` : l.state,
    l.peer === '' ? '-' : printable(l.peer),
    String(l.bytesFromDte),
    String(l.bytesToDte),
    formatDuration(now - l.since),
  ]);
  return head + formatTable(['LINE', 'NUMBER', 'STATE', 'PEER', 'FROM DTE', 'TO DTE', 'SINCE'], rows);
}

export async function simStatusCommand(opts: { dir: string; json: boolean; out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  try {
    const st = await querySimStatus(opts.dir);
    opts.out(opts.json ? `${JSON.stringify(st, null, 2)}\n` : formatSimStatus(st, Date.now()));
    return 0;
  } catch (err) {
    if (!isTgettyError(err)) throw err;
    opts.err(`tgetty: ${err.message}\n`);
    return 1;
  }
}
