/**
 * Tokens of the Go text/template subset berth understands. Text outside `{{ }}` is one
 * token; inside, the usual operands and keywords. `{{- ` and ` -}}` trim the
 * whitespace of the neighbouring text as in Go; `{{/* ... *\/}}` is a comment.
 */

export type TokenKind =
  | 'text'
  | 'open' // {{
  | 'close' // }}
  | 'field' // .Name (one segment)
  | 'dot' // .
  | 'variable' // $ or $name
  | 'ident' // function name or keyword
  | 'string'
  | 'number'
  | 'pipe' // |
  | 'lparen'
  | 'rparen'
  | 'declare' // :=
  | 'assign' // =
  | 'comma'
  | 'eof';

export interface Token {
  readonly kind: TokenKind;
  /** Decoded value: text, field name (without dot), variable name (with $), string contents. */
  readonly value: string;
  /** 1-based line of the token in the template. */
  readonly line: number;
  /** Whether whitespace precedes the token inside an action (field chains must be adjacent). */
  readonly spaced: boolean;
}

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

const SPACE = /[ \t\r\n]/;

export function lex(src: string): Token[] {
  return new Lexer(src).run();
}

class Lexer {
  private pos = 0;
  private readonly tokens: Token[] = [];
  private trimNext = false;

  constructor(private readonly src: string) {}

  run(): Token[] {
    while (this.pos < this.src.length) {
      const open = this.src.indexOf('{{', this.pos);
      const end = open < 0 ? this.src.length : open;
      let text = this.src.slice(this.pos, end);
      if (this.trimNext) text = text.replace(/^[ \t\r\n]+/, '');
      this.trimNext = false;
      const trimLeft = open >= 0 && this.src[open + 2] === '-' && SPACE.test(this.src[open + 3] ?? '');
      if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '');
      if (text !== '') this.push('text', text, false, this.lineAt(this.pos));
      if (open < 0) break;
      this.pos = open + 2 + (trimLeft ? 2 : 0);
      this.action();
    }
    this.push('eof', '', false, this.lineAt(this.pos));
    return this.tokens;
  }

  private action(): void {
    const start = this.pos;
    const afterSpace = this.src.slice(start).replace(/^[ \t\r\n]*/, '');
    if (afterSpace.startsWith('/*')) {
      this.comment();
      return;
    }
    this.push('open', '{{', false, this.lineAt(start));
    let spaced = false;
    for (;;) {
      if (this.pos >= this.src.length) this.fail('unclosed action');
      const c = this.src[this.pos]!;
      if (this.atClose()) return;
      if (SPACE.test(c)) {
        spaced = true;
        this.pos++;
        continue;
      }
      this.operand(c, spaced);
      spaced = false;
    }
  }

  /** At `}}` or ` -}}`: emits the close token, consumes it and notes right-trim. */
  private atClose(): boolean {
    const s = this.src;
    if (SPACE.test(s[this.pos] ?? '') && s.startsWith('-}}', this.pos + 1)) {
      this.pos += 4;
      this.trimNext = true;
    } else if (s.startsWith('}}', this.pos)) {
      this.pos += 2;
    } else {
      return false;
    }
    this.push('close', '}}', false, this.lineAt(this.pos));
    return true;
  }

  private comment(): void {
    const end = this.src.indexOf('*/', this.pos);
    if (end < 0) this.fail('unclosed comment');
    this.pos = end + 2;
    const rest = this.src.slice(this.pos);
    const m = /^([ \t\r\n]+-)?}}/.exec(rest);
    if (!m) this.fail('comment ends before closing delimiter');
    this.pos += m[0].length;
    if (m[1] !== undefined) this.trimNext = true;
  }

  private operand(c: string, spaced: boolean): void {
    const s = this.src;
    const line = this.lineAt(this.pos);
    const take = (kind: TokenKind, value: string, length: number): void => {
      this.push(kind, value, spaced, line);
      this.pos += length;
    };
    if (c === '.') {
      const m = /^\.([A-Za-z_][A-Za-z0-9_]*)/.exec(s.slice(this.pos));
      if (m) take('field', m[1]!, m[0].length);
      else if (/[0-9]/.test(s[this.pos + 1] ?? '')) this.number(spaced);
      else take('dot', '.', 1);
    } else if (c === '$') {
      const m = /^\$[A-Za-z0-9_]*/.exec(s.slice(this.pos))!;
      take('variable', m[0], m[0].length);
    } else if (c === '"') {
      this.quoted(spaced);
    } else if (c === '`') {
      const end = s.indexOf('`', this.pos + 1);
      if (end < 0) this.fail('unterminated raw quoted string');
      take('string', s.slice(this.pos + 1, end), end + 1 - this.pos);
    } else if (c === "'") {
      const m = /^'(\\.|[^\\'])'/.exec(s.slice(this.pos));
      if (!m) this.fail('unterminated character constant');
      const ch = JSON.parse(`"${m[1]!.replace(/^\\'$/, "'")}"`) as string;
      take('number', String(ch.codePointAt(0) ?? 0), m[0].length);
    } else if (/[0-9+-]/.test(c)) {
      this.number(spaced);
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.pos))!;
      take('ident', m[0], m[0].length);
    } else if (s.startsWith(':=', this.pos)) {
      take('declare', ':=', 2);
    } else {
      const single: Record<string, TokenKind> = { '|': 'pipe', '(': 'lparen', ')': 'rparen', '=': 'assign', ',': 'comma' };
      const kind = single[c];
      if (!kind) this.fail(`unexpected ${JSON.stringify(c)} in command`);
      take(kind, c, 1);
    }
  }

  private number(spaced: boolean): void {
    const m = /^[+-]?(0[xX][0-9a-fA-F_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)/.exec(this.src.slice(this.pos));
    const text = m?.[0] ?? '';
    if (text === '' || text === '+' || text === '-' || Number.isNaN(Number(text.replace(/_/g, '')))) {
      this.fail(`bad number syntax: ${JSON.stringify(this.src.slice(this.pos, this.pos + 8))}`);
    }
    this.push('number', text.replace(/_/g, ''), spaced, this.lineAt(this.pos));
    this.pos += text.length;
  }

  private quoted(spaced: boolean): void {
    const m = /^"(\\.|[^\\"\n])*"/.exec(this.src.slice(this.pos));
    if (!m) this.fail('unterminated quoted string');
    let value: string;
    try {
      value = JSON.parse(goEscapesToJson(m[0])) as string;
    } catch {
      this.fail(`invalid syntax in string ${m[0]}`);
    }
    this.push('string', value, spaced, this.lineAt(this.pos));
    this.pos += m[0].length;
  }

  private push(kind: TokenKind, value: string, spaced: boolean, line: number): void {
    this.tokens.push({ kind, value, line, spaced });
  }

  private lineAt(pos: number): number {
    let line = 1;
    for (let i = 0; i < pos && i < this.src.length; i++) if (this.src[i] === '\n') line++;
    return line;
  }

  private fail(msg: string): never {
    throw new TemplateError(`template: :${this.lineAt(this.pos)}: ${msg}`);
  }
}

/** Go string escapes that JSON lacks (\a \v \xNN \' and octal) rewritten for JSON.parse. */
function goEscapesToJson(quoted: string): string {
  return quoted.replace(/\\(x[0-9a-fA-F]{2}|[0-7]{3}|a|v|')/g, (_m, e: string) => {
    if (e === 'a') return '\\u0007';
    if (e === 'v') return '\\u000b';
    if (e === "'") return "'";
    const code = e.startsWith('x') ? parseInt(e.slice(1), 16) : parseInt(e, 8);
    return `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
