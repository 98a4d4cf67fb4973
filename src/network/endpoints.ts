/**
 * Building an endpoint record for a join: addresses from IPAM, names, MAC, gateway
 * role. Pure: the controller persists the result and runs the driver's wiring.
 */
import { randomBytes } from 'node:crypto';
import { forbidden, invalid, joinProblems } from '../errors.js';
import { allocateInNetwork, macFromIPv4, parseCidr, parseIp, poolContains, release, type PoolState } from './ipam/index.js';
import type { EndpointAddress, EndpointId, EndpointRecord, JoinRequest, NetworkRecord } from './model.js';
import type { DriverCapabilities } from './drivers/driver.js';

const MAC = /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i;

/**
 * Docker's endpoint-settings checks, before anything is allocated: at create (the
 * caller names the network), at connect (running or not) and at start.
 */
export function checkJoinRequest(net: NetworkRecord, req: JoinRequest, existing: readonly EndpointRecord[]): void {
  if (existing.some((e) => e.networkId === net.id && e.containerId === req.containerId)) {
    throw forbidden(`endpoint with name ${req.name} already exists in network ${net.name}`);
  }
  const problems: string[] = [];
  if ((req.ipv4 || req.ipv6) && net.predefined) {
    problems.push('user specified IP address is supported on user defined networks only');
  }
  if (req.aliases.length > 0 && net.predefined) {
    problems.push('network-scoped alias is supported only for containers in user defined networks');
  }
  for (const [ip, family] of [[req.ipv4, 4], [req.ipv6, 6]] as const) {
    if (!ip || net.predefined) continue;
    let parsed;
    try {
      parsed = parseIp(ip);
    } catch {
      problems.push(`invalid IPv${family} address: ${ip}`);
      continue;
    }
    if (parsed.family !== family) problems.push(`invalid IPv${family} address: ${ip}`);
    // Any subnet of the network, given or chosen: Docker 29.1's rule and words (28 took
    // only a given subnet and said "no configured subnet or ip-range contain the IP address").
    else if (!net.ipam.pools.some((p) => poolContains(p, ip))) problems.push(`no configured subnet contains IP address ${ip}`);
  }
  if (problems.length > 0) throw invalid(`invalid endpoint settings:\n${joinProblems(problems)}`);
  if (req.mac !== undefined && (!MAC.test(req.mac) || (parseInt(req.mac.slice(0, 2), 16) & 1) === 1)) {
    throw invalid(`invalid MAC address ${req.mac}: a container needs a unicast address`);
  }
}

export interface NewEndpoint {
  endpoint: EndpointRecord;
  /** The network's pools with the endpoint's addresses taken. */
  pools: PoolState[];
}

/** Allocate addresses and names for a join. `siblings` are the container's other endpoints. */
export function buildEndpoint(
  net: NetworkRecord,
  req: JoinRequest,
  siblings: readonly EndpointRecord[],
  caps: Pick<DriverCapabilities, 'endpointInterface' | 'routesOut' | 'hostSideLink'>,
): NewEndpoint {
  const wired = caps.endpointInterface;
  let pools = net.ipam.pools;
  const take = (family: 4 | 6, requested: string | undefined): EndpointAddress | undefined => {
    const got = allocateInNetwork(pools, { family, requested, networkName: net.name, networkId: net.id });
    if (!got) return undefined;
    pools = got.pools;
    const pool = got.pools[got.index]!;
    return { address: got.address, prefixLen: parseCidr(pool.subnet).prefix, gateway: pool.gateway };
  };
  const ipv4 = wired ? take(4, req.ipv4) : undefined;
  const ipv6 = wired && net.enableIPv6 ? take(6, req.ipv6) : undefined;
  const used = new Set(siblings.map((s) => s.ifName));
  let n = 0;
  while (used.has(`eth${n}`)) n++;
  const endpoint: EndpointRecord = {
    id: randomBytes(32).toString('hex') as EndpointId,
    networkId: net.id,
    containerId: req.containerId,
    name: req.name,
    ifName: wired ? `eth${n}` : undefined,
    hostIfName: wired && caps.hostSideLink ? `veth${randomBytes(4).toString('hex').slice(0, 7)}` : undefined,
    mac: wired ? (req.mac?.toLowerCase() ?? (ipv4 ? macFromIPv4(parseIp(ipv4.address)) : randomMac())) : undefined,
    ipv4,
    ipv6,
    aliases: req.aliases,
    ...(req.links !== undefined && req.links.length > 0 ? { links: req.links } : {}),
    gateway: wired && caps.routesOut && !net.internal && !siblings.some((s) => s.gateway),
    ...(req.service ? { service: req.service } : {}),
  };
  return { endpoint, pools };
}

/** The network's pools with an endpoint's addresses returned. */
export function releaseEndpoint(pools: readonly PoolState[], ep: EndpointRecord): PoolState[] {
  return pools.map((p) => {
    let next = p;
    for (const a of [ep.ipv4?.address, ep.ipv6?.address]) if (a) next = release(next, a);
    return next;
  });
}

function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfe) | 0x02; // unicast, locally administered
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}
