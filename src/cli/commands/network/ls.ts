/** `berth network ls`: the table of networks, sorted by name as docker sorts it. */
import { out, type CommandContext } from '../../context.js';
import { renderList, shortId, type ListFormat } from '../../format.js';
import { filtersParam } from '../../opts.js';
import type { CommandSpec } from '../../registry.js';
import { filterFlag, goTimeString, LIST_FORMAT_FLAG, naturalCompare, NO_TRUNC_FLAG, quietFlag } from '../common.js';
import { isNetworkSummary, type NetworkSummary } from './wire.js';

export const NETWORK_FORMAT: ListFormat = {
  table: 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}',
  raw: 'network_id: {{.ID}}\\nname: {{.Name}}\\ndriver: {{.Driver}}\\nscope: {{.Scope}}\\n',
  headers: {
    ID: 'NETWORK ID',
    Name: 'NAME',
    Driver: 'DRIVER',
    Scope: 'SCOPE',
    IPv6: 'IPV6',
    Internal: 'INTERNAL',
    Labels: 'LABELS',
    Label: 'LABEL',
    CreatedAt: 'CREATED AT',
  },
  methods: ['Label'],
};

/** What `--format` sees for one network: docker's networkContext fields. */
export function networkRow(n: NetworkSummary, noTrunc: boolean): object {
  const labels = n.Labels ?? {};
  return {
    ID: noTrunc ? n.Id : shortId(n.Id),
    Name: n.Name,
    Driver: n.Driver ?? '',
    Scope: n.Scope ?? '',
    IPv6: String(n.EnableIPv6 ?? false),
    Internal: String(n.Internal ?? false),
    Labels: Object.keys(labels)
      .sort()
      .map((k) => `${k}=${labels[k] ?? ''}`)
      .join(','),
    Label: (name: unknown): string => labels[String(name)] ?? '',
    CreatedAt: goTimeString(n.Created),
  };
}

async function run(ctx: CommandContext): Promise<void> {
  const { flags } = ctx;
  const list = await ctx.client.json<unknown>('GET', '/networks', { query: { filters: filtersParam(flags.list('filter')) } });
  const networks = (Array.isArray(list) ? list : []).filter(isNetworkSummary);
  networks.sort((a, b) => naturalCompare(a.Name, b.Name));
  const rows = networks.map((n) => networkRow(n, flags.bool('no-trunc')));
  out(ctx, renderList(rows, flags.string('format'), flags.bool('quiet'), NETWORK_FORMAT));
}

export const networkLs: CommandSpec = {
  path: ['network', 'ls'],
  aliases: [['network', 'list']],
  usage: '[OPTIONS]',
  summary: 'List networks',
  flags: [filterFlag('driver=bridge'), LIST_FORMAT_FLAG, NO_TRUNC_FLAG, quietFlag('network IDs')],
  args: { max: 0 },
  run,
};
