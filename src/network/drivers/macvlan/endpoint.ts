/**
 * How a macvlan endpoint is wired, as iproute2 commands (pure, golden-tested). The
 * link is made in the daemon's namespace, where its parent is, and born inside the
 * sandbox under its final name (`netns PATH`), so the sandbox must exist first: an
 * empty sandbox step creates it when the container has none yet. Then addresses, up,
 * default route inside the sandbox. Two spawns, three for a container's first network.
 */
import type { EndpointRecord } from '../../model.js';
import type { WiringPlan } from '../driver.js';
import type { MacvlanConfig } from './config.js';

/** Which default route an endpoint with the gateway role gets. */
export type DefaultRoute = 'via-gateway' | 'on-link' | 'none';

/** Addresses, link up and default routes of a sublink inside its sandbox (shared with ipvlan). */
export function sandboxCommands(ep: EndpointRecord, route: DefaultRoute): string[] {
  const ifName = ep.ifName!;
  const cmds: string[] = [];
  if (ep.ipv4) cmds.push(`addr add ${ep.ipv4.address}/${ep.ipv4.prefixLen} dev ${ifName}`);
  if (ep.ipv6) cmds.push(`addr add ${ep.ipv6.address}/${ep.ipv6.prefixLen} dev ${ifName} nodad`);
  cmds.push(`link set ${ifName} up`);
  if (!ep.gateway || route === 'none') return cmds;
  if (route === 'via-gateway') {
    if (ep.ipv4) cmds.push(`route replace default via ${ep.ipv4.gateway} dev ${ifName}`);
    if (ep.ipv6) cmds.push(`route replace default via ${ep.ipv6.gateway} dev ${ifName}`);
  } else {
    if (ep.ipv4) cmds.push(`route replace default dev ${ifName}`);
    if (ep.ipv6) cmds.push(`route replace ::/0 dev ${ifName}`);
  }
  return cmds;
}

export function planMacvlanJoin(c: MacvlanConfig, ep: EndpointRecord, sandbox: string): WiringPlan {
  // passthru hands the parent itself to the container: its MAC is the parent's, and setting one would change the parent's.
  const mac = ep.mac && c.mode !== 'passthru' ? ` address ${ep.mac}` : '';
  return {
    steps: [
      { in: 'sandbox', commands: [] },
      { in: 'host', commands: [`link add ${ep.ifName!} link ${c.parent.name}${mac} netns ${sandbox} type macvlan mode ${c.mode}`] },
      { in: 'sandbox', commands: sandboxCommands(ep, c.parent.own ? 'none' : 'via-gateway') },
    ],
  };
}

/** The link lives only in the sandbox: deleting it there is all; a sandbox already gone took it along. */
export function planSublinkLeave(ep: EndpointRecord): WiringPlan {
  return { steps: [{ in: 'sandbox', commands: [`link del dev ${ep.ifName!}`] }] };
}
