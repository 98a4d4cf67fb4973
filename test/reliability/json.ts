/** Typed reading of JSON answers without `any`: absent or mistyped fields read as empty. */

export type Obj = Record<string, unknown>;

export const obj = (x: unknown): Obj => (typeof x === 'object' && x !== null && !Array.isArray(x) ? (x as Obj) : {});
export const arr = (x: unknown): unknown[] => (Array.isArray(x) ? x : []);
export const str = (x: unknown): string => (typeof x === 'string' ? x : '');
export const num = (x: unknown): number => (typeof x === 'number' ? x : 0);
