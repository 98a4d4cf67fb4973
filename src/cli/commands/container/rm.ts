/** `berth rm`: removes each container, printing its name; with -f a missing one is only reported. */
import { err, out, type CommandContext } from '../../context.js';
import { CliError, DaemonError, describeError } from '../../errors.js';
import type { CommandSpec } from '../../registry.js';
import { containerPath } from './wire.js';

async function run(ctx: CommandContext): Promise<void> {
  const { flags } = ctx;
  const query = { v: flags.bool('volumes') || undefined, link: flags.bool('link') || undefined, force: flags.bool('force') || undefined };
  const errors: string[] = [];
  for (const name of ctx.args) {
    try {
      const id = name.replace(/^\/+|\/+$/g, '');
      if (id === '') throw new CliError('container name cannot be empty');
      await ctx.client.send('DELETE', containerPath(id), { query });
      out(ctx, `${name}\n`);
    } catch (e: unknown) {
      if (flags.bool('force') && e instanceof DaemonError && e.statusCode === 404) {
        err(ctx, `${describeError(e)}\n`);
        continue;
      }
      errors.push(describeError(e));
    }
  }
  if (errors.length > 0) throw new CliError(errors.join('\n'));
}

export const containerRm: CommandSpec = {
  path: ['container', 'rm'],
  aliases: [['container', 'remove']],
  usage: '[OPTIONS] CONTAINER [CONTAINER...]',
  summary: 'Remove one or more containers',
  flags: [
    { name: 'force', short: 'f', type: 'bool', help: 'Force the removal of a running container (uses SIGKILL)' },
    { name: 'link', short: 'l', type: 'bool', help: 'Remove the specified link' },
    { name: 'volumes', short: 'v', type: 'bool', help: 'Remove anonymous volumes associated with the container' },
  ],
  args: { min: 1 },
  run,
};
