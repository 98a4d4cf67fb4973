/**
 * Help and usage text laid out like the docker CLI (cobra's usage template and pflag's
 * flag table), so `berth X --help` reads the same as `docker X --help`.
 */
import type { FlagSpec } from './args.js';
import { UsageError } from './errors.js';
import type { CommandRegistry, CommandSpec, GroupSpec } from './registry.js';
import { byCodeUnit } from '../util/order.js';

export const PROGRAM = 'berth';

export function commandPath(path: readonly string[]): string {
  return [PROGRAM, ...path].join(' ');
}

export function useLine(cmd: CommandSpec): string {
  return `${commandPath(cmd.path)} ${cmd.usage}`.trimEnd();
}

export function commandHelp(cmd: CommandSpec): string {
  const parts = [`\nUsage:  ${useLine(cmd)}\n\n${(cmd.description ?? cmd.summary).trim()}\n`];
  if (cmd.aliases && cmd.aliases.length > 0) {
    parts.push(`\nAliases:\n  ${[cmd.path, ...cmd.aliases].map(commandPath).join(', ')}\n`);
  }
  if (cmd.examples) parts.push(`\nExamples:\n${cmd.examples.trimEnd()}\n`);
  const flags = flagUsages(cmd.flags);
  if (flags !== '') parts.push(`\nOptions:\n${flags}`);
  return parts.join('');
}

export function groupHelp(group: GroupSpec, registry: CommandRegistry): string {
  const { groups, commands } = registry.children(group.path);
  const path = commandPath(group.path);
  return [
    `\nUsage:  ${path} COMMAND\n\n${group.summary}\n`,
    listing('Management Commands', groups),
    listing('Commands', commands),
    `\nRun '${path} COMMAND --help' for more information on a command.\n`,
  ].join('');
}

export function topHelp(registry: CommandRegistry, globalFlags: readonly FlagSpec[]): string {
  const { groups, commands } = registry.children([]);
  return [
    `\nUsage:  ${PROGRAM} [OPTIONS] COMMAND\n\nA container networking engine that speaks the Docker Engine API\n`,
    listing('Management Commands', groups),
    listing('Commands', commands),
    `\nGlobal Options:\n${flagUsages(globalFlags)}`,
    `\nRun '${PROGRAM} COMMAND --help' for more information on a command.\n`,
  ].join('');
}

function listing(title: string, items: readonly { path: readonly string[]; summary: string }[]): string {
  if (items.length === 0) return '';
  const names = items.map((i) => i.path[i.path.length - 1] ?? '');
  const pad = Math.max(11, ...names.map((n) => n.length));
  const lines = items.map((item, i) => `  ${names[i]!.padEnd(pad)} ${item.summary}`);
  return `\n${title}:\n${lines.join('\n')}\n`;
}

/** pflag's FlagUsages: sorted, `-s, --name type` then the help, continuation lines aligned. */
export function flagUsages(specs: readonly FlagSpec[]): string {
  const visible = specs.filter((s) => !s.hidden).sort((a, b) => byCodeUnit(a.name, b.name));
  const heads = visible.map(flagHead);
  const width = Math.max(0, ...heads.map((h) => h.length));
  return visible
    .map((spec, i) => {
      const head = heads[i]!;
      const text = (spec.help + defaultNote(spec)).replace(/\n/g, `\n${' '.repeat(width + 3)}`);
      return `${head}${' '.repeat(width - head.length + 3)}${text}\n`;
    })
    .join('');
}

function flagHead(spec: FlagSpec): string {
  const names = spec.short ? `  -${spec.short}, --${spec.name}` : `      --${spec.name}`;
  const value = valueName(spec);
  return value === '' ? names : `${names} ${value}`;
}

function valueName(spec: FlagSpec): string {
  if (spec.valueName !== undefined) return spec.valueName;
  switch (spec.type) {
    case 'bool':
      return '';
    case 'string':
      return 'string';
    case 'int':
      return 'int';
    case 'list':
      return spec.split ? 'strings' : 'list';
  }
}

function defaultNote(spec: FlagSpec): string {
  const d = spec.default;
  if (d === undefined || d === '' || d === false || d === 0) return '';
  return typeof d === 'string' ? ` (default ${JSON.stringify(d)})` : ` (default ${String(d)})`;
}

/** Docker's argument-count errors (cli/required.go); they exit 1, not 125. */
export function checkArity(cmd: CommandSpec, args: readonly string[]): void {
  const { min, max } = cmd.args ?? {};
  const n = args.length;
  let what: string | undefined;
  if (min !== undefined && max !== undefined && min === max && n !== min) what = `requires exactly ${count(min)}`;
  else if (max === 0 && n > 0) what = 'accepts no arguments';
  else if (min !== undefined && max !== undefined && (n < min || n > max)) {
    what = `requires at least ${min} and at most ${count(max)}`;
  } else if (min !== undefined && n < min) what = `requires at least ${count(min)}`;
  else if (max !== undefined && n > max) what = `requires at most ${count(max)}`;
  if (what === undefined) return;
  const path = commandPath(cmd.path);
  throw new UsageError(
    `"${path}" ${what}.\nSee '${path} --help'.\n\nUsage:  ${useLine(cmd)}\n\n${cmd.summary}`,
    undefined,
    1,
  );
}

function count(n: number): string {
  return `${n} ${n === 1 ? 'argument' : 'arguments'}`;
}
