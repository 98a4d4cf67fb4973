/** `berth port`: the host addresses a container's ports are published on. */
import { out, type CommandContext } from '../../context.js';
import { CliError } from '../../errors.js';
import type { CommandSpec } from '../../registry.js';
import { naturalCompare } from '../common.js';
import { inspectContainer } from './attach-helpers.js';
import { joinHostPort } from './ports.js';

async function run(ctx: CommandContext): Promise<void> {
  const [container, wanted] = ctx.args as [string, string | undefined];
  const c = await inspectContainer(ctx.client, container);
  const ports = c.NetworkSettings?.Ports ?? {};
  const lines: string[] = [];
  if (wanted !== undefined) {
    const slash = wanted.indexOf('/');
    const port = slash < 0 ? wanted : wanted.slice(0, slash);
    const proto = slash < 0 || wanted.slice(slash + 1) === '' ? 'tcp' : wanted.slice(slash + 1);
    if (!/^\d+$/.test(port) || Number(port) > 65535) {
      const why = /^\d+$/.test(port) ? 'value out of range' : 'invalid syntax';
      throw new CliError(`Error: invalid port (${port}): strconv.ParseUint: parsing ${JSON.stringify(port)}: ${why}`);
    }
    const frontends = ports[`${port}/${proto}`] ?? [];
    if (frontends.length === 0) throw new CliError(`Error: No public port '${wanted}' published for ${container}`);
    for (const f of frontends) lines.push(joinHostPort(f.HostIp, f.HostPort));
  } else {
    for (const [from, frontends] of Object.entries(ports)) {
      for (const f of frontends ?? []) lines.push(`${from} -> ${joinHostPort(f.HostIp, f.HostPort)}`);
    }
  }
  if (lines.length > 0) out(ctx, `${lines.sort(naturalCompare).join('\n')}\n`);
}

export const containerPort: CommandSpec = {
  path: ['container', 'port'],
  usage: 'CONTAINER [PRIVATE_PORT[/PROTO]]',
  summary: 'List port mappings or a specific mapping for the container',
  flags: [],
  args: { min: 1, max: 2 },
  run,
};
