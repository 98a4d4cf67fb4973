/** `berth stop`, `restart` and `kill`: one request per container, names printed as they succeed. */
import type { FlagSpec } from '../../args.js';
import { err, out, type CommandContext } from '../../context.js';
import { CliError, describeError } from '../../errors.js';
import type { QueryValue } from '../../client.js';
import type { CommandSpec } from '../../registry.js';
import { containerPath } from './wire.js';

/**
 * Runs `action` for each container in order: prints the name on success, and at the end
 * fails with every error, one a line (docker's errors.Join).
 */
export async function forEachContainer(ctx: CommandContext, action: (name: string) => Promise<void>): Promise<void> {
  const errors: string[] = [];
  for (const name of ctx.args) {
    try {
      await action(name);
      out(ctx, `${name}\n`);
    } catch (e: unknown) {
      errors.push(describeError(e));
    }
  }
  if (errors.length > 0) throw new CliError(errors.join('\n'));
}

/** `t` and `signal` of stop/restart; `t` only when -t/--time was given. */
function stopQuery(ctx: CommandContext): Record<string, QueryValue> {
  const { flags } = ctx;
  if (flags.changed('time') && flags.changed('timeout')) throw new CliError('conflicting options: cannot specify both --timeout and --time');
  if (flags.changed('time')) err(ctx, 'Flag --time has been deprecated, use --timeout instead\n');
  const timeout = flags.changed('timeout') ? flags.int('timeout') : flags.changed('time') ? flags.int('time') : undefined;
  return { t: timeout, signal: flags.string('signal') || undefined };
}

const STOP_FLAGS: readonly FlagSpec[] = [
  { name: 'signal', short: 's', type: 'string', help: 'Signal to send to the container' },
  { name: 'time', type: 'int', help: 'Seconds to wait before killing the container (deprecated: use --timeout)', hidden: true },
  { name: 'timeout', short: 't', type: 'int', help: 'Seconds to wait before killing the container' },
];

export const containerStop: CommandSpec = {
  path: ['container', 'stop'],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Stop one or more running containers',
  flags: STOP_FLAGS,
  args: { min: 1 },
  run: async (ctx) => {
    const query = stopQuery(ctx);
    await forEachContainer(ctx, (name) => ctx.client.send('POST', containerPath(name, '/stop'), { query }));
  },
};

export const containerRestart: CommandSpec = {
  path: ['container', 'restart'],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Restart one or more containers',
  flags: STOP_FLAGS,
  args: { min: 1 },
  run: async (ctx) => {
    const query = stopQuery(ctx);
    await forEachContainer(ctx, (name) => ctx.client.send('POST', containerPath(name, '/restart'), { query }));
  },
};

export const containerKill: CommandSpec = {
  path: ['container', 'kill'],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Kill one or more running containers',
  flags: [{ name: 'signal', short: 's', type: 'string', help: 'Signal to send to the container' }],
  args: { min: 1 },
  run: async (ctx) => {
    const query = { signal: ctx.flags.string('signal') || undefined };
    await forEachContainer(ctx, (name) => ctx.client.send('POST', containerPath(name, '/kill'), { query }));
  },
};
