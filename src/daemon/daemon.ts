/**
 * `tgetty serve`: every line in one process. Each line has its own supervisor (state
 * machine, logger, restart policy); a fault on one line never touches another. Reload
 * re-reads the config: a bad new config is rejected whole and the old one stays; idle
 * lines re-initialise with the new settings, lines in a call take them after the call;
 * added ports start, removed ports stop.
 */
import { systemClock, type Clock } from '../core/clock.js';
import type { LinePaths } from '../core/paths.js';
import { TgettyError } from '../core/errors.js';
import { findConfigDir, loadConfigFiles, type LoadedConfigFiles } from '../config/load.js';
import { resolvePort, effectiveHasErrors, boolOf } from '../config/effective.js';
import { formatDiagnostic, type Diagnostic } from '../config/diagnostics.js';
import type { ConfigValue } from '../config/keywords.js';
import { batchedDeferral, createLogger, type Logger, type LogFormat } from '../log/logger.js';
import { lineSettings, type LineSettings } from '../session/settings.js';
import { lineName, systemRunnerDeps } from '../session/single-line.js';
import { takeOver } from '../login/takeover.js';
import { LineSupervisor } from './line-supervisor.js';
import type { RestartPolicyConfig } from './restart-policy.js';
import { DeferredSinks, EventBus, StatusBoard, type DaemonStatus, type EventSink, type RecordsStatus } from './events.js';
import { fullGc } from './gc.js';
import { HeapTrimmer } from './heap-trim.js';
import { StartupTiering } from './tiering.js';
import { canTrimMalloc, mallocTrim } from '../os/malloc.js';

export type DaemonPaths = LinePaths;

export interface DaemonOptions {
  paths: DaemonPaths;
  /** Lines from the command line (names or absolute paths); default: the config's `port` sections. */
  lines?: string[];
  /** mgetty options given on the command line: they apply to every line. */
  overrides?: Record<string, ConfigValue>;
  logFormat?: LogFormat;
  clock?: Clock;
  sinks?: EventSink[];
  policy?: RestartPolicyConfig;
  version?: string;
  /** Where daemon-level messages go (default: a logger for the device `tgetty`). */
  log?: Logger;
  /**
   * A little after calls end, run a full V8 collection and return glibc's free heap pages to
   * the kernel (heap-trim.ts, gc.ts: without it RSS creeps up over thousands of calls).
   * Default true.
   */
  trimHeap?: boolean;
  /** Where the call records go, for `status` (absent: no records). */
  recordsStatus?: () => RecordsStatus;
}

interface Planned {
  name: string;
  settings: LineSettings;
  typedSpecialNames: boolean;
}

interface Plan {
  files: LoadedConfigFiles;
  dir: string;
  lines: Planned[];
}

/** Said by `tgetty serve` (a bad config at start), `tgetty reload` and `tgetty status`. */
export const CONFIG_REJECTED = 'the configuration was rejected';

/**
 * A diagnostic as the daemon reports it. The parser's "the line is ignored and the previous
 * value stays" is what a lone `config check` reading means; here the whole file is refused.
 */
export function planProblem(d: Diagnostic): string {
  return formatDiagnostic({ ...d, message: d.message.replace(/; the line is ignored and the previous value stays$/, '') });
}

/** How long the lines' log entries wait to be written together (see Daemon.logDeferral). */
export const LOG_BATCH_MS = 25;

export class Daemon {
  private readonly clock: Clock;
  private readonly bus: EventBus;
  /**
   * What the lines emit into: every sink (the status board too) gets the events at the end
   * of the event-loop turn, in order. A RING's way to its ATA emits call-start and two line
   * states; delivering them on the spot put the board, the tiering, the heap trimmer and the
   * records' queue between one line's RING and the next line's (64 lines ringing at once).
   * Whatever reads the board first delivers what is pending (status(), idleFaxLines()).
   */
  private readonly events: DeferredSinks;
  readonly board = new StatusBoard();
  private readonly supervisors = new Map<string, { sup: LineSupervisor; log: Logger; typed: boolean }>();
  private plan: Plan | undefined;
  private readonly startedAt: number;
  private configLoadedAt = 0;
  private lastReloadError: string | undefined;
  private callSeq = 0;
  private readonly trimmer: HeapTrimmer | undefined;
  /**
   * The lines' log writes wait LOG_BATCH_MS and go out together: 64 simultaneous RINGs
   * get their 64 ATAs before any log I/O (a write and a rotation stat per line).
   */
  private readonly logDeferral: (flush: () => void) => void;
  readonly log: Logger;

  constructor(private readonly o: DaemonOptions) {
    this.clock = o.clock ?? systemClock;
    this.startedAt = this.clock.now();
    this.logDeferral = batchedDeferral(this.clock, LOG_BATCH_MS);
    this.log = o.log ?? createLogger({ device: 'tgetty', logDir: o.paths.logDir, format: o.logFormat ?? 'text', clock: this.clock });
    this.bus = new EventBus((err) => this.log.error('an event sink failed', { err }));
    this.events = new DeferredSinks(this.bus, (fn) => setImmediate(fn));
    // The board first: a sink called for an event finds the board already showing it.
    this.bus.add(this.board);
    for (const s of o.sinks ?? []) this.bus.add(s);
    // V8's optimizing compiler back on at the first RING or call (tiering.ts; a no-op unless serve held it off).
    this.bus.add(new StartupTiering());
    if (o.trimHeap !== false && canTrimMalloc()) {
      const log = this.log;
      this.trimmer = new HeapTrimmer({
        clock: this.clock,
        // Compacting: the pages calls leave fragmented are given back too (docs/benchmarks.md, soak).
        collect: () => void fullGc({ compact: true }),
        trim: () => mallocTrim(0),
        // The Buffers the collection found dead are freed after it: trimming at once gave
        // back a fraction (64 idle lines after start-up: 7 MB were still held; issue 21).
        settleMs: 250,
        onTrim: (released, ms) => log.noise(`heap trim (compacting full GC, malloc_trim): ${released ? 'released memory' : 'nothing to release'} (${ms.toFixed(1)} ms)`),
      });
      this.bus.add(this.trimmer);
    }
  }

  /** Read the config and work out every line's settings. Throws (with every problem) if anything is wrong. */
  private makePlan(): Plan {
    const dir = findConfigDir(this.o.paths.configDir);
    const files = loadConfigFiles(dir);
    // Each problem once: a global line's error is in the file's diagnostics and again in
    // every line's resolved settings.
    const seen = new Set<string>();
    const problems: string[] = [];
    const add = (d: Diagnostic, device?: string): void => {
      const text = planProblem(d);
      if (seen.has(text)) return;
      seen.add(text);
      problems.push(device !== undefined ? `${device}: ${text}` : text);
    };
    for (const d of files.diagnostics) if (d.severity === 'error' && d.kind !== 'insecure') add(d);
    const parsed = files.mgetty.parsed;
    let names = this.o.lines;
    if (names === undefined || names.length === 0) {
      names = (parsed?.sections ?? []).map((sec) => sec.pattern).filter((p): p is string => p !== undefined && p !== '' && !p.includes('?'));
      names = [...new Set(names)];
    }
    if (names.length === 0) problems.push(`no lines to serve: add 'port ttyS0' sections to ${dir}/mgetty.config or give --lines`);
    const lines: Planned[] = [];
    const devices = new Set<string>();
    for (const arg of names) {
      const { device, path } = lineName(arg);
      if (devices.has(device)) {
        problems.push(`line ${device} is listed twice`);
        continue;
      }
      devices.add(device);
      const eff = resolvePort(parsed, device, this.o.overrides ?? {});
      if (effectiveHasErrors(eff)) {
        for (const d of eff.diagnostics) if (d.severity === 'error') add(d, device);
        continue;
      }
      lines.push({ name: device, settings: lineSettings(eff, path), typedSpecialNames: boolOf(eff, 'typed-special-names') });
    }
    if (problems.length > 0) throw new TgettyError('CONFIG_BAD_VALUE', `${CONFIG_REJECTED}:\n  ${problems.join('\n  ')}`, { file: `${dir}/mgetty.config`, problems });
    return { files, dir, lines };
  }

  /** Start every line. Throws if the configuration is unusable. */
  start(): void {
    const plan = this.makePlan();
    this.plan = plan;
    this.configLoadedAt = this.clock.now();
    this.log.mesg(`tgetty serve: ${plan.lines.length} line(s): ${plan.lines.map((l) => l.name).join(', ')} (config ${plan.dir})`);
    for (const l of plan.lines) this.startLine(l, plan);
  }

  private startLine(l: Planned, plan: Plan): void {
    const cliDebug = this.o.overrides?.debug;
    const log = createLogger({
      device: l.name,
      level: typeof cliDebug === 'number' ? cliDebug : l.settings.debug,
      logDir: this.o.paths.logDir,
      format: this.o.logFormat ?? 'text',
      clock: this.clock,
      defer: this.logDeferral,
    });
    const entry = { sup: undefined as unknown as LineSupervisor, log, typed: l.typedSpecialNames };
    const sup = new LineSupervisor({
      settings: l.settings,
      clock: this.clock,
      log,
      events: this.events,
      lockDir: this.o.paths.lockDir,
      utmp: this.o.paths.utmp,
      wtmp: this.o.paths.wtmp,
      configDir: plan.dir,
      files: () => this.plan?.files ?? plan.files,
      runnerDeps: (s) => systemRunnerDeps(s, log, this.plan?.dir ?? plan.dir, this.clock, () => takeOver(s, log, this.clock, this.o.paths)),
      ...(this.o.policy !== undefined ? { policy: this.o.policy } : {}),
      typedSpecialNames: () => entry.typed,
      onResting: (until) => this.board.setResting(l.name, until),
      nextCallId: () => `${this.startedAt.toString(36)}-${(++this.callSeq).toString(36)}`,
    });
    entry.sup = sup;
    this.supervisors.set(l.name, entry);
    this.board.addLine(l.name, l.settings.path, this.clock.now());
    sup.start();
  }

  /** Re-read the config. A bad config is rejected and the running one stays. */
  async reload(): Promise<{ ok: boolean; errors: string[] }> {
    let plan: Plan;
    try {
      plan = this.makePlan();
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      const problems = err instanceof TgettyError && Array.isArray(err.context.problems) ? (err.context.problems as string[]) : [msg];
      // One problem per line; `tgetty status` and `tgetty reload` print them the same way.
      this.lastReloadError = problems.join('\n');
      this.log.error(`reload rejected, keeping the running configuration: ${problems.join('; ')}`);
      return { ok: false, errors: problems };
    }
    this.plan = plan;
    this.lastReloadError = undefined;
    this.configLoadedAt = this.clock.now();
    const wanted = new Map(plan.lines.map((l) => [l.name, l]));
    const stops: Promise<void>[] = [];
    for (const [name, entry] of this.supervisors) {
      if (!wanted.has(name)) {
        this.log.mesg(`reload: line ${name} removed, stopping it`);
        this.supervisors.delete(name);
        stops.push(entry.sup.stop().then(() => this.board.removeLine(name)));
      }
    }
    for (const l of plan.lines) {
      const entry = this.supervisors.get(l.name);
      if (entry === undefined) {
        this.log.mesg(`reload: line ${l.name} added`);
        this.startLine(l, plan);
      } else {
        entry.typed = l.typedSpecialNames;
        entry.sup.update(l.settings);
      }
    }
    await Promise.all(stops);
    this.log.mesg(`reload: configuration from ${plan.dir} in use (${plan.lines.length} line(s))`);
    return { ok: true, errors: [] };
  }

  status(): DaemonStatus {
    this.events.flush();
    return {
      pid: process.pid,
      version: this.o.version ?? 'unknown',
      startedAt: this.startedAt,
      configDir: this.plan?.dir ?? findConfigDir(this.o.paths.configDir),
      configLoadedAt: this.configLoadedAt,
      ...(this.lastReloadError !== undefined ? { lastReloadError: this.lastReloadError } : {}),
      ...(this.trimmer !== undefined ? { heapTrim: this.trimmer.stats() } : {}),
      ...(this.o.recordsStatus !== undefined ? { records: this.o.recordsStatus() } : {}),
      lines: this.board.snapshot(),
    };
  }

  /** Names of the lines being served. */
  get lines(): string[] {
    return [...this.supervisors.keys()];
  }

  /**
   * The lines that take faxes and are idle now (waiting for a call, their lock free), as
   * the sender's `-l` takes them: the tty name for a line in /dev, else its path (a
   * simulated line). For the fax queue runner.
   */
  idleFaxLines(): string[] {
    this.events.flush();
    const fax = new Map((this.plan?.lines ?? []).filter((l) => l.settings.fax !== undefined).map((l) => [l.name, l.settings.path]));
    return this.board
      .snapshot()
      .filter((l) => l.state === 'idle' && fax.has(l.line) && this.supervisors.has(l.line))
      .map((l) => {
        const path = fax.get(l.line) ?? l.line;
        return path === `/dev/${l.line}` ? l.line : path;
      });
  }

  /** Call `fn` whenever a fax line becomes idle (after the status board has it), for the fax queue runner. */
  onFaxLineIdle(fn: () => void): void {
    this.bus.add({
      emit: (e) => {
        if (e.type === 'line-state' && e.state === 'idle' && this.plan?.lines.some((l) => l.name === e.line && l.settings.fax !== undefined) === true) fn();
      },
    });
  }

  /** The mail-program of the line the fax queue runner gave a job (by what idleFaxLines returned). */
  faxMailProgram(line: string): string | undefined {
    return (this.plan?.lines ?? []).find((l) => l.name === line || l.settings.path === line)?.settings.fax?.mailProgram;
  }

  supervisor(name: string): LineSupervisor | undefined {
    return this.supervisors.get(name)?.sup;
  }

  /** Stop every line: sessions get SIGHUP, locks are released. */
  async stop(): Promise<void> {
    this.log.mesg('stopping all lines');
    this.trimmer?.stop();
    await Promise.all([...this.supervisors.values()].map((e) => e.sup.stop()));
    this.events.flush();
    for (const e of this.supervisors.values()) e.log.close();
    this.supervisors.clear();
    this.log.close();
  }
}
