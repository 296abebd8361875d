/**
 * The timestamped record of a line: bytes from the getty (`<`), bytes to it (`>`) and
 * notes (`#`), in memory and optionally appended to a log file.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import type { Clock } from '../core/clock.js';
import { showBytes } from '../core/bytes.js';

export type Direction = '<' | '>' | '#';

export interface TranscriptEntry {
  /** Wall-clock ms (the line's Clock). */
  t: number;
  /** `<` from the DTE (getty), `>` to the DTE, `#` a note. */
  dir: Direction;
  /** Bytes for `<` / `>`; the note text (latin1) for `#`. */
  bytes: Buffer;
}

export class Transcript {
  private readonly list: TranscriptEntry[] = [];
  private file: WriteStream | undefined;
  private held = 0;

  constructor(
    private readonly clock: Clock,
    logFile?: string,
    /** Oldest entries are dropped past this count, so a long-running line stays small. */
    private readonly maxEntries = 10_000,
    /** ...and past this many bytes held (a data call of many MB). */
    private readonly maxBytes = 1 << 20,
  ) {
    if (logFile !== undefined) {
      this.file = createWriteStream(logFile, { flags: 'a', mode: 0o644 });
      // A log that cannot be written must not crash the bank; the in-memory copy remains.
      this.file.on('error', () => {
        this.file = undefined;
      });
    }
  }

  get entries(): readonly TranscriptEntry[] {
    return this.list;
  }

  add(dir: Direction, bytes: Uint8Array | string): void {
    const e: TranscriptEntry = { t: this.clock.now(), dir, bytes: typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : Buffer.from(bytes) };
    this.list.push(e);
    this.held += e.bytes.length;
    // Dropped in batches (down to 3/4 of either limit), not one entry per add.
    if (this.list.length > this.maxEntries || this.held > this.maxBytes) this.trim();
    this.file?.write(`${formatEntry(e)}\n`);
  }

  private trim(): void {
    let k = Math.max(0, this.list.length - Math.floor((this.maxEntries * 3) / 4));
    let bytes = 0;
    for (let i = 0; i < k; i++) bytes += this.list[i]?.bytes.length ?? 0;
    while (k < this.list.length - 1 && this.held - bytes > (this.maxBytes * 3) / 4) bytes += this.list[k++]?.bytes.length ?? 0;
    this.list.splice(0, k);
    this.held -= bytes;
  }

  note(text: string): void {
    this.add('#', text);
  }

  /** All bytes in one direction, concatenated (latin1 text). */
  text(dir: '<' | '>'): string {
    return this.list.filter((e) => e.dir === dir).map((e) => e.bytes.toString('latin1')).join('');
  }

  toString(): string {
    return this.list.map(formatEntry).join('\n');
  }

  close(): Promise<void> {
    const f = this.file;
    this.file = undefined;
    if (f === undefined) return Promise.resolve();
    return new Promise((resolve) => f.end(() => resolve()));
  }
}

export function formatEntry(e: TranscriptEntry): string {
  const body = e.dir === '#' ? e.bytes.toString('latin1') : showBytes(e.bytes);
  return `${new Date(e.t).toISOString()} ${e.dir} ${body}`;
}
