/**
 * A container's side of networking: which namespace it runs in for each network
 * mode, joining its networks at start and leaving them at stop.
 */
import { conflict, notFound, systemError, wrapError } from '../../errors.js';
import { GWBRIDGE, type NetworkController } from '../../network/controller.js';
import { TASK_LABELS } from '../../cluster/services/model.js';
import type { EndpointLink, EndpointRecord, EndpointService, JoinRequest } from '../../network/model.js';
import type { NetworkAttachment } from '../../runtime/index.js';
import type { ContainerRecord, EndpointConfig } from './model.js';

export interface Attached {
  attachment: NetworkAttachment;
  endpoints: EndpointRecord[];
}

/** dockerd's prefix for what failed while a start set the container's networks up (joins, published ports). */
export const SETUP_NETWORKING = 'failed to set up container networking';

/**
 * Join the container's networks (creating its namespace). On failure everything
 * joined so far is undone. `lookup` finds another container for container:<x> mode.
 */
export async function joinNetworks(
  networks: NetworkController,
  c: ContainerRecord,
  lookup: (idOrName: string) => ContainerRecord,
): Promise<Attached> {
  const mode = c.spec.networkMode;
  if (mode.kind === 'container') {
    const target = lookup(mode.target);
    if (target.state.status !== 'running') {
      throw conflict(`cannot join network namespace of a non running container: container ${target.spec.name} is ${target.state.status}`);
    }
    if (target.spec.networkMode.kind === 'host') return { attachment: { kind: 'host' }, endpoints: [] };
    if (target.spec.networkMode.kind === 'container') {
      return joinNetworks(networks, { ...c, spec: { ...c.spec, networkMode: target.spec.networkMode } }, lookup);
    }
    return { attachment: { kind: 'netns', path: networks.sandboxPath(target.id) }, endpoints: [] };
  }
  const endpoints: EndpointRecord[] = [];
  try {
    for (const [net, cfg] of Object.entries(c.spec.networks)) {
      if (tryFind(networks, net) === undefined) throw notFound(`network ${net} not found`);
      // By the name as given: a refusal names the network as the user wrote it (Docker's words).
      endpoints.push(await networks.join(net, joinRequest(c.id, c.spec.name, cfg, c.spec.labels)));
    }
    const gw = await joinGatewayBridge(networks, c, endpoints);
    if (gw) endpoints.push(gw);
  } catch (e: unknown) {
    await networks.removeSandbox(c.id);
    throw wrapError(e, SETUP_NETWORKING);
  }
  if (mode.kind === 'host') return { attachment: { kind: 'host' }, endpoints };
  return { attachment: { kind: 'netns', path: networks.sandboxPath(c.id) }, endpoints };
}

/**
 * A container on a network that routes out through docker_gwbridge (an overlay, not
 * --internal) and on no network that gives it a default route also joins
 * docker_gwbridge, as in Docker: its eth1 there carries the default route and the
 * masqueraded traffic to the outside.
 */
export async function joinGatewayBridge(networks: NetworkController, c: ContainerRecord, endpoints: readonly EndpointRecord[]): Promise<EndpointRecord | undefined> {
  if (!needsGatewayBridge(networks, endpoints)) return undefined;
  return networks.join(GWBRIDGE, joinRequest(c.id, c.spec.name, { aliases: [], links: [] }));
}

/** After a disconnect: the docker_gwbridge endpoint leaves a container that no longer needs it, as Docker's sandbox drops it; returns it. */
export async function leaveGatewayBridge(networks: NetworkController, c: ContainerRecord): Promise<EndpointRecord | undefined> {
  const gw = networks.endpointsOf(c.id).find((e) => networks.find(e.networkId).record.name === GWBRIDGE);
  if (!gw || needsGatewayBridge(networks, networks.endpointsOf(c.id).filter((e) => e !== gw))) return undefined;
  await networks.leave(gw.id);
  return gw;
}

/** Docker's needDefaultGW: some endpoint on a non-internal network that cannot route out, and none that gives a default route. */
function needsGatewayBridge(networks: NetworkController, endpoints: readonly EndpointRecord[]): boolean {
  const needs = endpoints.some((e) => {
    const net = networks.find(e.networkId);
    return net.capabilities.gatewayBridge && !net.record.internal;
  });
  return needs && !endpoints.some((e) => e.gateway);
}

/**
 * The container whose namespace a container:<x> container shares, following a chain
 * (x itself in container mode); any other container is its own. Docker gives the
 * joined container the owner's /etc files and hostname. Throws when one is gone.
 */
export function namespaceOwner(c: ContainerRecord, lookup: (idOrName: string) => ContainerRecord): ContainerRecord {
  const seen = new Set<string>();
  let owner = c;
  while (owner.spec.networkMode.kind === 'container' && !seen.has(owner.id)) {
    seen.add(owner.id);
    owner = lookup(owner.spec.networkMode.target);
  }
  return owner;
}

/**
 * Legacy --link targets of a container on the default bridge, checked at start before
 * anything is joined, as Docker (28 on) does in setupLinkedContainers: each must be
 * running and on the default bridge. A container elsewhere ignores its links.
 */
export function checkLegacyLinks(c: ContainerRecord, lookup: (idOrName: string) => ContainerRecord, onDefaultBridge: (c: ContainerRecord) => boolean): void {
  if (c.spec.links.length === 0 || !onDefaultBridge(c)) return;
  for (const link of c.spec.links) {
    const [name = '', alias = name] = link.split(':');
    const child = lookup(name);
    if (child.state.status !== 'running') throw systemError(`Cannot link to a non running container: /${child.spec.name} AS /${c.spec.name}/${alias}`);
    if (!onDefaultBridge(child)) throw systemError(`container ${child.id} not attached to default bridge network`);
  }
}

/**
 * What the network controller is asked for one of the container's networks; a swarm task's
 * `labels` name its service. Only the agent's task containers (EndpointConfig.task, which
 * no API request can set) are taken at their labels' word: any container may carry
 * Docker's task labels, and one that did would otherwise join a service's backends.
 */
export function joinRequest(containerId: string, name: string, cfg: EndpointConfig, labels: Record<string, string> = {}): JoinRequest {
  const links = cfg.links.map(parseLink);
  const service = cfg.task ? serviceOf(labels) : undefined;
  return { containerId, name, aliases: cfg.aliases, ...(links.length > 0 ? { links } : {}), ...opt('ipv4', cfg.ipv4), ...opt('ipv6', cfg.ipv6), ...opt('mac', cfg.mac), ...(service ? { service } : {}), ...(cfg.task ? { task: true } : {}) };
}

/** The service of a swarm task's container, from Docker's task labels (none for other containers). */
export function serviceOf(labels: Record<string, string>): EndpointService | undefined {
  const id = labels[TASK_LABELS.serviceId];
  const name = labels[TASK_LABELS.serviceName];
  const taskId = labels[TASK_LABELS.taskId];
  return id && name ? { id, name, ...(taskId ? { taskId } : {}) } : undefined;
}

/**
 * A --link as Docker's ParseLink reads it: "name", "name:alias", or the "/name:/parent/alias"
 * form Docker itself writes in HostConfig.Links.
 */
export function parseLink(link: string): EndpointLink {
  const i = link.indexOf(':');
  if (i < 0) return { target: link.replace(/^\//, ''), alias: link.replace(/^\//, '') };
  const target = link.slice(0, i);
  const alias = link.slice(i + 1);
  if (target.startsWith('/')) return { target: target.slice(1), alias: alias.slice(alias.lastIndexOf('/') + 1) };
  return { target, alias };
}

function tryFind(networks: NetworkController, idOrName: string): string | undefined {
  try {
    return networks.find(idOrName).record.id;
  } catch {
    return undefined;
  }
}

function opt<K extends string>(key: K, v: string | undefined): Partial<Record<K, string>> {
  return v ? ({ [key]: v } as Record<K, string>) : {};
}
