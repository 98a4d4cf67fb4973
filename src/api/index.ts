/** All API routes on one router. */
import type { SwarmState } from '../cluster/swarm-state.js';
import type { ContainerEngine } from '../engine/containers/engine.js';
import type { ExecManager } from '../engine/containers/execs.js';
import type { ImageStore } from '../engine/images/index.js';
import type { Registries } from '../engine/images/distribution/index.js';
import type { VolumeStore } from '../engine/volumes/store.js';
import type { NetworkController } from '../network/controller.js';
import type { ContainerRecord } from '../engine/containers/model.js';
import type { EventBus } from '../events/bus.js';
import type { DiskUsage } from '../engine/disk-usage.js';
import type { Pruner } from '../engine/prune.js';
import type { ContainerArchives } from '../engine/containers/archive.js';
import { archiveRoutes } from './routes/archive.js';
import { commitRoutes } from './routes/commit.js';
import { buildRoutes } from './routes/build.js';
import { baseImages, buildContainers, registryConfig } from './routes/build-runtime.js';
import type { BuildWorkspaces } from '../engine/build/context.js';
import type { LogService } from '../logs/service.js';
import { diskUsageRoutes } from './routes/disk-usage.js';
import { pruneRoutes } from './routes/prune.js';
import { Router } from './router.js';
import { eventRoutes } from './routes/events.js';
import { containerRoutes } from './routes/containers.js';
import { containerOpsRoutes } from './routes/container-ops.js';
import { containerUpdateRoutes } from './routes/container-update.js';
import { execRoutes } from './routes/exec.js';
import { imageRoutes } from './routes/images.js';
import { registryRoutes } from './routes/image-distribution.js';
import { insightRoutes } from './routes/insight.js';
import type { Insight } from '../insight/service.js';
import { networkRoutes } from './routes/networks.js';
import { swarmRoutes } from './routes/swarm.js';
import { systemRoutes, type SystemInfo } from './routes/system.js';
import { volumeRoutes } from './routes/volumes.js';
import type { NetworkContainerShape } from './shapes/network.js';
import { reportedPorts, type PortsShape } from './shapes/ports.js';

export interface ApiDeps {
  networks: NetworkController;
  engine: ContainerEngine;
  execs: ExecManager;
  images: ImageStore;
  /** Pull, push and login against registries. */
  registries: Registries;
  volumes: VolumeStore;
  events: EventBus;
  usage: DiskUsage;
  pruner: Pruner;
  /** docker cp and export. */
  archives: ContainerArchives;
  /** Where builds receive their contexts. */
  builds: BuildWorkspaces;
  /** What the daemon knows of itself; the counts and listeners are read from the parts here. */
  system: Omit<SystemInfo, 'counts' | 'eventListeners'>;
  /** This node's place in a swarm (berth's is always outside one for now). */
  swarm: SwarmState;
  logs: LogService;
  /** berth's own views inside: `berth doctor` and `berth topology`, read now in the daemon's namespace. */
  insight: Insight;
}

export function buildRouter(deps: ApiDeps): Router {
  const router = new Router();
  const { networks, engine } = deps;
  const counts = (): ReturnType<SystemInfo['counts']> => {
    const all = engine.list(true);
    const running = all.filter((c) => c.state.status === 'running' && !c.state.paused).length;
    const paused = all.filter((c) => c.state.status === 'running' && c.state.paused).length;
    return { containers: all.length, running, paused, stopped: all.length - running - paused, images: deps.images.list().length };
  };
  systemRoutes(router, { ...deps.system, counts, eventListeners: () => deps.events.listeners }, deps.swarm);
  eventRoutes(router, deps.events);
  networkRoutes(router, {
    networks,
    containersOf: (networkId) => {
      const out: Record<string, NetworkContainerShape> = {};
      for (const ep of networks.endpointsOn(networkId as never)) {
        out[ep.containerId] = {
          Name: ep.name,
          EndpointID: ep.id,
          MacAddress: ep.mac ?? '',
          IPv4Address: ep.ipv4 ? `${ep.ipv4.address}/${ep.ipv4.prefixLen}` : '',
          IPv6Address: ep.ipv6 ? `${ep.ipv6.address}/${ep.ipv6.prefixLen}` : '',
        };
      }
      return out;
    },
    connect: (c, n, cfg) => engine.connect(c, n, cfg),
    disconnect: (c, n) => engine.disconnect(c, n),
  });
  const ports = (c: ContainerRecord): PortsShape => reportedPorts(c, networks, engine);
  const containerDeps = { engine, networks, images: deps.images, volumes: deps.volumes, logs: deps.logs, ports };
  containerRoutes(router, containerDeps);
  archiveRoutes(router, deps.archives);
  commitRoutes(router, { engine, images: deps.images, events: deps.events });
  buildRoutes(router, { images: deps.images, workspaces: deps.builds, containers: buildContainers(engine, deps.logs), bases: (headers) => baseImages(deps.images, deps.registries, registryConfig(headers)) });
  containerOpsRoutes(router, engine);
  containerUpdateRoutes(router, engine);
  diskUsageRoutes(router, deps.usage, containerDeps);
  pruneRoutes(router, deps.pruner);
  execRoutes(router, deps.execs);
  imageRoutes(router, deps.images, deps.registries, deps.events);
  registryRoutes(router, deps.registries, deps.images);
  volumeRoutes(router, deps.volumes, (name) => engine.volumeUsers(name));
  swarmRoutes(router, deps.swarm, (ref) => {
    try {
      return networks.find(ref).record.name;
    } catch {
      return undefined;
    }
  });
  insightRoutes(router, deps.insight);
  return router;
}
