/** `berth network connect` and `disconnect`: attach a container to a network or detach it. */
import type { CommandContext } from '../../context.js';
import { kvMap, validateLink } from '../../opts.js';
import type { CommandSpec } from '../../registry.js';
import { networkPath } from './wire.js';

async function connect(ctx: CommandContext): Promise<void> {
  const { flags } = ctx;
  const [network, container] = ctx.args as [string, string];
  const ipam = {
    ...(flags.string('ip') === '' ? {} : { IPv4Address: flags.string('ip') }),
    ...(flags.string('ip6') === '' ? {} : { IPv6Address: flags.string('ip6') }),
    ...(flags.list('link-local-ip').length === 0 ? {} : { LinkLocalIPs: flags.list('link-local-ip') }),
  };
  const endpoint = {
    ...(Object.keys(ipam).length === 0 ? {} : { IPAMConfig: ipam }),
    ...(flags.list('link').length === 0 ? {} : { Links: flags.list('link') }),
    ...(flags.list('alias').length === 0 ? {} : { Aliases: flags.list('alias') }),
    ...(flags.list('driver-opt').length === 0 ? {} : { DriverOpts: kvMap(flags.list('driver-opt')) }),
  };
  await ctx.client.send('POST', networkPath(network, '/connect'), { body: { Container: container, EndpointConfig: endpoint } });
}

async function disconnect(ctx: CommandContext): Promise<void> {
  const [network, container] = ctx.args as [string, string];
  const body = { Container: container, Force: ctx.flags.bool('force') };
  await ctx.client.send('POST', networkPath(network, '/disconnect'), { body });
}

export const networkConnect: CommandSpec = {
  path: ['network', 'connect'],
  usage: '[OPTIONS] NETWORK CONTAINER',
  summary: 'Connect a container to a network',
  flags: [
    { name: 'alias', type: 'list', split: true, help: 'Add network-scoped alias for the container' },
    { name: 'driver-opt', type: 'list', split: true, help: 'driver options for the network' },
    { name: 'ip', type: 'string', help: 'IPv4 address (e.g., "172.30.100.104")' },
    { name: 'ip6', type: 'string', help: 'IPv6 address (e.g., "2001:db8::33")' },
    { name: 'link', type: 'list', help: 'Add link to another container', validate: validateLink },
    { name: 'link-local-ip', type: 'list', split: true, help: 'Add a link-local address for the container' },
  ],
  args: { min: 2, max: 2 },
  run: connect,
};

export const networkDisconnect: CommandSpec = {
  path: ['network', 'disconnect'],
  usage: '[OPTIONS] NETWORK CONTAINER',
  summary: 'Disconnect a container from a network',
  flags: [{ name: 'force', short: 'f', type: 'bool', help: 'Force the container to disconnect from a network' }],
  args: { min: 2, max: 2 },
  run: disconnect,
};
