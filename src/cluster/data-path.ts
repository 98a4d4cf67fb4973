/**
 * A node's data path in a namespace of its own (--data-path-addr with a free address of
 * the underlay, see addresses.ts): a network namespace bound at
 * <exec-root>/data-path.netns holding one macvlan of the underlay interface,
 * `underlay`, with that address. The overlays' VXLAN links are made there, so their UDP
 * socket lives there, and then moved to the host's namespace, where the containers'
 * macvlans hang on them (overlay driver). An outer packet goes between that socket and the
 * wire through the macvlan alone, and never meets the host's netfilter: the conntrack
 * and NAT hooks every host that publishes ports has, which cost each VXLAN packet its
 * share (BENCHMARKS.md). The namespace has a guard of its own (firewall/data-path.ts).
 * It lives while the node is in the swarm, across daemon restarts, so running containers
 * keep their traffic meanwhile; deleting it takes its VXLAN links with it (the kernel
 * deletes a VXLAN link whose socket's namespace goes, wherever the link is).
 */
import { randomBytes } from 'node:crypto';
import type { Kernel } from '../kernel/port.js';
import { renderDataPathGuard } from '../network/firewall/data-path.js';
import { cidrContains, parseCidr, parseIp } from '../network/ipam/index.js';
import type { DataPath } from './addresses.js';

export type NamespacedDataPath = Extract<DataPath, { kind: 'namespace' }>;

/** The namespace's one interface (besides its loopback). */
export const DATA_PATH_LINK = 'underlay';

/** The namespace as the overlay driver and the firewall know it: its file, and which namespace is bound there now. */
export interface DataPathNamespace {
  path: string;
  /** Another when the namespace was made again (a reboot): its guard must go in again. Kept as its link's alias. */
  identity: string;
}

/**
 * Make the namespace and its macvlan, unless a restart finds them there with this address.
 * It is born closed: its guard, with no node yet, goes in before the address does; the
 * firewall writes the swarm's nodes into it when the node's networks come. The macvlan's
 * MAC comes from the address, so peers' ARP entries stay right when it is made again. The
 * host's gateway routes out of the interface come along, for peers beyond its subnet.
 */
export async function ensureDataPath(kernel: Kernel, nsPath: string, dp: NamespacedDataPath, port: number): Promise<DataPathNamespace> {
  const cidr = `${dp.addr}/${dp.prefixLength}`;
  // A file a reboot left unbound is no namespace: reading it fails.
  const link = (await kernel.readNamespace(nsPath).catch(() => undefined))?.interfaces.find((i) => i.name === DATA_PATH_LINK);
  if (link?.up === true && link.addresses.includes(cidr) && link.alias !== undefined) return { path: nsPath, identity: link.alias };
  // Half made (a join that failed), another address, or a file a reboot left unbound: made again from nothing.
  await kernel.sandboxes.delete(nsPath);
  await kernel.sandboxes.ensure(nsPath);
  // Kept in the link's alias, so a restart knows the namespace it made from one made again since.
  const identity = randomBytes(6).toString('hex');
  await kernel.nft.applyIn(nsPath, renderDataPathGuard({ vxlanPorts: [port], members: [], encryptedVnis: [] }));
  const subnet = parseCidr(cidr);
  const routes = (await kernel.gatewayRoutes(dp.parent)).filter((r) => r.via !== undefined && cidrContains(subnet, parseIp(r.via)));
  await kernel.sandboxes.apply(
    [
      { in: 'host', commands: [`link add ${DATA_PATH_LINK} link ${dp.parent} address ${dataPathMac(dp.addr)} netns ${nsPath} type macvlan mode bridge`] },
      {
        in: 'sandbox',
        // No IPv6 of its own: it carries the swarm's IPv4 VXLAN, and router adverts have nothing to give it.
        commands: [
          `link set dev ${DATA_PATH_LINK} addrgenmode none alias ${identity}`,
          `addr add ${cidr} dev ${DATA_PATH_LINK}`,
          `link set dev ${DATA_PATH_LINK} up`,
          ...routes.map((r) => `route add ${r.dst} via ${r.via!}`),
        ],
      },
    ],
    nsPath,
  );
  return { path: nsPath, identity };
}

/** A locally administered unicast MAC holding the IPv4 address's four bytes. */
export function dataPathMac(addr: string): string {
  return ['0a', 'b3', ...addr.split('.').map((b) => Number(b).toString(16).padStart(2, '0'))].join(':');
}

/** The namespace goes, and its VXLAN links with it. Idempotent. */
export async function removeDataPath(kernel: Kernel, nsPath: string): Promise<void> {
  await kernel.sandboxes.delete(nsPath);
}
