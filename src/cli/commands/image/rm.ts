/** `berth rmi` / `image rm`: prints what each removal untagged and deleted. */
import { err, out, type CommandContext } from '../../context.js';
import { CliError, DaemonError, describeError } from '../../errors.js';
import type { CommandSpec } from '../../registry.js';
import { imagePath, type ImageDeleteItem } from './wire.js';

async function run(ctx: CommandContext): Promise<void> {
  const force = ctx.flags.bool('force');
  const query = { force: force || undefined, noprune: ctx.flags.bool('no-prune') || undefined };
  const errors: string[] = [];
  let fatal = false;
  for (const image of ctx.args) {
    try {
      const items = await ctx.client.json<unknown>('DELETE', imagePath(image), { query });
      for (const item of (Array.isArray(items) ? items : []) as ImageDeleteItem[]) {
        out(ctx, item.Deleted ? `Deleted: ${item.Deleted}\n` : `Untagged: ${item.Untagged ?? ''}\n`);
      }
    } catch (e: unknown) {
      if (!(e instanceof DaemonError && e.statusCode === 404)) fatal = true;
      errors.push(describeError(e));
    }
  }
  if (errors.length === 0) return;
  // With -f, images that are already gone are only reported.
  if (!force || fatal) throw new CliError(errors.join('\n'));
  err(ctx, `${errors.join('\n')}\n`);
}

export const imageRm: CommandSpec = {
  path: ['image', 'rm'],
  aliases: [['image', 'remove']],
  usage: '[OPTIONS] IMAGE [IMAGE...]',
  summary: 'Remove one or more images',
  flags: [
    { name: 'force', short: 'f', type: 'bool', help: 'Force removal of the image' },
    { name: 'no-prune', type: 'bool', help: 'Do not delete untagged parents' },
  ],
  args: { min: 1 },
  run,
};
