/**
 * Reading Docker's JSON at the edge: every field is checked for its type once here,
 * so the core only ever sees typed data. Errors name the field.
 */
import { invalid } from '../errors.js';

export type WireObject = Record<string, unknown>;

export function asObject(v: unknown, what: string): WireObject {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw invalid(`${what}: expected a JSON object`);
  return v as WireObject;
}

export function optString(o: WireObject, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw invalid(`json: cannot unmarshal ${jsonType(v)} into field ${key} of type string`);
  return v;
}

export function optBool(o: WireObject, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw invalid(`json: cannot unmarshal ${jsonType(v)} into field ${key} of type bool`);
  return v;
}

export function optNumber(o: WireObject, key: string): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw invalid(`json: cannot unmarshal ${jsonType(v)} into field ${key} of type number`);
  return v;
}

/** Docker's ConsoleSize, [height, width]; unset or [0, 0] is none. */
export function optConsoleSize(o: WireObject, key: string): { rows: number; cols: number } | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.length !== 2 || v.some((x) => typeof x !== 'number' || !Number.isInteger(x) || x < 0)) {
    throw invalid(`json: cannot unmarshal ${jsonType(v)} into field ${key} of type [2]uint`);
  }
  const [rows, cols] = v as [number, number];
  return rows > 0 && cols > 0 ? { rows, cols } : undefined;
}

export function stringMap(o: WireObject, key: string): Record<string, string> {
  const v = o[key];
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
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw invalid(`json: cannot unmarshal ${jsonType(v)} into field ${key} of type []string`);
  }
  return v as string[];
}

export function objectList(o: WireObject, key: string): WireObject[] {
  const v = o[key];
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
