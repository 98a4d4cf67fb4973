/** `berth topology`: the host's network as the kernel holds it, named after berth's model (text, JSON or Graphviz). */
import type { Topology } from '../../../insight/topology.js';
import { renderDot, renderText } from '../../../insight/topology-render.js';
import { out, type CommandContext } from '../../context.js';
import { UsageError } from '../../errors.js';
import { serveTopology } from '../../topology-server.js';
import type { CommandSpec } from '../../registry.js';

async function run(ctx: CommandContext): Promise<void> {
  const format = ctx.flags.string('format') || 'text';
  if (!['text', 'json', 'dot'].includes(format)) throw new UsageError(`invalid --format "${format}": text, json or dot`);
  const params = new URLSearchParams();
  if (ctx.flags.string('network')) params.set('network', ctx.flags.string('network'));
  if (ctx.flags.string('container')) params.set('container', ctx.flags.string('container'));
  const query = params.size > 0 ? `?${params.toString()}` : '';
  const serve = ctx.flags.string('serve');
  if (serve !== '') return servePage(ctx, serve, query);
  const t = await ctx.client.json<Topology>('GET', `/berth/topology${query}`);
  out(ctx, format === 'json' ? `${JSON.stringify(t)}\n` : format === 'dot' ? renderDot(t) : renderText(t));
}

/** The live page, until Ctrl-C: `--serve` alone (or `--serve=`) takes loopback and a free port. */
async function servePage(ctx: CommandContext, serve: string, query: string): Promise<void> {
  const m = /^(?:\[?([^\]]*?)\]?:)?(\d+)$/.exec(serve === 'true' ? '127.0.0.1:0' : serve);
  if (!m) throw new UsageError(`invalid --serve "${serve}": [ADDRESS:]PORT`);
  const server = await serveTopology(ctx.client, { host: m[1] || '127.0.0.1', port: Number(m[2]) }, query);
  out(ctx, `Serving the topology on ${server.url} (Ctrl-C to stop)\n`);
  await new Promise<void>((res) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => res());
  });
  await server.close();
}

export const topology: CommandSpec = {
  path: ['topology'],
  usage: '[OPTIONS]',
  summary: "Show the host's network as the kernel holds it: namespaces, links, bridges, tunnels, published ports, drift",
  flags: [
    { name: 'format', type: 'string', help: 'text (default), json or dot (Graphviz)' },
    { name: 'network', type: 'string', help: 'Only what touches this network' },
    { name: 'container', type: 'string', help: 'Only this container and the host links it uses' },
    { name: 'serve', type: 'string', help: 'Serve a live page of it on [ADDRESS:]PORT (loopback by default)' },
  ],
  args: { max: 0 },
  run,
};
