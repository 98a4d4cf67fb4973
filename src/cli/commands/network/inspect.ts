/** `berth network inspect`: the daemon's JSON for each network, or a template per network. */
import { DaemonError, describeError, StatusError } from '../../errors.js';
import { err, out, type CommandContext } from '../../context.js';
import { renderInspect } from '../../format.js';
import type { CommandSpec } from '../../registry.js';
import { objectFormatFlag } from '../common.js';
import { networkPath } from './wire.js';

async function run(ctx: CommandContext): Promise<void> {
  const found: unknown[] = [];
  const failures: string[] = [];
  for (const name of ctx.args) {
    try {
      const query = { verbose: ctx.flags.bool('verbose') || undefined };
      found.push(await ctx.client.json<unknown>('GET', networkPath(name), { query }));
    } catch (e: unknown) {
      // docker's client words a 404 on inspect as "No such <object>".
      failures.push(e instanceof DaemonError && e.statusCode === 404 ? `Error: No such network: ${name}` : describeError(e));
    }
  }
  out(ctx, renderInspect(found, ctx.flags.string('format')));
  if (failures.length > 0) {
    err(ctx, `${failures.join('\n')}\n`);
    throw new StatusError(1);
  }
}

export const networkInspect: CommandSpec = {
  path: ['network', 'inspect'],
  usage: '[OPTIONS] NETWORK [NETWORK...]',
  summary: 'Display detailed information on one or more networks',
  flags: [objectFormatFlag('f'), { name: 'verbose', short: 'v', type: 'bool', help: 'Verbose output for diagnostics' }],
  args: { min: 1 },
  run,
};
