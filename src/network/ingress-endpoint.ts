/**
 * The node's own endpoint on the swarm's ingress network (Docker's "ingress-endpoint"):
 * the routing mesh's way to the tasks. Here it is the ingress network's host link in the
 * node's namespace, kept while some service publishes an ingress port (pinned, with or without a
 * task on the network), holding an address taken cluster-wide, its MAC made from that
 * address, and told to the other nodes like any endpoint (bound to this node's lease), so
 * their VXLAN links answer and forward for it. A swarm with no published port costs no
 * node an ingress instance.
 */
import { systemError } from '../errors.js';
import type { Kernel } from '../kernel/port.js';
import { macFromIPv4, parseIp } from './ipam/index.js';
import type { EndpointAddress, EndpointId, EndpointRecord } from './model.js';
import type { Network } from './network.js';
import type { SwarmScope } from './swarm-scope.js';

/** The sandbox name Docker shows for it in network inspect. */
export const INGRESS_SANDBOX = 'ingress-sbox';

/** What the routing mesh needs of the node's ingress endpoint. */
export interface IngressPlace {
  networkId: string;
  /** The ingress network's host link on this node (its macvlan of the VXLAN link): traffic to other nodes' tasks leaves by it. */
  link: string;
  /** The node's address on the ingress network. */
  address: string;
}

/**
 * Make (or make again, after a restart or a reconnect) the node's ingress endpoint, at
 * `previous` when it is still free (a reconnect gives back claims no container holds);
 * undefined when the swarm has no ingress network.
 */
export async function holdIngressEndpoint(scope: SwarmScope, kernel: Pick<Kernel, 'links'>, previous?: string): Promise<IngressPlace | undefined> {
  const net = scope.all().find((n) => n.record.ingress);
  if (!net) return undefined;
  await scope.pin(net);
  const link = hostLinkOf(net);
  const claim = async (asked: string | undefined) => scope.shared.claimAddress(net.record, asked, INGRESS_SANDBOX);
  const claimed = previous === undefined ? await claim(undefined) : await claim(previous).catch(async () => claim(undefined));
  const mac = macFromIPv4(parseIp(claimed.address));
  await kernel.links.batch([`addr flush dev ${link}`, `link set dev ${link} address ${mac}`, `addr add ${claimed.address}/${claimed.prefixLen} dev ${link}`]);
  await scope.shared.publish(endpointRecord(scope, net, link, claimed, mac));
  return { networkId: net.record.id, link, address: claimed.address };
}

/** No service publishes an ingress port any more: the node's ingress endpoint goes (withdrawn, its address given back, the instance with it unless a task is on the network). Idempotent. */
export async function dropIngressEndpoint(scope: SwarmScope, kernel: Pick<Kernel, 'links'>, place: IngressPlace): Promise<void> {
  const net = scope.get(place.networkId);
  if (!net) return;
  const address = { address: place.address, prefixLen: 32, gateway: '' };
  await scope.shared.withdraw(endpointRecord(scope, net, place.link, address, macFromIPv4(parseIp(place.address))));
  await scope.shared.releaseAddress(net.record, place.address);
  await kernel.links.batch([`addr flush dev ${place.link}`]).catch(() => undefined);
  await scope.unpin(net);
}

function endpointRecord(scope: SwarmScope, net: Network, link: string, ipv4: EndpointAddress, mac: string): EndpointRecord {
  return {
    id: `ingress-${scope.shared.local.addr}` as EndpointId,
    networkId: net.record.id,
    containerId: INGRESS_SANDBOX,
    name: 'ingress-endpoint',
    ifName: link,
    hostIfName: undefined,
    mac,
    ipv4,
    ipv6: undefined,
    aliases: [],
    gateway: false,
  };
}

/** The overlay driver names its host link first among its links. */
function hostLinkOf(net: Network): string {
  const link = net.driver.kernelNames[0];
  if (!link) throw systemError(`network ${net.record.name} has no host link on this node`);
  return link;
}
