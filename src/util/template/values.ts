/**
 * How template values behave: Go's printing (`%v`), truthiness, and field lookup.
 *
 * Data is plain JSON-like values. Objects act as Go maps (a missing key prints
 * `<no value>`) unless marked with `strict()`, which makes them act as Go structs (a
 * missing field is an error) — the formatting contexts of `ls` commands are strict so
 * a typo in `--format` is reported, as docker does.
 */

const strictObjects = new WeakSet<object>();

/** Marks an object as struct-like: unknown fields are errors, not `<no value>`. */
export function strict<T extends object>(o: T): T {
  strictObjects.add(o);
  return o;
}

export function isStrict(o: object): boolean {
  return strictObjects.has(o);
}

export type Func = (...args: unknown[]) => unknown;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export type Lookup = { readonly found: true; readonly value: unknown } | { readonly found: false };

/**
 * A field of an object. Exact name first, then a case-insensitive match: Go templates
 * over docker's typed structs use Go field names (`.ID`, `.APIVersion`) while the wire
 * JSON says `Id`, `ApiVersion`; docker accepts both, so berth does too.
 */
export function lookupField(o: Record<string, unknown>, name: string): Lookup {
  if (Object.prototype.hasOwnProperty.call(o, name)) return { found: true, value: o[name] };
  const lower = name.toLowerCase();
  for (const k of Object.keys(o)) if (k.toLowerCase() === lower) return { found: true, value: o[k] };
  return { found: false };
}

/** Go's template truth: false, 0, nil, and empty strings, slices and maps are false. */
export function truthy(v: unknown): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isRecord(v)) return isStrict(v) || Object.keys(v).length > 0;
  return true;
}

/** Go's `%v`: `[a b]` for lists, `map[k:v]` (sorted keys) for objects. */
export function goPrint(v: unknown): string {
  if (v === undefined) return '<no value>';
  return printInner(v);
}

function printInner(v: unknown): string {
  if (v === undefined || v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `[${v.map(printInner).join(' ')}]`;
  if (isRecord(v)) {
    const inner = Object.keys(v)
      .filter((k) => typeof v[k] !== 'function')
      .sort()
      .map((k) => `${k}:${printInner(v[k])}`)
      .join(' ');
    return isStrict(v) ? `{${inner}}` : `map[${inner}]`;
  }
  if (typeof v === 'function') return '<func>';
  return String(v);
}

/** The Go-ish type name used in error messages. */
export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'nil';
  if (Array.isArray(v)) return '[]interface {}';
  if (isRecord(v)) return 'map[string]interface {}';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (typeof v === 'boolean') return 'bool';
  return typeof v;
}

/** JSON for `{{json .}}`: functions (formatting-context methods) are left out. */
export function toJson(v: unknown): string {
  const s = JSON.stringify(v === undefined ? null : v, (_k, val: unknown) => (typeof val === 'function' ? undefined : val));
  return s ?? 'null';
}
