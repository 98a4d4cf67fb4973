/** `berth topology`: the host's network as the kernel holds it, named after berth's model (text, JSON or Graphviz). */
import type { Topology } from '../../../insight/topology.js';
import { renderDot, renderText } from '../../../insight/topology-render.js';
import { out, type CommandContext } from '../../context.js';
import { UsageError } from '../../errors.js';
import type { CommandSpec } from '../../registry.js';

async function run(ctx: CommandContext): Promise<void> {
  const format = ctx.flags.string('format') || 'text';
  if (!['text', 'json', 'dot'].includes(format)) throw new UsageError(`invalid --format "${format}": text, json or dot`);
  const query = new URLSearchParams();
  if (ctx.flags.string('network')) query.set('network', ctx.flags.string('network'));
  if (ctx.flags.string('container')) query.set('container', ctx.flags.string('container'));
  const t = await ctx.client.json<Topology>('GET', `/berth/topology${query.size > 0 ? `?${query.toString()}` : ''}`);
  out(ctx, format === 'json' ? `${JSON.stringify(t)}\n` : format === 'dot' ? renderDot(t) : renderText(t));
}

export const topology: CommandSpec = {
  path: ['topology'],
  usage: '[OPTIONS]',
  summary: "Show the host's network as the kernel holds it: namespaces, links, bridges, tunnels, published ports, drift",
  flags: [
    { name: 'format', type: 'string', help: 'text (default), json or dot (Graphviz)' },
    { name: 'network', type: 'string', help: 'Only what touches this network' },
    { name: 'container', type: 'string', help: 'Only this container and the host links it uses' },
  ],
  args: { max: 0 },
  run,
};
