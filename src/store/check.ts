/**
 * Small checks of stored JSON, for typed collections: each names the path that is
 * wrong. They check the shape a record's readers rely on, not every field.
 */
import type { Json } from './kv.js';

export type Check<T> = (value: Json, path: string) => T;

const fail = (path: string, want: string, got: Json): never => {
  throw new Error(`${path} should be ${want}, not ${got === null ? 'null' : Array.isArray(got) ? 'an array' : typeof got}`);
};

export const str: Check<string> = (v, p) => (typeof v === 'string' ? v : fail(p, 'a string', v));
export const num: Check<number> = (v, p) => (typeof v === 'number' ? v : fail(p, 'a number', v));
export const bool: Check<boolean> = (v, p) => (typeof v === 'boolean' ? v : fail(p, 'a boolean', v));

export function arrayOf<T>(item: Check<T>): Check<T[]> {
  return (v, p) => (Array.isArray(v) ? v.map((x, i) => item(x, `${p}[${i}]`)) : fail(p, 'an array', v));
}

/** An object whose listed fields pass their checks; other fields are kept as they are. */
export function object<T>(fields: { readonly [K in keyof T]?: Check<unknown> }, optional: readonly string[] = []): Check<T> {
  return (v, p) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return fail(p, 'an object', v);
    for (const [name, check] of Object.entries(fields) as [string, Check<unknown>][]) {
      const field = v[name];
      if (field === undefined && optional.includes(name)) continue;
      check(field === undefined ? (null as Json) : field, `${p}.${name}`);
    }
    return v as T;
  };
}

/** Any JSON object (a field whose inside its readers check themselves). */
export const anyObject: Check<Record<string, Json>> = (v, p) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? v : fail(p, 'an object', v));
