/**
 * Template functions: Go's builtins (index, len, printf, eq, and, ...) and the ones the
 * docker CLI adds (json, join, split, lower, upper, title, pad, truncate).
 */
import { goPrint, isRecord, toJson, truthy, typeName, type Func } from './values.js';

export type FuncMap = Readonly<Record<string, Func>>;

const str = (v: unknown): string => (typeof v === 'string' ? v : goPrint(v));
const num = (v: unknown, fn: string): number => {
  if (typeof v !== 'number') throw new Error(`wrong type for value; expected int; got ${typeName(v)} in ${fn}`);
  return v;
};

export const BUILTINS: FuncMap = {
  json: (v) => toJson(v),
  index: (coll, ...keys) => keys.reduce<unknown>(indexOne, coll),
  len: (v) => {
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (isRecord(v)) return Object.keys(v).length;
    throw new Error(`len of type ${typeName(v)}`);
  },
  join: (list, sep) => {
    if (!Array.isArray(list)) throw new Error(`wrong type for value; expected []string; got ${typeName(list)}`);
    return list.map(str).join(str(sep));
  },
  split: (s, sep) => str(s).split(str(sep)),
  lower: (s) => str(s).toLowerCase(),
  upper: (s) => str(s).toUpperCase(),
  title: (s) => str(s).replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_m, pre: string, c: string) => pre + c.toUpperCase()),
  pad: (s, before, after) => {
    const v = str(s);
    return v === '' ? v : ' '.repeat(num(before, 'pad')) + v + ' '.repeat(num(after, 'pad'));
  },
  truncate: (s, n) => {
    const v = str(s);
    const len = num(n, 'truncate');
    return v.length < len ? v : v.slice(0, len);
  },
  printf: (format, ...args) => sprintf(str(format), args),
  print: (...args) => goSprint(args),
  println: (...args) => `${args.map(goPrint).join(' ')}\n`,
  not: (v) => !truthy(v),
  and: (...args) => args.find((a) => !truthy(a)) ?? args[args.length - 1],
  or: (...args) => args.find((a) => truthy(a)) ?? args[args.length - 1],
  eq: (a, ...rest) => {
    if (rest.length === 0) throw new Error('missing argument for comparison');
    return rest.some((b) => compare(a, b, 'eq') === 0);
  },
  ne: (a, b) => compare(a, b, 'ne') !== 0,
  lt: (a, b) => compare(a, b, 'lt') < 0,
  le: (a, b) => compare(a, b, 'le') <= 0,
  gt: (a, b) => compare(a, b, 'gt') > 0,
  ge: (a, b) => compare(a, b, 'ge') >= 0,
};

/** Docker's header functions: applied to column titles they change nothing. */
export const HEADER_FUNCS: FuncMap = {
  ...BUILTINS,
  json: (v) => v,
  split: (v) => v,
  join: (v) => v,
  title: (v) => v,
  lower: (v) => v,
  upper: (v) => v,
  pad: (v) => v,
  truncate: (v) => v,
};

function indexOne(coll: unknown, key: unknown): unknown {
  if (Array.isArray(coll) || typeof coll === 'string') {
    const i = num(key, 'index');
    if (i < 0 || i >= coll.length) throw new Error(`error calling index: index out of range: ${i}`);
    return coll[i];
  }
  if (isRecord(coll)) {
    // A missing map key is the zero value; for docker's string maps (labels, options) that is "".
    const v = coll[str(key)];
    return v === undefined ? '' : v;
  }
  if (coll === undefined || coll === null) throw new Error('error calling index: index of untyped nil');
  throw new Error(`error calling index: can't index item of type ${typeName(coll)}`);
}

function compare(a: unknown, b: unknown, fn: string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean' && (fn === 'eq' || fn === 'ne')) return a === b ? 0 : 1;
  if ((a === null || a === undefined) && (b === null || b === undefined) && (fn === 'eq' || fn === 'ne')) return 0;
  throw new Error(`error calling ${fn}: incompatible types for comparison`);
}

/** Go's fmt.Sprint: spaces only between operands when neither is a string. */
function goSprint(args: unknown[]): string {
  let out = '';
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += goPrint(a);
  });
  return out;
}

/** A subset of Go's fmt.Sprintf: flags `-+0 `, width, precision; verbs v s d q t x X f e g %. */
export function sprintf(format: string, args: readonly unknown[]): string {
  let argi = 0;
  const out = format.replace(/%([-+0 #]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/g, (whole, flags: string, w?: string, p?: string, verb?: string) => {
    if (verb === '%') return '%';
    if (argi >= args.length) return `%!${verb ?? ''}(MISSING)`;
    const arg = args[argi++];
    const s = formatVerb(verb ?? 'v', arg, p === undefined ? undefined : Number(p), flags);
    return padTo(s, w === undefined ? 0 : Number(w), flags);
  });
  if (argi < args.length) return `${out}%!(EXTRA ${args.slice(argi).map((a) => `${typeName(a)}=${goPrint(a)}`).join(', ')})`;
  return out;
}

function formatVerb(verb: string, arg: unknown, prec: number | undefined, flags: string): string {
  switch (verb) {
    case 'v':
    case 's': {
      const s = goPrint(arg);
      return prec === undefined ? s : s.slice(0, prec);
    }
    case 'q':
      return typeof arg === 'string' ? JSON.stringify(arg) : `%!q(${typeName(arg)}=${goPrint(arg)})`;
    case 't':
      return typeof arg === 'boolean' ? String(arg) : `%!t(${typeName(arg)}=${goPrint(arg)})`;
    case 'd':
      if (typeof arg !== 'number') return `%!d(${typeName(arg)}=${goPrint(arg)})`;
      return (flags.includes('+') && arg >= 0 ? '+' : '') + Math.trunc(arg).toString();
    case 'x':
    case 'X': {
      const s = typeof arg === 'number' ? Math.trunc(arg).toString(16) : Buffer.from(str(arg)).toString('hex');
      return verb === 'X' ? s.toUpperCase() : s;
    }
    case 'f':
    case 'e':
    case 'g': {
      if (typeof arg !== 'number') return `%!${verb}(${typeName(arg)}=${goPrint(arg)})`;
      if (verb === 'f') return arg.toFixed(prec ?? 6);
      if (verb === 'e') return arg.toExponential(prec ?? 6).replace(/e([+-])(\d)$/, 'e$10$2');
      return prec === undefined ? String(arg) : arg.toPrecision(prec);
    }
    default:
      return `%!${verb}(${typeName(arg)}=${goPrint(arg)})`;
  }
}

function padTo(s: string, width: number, flags: string): string {
  if (s.length >= width) return s;
  if (flags.includes('-')) return s.padEnd(width);
  if (flags.includes('0') && /^[+-]?\d/.test(s)) {
    const sign = /^[+-]/.test(s) ? s[0]! : '';
    return sign + s.slice(sign.length).padStart(width - sign.length, '0');
  }
  return s.padStart(width);
}
