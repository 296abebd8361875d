/**
 * Start the lines without V8's optimizing compiler (issue 21). Starting 64 lines runs a few
 * small functions (path.join, URL parsing, fs.Stats dates, log time stamps) often enough
 * that V8 optimises a dozen of them, and the first optimisation pages in TurboFan's own
 * machine code: 3.5 MB of the node binary stay resident in an idle daemon that never needs
 * them (docs/benchmarks.md, "Where the 17 MB over a bare node went"). So `serve` turns
 * TurboFan off before it loads the daemon and back on at the first RING or call. An idle
 * daemon runs next to no JavaScript, so nothing gets optimised until calls come. The first
 * burst of calls then optimises what start-up would have (up to ~18 ms more main-thread CPU
 * for 64 RINGs, once per start); later ones run as before. `--no-opt` for the whole run,
 * tried before, doubled the CPU of every burst of 64 answers.
 */
import { setFlagsFromString } from 'node:v8';
import type { DaemonEvent, EventSink } from './events.js';

/** A tier flag given to node by the user (command line or NODE_OPTIONS) is theirs: leave the tiers alone. */
function userSetTiers(args: readonly string[]): boolean {
  // V8 takes `_` for `-` in flag names.
  return args.some((a) => /^--(no-)?(turbofan|opt|max-opt|jitless|maglev|always-turbofan|always-opt)(=|$)/.test(a.split('=')[0].replaceAll('_', '-')));
}

let held = false;

/**
 * Turn TurboFan off until releaseOptimizingCompiler(). `nodeArgs`: node's own arguments
 * (process.execArgv and the words of NODE_OPTIONS). False (nothing done) when they have a
 * tier flag or the flag cannot be set.
 */
export function holdOptimizingCompiler(nodeArgs: readonly string[]): boolean {
  if (held || userSetTiers(nodeArgs)) return false;
  try {
    setFlagsFromString('--no-turbofan');
  } catch {
    return false;
  }
  held = true;
  return true;
}

/** Turn TurboFan back on if holdOptimizingCompiler() turned it off; true if it did now. */
export function releaseOptimizingCompiler(): boolean {
  if (!held) return false;
  held = false;
  setFlagsFromString('--turbofan');
  return true;
}

/** Whether TurboFan is held off now (status and tests). */
export function optimizingCompilerHeld(): boolean {
  return held;
}

/**
 * The end of the compiler hold: the first RING or call on any line. Not a timer or the
 * start-up heap trim: functions V8 wanted to optimise while it was held are optimised at
 * their next run after the release, and the trim and its log line run a few of them (a
 * trial: 3 optimisations right after a release at the trim, the text pages back). An idle
 * daemon that never rings keeps the hold; what it runs (status queries, a reload) is not
 * hot enough for it to matter.
 */
export class StartupTiering implements EventSink {
  private pending = true;

  constructor(private readonly release: () => void = releaseOptimizingCompiler) {}

  emit(e: DaemonEvent): void {
    if (this.pending && ((e.type === 'line-state' && e.state === 'ringing') || e.type === 'call-start')) this.done();
  }

  /** Start-up is over: release the hold (once). */
  done(): void {
    if (!this.pending) return;
    this.pending = false;
    this.release();
  }
}
