/** `berth wait`: blocks until each container stops and prints its exit code. */
import { out, type CommandContext } from '../../context.js';
import { CliError, describeError } from '../../errors.js';
import type { CommandSpec } from '../../registry.js';
import { containerPath, isWaitResponse } from './wire.js';

async function run(ctx: CommandContext): Promise<void> {
  const errors: string[] = [];
  for (const name of ctx.args) {
    try {
      const res = await ctx.client.json<unknown>('POST', containerPath(name, '/wait'));
      out(ctx, `${isWaitResponse(res) ? res.StatusCode : 0}\n`);
    } catch (e: unknown) {
      errors.push(describeError(e));
    }
  }
  if (errors.length > 0) throw new CliError(errors.join('\n'));
}

export const containerWait: CommandSpec = {
  path: ['container', 'wait'],
  usage: 'CONTAINER [CONTAINER...]',
  summary: 'Block until one or more containers stop, then print their exit codes',
  flags: [],
  args: { min: 1 },
  run,
};
