/**
 * Reading Docker's JSON at the edge: every field is checked for its type once here,
 * so the core only ever sees typed data. Errors name the field.
 *
 * A struct field is found as Go's encoding/json finds it, which is how dockerd reads
 * every body: the exact key or any key equal to it under case folding (`hostconfig`,
 * `CPURealtimeRuntime`), the last one in the body winning; objects under several such
 * keys are merged. Keys of maps (Labels, Sysctls, EndpointsConfig …) are data and stay
 * exact: read them with Object.entries on the object `field` returns.
 */
import { invalid } from '../errors.js';

export type WireObject = Record<string, unknown>;

export function asObject(v: unknown, what: string): WireObject {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`${what}: expected a JSON object`);
  return v as WireObject;
}

/** Each object's fields by folded name, built on first use. */
const folded = new WeakMap<WireObject, Map<string, unknown>>();

/** The value of struct field `name` in `o`, matched as Go's encoding/json matches it. */
export function field(o: WireObject, name: string): unknown {
  let byName = folded.get(o);
  if (!byName) {
    byName = new Map();
    for (const [k, v] of Object.entries(o)) {
      const key = foldName(k);
      const before = byName.get(key);
      // Go decodes a second object into the struct or map the first one filled.
      byName.set(key, isPlainObject(before) && isPlainObject(v) ? { ...before, ...v } : v);
    }
    folded.set(o, byName);
  }
  return byName.get(foldName(name));
}

/** The struct field `name` as an object ({} when absent or null). */
export function objectField(o: WireObject, name: string): WireObject {
  return asObject(field(o, name), name);
}

/** Whether the body names the field at all (null counts: Go then leaves a pointer nil). */
export function hasField(o: WireObject, name: string): boolean {
  return field(o, name) !== undefined;
}

/**
 * Go's foldName: ASCII letters upper-cased, any other rune mapped through
 * unicode.ToUpper(unicode.ToLower(r)) (so the Kelvin sign folds to K, long s to S).
 */
export function foldName(name: string): string {
  let out = '';
  for (const ch of name) {
    const code = ch.codePointAt(0)!;
    if (code < 0x80) {
      out += code >= 0x61 && code <= 0x7a ? String.fromCharCode(code - 0x20) : ch;
      continue;
    }
    const up = ch.toLowerCase().toUpperCase();
    // Go maps rune to rune; a mapping to several (ß -> SS) leaves the rune as it is.
    out += [...up].length === 1 ? up : ch;
  }
  return out;
}

function isPlainObject(v: unknown): v is WireObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function optString(o: WireObject, key: string): string | undefined {
  const v = field(o, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`json: cannot unmarshal ${jsonType(v)} into field ${key} of type string`);
  return v;
}

export function optBool(o: WireObject, key: string): boolean | undefined {
  const v = field(o, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(`json: cannot unmarshal ${jsonType(v)} into field ${key} of type bool`);
  return v;
}

export function optNumber(o: WireObject, key: string): number | undefined {
  const v = field(o, key);
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`json: cannot unmarshal ${jsonType(v)} into field ${key} of type number`);
  return v;
}

/** Docker's ConsoleSize, [height, width]; unset or [0, 0] is none. */
export function optConsoleSize(o: WireObject, key: string): { rows: number; cols: number } | undefined {
  const v = field(o, key);
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length !== 2 || v.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 0)) {
    throw invalid(`json: cannot unmarshal ${jsonType(v)} into field ${key} of type [2]uint`);
  }
  const [rows, cols] = v as [number, number];
  return rows > 0 && cols > 0 ? { rows, cols } : undefined;
}

export function stringMap(o: WireObject, key: string): Record<string, string> {
  const v = field(o, key);
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`json: cannot unmarshal ${jsonType(v)} into field ${key} of type map[string]string`);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw invalid(`json: cannot unmarshal ${jsonType(val)} into field ${key}.${k} of type string`);
    out[k] = val;
  }
  return out;
}

export function stringList(o: WireObject, key: string): string[] {
  const v = field(o, key);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw invalid(`json: cannot unmarshal ${jsonType(v)} into field ${key} of type []string`);
  }
  return v as string[];
}

/** Docker's StrSlice (Cmd, Entrypoint): a list, or one string taken as a one-element list. */
export function commandList(o: WireObject, key: string): string[] {
  const v = field(o, key);
  if (typeof v === 'string') return v === '' ? [] : [v];
  return stringList(o, key);
}

export function objectList(o: WireObject, key: string): WireObject[] {
  const v = field(o, key);
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw invalid(`json: cannot unmarshal ${jsonType(v)} into field ${key} of type array`);
  return v.map((x, i) => asObject(x, `${key}[${i}]`));
}

function jsonType(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  return typeof v;
}

/**
 * Docker's `filters` query parameter: {"name":{"x":true}} (current) or {"name":["x"]}
 * (old clients) into key -> values.
 */
export function parseFilters(raw: string | null): Record<string, string[]> {
  if (raw === null || raw === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalid(`invalid filter: invalid character in filters JSON`);
  }
  const out: Record<string, string[]> = {};
  for (const [key, v] of Object.entries(asObject(parsed, 'filters'))) {
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[key] = v as string[];
    else if (v && typeof v === 'object' && !Array.isArray(v)) out[key] = Object.keys(v);
    else throw invalid(`invalid filter '${key}'`);
  }
  return out;
}

export function boolParam(q: URLSearchParams, key: string): boolean {
  const v = q.get(key);
  return v === '1' || v === 'true' || v === 'True';
}
