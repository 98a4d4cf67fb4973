/**
 * Which services a network carries and their backends there: derived, never stored. A
 * backend is an endpoint on the network tagged with the service (local or on another
 * node: a dead node's endpoints leave with its lease) whose task is still wanted.
 */
import { compareIp, parseIp } from '../ipam/index.js';
import type { BackendEndpoint, NetworkService, SharedServices } from './model.js';

/** Per network, the services on it (sorted by name). Pure. */
export function servicesByNetwork(shared: Pick<SharedServices, 'services' | 'taskWanted'>, endpoints: readonly BackendEndpoint[]): Map<string, NetworkService[]> {
  const backends = new Map<string, Set<string>>();
  for (const ep of endpoints) {
    if (!ep.service || (ep.service.taskId !== undefined && !shared.taskWanted(ep.service.taskId))) continue;
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
