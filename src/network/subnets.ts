/**
 * Which subnets a new network takes: the ones it asks for, checked against every other
 * network's (Docker's overlap refusal), or free ones from the default pools that no
 * network and no route of the host covers.
 */
import { forbidden, invalid, messageOf, notFound } from '../errors.js';
import type { Kernel } from '../kernel/port.js';
import {
  allocateSubnet,
  checkNoOverlap,
  checkPoolConfigs,
  cidrsOverlap,
  createPools,
  DEFAULT_ADDRESS_POOLS_V6,
  formatNetwork,
  parseCidr,
  type Cidr,
  type PoolState,
  type PredefinedPool,
} from './ipam/index.js';
import type { CreateNetworkRequest, NetworkRecord, SubnetRequest } from './model.js';

/** What this needs of an existing network: its subnets, and the links its routes go through. */
export interface Network {
  readonly record: Pick<NetworkRecord, 'name' | 'ipam'>;
  readonly driver: { readonly kernelNames: readonly string[] };
}

/** IPAM pools for a new network: the requested subnets, or ones from the default pools. */
export async function poolsFor(kernel: Kernel, req: CreateNetworkRequest, networks: readonly Network[], addressPools: readonly PredefinedPool[]): Promise<PoolState[]> {
  if (req.ipamDriver !== 'default') throw notFound(`plugin "${req.ipamDriver}" not found`);
  const taken = networks.flatMap((n) => n.record.ipam.pools.map((p) => parseCidr(p.subnet)));
  const requested = req.subnets.filter((s) => s.subnet !== undefined);
  // Docker's wording for a malformed subnet, gateway or range comes before any other check.
  checkPoolConfigs(requested.map((s) => ({ ...s, subnet: s.subnet! })), req.enableIPv6);
  const wanted: SubnetRequest[] = [];
  for (const s of req.subnets) {
    if (s.subnet === undefined) {
      if (s.ipRange !== undefined || s.gateway !== undefined) {
        throw invalid('invalid IPAM config: an --ip-range or --gateway needs a --subnet');
      }
      continue;
    }
    const cidr = parseCidr(s.subnet);
    checkSubnetFree(cidr, taken, networks);
    taken.push(cidr);
    wanted.push(s);
  }
  const hasV4 = requested.some((s) => parseCidr(s.subnet!).family === 4);
  const hasV6 = requested.some((s) => parseCidr(s.subnet!).family === 6);
  if (!hasV4 || (req.enableIPv6 && !hasV6)) {
    const routes = await hostRoutes(kernel, [...(hasV4 ? [] : [4 as const]), ...(req.enableIPv6 && !hasV6 ? [6 as const] : [])], networks);
    const blockers = [...taken, ...routes];
    if (!hasV4) wanted.unshift({ subnet: formatNetwork(allocateSubnet(addressPools, blockers, 4)), auxAddresses: {} });
    if (req.enableIPv6 && !hasV6) {
      wanted.push({ subnet: formatNetwork(allocateSubnet(DEFAULT_ADDRESS_POOLS_V6, blockers, 6)), auxAddresses: {} });
    }
  }
  const family = (s: SubnetRequest): number => parseCidr(s.subnet!).family;
  wanted.sort((a, b) => family(a) - family(b)); // IPv4 first, as Docker lists them
  return createPools(wanted.map((s) => ({ ...s, subnet: s.subnet! })));
}

/** Docker's overlap refusal, plus which network holds the subnet (for macvlan users on one LAN, say). */
function checkSubnetFree(cidr: Cidr, taken: readonly Cidr[], networks: readonly Network[]): void {
  try {
    checkNoOverlap(cidr, taken);
  } catch (e: unknown) {
    for (const n of networks) {
      const pool = n.record.ipam.pools.find((p) => cidrsOverlap(parseCidr(p.subnet), cidr));
      if (pool) throw forbidden(`${messageOf(e)}: ${formatNetwork(cidr)} overlaps ${pool.subnet} of network ${n.record.name}`);
    }
    throw e;
  }
}

/** The host's routes, except those through the links of `networks` (counted by their subnets) and `also`. */
export async function hostRoutes(kernel: Kernel, families: readonly (4 | 6)[], networks: readonly Network[], also?: string): Promise<Cidr[]> {
  const ours = new Set([...networks.flatMap((n) => n.driver.kernelNames), ...(also === undefined ? [] : [also])]);
  return (await kernel.routes(families)).filter((r) => !r.dev || !ours.has(r.dev)).map((r) => parseCidr(r.dst));
}
