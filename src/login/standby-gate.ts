/**
 * A gate started while the caller is still at the prompt (issue 16): the hand-off after
 * the name's CR then spawns nothing. posix_spawn runs `/bin/sh` as a new session's
 * leader with the line as its controlling terminal (src/os/spawn.ts `sessionWithTty`),
 * fds 0-2 the line, fd 3 a pipe, and an empty environment; the shell waits on the pipe.
 * Its pid is known before the program is chosen, so the utmp record that /bin/login
 * looks up by pid is written before the go, as mgetty (whose own pid becomes login's)
 * writes it before its exec.
 *
 * The pipe carries one line per word, built here from our own values only:
 *   a<word>   append an argument (the first one is the program's absolute path)
 *   e<N=V>    export N=V (the names are loginEnv's allow-list)
 *   g         close the pipe and exec the arguments
 * The shell never evaluates what it reads: `set --` and `export` take each line as one
 * word. A word with a newline or NUL cannot be carried (NameReader never passes either),
 * so `encode` refuses it and the hand-off spawns as before. EOF without `g`, or any other
 * line: the shell exits 111 and nothing runs.
 *
 * While it waits, the gate only blocks in read(2) on its pipe; it never reads the line.
 * A hangup at the prompt sends it SIGHUP (it is the session leader), and it dies; if the
 * call ends without a hand-off, `cancel` kills it (our child, by pid) and reaps it before
 * the line is hung up, so it never holds the tty open past the call.
 */
import { writeSync } from 'node:fs';
import { closeFd } from '../line/libc.js';
import type { Line } from '../line/line.js';
import { pipeCloexec, signalChild, spawnChild, watchExit, type ChildExit } from '../os/spawn.js';

export const STANDBY_SCRIPT =
  'while IFS= read -r l <&3; do case $l in a*) set -- "$@" "${l#a}";; e*) export "${l#e}";; g) exec 3<&-; exec "$@";; *) exit 111;; esac; done; exit 111';

/** The pipe text for argv and env, or undefined if a word cannot be carried. Pure. */
export function encodeStandby(argv: readonly string[], env: Readonly<Record<string, string>>): string | undefined {
  const words: string[] = [];
  for (const a of argv) words.push(`a${a}`);
  for (const [k, v] of Object.entries(env)) {
    // A name the shell's export would refuse (it would exit) is not ours to pass this way.
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) return undefined;
    words.push(`e${k}=${v}`);
  }
  if (words.some((w) => w.includes('\n') || w.includes('\0'))) return undefined;
  return `${words.join('\n')}\ng\n`;
}

export interface StandbyGate {
  readonly pid: number;
  /** The gate's working directory (the program's too). */
  readonly cwd: string;
  /** Resolves once the gate (or the program it became) has exited and was reaped. Never rejects. */
  readonly exited: Promise<ChildExit>;
  /** Still waiting for its go (not exited, not used, not cancelled). */
  usable(): boolean;
  /** Send the words and the go; false if the gate could not take them (it died meanwhile). Once only. */
  go(text: string): boolean;
  /** Signal it (or the program it became) unless it was reaped. */
  kill(signal: NodeJS.Signals): boolean;
  /** Not used after all: kill it and wait until it is reaped (no-op once used). */
  cancel(): Promise<void>;
}

/** Start a standby gate on `line`, or undefined (logged by the caller at most as noise) if it cannot be. */
export async function startStandbyGate(line: Line, o: { sh?: string; cwd?: string } = {}): Promise<StandbyGate | undefined> {
  const sh = o.sh ?? '/bin/sh';
  const cwd = o.cwd ?? '/';
  let childFd: number;
  try {
    childFd = line.openChildFd();
  } catch {
    return undefined; // a line without a real tty (tests' memory lines), or gone already
  }
  let pipe: [number, number];
  try {
    pipe = pipeCloexec();
  } catch {
    closeFd(childFd);
    return undefined;
  }
  const [r, w] = pipe;
  let pid: number;
  try {
    pid = await spawnChild({ path: sh, argv: [sh, '-c', STANDBY_SCRIPT, 'tgetty-handoff'], env: {}, cwd, fds: [childFd, childFd, childFd, r], sessionWithTty: true });
  } catch {
    closeFd(w);
    return undefined; // ENXIO (the tty is another session's terminal) and the rest: the hand-off spawns then
  } finally {
    closeFd(childFd);
    closeFd(r);
  }
  let done = false;
  let open = true;
  const exited = watchExit(pid).then((e) => {
    done = true;
    return e;
  });
  const closePipe = (): void => {
    if (!open) return;
    open = false;
    closeFd(w);
  };
  const kill = signalChild(() => done, pid);
  return {
    pid,
    cwd,
    exited,
    usable: () => open && !done,
    go: (text) => {
      if (!open || done) return false;
      try {
        writeSync(w, text);
        return true;
      } catch {
        return false; // EPIPE: it died first; its exit is reported as usual
      } finally {
        closePipe();
      }
    },
    kill,
    cancel: async () => {
      if (!open) return;
      // The kill first: closing the pipe alone would end it too (EOF: exit 111), but racing.
      kill('SIGKILL');
      closePipe();
      await exited;
    },
  };
}
