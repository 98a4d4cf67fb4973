/** Parsing of driver option strings, shared by the drivers. Messages follow Docker's. */
import { invalid } from '../../errors.js';

const TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool, which Docker uses for its boolean options. */
export function parseBoolOption(key: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw invalid(`failed to parse ${key} value: invalid syntax: "${value}" is not a boolean`);
}

export function parseMtuOption(key: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 68 || n > 65535) {
    throw invalid(`invalid ${key} value "${value}": the MTU must be an integer between 68 and 65535`);
  }
  return n;
}

/** A Linux interface name: 1-15 bytes, no '/', whitespace or ':'; not "." or "..". */
export function parseIfNameOption(key: string, value: string): string {
  if (!/^[^\s/:]{1,15}$/.test(value) || value === '.' || value === '..') {
    throw invalid(`invalid ${key} value "${value}": not a valid interface name (1-15 characters, no '/', ':' or spaces)`);
  }
  return value;
}
