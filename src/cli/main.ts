/**
 * The berth CLI: global flags, then the command named by the leading words, then its
 * flags and arguments. Returns the exit status instead of exiting, so tests can run it.
 */
import { parseArgs, type FlagSpec } from './args.js';
import { clientVersion } from './build-info.js';
import { ApiClient, DEFAULT_HOST } from './client.js';
import { defaultRegistry } from './commands/index.js';
import type { CliIO, CommandContext } from './context.js';
import { describeError, exitStatusOf, StatusError, UsageError } from './errors.js';
import { checkArity, commandHelp, commandPath, groupHelp, PROGRAM, topHelp } from './help.js';
import type { CommandRegistry, CommandSpec } from './registry.js';

export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  { name: 'debug', short: 'D', type: 'bool', help: 'Enable debug mode' },
  { name: 'host', short: 'H', type: 'string', help: `Daemon socket to connect to (default "${DEFAULT_HOST}", or $BERTH_HOST)` },
  { name: 'log-level', short: 'l', type: 'string', default: 'info', help: 'Set the logging level ("debug", "info", "warn", "error", "fatal")' },
  { name: 'version', short: 'v', type: 'bool', help: 'Print version information and quit' },
];

export type Env = Readonly<Record<string, string | undefined>>;

export async function main(argv: readonly string[], env: Env, io: CliIO, registry: CommandRegistry = defaultRegistry()): Promise<number> {
  try {
    return await dispatch(argv, env, io, registry);
  } catch (e: unknown) {
    const message = e instanceof StatusError ? e.message : describeError(e);
    if (message !== '') io.stderr.write(`${message}\n`);
    return exitStatusOf(e);
  }
}

async function dispatch(argv: readonly string[], env: Env, io: CliIO, registry: CommandRegistry): Promise<number> {
  const globals = parseArgs(GLOBAL_FLAGS, argv, { interspersed: false, commandPath: PROGRAM });
  if (globals.flags.bool('version')) {
    io.stdout.write(`${PROGRAM} version ${clientVersion()}\n`);
    return 0;
  }
  if (globals.help || globals.args.length === 0) {
    io.stdout.write(topHelp(registry, GLOBAL_FLAGS));
    return 0;
  }
  const found = registry.resolve(globals.args);
  if (found.kind === 'none') {
    throw new UsageError(`${PROGRAM}: '${globals.args[0] ?? ''}' is not a ${PROGRAM} command.\nSee '${PROGRAM} --help'`, undefined, 1);
  }
  if (found.kind === 'group') {
    const path = commandPath(found.group.path);
    const first = found.rest[0];
    if (first !== undefined && !first.startsWith('-')) {
      throw new UsageError(`${PROGRAM}: unknown command: ${path} ${first}\n\nRun '${path} --help' for more information`, undefined, 1);
    }
    parseArgs([], found.rest, { commandPath: path });
    io.stdout.write(groupHelp(found.group, registry));
    return 0;
  }
  const host = globals.flags.optString('host') ?? nonEmpty(env.BERTH_HOST) ?? DEFAULT_HOST;
  return runCommand(found.command, found.rest, { env, io, host, debug: globals.flags.bool('debug') });
}

async function runCommand(
  cmd: CommandSpec,
  rest: readonly string[],
  setup: { env: Env; io: CliIO; host: string; debug: boolean },
): Promise<number> {
  const path = commandPath(cmd.path);
  const parsed = parseArgs(cmd.flags, rest, { interspersed: cmd.interspersed ?? true, commandPath: path });
  if (parsed.help) {
    setup.io.stdout.write(commandHelp(cmd));
    return 0;
  }
  checkArity(cmd, parsed.args);
  const client = new ApiClient(setup.host);
  try {
    const ctx: CommandContext = { flags: parsed.flags, args: parsed.args, commandPath: path, client, ...setup };
    return (await cmd.run(ctx)) ?? 0;
  } finally {
    client.close();
  }
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === '' ? undefined : s;
}
