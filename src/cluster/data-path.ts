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
import type { Kernel } from '../kernel/port.js';
import { renderDataPathGuard } from '../network/firewall/data-path.js';
import type { DataPath } from './addresses.js';

export type NamespacedDataPath = Extract<DataPath, { kind: 'namespace' }>;

/** The namespace's one interface (besides its loopback). */
export const DATA_PATH_LINK = 'underlay';

/**
 * Make the namespace and its macvlan, unless they are there already (a restart). It is
 * born closed: its guard, with no node yet, goes in before the address does; the
 * firewall writes the swarm's nodes into it when the node's networks come.
 */
export async function ensureDataPath(kernel: Kernel, nsPath: string, dp: NamespacedDataPath, port: number): Promise<void> {
  await kernel.sandboxes.ensure(nsPath);
  const view = await kernel.readNamespace(nsPath);
  if (view.interfaces.some((i) => i.name === DATA_PATH_LINK)) return;
  await kernel.nft.applyIn(nsPath, renderDataPathGuard({ vxlanPorts: [port], members: [], encryptedVnis: [] }));
  await kernel.sandboxes.apply(
    [
      { in: 'host', commands: [`link add ${DATA_PATH_LINK} link ${dp.parent} netns ${nsPath} type macvlan mode bridge`] },
      { in: 'sandbox', commands: [`addr add ${dp.addr}/${dp.prefixLength} dev ${DATA_PATH_LINK}`, `link set dev ${DATA_PATH_LINK} up`] },
    ],
    nsPath,
  );
}

/** The namespace goes, and its VXLAN links with it. Idempotent. */
export async function removeDataPath(kernel: Kernel, nsPath: string): Promise<void> {
  await kernel.sandboxes.delete(nsPath);
}
