/**
 * The one takeover of a line, for the daemon and single-line mode alike (see
 * src/line/takeover.ts): after `kill -9` of a getty mid-call, its session must not keep
 * the tty, nor its utmp record. Grace between SIGHUP and SIGKILL: hangup-grace. It lives
 * here because it writes utmp (utmp.ts); the runner gets it through systemRunnerDeps.
 */
import type { Clock } from '../core/clock.js';
import { readUtmp } from '../os/utmp.js';
import { takeOverLine } from '../line/takeover.js';
import type { Logger } from '../log/logger.js';
import type { LineSettings } from '../session/settings.js';
import { UtmpWriter, deadRecord } from './utmp.js';

export async function takeOver(s: LineSettings, log: Logger, clock: Clock, paths: { utmp: string; wtmp: string }): Promise<void> {
  const writer = new UtmpWriter({ utmpFile: paths.utmp, wtmpFile: paths.wtmp, clock, log });
  await takeOverLine({
    path: s.path,
    clock,
    log,
    graceMs: s.hangupGraceS * 1000,
    utmp: { read: (line) => readUtmp(paths.utmp, { line }), markDead: (r) => writer.put({ ...deadRecord(r.line, r.pid, clock.now()), id: r.id }) },
  });
}
