/**
 * The AT command-line lexer: the text after `AT` as a list of commands. It knows only the
 * shapes of commands (basic letter and number, `D` and its dial string, `S<n>?` and
 * `S<n>=<v>`, `&<letter><n>`, extended `+NAME` / `#NAME` with `?`, `=?`, `=<arg>`), never
 * what they mean: that is the handler sets' business. A malformed command ends the list
 * with an `error` token; the commands before it still run, as on a real modem.
 */
import type { AtCommand, AtOp } from './registry.js';

export type AtToken = AtCommand | { readonly name: 'error' };

class Cursor {
  i = 0;
  constructor(readonly line: string) {}
  get done(): boolean {
    return this.i >= this.line.length;
  }
  peek(k = 0): string {
    return this.line[this.i + k] ?? '';
  }
  next(): string {
    return this.line[this.i++] ?? '';
  }
  skip(): void {
    while (this.peek() === ' ') this.i++;
  }
  num(): number | undefined {
    this.skip();
    let s = '';
    while (/[0-9]/.test(this.peek())) s += this.next();
    return s === '' ? undefined : Number(s);
  }
}

function cmd(name: string, op: AtOp, num?: number, arg = '', value = 0): AtCommand {
  return { name, op, num, arg, value };
}

function sRegister(c: Cursor): AtToken {
  const reg = c.num();
  if (reg === undefined) return { name: 'error' };
  c.skip();
  if (c.peek() === '?') {
    c.next();
    return cmd('S', 'read', reg);
  }
  if (c.peek() === '=') {
    c.next();
    return cmd('S', 'set', reg, '', c.num() ?? 0);
  }
  return { name: 'error' };
}

function extended(c: Cursor, first: string): AtCommand {
  let name = first;
  while (/[A-Za-z0-9]/.test(c.peek())) name += c.next().toUpperCase();
  let op: AtOp = 'exec';
  let arg = '';
  if (c.peek() === '=' && c.peek(1) === '?') {
    op = 'test';
    c.i += 2;
  } else if (c.peek() === '=') {
    op = 'set';
    c.next();
    // The argument runs to ';' or the end; quoted strings may contain anything.
    let quoted = false;
    while (!c.done && (quoted || c.peek() !== ';')) {
      const ch = c.next();
      if (ch === '"') quoted = !quoted;
      arg += ch;
    }
  } else if (c.peek() === '?') {
    op = 'read';
    c.next();
  }
  if (c.peek() === ';') c.next();
  return cmd(name, op, undefined, arg.trim());
}

/** The commands of one line, in order; an `error` token, if any, is the last. */
export function lexAt(line: string): AtToken[] {
  const c = new Cursor(line);
  const out: AtToken[] = [];
  for (;;) {
    c.skip();
    if (c.done) return out;
    const ch = c.next().toUpperCase();
    if (ch === ';') continue;
    let t: AtToken;
    if (ch === 'D') {
      t = cmd('D', 'exec', undefined, line.slice(c.i).replace(/ /g, ''));
      c.i = line.length;
    } else if (ch === 'S') t = sRegister(c);
    else if (ch === '&') {
      c.skip();
      const letter = c.next().toUpperCase();
      t = cmd(`&${letter}`, 'exec', c.num());
    } else if (ch === '+' || ch === '#') t = extended(c, ch);
    else if (/[A-Z]/.test(ch)) t = cmd(ch, 'exec', c.num());
    else t = { name: 'error' };
    out.push(t);
    if (t.name === 'error') return out;
  }
}
