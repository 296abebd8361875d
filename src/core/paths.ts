/**
 * Every system path tgetty touches. Each one can be moved by a long option (src/cli/paths.ts
 * has the defaults and the options), so tests run in temp dirs and never disturb the machine.
 */
export interface SystemPaths {
  /** mgetty.config, login.config, dialin.config. undefined = search /etc/mgetty, then /etc/mgetty+sendfax. */
  configDir: string | undefined;
  lockDir: string;
  logDir: string;
  utmp: string;
  wtmp: string;
  /** Pid files and the status socket. */
  runDir: string;
  /** The call records database. */
  records: string;
}

/** The paths a line needs (no call records). */
export type LinePaths = Omit<SystemPaths, 'records'>;
