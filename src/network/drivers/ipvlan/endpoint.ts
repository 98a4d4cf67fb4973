/**
 * How an ipvlan endpoint is wired, as iproute2 commands (pure, golden-tested): as for
 * macvlan, the link is made beside its parent and born inside the sandbox. It has no
 * MAC of its own (every ipvlan link shows its parent's). In l2 mode the default route
 * goes via the gateway; in l3/l3s the parent routes, so the default route is simply
 * the link (`default dev eth0`) and containers on different subnets of one network
 * reach each other.
 */
import type { EndpointRecord } from '../../model.js';
import type { WiringPlan } from '../driver.js';
import { sandboxCommands, type DefaultRoute } from '../sublink/sandbox.js';
import type { IpvlanConfig } from './config.js';

export function planIpvlanJoin(c: IpvlanConfig, ep: EndpointRecord, sandbox: string): WiringPlan {
  const route = ipvlanRoute(c);
  return {
    steps: [
      { in: 'sandbox', commands: [] },
      { in: 'host', commands: [`link add ${ep.ifName!} link ${c.parent.name} netns ${sandbox} type ipvlan mode ${c.mode} ${c.flag}`] },
      { in: 'sandbox', commands: sandboxCommands(ep, route) },
    ],
  };
}

export function ipvlanRoute(c: IpvlanConfig): DefaultRoute {
  return c.internal ? 'none' : c.mode === 'l2' ? 'via-gateway' : 'on-link';
}
