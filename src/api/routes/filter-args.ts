/**
 * The matching rules of Docker's filters.Args, shared by the list filters that use
 * them (images, volumes): which keys a list accepts, boolean filters, label lists and
 * regular-expression matches, with dockerd's error texts.
 */
import { invalid } from '../../errors.js';

/** Docker's Validate: every key must be one the list accepts ("invalid filter 'foo'"). */
export function checkFilterKeys(raw: Record<string, string[]>, accepted: ReadonlySet<string>): void {
  for (const key of Object.keys(raw)) if (!accepted.has(key)) throw invalid(`invalid filter '${key}'`);
}

/** Docker's GetBoolOrDefault: undefined when absent, else exactly one of true/1 or false/0. */
export function boolFilter(raw: Record<string, string[]>, key: string): boolean | undefined {
  const values = raw[key];
  if (values === undefined) return undefined;
  if (values.length === 0) throw invalid(`invalid filter '${key}'`);
  const isTrue = values.includes('true') || values.includes('1');
  const isFalse = values.includes('false') || values.includes('0');
  if (isTrue === isFalse) throw invalid(`invalid filter '${key}=[${values.join(' ')}]'`);
  return isTrue;
}

/** Docker's MatchKVList: every `key` or `key=value` present; no labels never match. */
export function labelsMatch(filters: readonly string[], labels: Readonly<Record<string, string>>): boolean {
  if (filters.length === 0) return true;
  if (Object.keys(labels).length === 0) return false;
  return filters.every((f) => {
    const eq = f.indexOf('=');
    const key = eq < 0 ? f : f.slice(0, eq);
    return key in labels && (eq < 0 || labels[key] === f.slice(eq + 1));
  });
}

/**
 * Docker's Match: `source` equals one of the values or contains a match of one read as
 * a regular expression ("web" matches "myweb1"). A value that is no valid expression
 * only matches exactly, as Go skips it.
 */
export function regexpFilter(values: readonly string[]): (source: string) => boolean {
  if (values.length === 0) return () => true;
  const exact = new Set(values);
  const patterns = values.flatMap((v) => compileGoRegexp(v) ?? []);
  return (source) => exact.has(source) || patterns.some((p) => p.test(source));
}

/** A Go (RE2) expression as a JavaScript one: a leading flag group such as (?i) becomes flags. */
function compileGoRegexp(pattern: string): RegExp | undefined {
  const flags = /^\(\?([ims]+)\)/.exec(pattern);
  try {
    return flags ? new RegExp(pattern.slice(flags[0].length), flags[1]) : new RegExp(pattern);
  } catch {
    return undefined;
  }
}
