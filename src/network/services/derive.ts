/**
 * Which services a network carries and their backends there: derived, never stored. A
 * backend is an endpoint on the network tagged with the service (local or on another
 * node: a dead node's endpoints leave with its lease) whose task is still wanted.
 */
import { compareIp, parseIp } from '../ipam/index.js';
import type { IngressModel, IngressPort } from './ingress-rules.js';
import type { BackendEndpoint, NetworkService, SharedServices } from './model.js';

/** Per network, the services on it (sorted by name). Pure. */
export function servicesByNetwork(shared: Pick<SharedServices, 'services' | 'taskServing'>, endpoints: readonly BackendEndpoint[]): Map<string, NetworkService[]> {
  const backends = new Map<string, Set<string>>();
  for (const ep of endpoints) {
    if (!ep.service || (ep.service.taskId !== undefined && !shared.taskServing(ep.service.taskId))) continue;
    const key = `${ep.networkId}/${ep.service.id}`;
    let set = backends.get(key);
    if (!set) backends.set(key, (set = new Set()));
    set.add(ep.ipv4);
  }
  const out = new Map<string, NetworkService[]>();
  for (const s of [...shared.services()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    for (const n of s.networks) {
      const vip = s.endpointMode === 'vip' ? s.vips.find((v) => v.networkId === n.networkId)?.addr : undefined;
      const list = out.get(n.networkId) ?? [];
      list.push({
        id: s.id,
        name: s.name,
        aliases: n.aliases,
        endpointMode: s.endpointMode,
        vip: vip?.split('/')[0],
        backends: sortIps(backends.get(`${n.networkId}/${s.id}`) ?? []),
      });
      out.set(n.networkId, list);
    }
  }
  return out;
}

function sortIps(ips: Iterable<string>): string[] {
  return [...ips].sort((a, b) => compareIp(parseIp(a), parseIp(b)));
}

/** The node's routing mesh: every port a service publishes in ingress mode, over its tasks on the ingress network cluster-wide. Pure. */
export function ingressModel(
  shared: Pick<SharedServices, 'services' | 'taskServing'>,
  endpoints: readonly (BackendEndpoint & { remote: boolean })[],
  place: { networkId: string; link: string; address: string } | undefined,
): IngressModel {
  if (!place) return { ports: [], local: undefined, remote: [] };
  const tasks = endpoints.filter((e) => e.networkId === place.networkId && e.service && (e.service.taskId === undefined || shared.taskServing(e.service.taskId)));
  const ports = new Map<string, IngressPort>();
  const remote = new Set<string>();
  for (const s of shared.services()) {
    const mine = tasks.filter((e) => e.service?.id === s.id);
    for (const p of s.ports) {
      if (p.mode !== 'ingress' || p.publishedPort <= 0 || (p.protocol !== 'tcp' && p.protocol !== 'udp')) continue;
      const backends = sortIps(new Set(mine.map((e) => e.ipv4))).map((ip) => ({ ip, port: p.targetPort }));
      ports.set(`${p.protocol}/${p.publishedPort}`, { proto: p.protocol, port: p.publishedPort, backends });
      for (const e of mine) if (e.remote) remote.add(e.ipv4);
    }
  }
  return { ports: [...ports.values()].sort((a, b) => a.port - b.port || (a.proto < b.proto ? -1 : 1)), local: { link: place.link, address: place.address }, remote: sortIps(remote) };
}
