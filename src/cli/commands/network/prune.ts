/** `berth network prune`: removes unused custom networks after asking, as docker does. */
import { confirm, out, type CommandContext } from '../../context.js';
import { filtersParam } from '../../opts.js';
import type { CommandSpec } from '../../registry.js';
import { filterFlag } from '../common.js';

const WARNING = `WARNING! This will remove all custom networks not used by at least one container.
Are you sure you want to continue?`;

async function run(ctx: CommandContext): Promise<void> {
  if (!ctx.flags.bool('force') && !(await confirm(ctx.io, WARNING))) return;
  const query = { filters: filtersParam(ctx.flags.list('filter')) };
  const report = await ctx.client.json<{ NetworksDeleted?: unknown }>('POST', '/networks/prune', { query });
  const deleted = Array.isArray(report?.NetworksDeleted) ? report.NetworksDeleted.map(String) : [];
  if (deleted.length > 0) out(ctx, `Deleted Networks:\n${deleted.map((n) => `${n}\n`).join('')}\n`);
}

export const networkPrune: CommandSpec = {
  path: ['network', 'prune'],
  usage: '[OPTIONS]',
  summary: 'Remove all unused networks',
  flags: [filterFlag('until=<timestamp>', 'none'), { name: 'force', short: 'f', type: 'bool', help: 'Do not prompt for confirmation' }],
  args: { max: 0 },
  run,
};
