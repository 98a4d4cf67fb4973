/**
 * `.dockerignore` as moby's patternmatcher reads it: one pattern a line, `#` comments,
 * paths cleaned and made relative to the context root, `*` and `?` within one path
 * element, `**` across any number of them, `[...]` classes, `!` re-includes. A path is
 * excluded when the last pattern matching it or one of its parent folders is not a `!`
 * one. Pure.
 */
import * as path from 'node:path';

interface Pattern {
  exclusion: boolean;
  re: RegExp;
}

function clean(p: string): string {
  const c = path.posix.normalize(p.replace(/^\/+/, ''));
  return c === '.' ? '' : c.replace(/\/+$/, '');
}

function toRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        // `**/` matches zero or more folders; a trailing `**` matches everything below.
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end === -1) re += '\\[';
      else {
        const body = pattern.slice(i + 1, end).replace(/^\^/, '!');
        re += `[${body.startsWith('!') ? `^${body.slice(1)}` : body}]`;
        i = end;
      }
    } else if (c === '\\' && i + 1 < pattern.length) {
      re += `\\${pattern[++i] ?? ''}`;
    } else re += /[.+^${}()|\]\\]/.test(c) ? `\\${c}` : c;
  }
  return new RegExp(`${re}$`);
}

/** Decides which context paths a `.dockerignore` leaves out. */
export class IgnoreMatcher {
  private readonly patterns: Pattern[];

  constructor(text: string | undefined) {
    this.patterns = [];
    for (const raw of (text ?? '').split('\n')) {
      let line = raw.replace(/\r$/, '').trim();
      if (line === '' || line.startsWith('#')) continue;
      const exclusion = line.startsWith('!');
      if (exclusion) line = line.slice(1).trim();
      const p = clean(line);
      if (p === '') continue;
      this.patterns.push({ exclusion, re: toRegExp(p) });
    }
  }

  /** True when no pattern is given. */
  get empty(): boolean {
    return this.patterns.length === 0;
  }

  /** Whether the context path `rel` (relative, `/`-separated) is left out. */
  excludes(rel: string): boolean {
    const p = clean(rel);
    if (p === '') return false;
    const parents: string[] = [];
    const parts = p.split('/');
    for (let n = 1; n <= parts.length; n++) parents.push(parts.slice(0, n).join('/'));
    let excluded = false;
    for (const pat of this.patterns) {
      if (parents.some((candidate) => pat.re.test(candidate))) excluded = !pat.exclusion;
    }
    return excluded;
  }

  /** True when a `!` pattern could re-include something below the excluded folder `rel`. */
  mayReinclude(rel: string): boolean {
    return this.patterns.some((p) => p.exclusion) && clean(rel) !== '';
  }
}
