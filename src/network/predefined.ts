/**
 * The networks every berthd has: none, host and the default bridge ("bridge"). Made on
 * first start; at later starts the default bridge follows -b and --bip (a new bridge or
 * subnet keeps the network's ID), unless containers are still attached to it.
 */
import { invalid } from '../errors.js';
import type { Kernel } from '../kernel/port.js';
import type { Network } from './network.js';
import { BRIDGE_NAME_OPTION, DEFAULT_BRIDGE_OPTION, sameDefaultBridge, storedDefaultBridge, wantedDefaultBridge, type DefaultBridge } from './default-bridge.js';
import { createPools, parseCidr, type PredefinedPool } from './ipam/index.js';
import type { CreateNetworkRequest, NetworkId, NetworkRecord, SubnetRequest } from './model.js';
import { hostRoutes } from './subnets.js';

/** What making the predefined networks needs of the controller. */
export interface PredefinedHost {
  networks(): Network[];
  /** Make a network (predefined: no name or subnet checks). */
  add(req: CreateNetworkRequest): Promise<void>;
  endpointCount(id: NetworkId): number;
  /** The default bridge's link and --bip (none with -b none). */
  defaultBridge: { name: string; bip: string | undefined } | undefined;
  kernel: Kernel;
  addressPools: readonly PredefinedPool[];
  /** Store a network's new record in place of the old, its old kernel objects removed. */
  replace(current: Network, record: NetworkRecord): Promise<void>;
  log(msg: string): void;
}

export async function createPredefined(host: PredefinedHost): Promise<void> {
  const existing = new Set(host.networks().map((n) => n.record.name));
  const base = { internal: false, attachable: false, ingress: false, enableIPv6: false, labels: {} };
  const ipam = { ipamDriver: 'default', ipamOptions: {} };
  if (!existing.has('none')) {
    await host.add({ ...base, ...ipam, name: 'none', driver: 'null', subnets: [], options: {} });
  }
  if (!existing.has('host')) {
    await host.add({ ...base, ...ipam, name: 'host', driver: 'host', subnets: [], options: {} });
  }
  if (!host.defaultBridge) return;
  const bridge = host.defaultBridge.name;
  const current = host.networks().find((n) => n.record.name === 'bridge');
  const stored = current && storedDefaultBridge(current.record, bridge);
  const others = host.networks().filter((n) => n !== current);
  const wanted = wantedDefaultBridge({
    bridge,
    bip: host.defaultBridge.bip,
    current: stored,
    blockers: [...others.flatMap((n) => n.record.ipam.pools.map((p) => parseCidr(p.subnet))), ...(await hostRoutes(host.kernel, [4], others, bridge))],
    pools: host.addressPools,
  });
  const subnets = [{ subnet: wanted.subnet, ...(wanted.gateway && { gateway: wanted.gateway }), auxAddresses: {} }];
  const options = { [DEFAULT_BRIDGE_OPTION]: 'true', [BRIDGE_NAME_OPTION]: wanted.bridge };
  if (!current) {
    await host.add({ ...base, ...ipam, name: 'bridge', driver: 'bridge', subnets, options });
  } else if (!sameDefaultBridge(stored, wanted)) {
    await remakeDefaultBridge(host, current, { stored, wanted, subnet: subnets[0]!, options });
  }
}

/**
 * The default network takes this start's bridge and subnet and keeps its ID.
 * Containers outlive berthd: while one is attached, it stays as it is (and says so).
 */
async function remakeDefaultBridge(
host: PredefinedHost,
  current: Network,
  to: { stored: DefaultBridge | undefined; wanted: DefaultBridge; subnet: SubnetRequest & { subnet: string }; options: Record<string, string> },
): Promise<void> {
  const from = to.stored ? `${to.stored.bridge} ${to.stored.subnet}` : 'its bridge';
  const change = `${from} to ${to.wanted.bridge} ${to.wanted.subnet}`;
  const attached = host.endpointCount(current.record.id);
  if (attached > 0) {
    host.log(`the default bridge network stays on ${from}, not ${to.wanted.bridge} ${to.wanted.subnet}: ${attached} container(s) still attached`);
    return;
  }
  const pools = current.record.ipam.pools.filter((p) => parseCidr(p.subnet).family !== 4);
  const record: NetworkRecord = { ...current.record, options: to.options, ipam: { ...current.record.ipam, pools: [...createPools([to.subnet]), ...pools] } };
  await host.replace(current, record);
  host.log(`the default bridge network moved from ${change}`);
}

/** The default network's bridge: berth0, or -b's (which must exist); its address is the subnet unless --bip says. */
export interface DefaultBridgeLink {
  name: string;
  external: boolean;
  bip: string | undefined;
}

export async function defaultBridgeLink(kernel: Kernel, b: string | undefined, bip: string | undefined): Promise<DefaultBridgeLink | undefined> {
  if (b === 'none') return undefined;
  if (b === undefined) return { name: 'berth0', external: false, bip };
  const link = await kernel.links.get(b);
  if (!link || link.kind !== 'bridge') throw invalid(`bridge device with non default name ${b} must be created manually`);
  return { name: b, external: true, bip: bip ?? link.addresses.find((a) => !a.includes(':')) };
}
