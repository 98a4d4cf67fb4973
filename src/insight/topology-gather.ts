/** What `berth topology` reads: the kernel's views of the host's, the data path's and each container's namespace, the VXLAN links' tables, and the model. */
import type { FdbEntry } from '../kernel/fdb.js';
import type { NamespaceView } from '../kernel/namespace-view.js';
import type { Kernel } from '../kernel/port.js';
import type { NetworkController } from '../network/controller.js';
import type { TopologyInput } from './topology.js';

export interface TopologyDeps {
  kernel: Kernel;
  networks: NetworkController;
  /** Container ID → name, for the containers the engine has. */
  containerNames(): ReadonlyMap<string, string>;
}

export async function gatherTopology(d: TopologyDeps): Promise<TopologyInput> {
  const model = d.networks.topologyModel();
  const [host, views, dataPath] = await Promise.all([
    d.kernel.readNamespace(),
    Promise.all(model.sandboxes.map(async (s): Promise<[string, NamespaceView | undefined]> => [s.containerId, await d.kernel.readNamespace(s.path).catch(() => undefined)])),
    model.dataPath ? d.kernel.readNamespace(model.dataPath.netns).catch(() => undefined) : undefined,
  ]);
  const vxlans = host.interfaces.filter((i) => i.vxlan !== undefined).map((i) => i.name);
  const fdb = await Promise.all(vxlans.map(async (l): Promise<[string, readonly FdbEntry[]]> => [l, await d.kernel.links.fdb(l).catch(() => [])]));
  return { model, containerNames: d.containerNames(), host, sandboxes: new Map(views), fdb: new Map(fdb), dataPath };
}
