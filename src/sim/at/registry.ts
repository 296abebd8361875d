/**
 * The table of AT command handlers. A handler set maps command names or prefixes (`D`,
 * `H`, `S`, `&F`, `&`, `+FCLASS`, `+F`, ...) to functions that get the parsed command
 * and a small context. The modem's own commands are handler sets like any other, so a
 * new command family (fax `+F...`, dial-out) is a new set registered on the modem, not a
 * new branch in the interpreter.
 *
 * Lookup, as xterm.js does for escape sequences: the handlers for the exact name come
 * first, then those of ever shorter prefixes; within one key the set registered last
 * comes first. A handler that returns 'next' passes the command on down that list.
 */
import type { Clock } from '../../core/clock.js';
import type { Personality } from '../personality.js';
import type { CallControl } from './calls.js';
import type { Profile } from './profile.js';

export type AtOp = 'exec' | 'read' | 'test' | 'set';

/** One command of an AT command line, as the lexer parsed it. */
export interface AtCommand {
  /** Upper case: `A`, `D`, `E`, `S`, `&F`, `+FCLASS`, `#CID`. */
  readonly name: string;
  readonly op: AtOp;
  /** Basic commands: the number after the letter (undefined if none). `S`: the register. */
  readonly num: number | undefined;
  /** `S<n>=<v>`: the value (0 if none given). */
  readonly value: number;
  /** `D`: the dial string (spaces removed). Extended `=`: the argument, trimmed. */
  readonly arg: string;
}

/**
 * What a handler did. ok: go on with the next command of the line; error: the line ends
 * with ERROR; done: the handler gave (or will give) the line's final result itself, the
 * rest of the line is not executed; next: not mine, ask the next handler.
 */
export type Outcome = 'ok' | 'error' | 'done' | 'next';

/** What a handler may use. Kept small so handler sets do not depend on the modem's insides. */
export interface AtContext {
  readonly clock: Clock;
  readonly personality: Personality;
  /** The modem answers the class 2.0 fax command set. */
  readonly fax: boolean;
  /** The active settings (S-registers, E/Q/V/X, ...); handlers may change them. */
  readonly profile: Profile;
  /** Set the active settings to a copy of `p` (ATZ, AT&F). */
  loadProfile(p: Profile): void;
  /** Store the active settings as the saved profile (AT&W). */
  saveProfile(): void;
  readonly savedProfile: Profile;
  /** Information text for the DTE; it is written before the line's result code. */
  info(line: string): void;
  /** A result code now (pending information text goes first). `connect` is the text after CONNECT. */
  result(code: string, connect?: string): void;
  /** Calls: answer, dial, hang up, back online. */
  readonly calls: CallControl;
  /** A note for the transcript. */
  event(text: string): void;
  /** Bytes for the DTE as they are (fax page data, XON/DC2): no formatting, never suppressed. */
  data(bytes: Uint8Array): void;
  /**
   * Take the DTE's bytes away from the command parser (fax page data, the DC2 that starts a
   * receive). The sink returns how many bytes of the chunk it took; fewer than all releases
   * the capture and the rest goes to the parser. undefined: back to normal.
   */
  captureDte(sink: DteSink | undefined): void;
}

export type DteSink = (bytes: Uint8Array) => number;

export type AtHandler = (cmd: AtCommand, ctx: AtContext) => Outcome;

/** A family of commands: key = a command name or a prefix of names. */
export type HandlerSet = Readonly<Record<string, AtHandler>>;

/**
 * A behaviour sees each whole command line (the text after AT) before it is executed, as
 * a test double that overrides or observes commands. Returning true means it handled the
 * line (and gave its result, or chose silence); false lets the modem execute it.
 */
export type LineBehaviour = (line: string, ctx: AtContext) => boolean;

export interface Disposable {
  dispose(): void;
}

export class CommandRegistry {
  private readonly byKey = new Map<string, AtHandler[]>();
  private readonly behaviours: LineBehaviour[] = [];

  /** Register a handler set; it takes precedence over those registered before it. */
  register(set: HandlerSet): Disposable {
    const added: [string, AtHandler][] = Object.entries(set).map(([k, h]) => [k.toUpperCase(), h]);
    for (const [key, h] of added) {
      const list = this.byKey.get(key) ?? [];
      list.unshift(h);
      this.byKey.set(key, list);
    }
    return {
      dispose: () => {
        for (const [key, h] of added) {
          const list = this.byKey.get(key);
          const k = list?.indexOf(h) ?? -1;
          if (list !== undefined && k >= 0) list.splice(k, 1);
        }
      },
    };
  }

  /** Install a behaviour; the one installed last is asked first. */
  addBehaviour(b: LineBehaviour): Disposable {
    this.behaviours.unshift(b);
    return {
      dispose: () => {
        const k = this.behaviours.indexOf(b);
        if (k >= 0) this.behaviours.splice(k, 1);
      },
    };
  }

  /** True if a behaviour handled the line. */
  behave(line: string, ctx: AtContext): boolean {
    return [...this.behaviours].some((b) => b(line, ctx));
  }

  /** Run the handlers for one command, most specific first. No handler (or all 'next'): error. */
  dispatch(cmd: AtCommand, ctx: AtContext): Exclude<Outcome, 'next'> {
    for (let len = cmd.name.length; len >= 0; len--) {
      for (const h of [...(this.byKey.get(cmd.name.slice(0, len)) ?? [])]) {
        const r = h(cmd, ctx);
        if (r !== 'next') return r;
      }
    }
    return 'error';
  }
}
