/**
 * Executes a parsed template against data. The entry point of the template subset:
 * `Template.parse(src).execute(data)`.
 */
import { BUILTINS, type FuncMap } from './funcs.js';
import { TemplateError } from './lexer.js';
import { parse, type Command, type ControlNode, type Node, type Operand, type Pipeline } from './parser.js';
import { goPrint, isRecord, isStrict, lookupField, truthy, typeName } from './values.js';

export { TemplateError } from './lexer.js';

export class Template {
  private constructor(private readonly nodes: readonly Node[]) {}

  /** Parses `src`; functions must exist in `funcs` (the builtins by default). Throws TemplateError. */
  static parse(src: string, funcs: FuncMap = BUILTINS): Template {
    return new Template(parse(src, new Set(Object.keys(funcs))));
  }

  /** Renders with `data` as both `.` and `$`. Throws TemplateError on a failing action. */
  execute(data: unknown, funcs: FuncMap = BUILTINS): string {
    const run = new Execution(data, funcs);
    run.walk(this.nodes, data);
    return run.output;
  }
}

/** Marks "no value was piped in" apart from a piped `undefined`. */
const NONE: unique symbol = Symbol('none');
type Piped = unknown;

class CommandError extends Error {}

class Execution {
  output = '';
  private readonly vars: { name: string; value: unknown }[];

  constructor(root: unknown, private readonly funcs: FuncMap) {
    this.vars = [{ name: '$', value: root }];
  }

  walk(nodes: readonly Node[], dot: unknown): void {
    for (const node of nodes) this.node(node, dot);
  }

  private node(node: Node, dot: unknown): void {
    const mark = this.vars.length;
    switch (node.kind) {
      case 'text':
        this.output += node.text;
        return;
      case 'action': {
        const v = this.pipeline(node.pipe, dot);
        if (node.pipe.vars.length === 0) this.output += goPrint(v);
        return; // declarations stay in scope until the enclosing block ends
      }
      case 'if': {
        const v = this.pipeline(node.pipe, dot);
        this.walk(truthy(v) ? node.body : node.otherwise, dot);
        break;
      }
      case 'with': {
        const v = this.pipeline(node.pipe, dot);
        if (truthy(v)) this.walk(node.body, v);
        else this.walk(node.otherwise, dot);
        break;
      }
      case 'range':
        this.range(node, dot);
        break;
    }
    this.vars.length = mark;
  }

  private range(node: ControlNode, dot: unknown): void {
    const coll = this.commands(node.pipe, dot);
    const items = entries(coll, node.pipe);
    if (items.length === 0) {
      this.walk(node.otherwise, dot);
      return;
    }
    const [first, second] = node.pipe.vars;
    for (const [k, v] of items) {
      const mark = this.vars.length;
      if (first !== undefined && second === undefined) this.vars.push({ name: first, value: v });
      if (first !== undefined && second !== undefined) this.vars.push({ name: first, value: k }, { name: second, value: v });
      this.walk(node.body, v);
      this.vars.length = mark;
    }
  }

  private pipeline(pipe: Pipeline, dot: unknown): unknown {
    const value = this.commands(pipe, dot);
    for (const name of pipe.vars) {
      if (!pipe.assign) {
        this.vars.push({ name, value });
        continue;
      }
      const slot = [...this.vars].reverse().find((x) => x.name === name);
      if (!slot) this.fail(pipe, `undefined variable: ${name}`);
      slot.value = value;
    }
    return value;
  }

  private commands(pipe: Pipeline, dot: unknown): unknown {
    let piped: Piped = NONE;
    for (const cmd of pipe.cmds) {
      try {
        piped = this.command(cmd, dot, piped);
      } catch (e: unknown) {
        if (e instanceof TemplateError) throw e;
        const msg = e instanceof Error ? e.message : String(e);
        throw new TemplateError(`template: :${pipe.line}: executing "" at <${cmd.text}>: ${msg}`);
      }
    }
    return piped;
  }

  private command(cmd: Command, dot: unknown, piped: Piped): unknown {
    const [first, ...rest] = cmd.args;
    if (!first) throw new CommandError('empty command');
    if (first.kind === 'func') {
      const fn = this.funcs[first.name];
      if (!fn) throw new CommandError(`function "${first.name}" not defined`);
      const args = rest.map((a) => this.arg(a, dot));
      if (piped !== NONE) args.push(piped);
      return callFunc(first.name, fn, args);
    }
    if (first.kind === 'chain') return this.chain(first, dot, rest, piped);
    if (rest.length > 0 || piped !== NONE) throw new CommandError(`can't give argument to non-function ${cmd.text}`);
    return first.value;
  }

  private arg(op: Operand, dot: unknown): unknown {
    if (op.kind === 'literal') return op.value;
    if (op.kind === 'func') {
      const fn = this.funcs[op.name];
      if (!fn) throw new CommandError(`function "${op.name}" not defined`);
      return callFunc(op.name, fn, []);
    }
    return this.chain(op, dot, [], NONE);
  }

  /** Walks `.A.B`; a function-valued field is a method: called, the last one with the arguments. */
  private chain(op: Extract<Operand, { kind: 'chain' }>, dot: unknown, rest: readonly Operand[], piped: Piped): unknown {
    let cur = this.base(op, dot);
    const args = (): unknown[] => {
      const a = rest.map((r) => this.arg(r, dot));
      if (piped !== NONE) a.push(piped);
      return a;
    };
    const withArgs = rest.length > 0 || piped !== NONE;
    op.fields.forEach((field, i) => {
      const last = i === op.fields.length - 1;
      if (cur === undefined || cur === null) {
        cur = undefined;
        return;
      }
      if (!isRecord(cur)) throw new CommandError(`can't evaluate field ${field} in type ${typeName(cur)}`);
      const found = lookupField(cur, field);
      if (!found.found) {
        if (isStrict(cur)) throw new CommandError(`can't evaluate field ${field} in type ${typeName(cur)}`);
        cur = undefined;
        return;
      }
      const v = found.value;
      if (typeof v === 'function') cur = (v as (...a: unknown[]) => unknown)(...(last ? args() : []));
      else if (last && withArgs) throw new CommandError(`can't give argument to non-function .${field}`);
      else cur = v;
    });
    if (op.fields.length === 0 && withArgs) throw new CommandError(`can't give argument to non-function`);
    return cur;
  }

  private base(op: Extract<Operand, { kind: 'chain' }>, dot: unknown): unknown {
    const b = op.base;
    if ('dot' in b) return dot;
    if ('pipe' in b) return this.commands(b.pipe, dot);
    const slot = [...this.vars].reverse().find((x) => x.name === b.variable);
    if (!slot) throw new CommandError(`undefined variable: ${b.variable}`);
    return slot.value;
  }

  private fail(pipe: Pipeline, msg: string): never {
    throw new TemplateError(`template: :${pipe.line}: ${msg}`);
  }
}

function callFunc(name: string, fn: (...a: unknown[]) => unknown, args: unknown[]): unknown {
  try {
    return fn(...args);
  } catch (e: unknown) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new CommandError(msg.startsWith('error calling') ? msg : `error calling ${name}: ${msg}`);
  }
}

/** What `range` iterates: [index, element] of lists, [key, value] of maps in key order. */
function entries(coll: unknown, pipe: Pipeline): [unknown, unknown][] {
  if (coll === undefined || coll === null) return [];
  if (Array.isArray(coll)) return coll.map((v, i) => [i, v]);
  if (isRecord(coll)) {
    return Object.keys(coll)
      .filter((k) => typeof coll[k] !== 'function')
      .sort()
      .map((k) => [k, coll[k]]);
  }
  if (typeof coll === 'number' && Number.isInteger(coll)) return Array.from({ length: Math.max(0, coll) }, (_v, i) => [i, i]);
  throw new TemplateError(`template: :${pipe.line}: range can't iterate over ${goPrint(coll)}`);
}
