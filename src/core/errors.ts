/**
 * The one error class of tgetty. Every failure that crosses a module boundary is a
 * TgettyError with a stable code, the context needed to act on it (file:line, port,
 * state, ...) and, where it wraps another error, `cause`.
 *
 * Codes are strings grouped by prefix so logs stay searchable: CONFIG_*, CLI_*, LINE_*,
 * LOCK_*, MODEM_*, CHAT_*, SESSION_*, LOGIN_*, DAEMON_*, SIM_*, INTERNAL_*.
 */

export const ErrorCodes = {
  // configuration files (mgetty.config, login.config, dialin.config)
  CONFIG_UNKNOWN_KEYWORD: 'CONFIG_UNKNOWN_KEYWORD',
  CONFIG_BAD_VALUE: 'CONFIG_BAD_VALUE',
  CONFIG_OUT_OF_RANGE: 'CONFIG_OUT_OF_RANGE',
  CONFIG_MALFORMED_LINE: 'CONFIG_MALFORMED_LINE',
  CONFIG_UNREADABLE: 'CONFIG_UNREADABLE',
  CONFIG_NOT_USED: 'CONFIG_NOT_USED',
  CONFIG_INSECURE: 'CONFIG_INSECURE',
  // command line
  CLI_USAGE: 'CLI_USAGE',
  CLI_BAD_SPEED: 'CLI_BAD_SPEED',
  // the serial line and its lock
  LINE_OPEN_FAILED: 'LINE_OPEN_FAILED',
  LINE_IOCTL_FAILED: 'LINE_IOCTL_FAILED',
  LINE_HANGUP: 'LINE_HANGUP',
  LINE_CLOSED: 'LINE_CLOSED',
  LOCK_HELD: 'LOCK_HELD',
  LOCK_FAILED: 'LOCK_FAILED',
  PIDFILE_FAILED: 'PIDFILE_FAILED',
  // the modem dialogue
  MODEM_NO_RESPONSE: 'MODEM_NO_RESPONSE',
  MODEM_ERROR: 'MODEM_ERROR',
  CHAT_TIMEOUT: 'CHAT_TIMEOUT',
  CHAT_ABORTED: 'CHAT_ABORTED',
  CHAT_SYNTAX: 'CHAT_SYNTAX',
  // a call and what runs after it
  SESSION_FAILED: 'SESSION_FAILED',
  LOGIN_EXEC_FAILED: 'LOGIN_EXEC_FAILED',
  LOGIN_UNKNOWN_USER: 'LOGIN_UNKNOWN_USER',
  // fax: images and the G3 codec
  FAX_BAD_IMAGE: 'FAX_BAD_IMAGE',
  FAX_BAD_G3: 'FAX_BAD_G3',
  FAX_SPOOL_FAILED: 'FAX_SPOOL_FAILED',
  // daemon, simulator, internals
  DAEMON_FAILED: 'DAEMON_FAILED',
  RECORDS_FAILED: 'RECORDS_FAILED',
  FAX_QUEUE_FAILED: 'FAX_QUEUE_FAILED',
  SIM_FAILED: 'SIM_FAILED',
  SIM_NO_FREE_LINE: 'SIM_NO_FREE_LINE',
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Where an error happened and what it was about. All fields are optional. */
export interface ErrorContext {
  /** File the bad input came from (config file, issue file, ...). */
  file?: string;
  /** 1-based line number in `file`. */
  line?: number;
  /** Device name of the line, e.g. `ttyS3`. */
  port?: string;
  /** Call state at the time, e.g. `answering`. */
  state?: string;
  /** The offending text (a keyword, a value, a modem response). */
  input?: string;
  /** Free-form extras; keep them JSON-friendly. */
  [key: string]: unknown;
}

export class TgettyError extends Error {
  override readonly name = 'TgettyError';
  readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.context = context;
  }

  /** `file:line: message` when the error has a location, else the message alone. */
  get located(): string {
    return formatLocation(this.context) + this.message;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      context: this.context,
      ...(this.cause !== undefined ? { cause: this.cause instanceof Error ? this.cause.message : JSON.stringify(this.cause) } : {}),
    };
  }
}

export function formatLocation(ctx: ErrorContext): string {
  if (ctx.file !== undefined && ctx.line !== undefined) return `${ctx.file}:${ctx.line}: `;
  if (ctx.file !== undefined) return `${ctx.file}: `;
  return '';
}

export function isTgettyError(err: unknown, code?: ErrorCode): err is TgettyError {
  return err instanceof TgettyError && (code === undefined || err.code === code);
}

/** Turn anything thrown into a TgettyError, keeping the original as `cause`. */
export function toTgettyError(err: unknown, code: ErrorCode = 'INTERNAL', context: ErrorContext = {}): TgettyError {
  if (err instanceof TgettyError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new TgettyError(code, message, context, { cause: err });
}

/** The errno code (`ENOENT`, `EAGAIN`, ...) of a Node system error, if any. */
export function errnoCode(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const c: unknown = err.code;
    return typeof c === 'string' ? c : undefined;
  }
  return undefined;
}
