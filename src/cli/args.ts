/**
 * Flag parsing with the docker CLI's rules (spf13/pflag): `--flag value`, `--flag=value`,
 * `-f value`, `-fvalue`, `-f=value`, combined short booleans (`-dit`), `--bool=false`,
 * repeatable list flags, `--` ending the flags, and for commands like `run IMAGE CMD...`
 * stopping at the first positional argument. Error messages are pflag's.
 */
import { UsageError } from './errors.js';

/**
 * - bool: `--x`, `--x=false`;
 * - string: last one wins;
 * - int: a decimal integer;
 * - list: repeatable, values collected in order (`split` also splits each on commas,
 *   like pflag's "strings").
 */
export type FlagType = 'bool' | 'string' | 'int' | 'list';

export interface FlagSpec {
  /** Long name without dashes. */
  readonly name: string;
  /** One character, without the dash. */
  readonly short?: string;
  readonly type: FlagType;
  readonly help: string;
  /** Value when the flag is not given; shown as `(default ...)` in help. */
  readonly default?: string | number | boolean;
  /** For lists: split each value on commas (pflag's StringSlice, shown as "strings"). */
  readonly split?: boolean;
  /** The value's name in help: "string", "list", "map", "filter"...; derived from `type` if absent. */
  readonly valueName?: string;
  /** Checks one value and returns it normalised; throws an Error whose message explains. */
  readonly validate?: (value: string) => string;
  /** Accepted but not shown in help. */
  readonly hidden?: boolean;
}

type FlagValue = string | number | boolean | string[];

/** The flags given on a command line, read by name with their declared type. */
export class ParsedFlags {
  constructor(
    private readonly specs: ReadonlyMap<string, FlagSpec>,
    private readonly values: ReadonlyMap<string, FlagValue>,
  ) {}

  /** Whether the user gave the flag (even with its default value). */
  changed(name: string): boolean {
    this.spec(name);
    return this.values.has(name);
  }

  bool(name: string): boolean {
    const v = this.get(name, 'bool');
    return typeof v === 'boolean' ? v : false;
  }

  string(name: string): string {
    const v = this.get(name, 'string');
    return typeof v === 'string' ? v : '';
  }

  /** The string value, or undefined when the flag was not given and has no default. */
  optString(name: string): string | undefined {
    const v = this.get(name, 'string');
    return typeof v === 'string' ? v : undefined;
  }

  int(name: string): number {
    const v = this.get(name, 'int');
    return typeof v === 'number' ? v : 0;
  }

  list(name: string): string[] {
    const v = this.get(name, 'list');
    return Array.isArray(v) ? [...v] : [];
  }

  private get(name: string, type: FlagType): FlagValue | undefined {
    const spec = this.spec(name);
    if (spec.type !== type) throw new Error(`flag --${name} is ${spec.type}, read as ${type}`);
    return this.values.get(name) ?? spec.default;
  }

  private spec(name: string): FlagSpec {
    const spec = this.specs.get(name);
    if (!spec) throw new Error(`no flag --${name} declared`);
    return spec;
  }
}

export interface ParseOptions {
  /** False for commands whose trailing arguments belong to something else (`run IMAGE CMD...`). */
  readonly interspersed?: boolean;
  /** For error messages: "berth network ls". */
  readonly commandPath?: string;
}

export interface ParseResult {
  readonly flags: ParsedFlags;
  readonly args: string[];
  /** `--help` (or `-h` where the command does not use it) was given. */
  readonly help: boolean;
}

export function parseArgs(specs: readonly FlagSpec[], argv: readonly string[], opts: ParseOptions = {}): ParseResult {
  const parser = new Parser(specs, opts);
  return parser.run([...argv]);
}

/** How a flag is named in pflag's messages: `-f, --filter` or `--internal`. */
export function flagLabel(spec: FlagSpec): string {
  return spec.short ? `-${spec.short}, --${spec.name}` : `--${spec.name}`;
}

class Parser {
  private readonly byName = new Map<string, FlagSpec>();
  private readonly byShort = new Map<string, FlagSpec>();
  private readonly values = new Map<string, FlagValue>();
  private help = false;

  constructor(specs: readonly FlagSpec[], private readonly opts: ParseOptions) {
    for (const s of specs) {
      this.byName.set(s.name, s);
      if (s.short) this.byShort.set(s.short, s);
    }
  }

  run(rest: string[]): ParseResult {
    const args: string[] = [];
    const interspersed = this.opts.interspersed ?? true;
    while (rest.length > 0) {
      const arg = rest.shift()!;
      if (arg === '--') {
        args.push(...rest);
        break;
      }
      if (arg.startsWith('--')) this.parseLong(arg, rest);
      else if (arg.startsWith('-') && arg !== '-') this.parseShorts(arg, rest);
      else if (interspersed) args.push(arg);
      else {
        args.push(arg, ...rest);
        break;
      }
    }
    return { flags: new ParsedFlags(this.byName, this.values), args, help: this.help };
  }

  private parseLong(arg: string, rest: string[]): void {
    const body = arg.slice(2);
    if (body === '' || body.startsWith('-') || body.startsWith('=')) this.fail(`bad flag syntax: ${arg}`);
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = this.byName.get(name);
    if (!spec) {
      if (name === 'help') {
        this.help = true;
        return;
      }
      this.fail(`unknown flag: --${name}`);
    }
    if (eq >= 0) this.set(spec, body.slice(eq + 1));
    else if (spec.type === 'bool') this.set(spec, 'true');
    else if (rest.length > 0) this.set(spec, rest.shift()!);
    else this.fail(`flag needs an argument: --${name}`);
  }

  private parseShorts(arg: string, rest: string[]): void {
    let shorts = arg.slice(1);
    while (shorts.length > 0) {
      const c = shorts[0]!;
      const spec = this.byShort.get(c);
      if (!spec) {
        if (c === 'h') {
          this.help = true;
          shorts = shorts.slice(1);
          continue;
        }
        this.fail(`unknown shorthand flag: '${c}' in ${arg}`);
      }
      if (shorts.length > 2 && shorts[1] === '=') {
        this.set(spec, shorts.slice(2));
        shorts = '';
      } else if (spec.type === 'bool') {
        this.set(spec, 'true');
        shorts = shorts.slice(1);
      } else if (shorts.length > 1) {
        this.set(spec, shorts.slice(1));
        shorts = '';
      } else if (rest.length > 0) {
        this.set(spec, rest.shift()!);
        shorts = '';
      } else {
        this.fail(`flag needs an argument: '${c}' in ${arg}`);
      }
    }
  }

  private set(spec: FlagSpec, raw: string): void {
    try {
      this.values.set(spec.name, this.convert(spec, raw));
    } catch (e: unknown) {
      const why = e instanceof Error ? e.message : String(e);
      this.fail(`invalid argument ${goQuote(raw)} for ${goQuote(flagLabel(spec))} flag: ${why}`);
    }
  }

  private convert(spec: FlagSpec, raw: string): FlagValue {
    const check = (v: string): string => (spec.validate ? spec.validate(v) : v);
    switch (spec.type) {
      case 'bool':
        return parseBool(raw);
      case 'int':
        return parseInt10(raw);
      case 'string':
        return check(raw);
      case 'list': {
        const prev = this.values.get(spec.name);
        const list = Array.isArray(prev) ? prev : [];
        const parts = spec.split ? (raw === '' ? [] : raw.split(',')) : [raw];
        return [...list, ...parts.map(check)];
      }
    }
  }

  private fail(message: string): never {
    throw new UsageError(message, this.opts.commandPath);
  }
}

/** Go's strconv.ParseBool. */
export function parseBool(raw: string): boolean {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(raw)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(raw)) return false;
  throw new Error(`strconv.ParseBool: parsing ${goQuote(raw)}: invalid syntax`);
}

function parseInt10(raw: string): number {
  if (!/^[+-]?\d+$/.test(raw)) throw new Error(`strconv.ParseInt: parsing ${goQuote(raw)}: invalid syntax`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`strconv.ParseInt: parsing ${goQuote(raw)}: value out of range`);
  return n;
}

/** Go's %q for the plain strings that appear in messages. */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}
