/**
 * The Dockerfile as text turned into instructions, as moby's parser reads it: parser
 * directives at the top (`# escape=`, `# syntax=`), comments, empty lines, line
 * continuations with the escape character (comment lines inside a continuation are
 * dropped), `--flag=value` words after the instruction, and the JSON (exec) form.
 * Pure: no variables are expanded here (substitute.ts does that when a step runs).
 */
import { invalid } from '../../errors.js';
import { jsonArray } from '../images/changes.js';

/** One instruction as written. */
export interface Instruction {
  /** Lower-case keyword: `from`, `run`, … */
  cmd: string;
  /** The whole instruction on one line (continuations joined), as `Step N/M :` shows it. */
  original: string;
  /** `--name=value` flags before the arguments, in order. */
  flags: { name: string; value: string | undefined }[];
  /** The arguments after the flags, trimmed. */
  args: string;
  /** The JSON form's strings, when the arguments are a JSON array of strings. */
  json: string[] | undefined;
  /** 1-based line the instruction starts on (0 for one the build adds). */
  line: number;
  /** A `--label` option as the LABEL step the build adds: set as it is, nothing expanded. */
  literalLabel?: { key: string; value: string };
}

export interface Dockerfile {
  /** The escape character (`\` unless `# escape=` says otherwise). */
  escape: string;
  /** The instructions in order. */
  instructions: Instruction[];
}

/** The instructions moby's parser knows; anything else is `unknown instruction`. */
const KNOWN = new Set([
  'add', 'arg', 'cmd', 'copy', 'entrypoint', 'env', 'expose', 'from', 'healthcheck', 'label',
  'maintainer', 'onbuild', 'run', 'shell', 'stopsignal', 'user', 'volume', 'workdir',
]);

/** Instructions whose arguments may be a JSON array. */
const JSON_CAPABLE = new Set(['run', 'cmd', 'entrypoint', 'shell', 'copy', 'add', 'volume']);

const DIRECTIVE = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;

function readDirectives(lines: readonly string[]): { escape: string; first: number } {
  let escape = '\\';
  let i = 0;
  const seen = new Set<string>();
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i] ?? '');
    if (m === null) break;
    const name = (m[1] ?? '').toLowerCase();
    if (name !== 'escape' && name !== 'syntax' && name !== 'check') break;
    if (seen.has(name)) throw invalid(`only one ${name} parser directive can be used`);
    seen.add(name);
    if (name === 'escape') {
      const v = m[2] ?? '';
      if (v !== '\\' && v !== '`') throw invalid(`invalid escape token '${v}' does not match ` + '` or \\');
      escape = v;
    }
  }
  return { escape, first: i };
}

/** True when `line` ends with the escape character (trailing blanks allowed). */
function continues(line: string, escape: string): boolean {
  const t = line.replace(/[ \t]+$/, '');
  return t.endsWith(escape) && t.length > 0;
}

/** Leading `--name=value` words; the rest is the arguments. */
function splitFlags(rest: string): { flags: Instruction['flags']; args: string } {
  const flags: Instruction['flags'] = [];
  let s = rest;
  for (;;) {
    const m = /^--([A-Za-z][A-Za-z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(s);
    if (m === null) break;
    flags.push({ name: m[1] ?? '', value: m[2] });
    s = s.slice(m[0].length);
  }
  return { flags, args: s.trim() };
}

function instruction(text: string, line: number): Instruction {
  const m = /^(\S+)\s*(.*)$/s.exec(text);
  const word = m?.[1] ?? '';
  const cmd = word.toLowerCase();
  if (!KNOWN.has(cmd)) throw invalid(`dockerfile parse error on line ${line}: unknown instruction: ${word.toUpperCase()}`);
  const { flags, args } = splitFlags(m?.[2] ?? '');
  return { cmd, original: text, flags, args, json: JSON_CAPABLE.has(cmd) ? jsonArray(args) : undefined, line };
}

/** Parse Dockerfile text. Throws InvalidParameter with Docker's parse error texts. */
export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/^\uFEFF/, '').split('\n').map((l) => l.replace(/\r$/, ''));
  const { escape, first } = readDirectives(lines);
  const instructions: Instruction[] = [];
  let pending: string | undefined;
  let start = 0;
  for (let i = first; i < lines.length; i++) {
    const raw = lines[i] ?? '';
    const trimmed = raw.trimStart();
    if (trimmed.startsWith('#')) continue; // comments, also between continued lines
    if (pending === undefined && trimmed === '') continue;
    if (pending === undefined) start = i + 1;
    if (continues(raw, escape)) {
      const t = raw.replace(/[ \t]+$/, '');
      pending = (pending ?? '') + (pending === undefined ? t.trimStart() : t).slice(0, -escape.length);
      continue;
    }
    const full = ((pending ?? '') + (pending === undefined ? trimmed : raw)).trim();
    pending = undefined;
    if (full !== '') instructions.push(instruction(full, start));
  }
  if (pending !== undefined && pending.trim() !== '') instructions.push(instruction(pending.trim(), start));
  if (instructions.length === 0) throw invalid('the Dockerfile (Dockerfile) cannot be empty');
  return { escape, instructions };
}

/** The value of flag `name` (the last one given), or undefined. */
export function flagValue(instr: Instruction, name: string): string | undefined {
  let v: string | undefined;
  for (const f of instr.flags) if (f.name === name) v = f.value ?? '';
  return v;
}

/** Refuse flags the instruction does not take, with moby's wording. */
export function checkFlags(instr: Instruction, allowed: readonly string[]): void {
  for (const f of instr.flags) {
    if (!allowed.includes(f.name)) throw invalid(`Unknown flag: ${f.name}`);
  }
}
