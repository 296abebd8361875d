/** Where a subcommand writes: stdout and stderr in production, buffers in tests. */
export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

export const defaultIo: CliIo = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
};
