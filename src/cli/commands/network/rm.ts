/** `berth network rm`: removes each network in turn, reporting every failure. */
import { DaemonError, describeError } from '../../errors.js';
import { err, out, type CommandContext } from '../../context.js';
import type { CommandSpec } from '../../registry.js';
import { networkPath } from './wire.js';

async function run(ctx: CommandContext): Promise<number> {
  let status = 0;
  for (const name of ctx.args) {
    try {
      await ctx.client.send('DELETE', networkPath(name));
      out(ctx, `${name}\n`);
    } catch (e: unknown) {
      if (ctx.flags.bool('force') && e instanceof DaemonError && e.statusCode === 404) continue;
      err(ctx, `${describeError(e)}\n`);
      status = 1;
    }
  }
  return status;
}

export const networkRm: CommandSpec = {
  path: ['network', 'rm'],
  aliases: [['network', 'remove']],
  usage: 'NETWORK [NETWORK...]',
  summary: 'Remove one or more networks',
  flags: [{ name: 'force', short: 'f', type: 'bool', help: 'Do not error if the network does not exist' }],
  args: { min: 1 },
  run,
};
