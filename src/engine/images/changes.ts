/**
 * `docker import --change` / `docker commit --change`: Dockerfile instructions that
 * only touch the image config (Docker's BuildFromConfig). Variables ($VAR, ${VAR},
 * ${VAR:-x}, ${VAR:+x}) expand from the config's Env as the instructions run.
 */
import * as path from 'node:path';
import { invalid } from '../../errors.js';
import type { HealthConfig, ImageRunConfig } from './config.js';

const VALID = new Set(['cmd', 'entrypoint', 'healthcheck', 'env', 'expose', 'label', 'onbuild', 'stopsignal', 'user', 'volume', 'workdir']);

interface Instruction {
  /** Lower-case instruction word. */
  cmd: string;
  /** As written, for messages and ONBUILD. */
  original: string;
  args: string;
}

/** Dockerfile lines: comments and blanks dropped, backslash continuations joined. */
function parseInstructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (pending === '' && /^\s*#/.test(line)) continue;
    if (/\\\s*$/.test(line)) {
      pending += line.replace(/\\\s*$/, '');
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    if (full === '') continue;
    const m = /^(\S+)\s*(.*)$/s.exec(full);
    if (m === null) continue;
    const word = m[1] ?? '';
    out.push({ cmd: word.toLowerCase(), original: word, args: (m[2] ?? '').trim() });
  }
  if (pending.trim() !== '') {
    const m = /^(\S+)\s*(.*)$/s.exec(pending.trim());
    if (m !== null) out.push({ cmd: (m[1] ?? '').toLowerCase(), original: m[1] ?? '', args: (m[2] ?? '').trim() });
  }
  return out;
}

function envLookup(env: readonly string[], name: string): string | undefined {
  for (let i = env.length - 1; i >= 0; i--) {
    const e = env[i] ?? '';
    if (e.startsWith(`${name}=`)) return e.slice(name.length + 1);
  }
  return undefined;
}

/**
 * Shell-like words: quotes group and are removed, backslash escapes, `$` expands
 * (not inside single quotes).
 */
export function shellWords(s: string, env: readonly string[]): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  const expand = (): string => {
    // at s[i] === '$'
    i++;
    if (s[i] === '{') {
      const end = s.indexOf('}', i);
      if (end === -1) throw invalid(`missing '}' in ${JSON.stringify(s)}`);
      const inner = s.slice(i + 1, end);
      i = end + 1;
      const m = /^([A-Za-z_][A-Za-z0-9_]*)(?::([-+])(.*))?$/s.exec(inner);
      if (m === null) throw invalid(`bad substitution: ${JSON.stringify(inner)}`);
      const val = envLookup(env, m[1] ?? '');
      if (m[2] === '-') return val === undefined || val === '' ? (m[3] ?? '') : val;
      if (m[2] === '+') return val === undefined || val === '' ? '' : (m[3] ?? '');
      return val ?? '';
    }
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i));
    if (m === null) return '$';
    i += m[0].length;
    return envLookup(env, m[0]) ?? '';
  };
  while (i < s.length) {
    const c = s[i] ?? '';
    if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
      i++;
      continue;
    }
    inWord = true;
    if (c === "'") {
      const end = s.indexOf("'", i + 1);
      if (end === -1) throw invalid(`unexpected end of statement while looking for matching single-quote`);
      cur += s.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      for (;;) {
        if (i >= s.length) throw invalid(`unexpected end of statement while looking for matching double-quote`);
        const d = s[i] ?? '';
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\' && i + 1 < s.length && '"\\$'.includes(s[i + 1] ?? '')) {
          cur += s[i + 1] ?? '';
          i += 2;
        } else if (d === '$') {
          cur += expand();
        } else {
          cur += d;
          i++;
        }
      }
    } else if (c === '\\' && i + 1 < s.length) {
      cur += s[i + 1] ?? '';
      i += 2;
    } else if (c === '$') {
      cur += expand();
    } else {
      cur += c;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** `key=value …` pairs, or the legacy `key value` form when `legacy` allows it. */
function nameValues(instr: Instruction, env: readonly string[]): [string, string][] {
  const name = instr.original.toUpperCase();
  if (instr.args === '') throw invalid(`${name} requires at least one argument`);
  const firstWord = /^\S+/.exec(instr.args)?.[0] ?? '';
  if (!firstWord.includes('=')) {
    const rest = instr.args.slice(firstWord.length).trim();
    if (rest === '') throw invalid(`${name} must have two arguments`);
    const key = shellWords(firstWord, env).join('');
    return [[key, shellWords(rest, env).join(' ')]];
  }
  return shellWords(instr.args, env).map((w) => {
    const eq = w.indexOf('=');
    if (eq <= 0) throw invalid(`${name} names can not be blank`);
    return [w.slice(0, eq), w.slice(eq + 1)];
  });
}

/** JSON exec form `["a","b"]` if it parses as one, else undefined (the shell form, as moby falls back). */
export function jsonArray(args: string): string[] | undefined {
  if (!args.startsWith('[')) return undefined;
  try {
    const v: unknown = JSON.parse(args);
    if (Array.isArray(v) && v.every((x): x is string => typeof x === 'string')) return v;
  } catch {
    // not JSON: shell form
  }
  return undefined;
}

function commandForm(args: string, shell: readonly string[]): string[] {
  return jsonArray(args) ?? [...shell, args];
}

/** Go-style durations: 30s, 1m30s, 500ms, 1h -> nanoseconds. */
export function parseGoDuration(s: string): number {
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g;
  const unit: Record<string, number> = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };
  let total = 0;
  let consumed = 0;
  for (const m of s.matchAll(re)) {
    if (m.index !== consumed) break;
    total += Number(m[1]) * (unit[m[2] ?? ''] ?? 0);
    consumed += m[0].length;
  }
  if (s === '0') return 0;
  if (consumed !== s.length || s === '') throw invalid(`time: invalid duration ${JSON.stringify(s)}`);
  return Math.round(total);
}

function healthcheck(args: string): HealthConfig {
  let rest = args;
  const hc: HealthConfig = {};
  for (;;) {
    const m = /^--([a-z-]+)=(\S+)\s*/.exec(rest);
    if (m === null) break;
    rest = rest.slice(m[0].length);
    const value = m[2] ?? '';
    switch (m[1]) {
      case 'interval':
        hc.Interval = parseGoDuration(value);
        break;
      case 'timeout':
        hc.Timeout = parseGoDuration(value);
        break;
      case 'start-period':
        hc.StartPeriod = parseGoDuration(value);
        break;
      case 'start-interval':
        hc.StartInterval = parseGoDuration(value);
        break;
      case 'retries': {
        const n = Number(value);
        if (!Number.isInteger(n) || n < 0) throw invalid(`invalid retries value ${JSON.stringify(value)}`);
        hc.Retries = n;
        break;
      }
      default:
        throw invalid(`Unknown flag: ${m[1] ?? ''}`);
    }
  }
  const m = /^(\S+)\s*(.*)$/s.exec(rest);
  const kind = (m?.[1] ?? '').toUpperCase();
  if (kind === 'NONE') {
    if ((m?.[2] ?? '') !== '') throw invalid('HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (kind !== 'CMD') throw invalid(`Unknown type "${kind}" in HEALTHCHECK (try CMD)`);
  const cmdArgs = (m?.[2] ?? '').trim();
  if (cmdArgs === '') throw invalid('Missing command after HEALTHCHECK CMD');
  const exec = jsonArray(cmdArgs);
  hc.Test = exec !== undefined ? ['CMD', ...exec] : ['CMD-SHELL', cmdArgs];
  return hc;
}

/** EXPOSE words -> "80/tcp" keys (ranges expanded). */
export function exposedPorts(words: readonly string[]): string[] {
  const out: string[] = [];
  for (const w of words) {
    const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp|sctp))?$/i.exec(w);
    if (m === null) throw invalid(`invalid containerPort: ${w}`);
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    const proto = (m[3] ?? 'tcp').toLowerCase();
    if (lo < 1 || hi > 65535 || hi < lo) throw invalid(`invalid port range: ${w}`);
    for (let p = lo; p <= hi; p++) out.push(`${p}/${proto}`);
  }
  return out;
}

/**
 * Apply `changes` to a copy of `base`. Throws InvalidParameter with Docker's texts,
 * e.g. `run is not a valid change command`.
 */
export function applyChanges(base: ImageRunConfig, changes: readonly string[]): ImageRunConfig {
  const instrs = parseInstructions(changes.join('\n'));
  for (const i of instrs) {
    if (!VALID.has(i.cmd)) throw invalid(`${i.cmd} is not a valid change command`);
  }
  const c: ImageRunConfig = structuredClone(base);
  const shell = c.Shell ?? ['/bin/sh', '-c'];
  let cmdSet = false;
  for (const i of instrs) {
    const env = c.Env ?? [];
    const upper = i.original.toUpperCase();
    switch (i.cmd) {
      case 'cmd':
        if (i.args === '') throw invalid('CMD requires at least one argument');
        c.Cmd = commandForm(i.args, shell);
        cmdSet = true;
        break;
      case 'entrypoint':
        c.Entrypoint = i.args === '' ? null : commandForm(i.args, shell);
        if (!cmdSet) c.Cmd = null;
        break;
      case 'env': {
        const next = [...env];
        for (const [k, v] of nameValues(i, env)) {
          const idx = next.findIndex((e) => e.startsWith(`${k}=`));
          if (idx === -1) next.push(`${k}=${v}`);
          else next[idx] = `${k}=${v}`;
        }
        c.Env = next;
        break;
      }
      case 'label':
        c.Labels = { ...(c.Labels ?? {}) };
        for (const [k, v] of nameValues(i, env)) c.Labels[k] = v;
        break;
      case 'expose': {
        const words = shellWords(i.args, env);
        if (words.length === 0) throw invalid('EXPOSE requires at least one argument');
        c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
        for (const p of exposedPorts(words)) c.ExposedPorts[p] = {};
        break;
      }
      case 'workdir': {
        const words = shellWords(i.args, env);
        if (words.length !== 1) throw invalid('WORKDIR requires exactly one argument');
        c.WorkingDir = path.posix.resolve(c.WorkingDir || '/', words[0] ?? '');
        break;
      }
      case 'user': {
        const words = shellWords(i.args, env);
        if (words.length !== 1) throw invalid('USER requires exactly one argument');
        c.User = words[0] ?? '';
        break;
      }
      case 'volume': {
        const vols = jsonArray(i.args) ?? shellWords(i.args, env);
        if (vols.length === 0) throw invalid('VOLUME requires at least one argument');
        c.Volumes = { ...(c.Volumes ?? {}) };
        for (const v of vols) {
          if (v.trim() === '') throw invalid('VOLUME specified can not be an empty string');
          c.Volumes[v] = {};
        }
        break;
      }
      case 'stopsignal': {
        const words = shellWords(i.args, env);
        if (words.length !== 1) throw invalid('STOPSIGNAL requires exactly one argument');
        c.StopSignal = words[0] ?? '';
        break;
      }
      case 'onbuild': {
        const inner = /^(\S+)\s*(.*)$/s.exec(i.args);
        const word = (inner?.[1] ?? '').toUpperCase();
        if (word === '') throw invalid('ONBUILD requires at least one argument');
        if (word === 'ONBUILD') throw invalid("Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if (word === 'FROM' || word === 'MAINTAINER') throw invalid(`${word} isn't allowed as an ONBUILD trigger`);
        c.OnBuild = [...(c.OnBuild ?? []), `${word} ${inner?.[2] ?? ''}`.trim()];
        break;
      }
      case 'healthcheck':
        c.Healthcheck = healthcheck(i.args);
        break;
      default:
        throw invalid(`${upper} is not a valid change command`);
    }
  }
  return c;
}
