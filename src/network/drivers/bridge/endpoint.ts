/**
 * How a bridge endpoint is wired, as iproute2 commands (pure, golden-tested):
 * the veth pair is made inside the sandbox, its host end sent to the daemon's
 * namespace by pid, then enslaved to the bridge. One spawn per namespace.
 */
import type { EndpointRecord } from '../../model.js';
import type { WiringPlan } from '../driver.js';
import type { BridgeConfig } from './config.js';

export function planBridgeJoin(c: BridgeConfig, ep: EndpointRecord, daemonPid: number): WiringPlan {
  const ifName = ep.ifName!;
  const hostIf = ep.hostIfName!;
  const inSandbox = [
    `link add ${ifName} mtu ${c.mtu}${ep.mac ? ` address ${ep.mac}` : ''} type veth peer name ${hostIf} mtu ${c.mtu} netns ${daemonPid}`,
  ];
  if (ep.ipv4) inSandbox.push(`addr add ${ep.ipv4.address}/${ep.ipv4.prefixLen} dev ${ifName}`);
  if (ep.ipv6) inSandbox.push(`addr add ${ep.ipv6.address}/${ep.ipv6.prefixLen} dev ${ifName} nodad`);
  inSandbox.push(`link set ${ifName} up`);
  if (ep.gateway) inSandbox.push(...bridgeDefaultRoute(ep));
  return {
    steps: [
      { in: 'sandbox', commands: inSandbox },
      // Hairpin: with br_netfilter a container reaching its own published port is bridged back out of its own port.
      { in: 'host', commands: [`link set dev ${hostIf} master ${c.bridgeName} alias berth up`, `link set dev ${hostIf} type bridge_slave hairpin on`] },
    ],
  };
}

/** The sandbox's default routes through this endpoint's gateways. */
export function bridgeDefaultRoute(ep: EndpointRecord): string[] {
  const routes: string[] = [];
  if (ep.ipv4) routes.push(`route replace default via ${ep.ipv4.gateway} dev ${ep.ifName!}`);
  if (ep.ipv6) routes.push(`route replace default via ${ep.ipv6.gateway} dev ${ep.ifName!}`);
  return routes;
}

export function planBridgeLeave(ep: EndpointRecord): WiringPlan {
  // Deleting the host end deletes the pair; the sandbox may already be gone.
  return { steps: [{ in: 'host', commands: [`link del dev ${ep.hostIfName!}`] }] };
}
