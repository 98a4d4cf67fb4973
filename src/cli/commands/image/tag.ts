/** `berth tag SOURCE TARGET`: `POST /images/{source}/tag?repo=…&tag=…`, validated as docker's client does. */
import type { CommandContext } from '../../context.js';
import { CliError } from '../../errors.js';
import { familiarName, isImageId, tryParseImageRef } from '../../reference.js';
import type { CommandSpec } from '../../registry.js';
import { imagePath } from './wire.js';

async function run(ctx: CommandContext): Promise<void> {
  const [source, target] = ctx.args as [string, string];
  const invalid = (ref: string): CliError => new CliError(`Error parsing reference: ${JSON.stringify(ref)} is not a valid repository/tag: invalid reference format`);
  if (!isImageId(source) && !tryParseImageRef(source)) throw invalid(source);
  const ref = tryParseImageRef(target);
  if (!ref) throw invalid(target);
  if (ref.digest !== undefined) throw new CliError('refusing to create a tag with a digest reference');
  await ctx.client.send('POST', imagePath(source, '/tag'), { query: { repo: familiarName(ref), tag: ref.tag ?? 'latest' } });
}

export const imageTag: CommandSpec = {
  path: ['image', 'tag'],
  usage: 'SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]',
  summary: 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE',
  flags: [],
  args: { min: 2, max: 2 },
  interspersed: false,
  run,
};
