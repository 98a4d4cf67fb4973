/**
 * Swarm services' names in the embedded DNS: what the service balancer derives for
 * every network after each change (names, VIPs, running tasks), replacing what each
 * network had, so a service or a task that is gone leaves no name behind.
 */
import type { NetworkService } from '../services/model.js';
import type { DnsDirectory } from './directory.js';

export function setServiceNames(directory: Pick<DnsDirectory, 'setServices' | 'serviceNetworks'>, byNetwork: ReadonlyMap<string, NetworkService[]>, networkName: (id: string) => string | undefined): void {
  for (const id of directory.serviceNetworks()) if (!byNetwork.has(id)) directory.setServices(id, '', []);
  for (const [id, services] of byNetwork) {
    const name = networkName(id);
    if (name === undefined) continue;
    directory.setServices(
      id,
      name,
      services.map((s) => ({ name: s.name, aliases: s.aliases, vip: s.endpointMode === 'vip' ? s.vip : undefined, tasks: s.backends })),
    );
  }
}
