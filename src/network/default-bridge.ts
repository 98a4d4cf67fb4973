/**
 * The default bridge network as this start's flags ask for it. dockerd derives docker0's
 * at each of its starts; berthd does the same but keeps the network's ID:
 * - the kernel bridge: the -b bridge, else berth0;
 * - the subnet: --bip (with -b, the bridge's own IPv4 address) wins; else the subnet the
 *   network has, while no other network or host route claims it (dockerd reuses
 *   docker0's address); else the first free default pool.
 * Pure: the controller reads the routes and applies the result.
 */
import { allocateSubnet, cidrsOverlap, formatIp, formatNetwork, parseCidr, type Cidr, type PredefinedPool } from './ipam/index.js';
import type { NetworkRecord } from './model.js';

/** Options of the default network (the bridge driver's names). */
export const DEFAULT_BRIDGE_OPTION = 'com.docker.network.bridge.default_bridge';
export const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';

export interface DefaultBridge {
  /** The kernel bridge. */
  bridge: string;
  /** IPv4 subnet and gateway. */
  subnet: string;
  gateway: string | undefined;
}

export function wantedDefaultBridge(input: {
  bridge: string;
  bip: string | undefined;
  current: DefaultBridge | undefined;
  /** Other networks' subnets and the host's routes that are not on `bridge`. */
  blockers: readonly Cidr[];
  pools: readonly PredefinedPool[];
}): DefaultBridge {
  if (input.bip) {
    const bip = parseCidr(input.bip);
    return { bridge: input.bridge, subnet: formatNetwork(bip), gateway: formatIp(bip.address) };
  }
  const kept = input.current;
  if (kept && !input.blockers.some((b) => cidrsOverlap(b, parseCidr(kept.subnet)))) {
    return { bridge: input.bridge, subnet: kept.subnet, gateway: kept.gateway };
  }
  return { bridge: input.bridge, subnet: formatNetwork(allocateSubnet(input.pools, input.blockers, 4)), gateway: undefined };
}

/** What a stored default network has; a record from before the name was stored is taken as on `bridge`. */
export function storedDefaultBridge(record: NetworkRecord, bridge: string): DefaultBridge | undefined {
  const v4 = record.ipam.pools.find((p) => parseCidr(p.subnet).family === 4);
  return v4 && { bridge: record.options[BRIDGE_NAME_OPTION] ?? bridge, subnet: v4.subnet, gateway: v4.gateway };
}

/** Whether the stored network already is what is wanted (a wanted gateway of undefined: any). */
export function sameDefaultBridge(stored: DefaultBridge | undefined, wanted: DefaultBridge): boolean {
  return (
    stored !== undefined &&
    stored.bridge === wanted.bridge &&
    stored.subnet === wanted.subnet &&
    (wanted.gateway === undefined || stored.gateway === wanted.gateway)
  );
}
