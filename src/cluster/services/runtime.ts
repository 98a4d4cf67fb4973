/**
 * Services on one node while it is connected to its swarm: the store's view
 * (cache.ts), the agent (every node), the node endpoint that serves its tasks' logs and
 * its clock to the other nodes, and the orchestrator (managers; one leads).
 * Opened once the node's shared networks are; closed before they go.
 */
import { messageOf } from '../../errors.js';
import type { SharedNetworks } from '../../network/shared.js';
import type { EtcdStore } from '../../store/etcd.js';
import { Agent, type TaskContainers } from './agent.js';
import { NODES } from '../stored.js';
import { ServiceCache } from './cache.js';
import { clockRoute } from '../clock.js';
import { serveNodeEndpoint, type NodeTls } from '../node-endpoint.js';
import { taskLogsRoute } from './log-server.js';
import { Orchestrator } from './orchestrator.js';

export interface NodeServicesOptions {
  store: EtcdStore;
  nodeId: string;
  manager: boolean;
  containers: TaskContainers;
  shared: () => SharedNetworks | undefined;
  /** Where this node serves its node endpoint (node-endpoint.ts), with which certificates. */
  endpoint: { port: number; tls: NodeTls; clusterId: string };
  log: (m: string) => void;
}

export class NodeServices {
  private constructor(
    private readonly cache: ServiceCache,
    private readonly agent: Agent,
    private readonly orchestrator: Orchestrator | undefined,
    private readonly containers: TaskContainers,
    private readonly endpoint: { close(): Promise<void> },
    private readonly log: (m: string) => void,
  ) {}

  static async open(o: NodeServicesOptions): Promise<NodeServices> {
    const cache = new ServiceCache(o.store, o.log);
    await cache.open();
    const agent = new Agent({ store: o.store, cache, nodeId: o.nodeId, containers: o.containers, log: o.log });
    const orchestrator = o.manager ? new Orchestrator({ store: o.store, cache, nodeId: o.nodeId, shared: o.shared, log: o.log }) : undefined;
    let endpoint: { close(): Promise<void> };
    try {
      endpoint = await serveNodeEndpoint({
        listen: { host: '0.0.0.0', port: o.endpoint.port },
        tls: o.endpoint.tls,
        clusterId: o.endpoint.clusterId,
        isManager: async (nodeId) => {
          const raw = await o.store.get(NODES.kind.prefix + nodeId);
          return raw !== undefined && NODES.kind.check(raw).spec.role === 'manager';
        },
        routes: [taskLogsRoute((taskId, opts, signal) => o.containers.logs(taskId, opts, signal), o.log), clockRoute()],
      });
    } catch (e: unknown) {
      await cache.close();
      throw e;
    }
    agent.start();
    orchestrator?.start();
    return new NodeServices(cache, agent, orchestrator, o.containers, endpoint, o.log);
  }

  /** Stop following; `leaving` the swarm also removes the tasks' containers, as dockerd does. */
  async close(leaving: boolean): Promise<void> {
    this.orchestrator?.close();
    this.agent.close();
    await this.endpoint.close();
    await this.agent.idle();
    await this.cache.close();
    if (!leaving) return;
    for (const c of this.containers.list()) await this.containers.remove(c.id).catch((e: unknown) => this.log(`swarm leave: removing ${c.id}: ${messageOf(e)}`));
  }
}
