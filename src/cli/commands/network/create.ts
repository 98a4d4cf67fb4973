/** `berth network create`: builds the API's NetworkCreateRequest from docker's flags. */
import { err, out, type CommandContext } from '../../context.js';
import { kvMap, validateLabel } from '../../opts.js';
import type { CommandSpec } from '../../registry.js';
import { ipamConfigs } from './ipam.js';

async function run(ctx: CommandContext): Promise<void> {
  const { flags } = ctx;
  const aux = flags.list('aux-address').map((p): [string, string] => {
    const eq = p.indexOf('=');
    return eq < 0 ? [p, ''] : [p.slice(0, eq), p.slice(eq + 1)];
  });
  const config = ipamConfigs({
    subnets: flags.list('subnet'),
    ipRanges: flags.list('ip-range'),
    gateways: flags.list('gateway'),
    auxAddresses: aux,
  });
  const configFrom = flags.string('config-from');
  const body = {
    Name: ctx.args[0],
    Driver: flags.string('driver'),
    Scope: flags.string('scope'),
    EnableIPv6: flags.bool('ipv6'),
    IPAM: { Driver: flags.string('ipam-driver'), Config: config, Options: kvMap(flags.list('ipam-opt')) },
    Internal: flags.bool('internal'),
    Attachable: flags.bool('attachable'),
    Ingress: flags.bool('ingress'),
    ConfigOnly: flags.bool('config-only'),
    ...(configFrom === '' ? {} : { ConfigFrom: { Network: configFrom } }),
    Options: kvMap(flags.list('opt')),
    Labels: kvMap(flags.list('label')),
  };
  const res = await ctx.client.json<{ Id?: unknown; Warning?: unknown }>('POST', '/networks/create', { body });
  if (typeof res?.Warning === 'string' && res.Warning !== '') err(ctx, `${res.Warning}\n`);
  out(ctx, `${typeof res?.Id === 'string' ? res.Id : ''}\n`);
}

export const networkCreate: CommandSpec = {
  path: ['network', 'create'],
  usage: '[OPTIONS] NETWORK',
  summary: 'Create a network',
  flags: [
    { name: 'attachable', type: 'bool', help: 'Enable manual container attachment' },
    { name: 'aux-address', type: 'list', valueName: 'map', help: 'Auxiliary IPv4 or IPv6 addresses used by Network driver' },
    { name: 'config-from', type: 'string', help: 'The network from which to copy the configuration' },
    { name: 'config-only', type: 'bool', help: 'Create a configuration only network' },
    { name: 'driver', short: 'd', type: 'string', default: 'bridge', help: 'Driver to manage the Network' },
    { name: 'gateway', type: 'list', split: true, help: 'IPv4 or IPv6 Gateway for the master subnet' },
    { name: 'ingress', type: 'bool', help: 'Create swarm routing-mesh network' },
    { name: 'internal', type: 'bool', help: 'Restrict external access to the network' },
    { name: 'ip-range', type: 'list', split: true, help: 'Allocate container ip from a sub-range' },
    { name: 'ipam-driver', type: 'string', default: 'default', help: 'IP Address Management Driver' },
    { name: 'ipam-opt', type: 'list', valueName: 'map', help: 'Set IPAM driver specific options' },
    { name: 'ipv6', type: 'bool', help: 'Enable or disable IPv6 networking' },
    { name: 'label', type: 'list', help: 'Set metadata on a network', validate: validateLabel },
    { name: 'opt', short: 'o', type: 'list', valueName: 'map', help: 'Set driver specific options' },
    { name: 'scope', type: 'string', help: "Control the network's scope" },
    { name: 'subnet', type: 'list', split: true, help: 'Subnet in CIDR format that represents a network segment' },
  ],
  args: { min: 1, max: 1 },
  run,
};
