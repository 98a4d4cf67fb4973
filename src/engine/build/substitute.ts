/**
 * Variable substitution and word splitting as the Dockerfile shell lexer does them
 * (moby/buildkit's shell.Lex): `$V`, `${V}`, `${V:-word}`, `${V-word}`, `${V:+word}`,
 * `${V+word}`; single quotes are literal, double quotes expand; the escape character
 * (`\` or `` ` ``) takes the next character literally (inside double quotes only before
 * `"`, `$` and itself). Pure.
 */
import { invalid } from '../../errors.js';

/** Variables visible to a step: later entries win (`NAME=value` strings). */
export type Vars = readonly string[];

function lookup(vars: Vars, name: string): string | undefined {
  for (let i = vars.length - 1; i >= 0; i--) {
    const e = vars[i] ?? '';
    if (e.startsWith(`${name}=`)) return e.slice(name.length + 1);
  }
  return undefined;
}

class Lexer {
  private i = 0;
  constructor(
    private readonly s: string,
    private readonly vars: Vars,
    private readonly escape: string,
  ) {}

  /** Words of the input: split on blanks outside quotes; quoted empties are words. */
  words(split: boolean): string[] {
    const out: string[] = [];
    let cur = '';
    let inWord = false;
    const s = this.s;
    while (this.i < s.length) {
      const c = s[this.i] ?? '';
      if (split && (c === ' ' || c === '\t' || c === '\n')) {
        if (inWord) out.push(cur);
        cur = '';
        inWord = false;
        this.i++;
        continue;
      }
      if (c === '$' && split) {
        // An unquoted expansion splits into words where its value has blanks; an empty one makes no word.
        const parts = this.dollar().split(/[ \t\n]+/);
        cur += parts[0] ?? '';
        for (const p of parts.slice(1)) {
          if (cur !== '' || inWord) out.push(cur);
          cur = p;
          inWord = false;
        }
        inWord = inWord || cur !== '';
        continue;
      }
      inWord = true;
      if (c === "'") cur += this.single();
      else if (c === '"') cur += this.double();
      else if (c === '$') cur += this.dollar();
      else if (c === this.escape) {
        this.i++;
        if (this.i < s.length) cur += s[this.i++] ?? '';
      } else {
        cur += c;
        this.i++;
      }
    }
    if (inWord) out.push(cur);
    return out;
  }

  private single(): string {
    const end = this.s.indexOf("'", this.i + 1);
    if (end === -1) throw invalid('unexpected end of statement while looking for matching single-quote');
    const v = this.s.slice(this.i + 1, end);
    this.i = end + 1;
    return v;
  }

  private double(): string {
    const s = this.s;
    let v = '';
    this.i++;
    for (;;) {
      if (this.i >= s.length) throw invalid('unexpected end of statement while looking for matching double-quote');
      const c = s[this.i] ?? '';
      if (c === '"') {
        this.i++;
        return v;
      }
      if (c === '$') v += this.dollar();
      else if (c === this.escape && this.i + 1 < s.length && ['"', '$', this.escape].includes(s[this.i + 1] ?? '')) {
        v += s[this.i + 1] ?? '';
        this.i += 2;
      } else {
        v += c;
        this.i++;
      }
    }
  }

  /** At `$`: the expansion, or a literal `$` when no name follows. */
  private dollar(): string {
    const s = this.s;
    this.i++;
    if (s[this.i] === '{') return this.braced();
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.i));
    if (m === null) return '$';
    this.i += m[0].length;
    return lookup(this.vars, m[0]) ?? '';
  }

  private braced(): string {
    const s = this.s;
    this.i++;
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(this.i));
    if (m === null) throw invalid(`failed to process "${s}": missing ':' in substitution`);
    const name = m[0];
    this.i += name.length;
    if (this.i >= s.length) throw invalid(`failed to process "${s}": syntax error: missing '}'`);
    if (s[this.i] === '}') {
      this.i++;
      return lookup(this.vars, name) ?? '';
    }
    const op = /^(:?)([-+?])/.exec(s.slice(this.i));
    if (op === null) throw invalid(`failed to process "${s}": unsupported modifier (${s[this.i] ?? ''}) in substitution`);
    this.i += op[0].length;
    const word = this.wordUntilBrace();
    const val = lookup(this.vars, name);
    const unset = op[1] === ':' ? val === undefined || val === '' : val === undefined;
    if (op[2] === '-') return unset ? word : (val ?? '');
    if (op[2] === '+') return unset ? '' : word;
    if (unset) throw invalid(`failed to process "${s}": ${name}: ${word === '' ? 'is not allowed to be unset' : word}`);
    return val ?? '';
  }

  /** The word of `${V:-word}`, itself expanded, up to the closing brace. */
  private wordUntilBrace(): string {
    const s = this.s;
    let v = '';
    while (this.i < s.length && s[this.i] !== '}') {
      const c = s[this.i] ?? '';
      if (c === '$') v += this.dollar();
      else if (c === "'") v += this.single();
      else if (c === '"') v += this.double();
      else if (c === this.escape && this.i + 1 < s.length) {
        v += s[this.i + 1] ?? '';
        this.i += 2;
      } else {
        v += c;
        this.i++;
      }
    }
    if (this.i >= s.length) throw invalid(`failed to process "${s}": syntax error: missing '}'`);
    this.i++;
    return v;
  }
}

/** One word: variables expanded, quotes removed, no splitting (ProcessWord). */
export function expandWord(s: string, vars: Vars, escape = '\\'): string {
  return new Lexer(s, vars, escape).words(false).join('');
}

/** Words: variables expanded, quotes removed, split on blanks outside quotes (ProcessWords). */
export function expandWords(s: string, vars: Vars, escape = '\\'): string[] {
  return new Lexer(s, vars, escape).words(true);
}

/** Split on blanks outside quotes, keeping quotes and escapes as written (moby's parser's word split). */
export function rawWords(s: string, escape = '\\'): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | undefined;
  let inWord = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i] ?? '';
    if (quote === undefined && (c === ' ' || c === '\t')) {
      if (inWord) out.push(cur);
      cur = '';
      inWord = false;
      continue;
    }
    inWord = true;
    cur += c;
    if (c === escape && quote !== "'" && i + 1 < s.length) {
      cur += s[++i] ?? '';
      continue;
    }
    if (quote === undefined && (c === '"' || c === "'")) quote = c;
    else if (quote === c) quote = undefined;
  }
  if (inWord) out.push(cur);
  return out;
}

/**
 * `KEY=value …` pairs of ENV, LABEL and ARG (each side expanded), or the legacy
 * `KEY value words` form (ENV and LABEL only, when the first word has no `=`).
 */
export function nameValuePairs(keyword: string, args: string, vars: Vars, escape = '\\', legacy = true): [string, string | undefined][] {
  const words = rawWords(args, escape);
  if (words.length === 0) throw invalid(`${keyword} requires at least one argument`);
  const first = words[0] ?? '';
  if (!first.includes('=')) {
    if (!legacy) return words.map((w) => [expandWord(w, vars, escape), undefined]);
    if (words.length < 2) throw invalid(`${keyword} must have two arguments`);
    const rest = args.slice(args.indexOf(first) + first.length).trim();
    return [[expandWord(first, vars, escape), expandWord(rest, vars, escape)]];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq === -1) {
      if (!legacy) return [expandWord(w, vars, escape), undefined];
      throw invalid(`Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    }
    if (eq === 0) throw invalid(`${keyword} names can not be blank`);
    return [expandWord(w.slice(0, eq), vars, escape), expandWord(w.slice(eq + 1), vars, escape)];
  });
}
