/**
 * A sub-link inside its sandbox (pure, golden-tested): addresses, up, and the default
 * route its network allows. Shared by macvlan and ipvlan, whose links are born in the
 * sandbox under their final name.
 */
import type { EndpointRecord } from '../../model.js';
import type { WiringPlan } from '../driver.js';

/** Which default route an endpoint with the gateway role gets. */
export type DefaultRoute = 'via-gateway' | 'on-link' | 'none';

export function sandboxCommands(ep: EndpointRecord, route: DefaultRoute): string[] {
  const ifName = ep.ifName!;
  const cmds: string[] = [];
  if (ep.ipv4) cmds.push(`addr add ${ep.ipv4.address}/${ep.ipv4.prefixLen} dev ${ifName}`);
  if (ep.ipv6) cmds.push(`addr add ${ep.ipv6.address}/${ep.ipv6.prefixLen} dev ${ifName} nodad`);
  cmds.push(`link set ${ifName} up`);
  return ep.gateway ? [...cmds, ...defaultRouteCommands(ep, route)] : cmds;
}

/** The sandbox's default routes through this endpoint. */
export function defaultRouteCommands(ep: EndpointRecord, route: DefaultRoute): string[] {
  const ifName = ep.ifName!;
  const cmds: string[] = [];
  if (route === 'via-gateway') {
    if (ep.ipv4) cmds.push(`route replace default via ${ep.ipv4.gateway} dev ${ifName}`);
    if (ep.ipv6) cmds.push(`route replace default via ${ep.ipv6.gateway} dev ${ifName}`);
  } else if (route === 'on-link') {
    if (ep.ipv4) cmds.push(`route replace default dev ${ifName}`);
    if (ep.ipv6) cmds.push(`route replace ::/0 dev ${ifName}`);
  }
  return cmds;
}

/** The link lives only in the sandbox: deleting it there is all; a sandbox already gone took it along. */
export function planSublinkLeave(ep: EndpointRecord): WiringPlan {
  return { steps: [{ in: 'sandbox', commands: [`link del dev ${ep.ifName!}`] }] };
}
