import { openSync, writeSync } from 'node:fs';
const path = process.env.TGETTY_TRACE;
const fd = path !== undefined ? openSync(path, 'a') : -1;
export function mark(what: string): void {
  if (fd < 0) return;
  const [s, ns] = process.hrtime();
  writeSync(fd, `${process.pid} ${(s * 1e3 + ns / 1e6).toFixed(3)} ${what}\n`);
}
