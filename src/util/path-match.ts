/**
 * Go's path.Match as a compiled RegExp: Docker matches `reference` filters with it, so
 * `busy*` and `library/b?sybox` behave as they do there. `*` and `?` never cross a '/';
 * a class ([a-z], [^ab]) may. A malformed pattern is an error even where a match would
 * have failed first (Go checks the whole pattern).
 */
import { invalid } from '../errors.js';

/** Go's path.ErrBadPattern text. */
const BAD_PATTERN = 'syntax error in pattern';

/** The whole-name matcher for a Go path.Match pattern; InvalidParameter when malformed. */
export function compilePathPattern(pattern: string): RegExp {
  const chars = Array.from(pattern);
  let i = 0;
  let re = '';
  // One character of a class, with its backslash escape; '-' and ']' must be escaped there.
  const classChar = (): number => {
    let c = chars[i];
    if (c === undefined || c === '-' || c === ']') throw invalid(BAD_PATTERN);
    if (c === '\\') {
      i++;
      c = chars[i];
      if (c === undefined) throw invalid(BAD_PATTERN);
    }
    i++;
    return c.codePointAt(0)!;
  };
  while (i < chars.length) {
    const c = chars[i]!;
    if (c === '*') {
      re += '[^/]*';
      i++;
    } else if (c === '?') {
      re += '[^/]';
      i++;
    } else if (c === '\\') {
      const next = chars[i + 1];
      if (next === undefined) throw invalid(BAD_PATTERN);
      re += literal(next.codePointAt(0)!);
      i += 2;
    } else if (c === '[') {
      i++;
      const negate = chars[i] === '^';
      if (negate) i++;
      let ranges = '';
      for (let n = 0; ; n++) {
        if (n > 0 && chars[i] === ']') {
          i++;
          break;
        }
        const lo = classChar();
        let hi = lo;
        if (chars[i] === '-') {
          i++;
          hi = classChar();
        }
        // Go accepts a reversed range and never matches it; so does an empty set here.
        ranges += hi < lo ? '' : `${literal(lo)}-${literal(hi)}`;
      }
      re += ranges === '' ? (negate ? '[^]' : '[]') : `[${negate ? '^' : ''}${ranges}]`;
    } else {
      re += literal(c.codePointAt(0)!);
      i++;
    }
  }
  return new RegExp(`^${re}$`, 'u');
}

/** Go's path.Match(pattern, name). */
export function pathMatch(pattern: string, name: string): boolean {
  return compilePathPattern(pattern).test(name);
}

function literal(codePoint: number): string {
  return `\\u{${codePoint.toString(16)}}`;
}
