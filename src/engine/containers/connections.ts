/**
 * A container's networks after its start: live `network connect` and `disconnect`
 * (with its /etc files edited in place and its published ports moved to the endpoint
 * with the default route), and, after a daemon restart, its endpoints made to match its
 * record again. Operations run under the container's lock.
 */
import { conflict, forbidden, invalid, messageOf } from '../../errors.js';
import type { Network, NetworkController } from '../../network/controller.js';
import type { EndpointRecord } from '../../network/model.js';
import type { PortSpec } from '../../network/ports/index.js';
import type { Timings } from '../../util/timings.js';
import type { EtcFiles } from './etc-files.js';
import type { EngineLog, LifecycleHooks } from './lifecycle.js';
import type { ContainerRecord, EndpointConfig } from './model.js';
import { GWBRIDGE } from '../../network/controller.js';
import { joinGatewayBridge, joinRequest, leaveGatewayBridge } from './networking.js';
import type { ContainerRecords } from './records.js';

export interface ConnectionsDeps {
  records: ContainerRecords;
  networks: NetworkController;
  hooks: readonly LifecycleHooks[];
  etc: EtcFiles;
  log: EngineLog;
  /** Where live connects are timed ("connect"). */
  timings?: Timings;
  /** The hostname the container runs with (its /etc/hosts names it). */
  hostnameOf(c: ContainerRecord): string;
  /** The container's publication requests (-p, -P). */
  portRequests(c: ContainerRecord): PortSpec[];
}

export class NetworkConnections {
  constructor(private readonly deps: ConnectionsDeps) {}

  /**
   * network connect: recorded in the spec; joined now when the container runs, else
   * only checked as a start would check it (Docker refuses bad settings at once).
   */
  async connect(idOrName: string, network: string, cfg: EndpointConfig): Promise<void> {
    const { records, networks } = this.deps;
    const c0 = records.find(idOrName);
    await records.lock(c0.id).run(async () => {
      const c = records.find(c0.id);
      const mode = c.spec.networkMode.kind;
      const net = networks.find(network);
      if (mode === 'host' || mode === 'container') {
        throw invalid('container sharing network namespace with another container or host cannot be connected to any other network');
      }
      // The network's own refusal, then that of a network the container is on (none's).
      const on = Object.keys(c.spec.networks).flatMap((k) => this.network(k) ?? []);
      const refusal = [net, ...on].map((n) => n.capabilities.connectRefusal).find((r) => r !== undefined);
      if (refusal !== undefined) throw invalid(refusal);
      const known = Object.keys(c.spec.networks).some((k) => this.sameNetwork(k, net.record.id));
      // libnetwork's ErrEndpointExists: a Forbidden (403), as dockerd answers it.
      if (known) throw forbidden(`endpoint with name ${c.spec.name} already exists in network ${net.record.name}`);
      const req = joinRequest(c.id, c.spec.name, cfg, c.spec.labels);
      if (c.state.status === 'running') {
        const t0 = performance.now();
        const ep = await networks.join(network, req);
        const gw = await joinGatewayBridge(networks, c, networks.endpointsOf(c.id));
        for (const h of this.deps.hooks) await h.started?.(c, gw ? [ep, gw] : [ep]);
        this.editEtcFiles(c, ep, 'joined');
        if (gw) this.editEtcFiles(c, gw, 'joined');
        await this.publishOnGateway(c);
        this.deps.timings?.record('connect', performance.now() - t0);
      } else {
        networks.checkEndpointConfig(net.record.id, req);
      }
      await records.save({ ...c, spec: { ...c.spec, networks: { ...c.spec.networks, [net.record.name]: cfg } } });
    });
  }

  async disconnect(idOrName: string, network: string): Promise<void> {
    const { records, networks } = this.deps;
    const c0 = records.find(idOrName);
    await records.lock(c0.id).run(async () => {
      const c = records.find(c0.id);
      const net = networks.find(network);
      if (c.spec.networkMode.kind === 'host' && net.capabilities.hostNamespace) {
        throw invalid('cannot disconnect container from host network - container was created in host network mode');
      }
      const key = Object.keys(c.spec.networks).find((k) => this.sameNetwork(k, net.record.id));
      const ep = networks.endpointsOf(c.id).find((e) => e.networkId === net.record.id);
      // Docker answers this with a 500; it is the client's mistake, so berth says 409.
      if (!key && !ep) throw conflict(`container ${c.id} is not connected to network ${net.record.name}`);
      if (ep) {
        await networks.leave(ep.id);
        const gw = await leaveGatewayBridge(networks, c);
        for (const left of gw ? [ep, gw] : [ep]) {
          for (const h of this.deps.hooks) await h.left?.(c, left);
          this.editEtcFiles(c, left, 'left');
        }
        await this.publishOnGateway(c);
      }
      const remaining = { ...c.spec.networks };
      if (key) delete remaining[key];
      await records.save({ ...c, spec: { ...c.spec, networks: remaining } });
    });
  }

  /**
   * A running container after a daemon restart: its endpoints made to match the networks
   * its record names (connect and disconnect touch two records; a crash can split them).
   */
  async resync(c: ContainerRecord): Promise<void> {
    const { networks } = this.deps;
    const mode = c.spec.networkMode.kind;
    if (mode === 'host' || mode === 'container') return;
    const wanted = new Map<string, EndpointConfig>();
    for (const [key, cfg] of Object.entries(c.spec.networks)) {
      const id = this.networkId(key);
      if (id !== undefined) wanted.set(id, cfg);
    }
    try {
      for (const ep of networks.endpointsOf(c.id)) {
        // A swarm's network is not known before the node reaches its swarm again: its
        // endpoints stay (their traffic flows meanwhile) and are taken up then, and so
        // does docker_gwbridge's, which no record names (it comes with them).
        const net = this.network(ep.networkId);
        if (wanted.has(ep.networkId) || !net || net.record.name === GWBRIDGE) continue;
        await networks.leave(ep.id);
        this.editEtcFiles(c, ep, 'left');
      }
      const have = new Set<string>(networks.endpointsOf(c.id).map((e) => e.networkId));
      for (const [netId, cfg] of wanted) {
        if (have.has(netId)) continue;
        const ep = await networks.join(netId, joinRequest(c.id, c.spec.name, cfg, c.spec.labels));
        for (const h of this.deps.hooks) await h.started?.(c, [ep]);
        this.editEtcFiles(c, ep, 'joined');
      }
    } catch (e: unknown) {
      this.deps.log.warn(`networks of ${c.spec.name} after restart: ${messageOf(e)}`);
    }
  }

  /**
   * The node reached its swarm (again): running containers' endpoints on its shared
   * networks go to the lifecycle hooks once more (DNS), as a daemon restart found them
   * before their networks were known.
   */
  async sharedAttached(): Promise<void> {
    const { records, networks } = this.deps;
    for (const c of records.all()) {
      if (c.state.status !== 'running') continue;
      const shared = networks.endpointsOf(c.id).filter((ep) => this.network(ep.networkId)?.capabilities.scope === 'swarm');
      if (shared.length === 0) continue;
      for (const h of this.deps.hooks) await h.started?.(c, shared).catch((e: unknown) => this.deps.log.warn(`${c.spec.name} on its swarm networks: ${messageOf(e)}`));
    }
  }

  /**
   * Published ports go through the endpoint with the default route. After a live
   * connect or disconnect that left them on none (the gateway endpoint went, or the
   * first routable one came), they are published again through the new one, as
   * Docker moves them; a failure (a host port taken meanwhile) is logged.
   */
  private async publishOnGateway(c: ContainerRecord): Promise<void> {
    const { networks } = this.deps;
    const requests = this.deps.portRequests(c);
    if (requests.length === 0 || networks.publishedPorts(c.id).length > 0) return;
    try {
      await networks.publish(c.id, requests);
    } catch (e: unknown) {
      this.deps.log.warn(`published ports of ${c.spec.name}: ${messageOf(e)}`);
    }
  }

  /** A running container's /etc files after a live join or leave; a failure only costs the entry (as in Docker). */
  private editEtcFiles(c: ContainerRecord, ep: EndpointRecord, change: 'joined' | 'left'): void {
    try {
      this.deps.etc[change](c, ep, this.deps.hostnameOf(c));
    } catch (e: unknown) {
      this.deps.log.warn(`/etc files of ${c.spec.name} after ${change === 'joined' ? 'connect' : 'disconnect'}: ${messageOf(e)}`);
    }
  }

  private sameNetwork(key: string, id: string): boolean {
    return this.networkId(key) === id;
  }

  /** The ID of the network a record's key names; undefined once that network is gone. */
  private networkId(key: string): string | undefined {
    return this.network(key)?.record.id;
  }

  private network(key: string): Network | undefined {
    try {
      return this.deps.networks.find(key);
    } catch {
      return undefined;
    }
  }
}
