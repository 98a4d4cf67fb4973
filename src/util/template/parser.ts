/**
 * Parses template tokens into a tree: text, printed pipelines, `if`/`else if`/`else`,
 * `range` (with `$i, $e :=` or `$k, $v :=`), `with`, variable declarations. Functions
 * are checked against the known set at parse time, as Go does.
 */
import { lex, TemplateError, type Token } from './lexer.js';

export type Node =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'action'; readonly pipe: Pipeline }
  | ControlNode;

export interface ControlNode {
  readonly kind: 'if' | 'with' | 'range';
  readonly pipe: Pipeline;
  readonly body: Node[];
  /** The `{{else}}` branch; `{{else if}}` is a nested `if` here. */
  readonly otherwise: Node[];
}

export interface Pipeline {
  /** Variables declared (`:=`) or assigned (`=`) by this pipeline. */
  readonly vars: readonly string[];
  readonly assign: boolean;
  readonly cmds: readonly Command[];
  readonly line: number;
}

export interface Command {
  readonly args: readonly Operand[];
  /** The command's source, for error messages: `<.Foo>`. */
  readonly text: string;
}

export type Operand =
  /** `.A.B` (base dot), `$x.A` (base variable), `(pipe).A` (base pipe); `.` alone is a dot with no fields. */
  | { readonly kind: 'chain'; readonly base: Base; readonly fields: readonly string[] }
  | { readonly kind: 'literal'; readonly value: string | number | boolean | null }
  | { readonly kind: 'func'; readonly name: string };

export type Base = { readonly dot: true } | { readonly variable: string } | { readonly pipe: Pipeline };

export function parse(src: string, funcNames: ReadonlySet<string>): Node[] {
  return new Parser(lex(src), funcNames).template();
}

type Stop = 'end' | 'else' | 'eof';

class Parser {
  private i = 0;

  constructor(private readonly tokens: Token[], private readonly funcs: ReadonlySet<string>) {}

  template(): Node[] {
    const { nodes, stop } = this.list();
    if (stop !== 'eof') this.fail(`unexpected {{${stop}}}`);
    return nodes;
  }

  private list(): { nodes: Node[]; stop: Stop } {
    const nodes: Node[] = [];
    for (;;) {
      const t = this.next();
      if (t.kind === 'eof') return { nodes, stop: 'eof' };
      if (t.kind === 'text') {
        nodes.push({ kind: 'text', text: t.value });
        continue;
      }
      const kw = this.peek();
      if (kw.kind === 'ident' && (kw.value === 'end' || kw.value === 'else')) {
        this.next();
        if (kw.value === 'end') this.expect('close');
        return { nodes, stop: kw.value };
      }
      nodes.push(this.action());
    }
  }

  /** After `{{`: a control structure or a pipeline to print. */
  private action(): Node {
    const t = this.peek();
    if (t.kind === 'ident' && (t.value === 'if' || t.value === 'with' || t.value === 'range')) {
      this.next();
      return this.control(t.value);
    }
    if (t.kind === 'ident' && ['define', 'template', 'block', 'break', 'continue'].includes(t.value)) {
      this.fail(`{{${t.value}}} is not supported`);
    }
    return { kind: 'action', pipe: this.pipeline('close') };
  }

  private control(kind: 'if' | 'with' | 'range'): Node {
    const pipe = this.pipeline('close');
    if (pipe.vars.length > (kind === 'range' ? 2 : 1)) this.fail(`too many declarations in ${kind}`);
    const body = this.list();
    let otherwise: Node[] = [];
    if (body.stop === 'eof') this.fail(`unexpected EOF in {{${kind}}}`);
    if (body.stop === 'else') {
      const t = this.peek();
      if ((kind === 'if' || kind === 'with') && t.kind === 'ident' && t.value === kind) {
        // `{{else if x}}` is an `if` nested in the else branch that shares our `{{end}}`.
        this.next();
        otherwise = [this.control(kind)];
      } else {
        this.expect('close');
        const rest = this.list();
        if (rest.stop !== 'end') this.fail(`expected {{end}} for {{${kind}}}`);
        otherwise = rest.nodes;
      }
    }
    return { kind, pipe, body: body.nodes, otherwise };
  }

  private pipeline(end: 'close' | 'rparen'): Pipeline {
    const line = this.peek().line;
    const { vars, assign } = this.declarations();
    const cmds: Command[] = [];
    for (;;) {
      cmds.push(this.command(end));
      const t = this.next();
      if (t.kind === end) break;
      if (t.kind !== 'pipe') this.fail(`unexpected ${describe(t)} in command`);
    }
    return { vars, assign, cmds, line };
  }

  private declarations(): { vars: string[]; assign: boolean } {
    const save = this.i;
    const vars: string[] = [];
    while (this.peek().kind === 'variable') {
      vars.push(this.next().value);
      const t = this.next();
      if (t.kind === 'declare' || t.kind === 'assign') return { vars, assign: t.kind === 'assign' };
      if (t.kind !== 'comma') break;
    }
    this.i = save;
    return { vars: [], assign: false };
  }

  private command(end: 'close' | 'rparen'): Command {
    const args: Operand[] = [];
    const start = this.i;
    for (;;) {
      const t = this.peek();
      if (t.kind === end || t.kind === 'pipe') break;
      if (t.kind === 'eof' || t.kind === 'close' || t.kind === 'rparen') this.fail(`unexpected ${describe(t)} in operand`);
      args.push(this.operand());
    }
    if (args.length === 0) this.fail('missing value for command');
    return { args, text: this.tokens.slice(start, this.i).map(source).join('').trim() };
  }

  private operand(): Operand {
    const t = this.next();
    switch (t.kind) {
      case 'field':
        return this.chain({ dot: true }, [t.value]);
      case 'dot':
        return this.chain({ dot: true }, []);
      case 'variable':
        return this.chain({ variable: t.value }, []);
      case 'lparen':
        return this.chain({ pipe: this.pipeline('rparen') }, []);
      case 'string':
        return { kind: 'literal', value: t.value };
      case 'number':
        return { kind: 'literal', value: Number(t.value) };
      case 'ident':
        if (t.value === 'true' || t.value === 'false') return { kind: 'literal', value: t.value === 'true' };
        if (t.value === 'nil') return { kind: 'literal', value: null };
        if (!this.funcs.has(t.value)) this.fail(`function ${JSON.stringify(t.value)} not defined`);
        return { kind: 'func', name: t.value };
      default:
        this.fail(`unexpected ${describe(t)} in operand`);
    }
  }

  /** Field names written right after a term, with no space: `$x.A.B`, `(f).A`. */
  private chain(base: Base, fields: string[]): Operand {
    while (this.peek().kind === 'field' && !this.peek().spaced) fields.push(this.next().value);
    return { kind: 'chain', base, fields };
  }

  private next(): Token {
    const t = this.tokens[this.i];
    if (!t) this.fail('unexpected EOF');
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private peek(): Token {
    return this.tokens[this.i] ?? { kind: 'eof', value: '', line: 0, spaced: false };
  }

  private expect(kind: Token['kind']): void {
    const t = this.next();
    if (t.kind !== kind) this.fail(`unexpected ${describe(t)}`);
  }

  private fail(msg: string): never {
    throw new TemplateError(`template: :${this.peek().line}: ${msg}`);
  }
}

function describe(t: Token): string {
  if (t.kind === 'eof') return 'EOF';
  if (t.kind === 'close') return '"}}"';
  return `<${source(t).trim()}>`;
}

function source(t: Token): string {
  const sp = t.spaced ? ' ' : '';
  switch (t.kind) {
    case 'field':
      return `${sp}.${t.value}`;
    case 'string':
      return `${sp}${JSON.stringify(t.value)}`;
    default:
      return `${sp}${t.value}`;
  }
}
