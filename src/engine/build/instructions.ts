/**
 * The instructions that change only the image config (ENV, LABEL, ARG, CMD, ENTRYPOINT,
 * EXPOSE, USER, VOLUME, WORKDIR, STOPSIGNAL, SHELL, HEALTHCHECK, ONBUILD, MAINTAINER),
 * applied to a stage's state with the variable substitution Docker does for each.
 * Each returns the comment the step commits with (`ENV a=b`), which goes into the cache
 * probe's Cmd (`/bin/sh -c #(nop) ENV a=b`). Pure apart from the state it changes.
 */
import * as path from 'node:path';
import { invalid } from '../../errors.js';
import { applyChanges, exposedPorts } from '../images/changes.js';
import { checkFlags, type Instruction } from './dockerfile.js';
import { BUILTIN_ARGS, type BuildArgs, type StageState } from './state.js';
import { expandWord, expandWords, nameValuePairs } from './substitute.js';

const METADATA = new Set(['env', 'label', 'arg', 'cmd', 'entrypoint', 'expose', 'user', 'volume', 'workdir', 'stopsignal', 'shell', 'healthcheck', 'onbuild', 'maintainer']);

/** Whether `cmd` only changes the config. */
export function isMetadata(cmd: string): boolean {
  return METADATA.has(cmd);
}

function setEnv(env: readonly string[], key: string, value: string): string[] {
  const out = [...env];
  const i = out.findIndex((e) => e.split('=')[0] === key);
  if (i === -1) out.push(`${key}=${value}`);
  else out[i] = `${key}=${value}`;
  return out;
}

function commandLine(instr: Instruction, st: StageState): string[] {
  return instr.json ?? [...st.shell, instr.args];
}

function goQuoted(words: readonly string[]): string {
  return `[${words.map((w) => JSON.stringify(w)).join(' ')}]`;
}

/** ARG: declares names in the stage (values: --build-arg, else the default, else the meta arg's). */
export function applyArg(instr: Instruction, st: StageState | undefined, args: BuildArgs, escape: string): string {
  const vars = st?.vars() ?? [...args.meta].filter((e): e is [string, string] => e[1] !== undefined).map(([k, v]) => `${k}=${v}`);
  const pairs = nameValuePairs('ARG', instr.args, vars, escape, false);
  const shown: string[] = [];
  for (const [name, dflt] of pairs) {
    args.consumed.add(name);
    const given = args.given[name];
    const inherited = st !== undefined && dflt === undefined ? args.meta.get(name) : undefined;
    const value = typeof given === 'string' ? given : (dflt ?? inherited);
    if (st === undefined) args.meta.set(name, value);
    else st.args.set(name, value);
    shown.push(dflt === undefined ? name : `${name}=${dflt}`);
  }
  return `ARG ${shown.join(' ')}`;
}

/** Apply a config-only instruction; returns the commit comment. */
export function applyMetadata(instr: Instruction, st: StageState, args: BuildArgs, escape: string): string {
  const c = st.config;
  const vars = st.vars();
  checkFlags(instr, instr.cmd === 'healthcheck' ? ['interval', 'timeout', 'start-period', 'start-interval', 'retries'] : []);
  switch (instr.cmd) {
    case 'env': {
      const pairs = nameValuePairs('ENV', instr.args, vars, escape);
      let env = c.Env ?? [];
      for (const [k, v] of pairs) env = setEnv(env, k, v ?? '');
      c.Env = env;
      return `ENV ${pairs.map(([k, v]) => `${k}=${v ?? ''}`).join(' ')}`;
    }
    case 'label': {
      if (instr.literalLabel !== undefined) {
        c.Labels = { ...(c.Labels ?? {}), [instr.literalLabel.key]: instr.literalLabel.value };
        return instr.original;
      }
      const pairs = nameValuePairs('LABEL', instr.args, vars, escape);
      c.Labels = { ...(c.Labels ?? {}) };
      for (const [k, v] of pairs) c.Labels[k] = v ?? '';
      return `LABEL ${pairs.map(([k, v]) => `${k}=${v ?? ''}`).join(' ')}`;
    }
    case 'arg':
      return applyArg(instr, st, args, escape);
    case 'cmd':
      if (instr.args === '') throw invalid('CMD requires at least one argument');
      c.Cmd = commandLine(instr, st);
      st.cmdSet = true;
      return `CMD ${goQuoted(c.Cmd)}`;
    case 'entrypoint':
      c.Entrypoint = instr.args === '' ? null : commandLine(instr, st);
      if (!st.cmdSet) c.Cmd = null;
      return `ENTRYPOINT ${goQuoted(c.Entrypoint ?? [])}`;
    case 'expose': {
      const ports = exposedPorts(expandWords(instr.args, vars, escape));
      if (ports.length === 0) throw invalid('EXPOSE requires at least one argument');
      c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
      for (const p of ports) c.ExposedPorts[p] = {};
      return `EXPOSE ${Object.keys(c.ExposedPorts).sort().join(' ')}`;
    }
    case 'user': {
      const words = expandWords(instr.args, vars, escape);
      if (words.length !== 1) throw invalid('USER requires exactly one argument');
      c.User = words[0] ?? '';
      return `USER ${c.User}`;
    }
    case 'volume': {
      const vols = instr.json ?? expandWords(instr.args, vars, escape);
      if (vols.length === 0) throw invalid('VOLUME requires at least one argument');
      c.Volumes = { ...(c.Volumes ?? {}) };
      for (const v of vols) {
        if (v.trim() === '') throw invalid('VOLUME specified can not be an empty string');
        c.Volumes[v] = {};
      }
      return `VOLUME ${goQuoted(vols)}`;
    }
    case 'workdir': {
      const dir = expandWord(instr.args, vars, escape);
      if (dir === '') throw invalid('WORKDIR requires exactly one argument');
      c.WorkingDir = path.posix.resolve(c.WorkingDir || '/', dir);
      return `WORKDIR ${c.WorkingDir}`;
    }
    case 'stopsignal': {
      const words = expandWords(instr.args, vars, escape);
      if (words.length !== 1) throw invalid('STOPSIGNAL requires exactly one argument');
      c.StopSignal = words[0] ?? '';
      return `STOPSIGNAL ${c.StopSignal}`;
    }
    case 'shell':
      if (instr.json === undefined) throw invalid('SHELL requires the arguments to be in JSON form');
      if (instr.json.length === 0) throw invalid('SHELL requires at least one argument');
      c.Shell = instr.json;
      return `SHELL ${goQuoted(c.Shell)}`;
    case 'maintainer':
      st.author = instr.args;
      return `MAINTAINER ${instr.args}`;
    case 'healthcheck':
    case 'onbuild': {
      const next = applyChanges(c, [instr.original]);
      st.config = next;
      return instr.cmd === 'onbuild' ? `ONBUILD ${instr.args}` : `HEALTHCHECK ${JSON.stringify(next.Healthcheck ?? {})}`;
    }
    default:
      throw invalid(`unknown instruction: ${instr.cmd.toUpperCase()}`);
  }
}

/** Build args given that no ARG declared (Docker's warning names them). */
export function unconsumed(args: BuildArgs): string[] {
  return Object.keys(args.given)
    .filter((k) => !args.consumed.has(k) && !BUILTIN_ARGS.has(k))
    .sort();
}
