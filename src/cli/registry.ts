/**
 * The command table. A command is data — its words, flags, argument count, help text —
 * plus a handler; a group ("network") only collects commands for help. Adding a verb is
 * adding a CommandSpec to a list in src/cli/commands/ (see commands/index.ts).
 */
import type { FlagSpec } from './args.js';
import type { CommandContext } from './context.js';
import { byCodeUnit } from '../util/order.js';

export interface Arity {
  readonly min?: number;
  readonly max?: number;
}

export interface CommandSpec {
  /** The words after `berth`: ['network', 'ls']. */
  readonly path: readonly string[];
  /** Other full paths for the same command: [['network', 'list']]. */
  readonly aliases?: readonly (readonly string[])[];
  /** The argument synopsis after the path: "[OPTIONS] NETWORK [NETWORK...]". */
  readonly usage: string;
  /** One line, shown in command lists and as the help text when there is no `description`. */
  readonly summary: string;
  readonly description?: string;
  readonly examples?: string;
  readonly flags: readonly FlagSpec[];
  /** How many positional arguments are allowed; unchecked if absent. */
  readonly args?: Arity;
  /** False to stop flag parsing at the first positional (`run IMAGE CMD...`). Default true. */
  readonly interspersed?: boolean;
  /** Runs the command; the resolved number (default 0) is the exit status. */
  run(ctx: CommandContext): Promise<number | void>;
}

export interface GroupSpec {
  readonly path: readonly string[];
  readonly summary: string;
}

export type Resolution =
  | { readonly kind: 'command'; readonly command: CommandSpec; readonly rest: string[] }
  | { readonly kind: 'group'; readonly group: GroupSpec; readonly rest: string[] }
  | { readonly kind: 'none' };

export class CommandRegistry {
  private readonly commandsByKey = new Map<string, CommandSpec>();
  private readonly groupsByKey = new Map<string, GroupSpec>();
  private readonly primary: CommandSpec[] = [];

  addGroup(group: GroupSpec): this {
    this.groupsByKey.set(key(group.path), group);
    return this;
  }

  add(...commands: CommandSpec[]): this {
    for (const c of commands) {
      for (const p of [c.path, ...(c.aliases ?? [])]) {
        if (this.commandsByKey.has(key(p))) throw new Error(`command "${key(p)}" registered twice`);
        this.commandsByKey.set(key(p), c);
      }
      this.primary.push(c);
    }
    return this;
  }

  /** Finds the longest command or group named by the leading words of argv. */
  resolve(words: readonly string[]): Resolution {
    let found: Resolution = { kind: 'none' };
    for (let i = 1; i <= words.length; i++) {
      const k = key(words.slice(0, i));
      const command = this.commandsByKey.get(k);
      if (command) return { kind: 'command', command, rest: words.slice(i) };
      const group = this.groupsByKey.get(k);
      if (!group) break;
      found = { kind: 'group', group, rest: words.slice(i) };
    }
    return found;
  }

  /** Groups and commands directly under `path` ([] for the top level), sorted by name. */
  children(path: readonly string[]): { groups: GroupSpec[]; commands: CommandSpec[] } {
    const under = (p: readonly string[]): boolean => p.length === path.length + 1 && path.every((w, i) => p[i] === w);
    const byName = (a: { path: readonly string[] }, b: { path: readonly string[] }): number =>
      byCodeUnit(key(a.path), key(b.path));
    return {
      groups: [...this.groupsByKey.values()].filter((g) => under(g.path)).sort(byName),
      commands: this.primary.filter((c) => under(c.path)).sort(byName),
    };
  }
}

function key(path: readonly string[]): string {
  return path.join(' ');
}
