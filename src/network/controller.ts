/**
 * The network controller: the only entry point to the network model. It owns the
 * canonical in-memory copy of every network, persists each change in one store
 * transaction, and drives the drivers to make the kernel match.
 */
import { conflict, forbidden, messageOf, notFound, systemError } from '../errors.js';
import type { Kernel } from '../kernel/port.js';
import { buildEndpoint, checkJoinRequest, releaseEndpoint } from './endpoints.js';
import type { FwEndpoint } from './firewall/index.js';
import type { PortSpec } from './ports/index.js';
import { Traffic } from './traffic.js';
import { Sandboxes } from './sandboxes.js';
import { createPredefined, defaultBridgeLink, type DefaultBridgeLink } from './predefined.js';
import type { RemoteChange, SharedNetworks } from './shared.js';
import { SwarmScope } from './swarm-scope.js';
import { dropIngressEndpoint, holdIngressEndpoint, type IngressPlace } from './ingress-endpoint.js';
import { containerKey, networkKey, SwarmNetworks } from './swarm-networks.js';
export { GWBRIDGE } from './swarm-networks.js';
import { poolsFor } from './subnets.js';
import { formatNetwork } from './ipam/index.js';
import type { TopologyModel } from './topology-model.js';
import type { KvStore, Op } from '../store/kv.js';
import { ENDPOINTS, NETWORKS } from './stored.js';
import { NO_EVENTS } from '../events/types.js';
import { newId, nowRfc3339 } from '../util/ids.js';
import { KeyedSerial } from '../util/serial.js';
import { DriverRegistry, type DriverNetwork } from './drivers/index.js';
import {
  PREDEFINED_NETWORKS,
  type CreateNetworkRequest,
  type EndpointId,
  type EndpointRecord,
  type JoinRequest,
  type NetworkId,
  type NetworkRecord,
} from './model.js';
import { filterNetworks, type NetworkFilters } from './filters.js';
import { findNetwork, type ControllerConfig, type Network } from './network.js';


export type { ControllerConfig, Network } from './network.js';

/** The key of work that changes the set of networks (names, subnets, bridge names). */
const ALL_NETWORKS = 'networks';

export class NetworkController {
  private readonly networks = new Map<NetworkId, Network>();
  private readonly endpoints = new Map<EndpointId, EndpointRecord>();
  /**
   * Work is serialised per network (its record and IPAM) and per container (its
   * endpoints and sandbox); creating and removing networks also take the set of all
   * networks (names, subnets, bridge names). Unrelated work runs at the same time.
   */
  private readonly serial = new KeyedSerial();
  private readonly drivers: DriverRegistry;
  private readonly traffic: Traffic;
  /** The swarm's shared networks while this node is in one: attach, joins, leaves (swarm-networks.ts). */
  private readonly swarm: SwarmNetworks;

  private constructor(
    private readonly store: KvStore,
    private readonly config: ControllerConfig,
    private readonly sandboxes: Sandboxes,
    private readonly defaultBridge: DefaultBridgeLink | undefined,
  ) {
    this.drivers = new DriverRegistry({
      ...config.driverContext,
      kernel: config.kernel,
      defaultBridge: defaultBridge ?? { name: 'berth0', external: false },
      swarm: () => this.scope?.shared.local,
      localEndpoints: (id) => [...this.endpoints.values()].flatMap((e) => (e.networkId === id && e.ifName ? [{ sandbox: this.sandboxPath(e.containerId), ifName: e.ifName }] : [])),
    });
    this.traffic = new Traffic(
      store,
      {
        networks: () => [...this.networks.values()].flatMap((n) => n.driver.firewall ?? []),
        endpoints: () => [...this.endpoints.values()].flatMap((e) => this.fwEndpoint(e) ?? []),
      },
      config.firewall,
      { kernel: config.kernel, brNetfilter: config.brNetfilter, log: config.log },
    );
    this.swarm = new SwarmNetworks({
      store,
      kernel: config.kernel,
      sandboxes,
      serial: this.serial,
      endpoints: this.endpoints,
      localNames: () => [...this.networks.values()].map((n) => n.record.name),
      checkCreate: async (req) => this.drivers.get(req.driver).checkCreate?.(req),
      validated: (r) => this.validated(r),
      endpointsOf: (id) => this.endpointsOf(id),
      endpointCount: (id) => this.endpointCount(id),
      sandboxPath: (id) => this.sandboxPath(id),
      event: (action, record, attributes) => this.event(action, record, attributes),
      endpointsOn: (id) => this.endpointsOn(id),
      createLocal: async (req) => void (await this.create(req)),
      removeLocal: async (id) => this.remove(id),
      localNetwork: (name) => [...this.networks.values()].find((n) => n.record.name === name),
      sweepOverlay: async (live) => this.drivers.get('overlay').removeOrphans?.(live.map((n) => n.driver), () => false),
      setUnderlay: async (u) => this.traffic.setUnderlay(u),
      repairEndpoints: async (ids) => this.repairEndpoints(ids),
      log: config.log,
    });
  }

  /** Shared (swarm-scope) networks, while this node is in a swarm. */
  private get scope(): SwarmScope | undefined {
    return this.swarm.scope;
  }

  private get kernel(): Kernel {
    return this.config.kernel;
  }

  private fwEndpoint(e: EndpointRecord): FwEndpoint | undefined {
    return e.hostIfName ? { networkId: e.networkId, containerId: e.containerId, hostIfName: e.hostIfName } : undefined;
  }

  /**
   * Load the model, create the predefined networks on first start, and reconcile the
   * kernel with the model: orphans berth made are removed, missing objects recreated.
   */
  static async start(store: KvStore, config: ControllerConfig): Promise<NetworkController> {
    const sandboxes = await Sandboxes.load(store, { kernel: config.kernel.sandboxes, dir: config.sandboxDir, ...(config.sandboxPool ? { pool: config.sandboxPool } : {}), log: config.log });
    const c = new NetworkController(store, config, sandboxes, await defaultBridgeLink(config.kernel, config.bridge, config.bip));
    for (const record of (await NETWORKS.load(store)).values()) c.networks.set(record.id, c.validated(record));
    for (const ep of (await ENDPOINTS.load(store)).values()) c.endpoints.set(ep.id, ep);
    await c.createPredefined();
    await c.reconcile();
    return c;
  }

  private async reconcile(): Promise<void> {
    for (const driver of this.drivers.all()) {
      // Shared networks are not known before the node reconnects to its swarm: their
      // orphans are swept then (SwarmScope.sync), not now, so running containers keep them.
      if (driver.capabilities.scope === 'swarm') continue;
      const live = [...this.networks.values()].filter((n) => n.record.driver === driver.name).map((n) => n.driver);
      const others = this.drivers.all().filter((d) => d !== driver && d.linkNames);
      await driver.removeOrphans?.(live, (name) => others.some((d) => d.linkNames!.test(name)));
    }
    // A network whose kernel objects cannot be made now (its macvlan parent was unplugged,
    // say) is logged, not fatal: the daemon still serves the others.
    const nets = [...this.networks.values()];
    const ensured = await Promise.allSettled(nets.map((n) => n.driver.ensure()));
    ensured.forEach((r, i) => {
      if (r.status === 'rejected') this.config.log(`network ${nets[i]!.record.name}: ${messageOf(r.reason)}`);
    });
    const wanted = new Set([...this.endpoints.values()].map((e) => e.hostIfName));
    const links = await this.kernel.links.list();
    const orphans = links.filter((l) => l.kind === 'veth' && l.ownedByBerth && !wanted.has(l.name));
    await Promise.all(orphans.map((l) => this.kernel.links.delete(l.name)));
  }

  /** none, host and the default bridge, made or moved to this start's bridge and subnet (predefined.ts). */
  private async createPredefined(): Promise<void> {
    await createPredefined({
      networks: () => [...this.networks.values()],
      add: async (req) => void (await this.add(req, true)),
      endpointCount: (id) => this.endpointCount(id),
      defaultBridge: this.defaultBridge,
      kernel: this.kernel,
      addressPools: this.config.addressPools,
      replace: async (current, record) => {
        // The old gateway goes with the bridge berth made (reconcile makes the new one) or off the user's.
        await current.driver.remove();
        await this.store.commit([NETWORKS.put(record.id, record)]);
        this.networks.set(record.id, this.validated(record));
      },
      log: this.config.log,
    });
  }

  /** A network by ID, inside a job that holds its key: it may have gone while the job waited. */
  private get(id: NetworkId): Network {
    const net = this.networks.get(id);
    if (!net) throw notFound(`network ${id} not found`);
    return net;
  }

  /** dockerd's default host gateway: the default bridge's first IPv4 and first IPv6 gateway; none without it. */
  defaultBridgeGateways(): string[] {
    const pools = [...this.networks.values()].find((n) => n.record.name === 'bridge')?.record.ipam.pools ?? [];
    const v4 = pools.find((p) => !p.subnet.includes(':'))?.gateway;
    const v6 = pools.find((p) => p.subnet.includes(':'))?.gateway;
    return [v4, v6].filter((ip): ip is string => ip !== undefined && ip !== '');
  }

  /** Every network, in creation order (shared ones as Docker's network ls shows them on this node). */
  list(filters: NetworkFilters = {}): Network[] {
    return filterNetworks([...this.networks.values(), ...(this.scope?.visible() ?? [])], filters, (id) => this.endpointCount(id));
  }

  /**
   * The model as `berth topology` joins it to the kernel: this host's networks (shared ones
   * it has), every local endpoint with its container's namespace file, the ports each
   * container publishes, and the other hosts' endpoints its VXLAN links reach.
   */
  topologyModel(): TopologyModel {
    const local = [...this.networks.values()];
    const shared = (this.scope?.all() ?? []).filter((n) => this.scope?.instantiated(n));
    const nets = [...local, ...shared];
    const endpoints = [...this.endpoints.values()];
    const containers = [...new Set(endpoints.map((e) => e.containerId))];
    return {
      networks: nets.map((n) => ({ id: n.record.id, name: n.record.name, driver: n.record.driver, scope: n.capabilities.scope, links: [...n.driver.kernelNames], subnets: n.record.ipam.pools.map((p) => p.subnet), gateways: n.record.ipam.pools.flatMap((p) => (p.gateway ? [p.gateway] : [])), ipv6: n.record.enableIPv6, ...(n.driver.directRouted ? { directRouted: true as const } : {}) })),
      endpoints: endpoints.map((e) => ({ containerId: e.containerId, name: e.name, networkId: e.networkId, ifName: e.ifName, hostIfName: e.hostIfName, ipv4: e.ipv4 ? `${e.ipv4.address}/${e.ipv4.prefixLen}` : undefined, mac: e.mac })),
      sandboxes: containers.map((id) => ({ containerId: id, path: this.sandboxPath(id) })),
      published: containers.flatMap((id) => this.publishedPorts(id).map((p) => ({ containerId: id, port: p }))),
      remote: this.scope?.shared.remoteEndpoints() ?? [],
      pools: this.config.addressPools.map((p) => formatNetwork(p.base)),
      underlayMtu: this.scope?.shared.local.underlayMtu,
      underlayLink: this.scope?.shared.local.underlayLink,
      dataPath: this.dataPathModel(),
    };
  }

  private dataPathModel(): TopologyModel['dataPath'] {
    const shared = this.scope?.shared;
    const netns = shared?.local.dataPathNetns;
    return shared && netns ? { netns: netns.path, addr: shared.local.addr, members: shared.members() } : undefined;
  }

  /** By full ID, exact name, or unique ID prefix (Docker's lookup order), local networks first. */
  find(idOrName: string): Network {
    return this.lookup(idOrName, this.scope?.all() ?? []);
  }

  /**
   * What `network inspect` finds: as `find`, but a worker sees a shared network only once
   * it has it (as `network ls`), the way dockerd answers from its local networks.
   */
  findVisible(idOrName: string): Network {
    return this.lookup(idOrName, this.scope?.visible() ?? []);
  }

  private lookup(idOrName: string, shared: readonly Network[]): Network {
    const byId = this.networks.get(idOrName as NetworkId) ?? shared.find((n) => n.record.id === idOrName);
    return byId ?? findNetwork([...this.networks.values(), ...shared], idOrName);
  }

  async create(req: CreateNetworkRequest): Promise<Network> {
    if (this.drivers.lookup(req.driver)?.capabilities.scope === 'swarm') return this.swarm.create(req);
    const net = await this.serial.run([ALL_NETWORKS], () => this.add(req, false));
    this.event('create', net.record);
    return net;
  }

  async remove(idOrName: string): Promise<void> {
    const id = this.find(idOrName).record.id;
    if (this.scope?.get(id)) return this.swarm.remove(id);
    return this.serial.run([ALL_NETWORKS, networkKey(id)], async () => {
      const net = this.get(id);
      const { record } = net;
      if (record.predefined) throw forbidden(`${record.name} is a pre-defined network and cannot be removed`);
      if (this.endpointCount(record.id) > 0) {
        throw forbidden(`error while removing network: network ${record.name} id ${record.id} has active endpoints`);
      }
      // The driver retires its links (the kernel deletes them later); if it fails, the
      // network and its rules stay. The rules go after it, not waited for.
      await net.driver.remove();
      if (net.driver.firewall) this.traffic.networkRemoved(net.driver.firewall);
      await this.store.commit([NETWORKS.del(record.id)]);
      this.networks.delete(record.id);
      this.event('destroy', record);
    });
  }

  /** Remove every user network without endpoints that `select` accepts; returns their names. */
  async prune(select: (r: NetworkRecord) => boolean): Promise<string[]> {
    const removed: string[] = [];
    for (const n of this.networks.values()) {
      if (!select(n.record)) continue;
      if (n.record.predefined || this.endpointCount(n.record.id) > 0) continue;
      try {
        await this.remove(n.record.id);
        removed.push(n.record.name);
      } catch (e: unknown) {
        this.config.log(`prune: could not remove network ${n.record.name}: ${String(e)}`);
      }
    }
    (this.config.events ?? NO_EVENTS).emit('network', 'prune', '', { reclaimed: '0' });
    return removed;
  }

  endpointCount(id: NetworkId): number {
    return this.endpointsOn(id).length;
  }

  /** Endpoints on a network. */
  endpointsOn(id: NetworkId): EndpointRecord[] {
    return [...this.endpoints.values()].filter((e) => e.networkId === id);
  }

  /** Endpoints on shared (swarm-scope) networks. */
  sharedEndpoints(): EndpointRecord[] {
    return [...this.endpoints.values()].filter((e) => this.scope?.get(e.networkId) !== undefined);
  }

  /** A container's endpoints, in the order they were made. */
  endpointsOf(containerId: string): EndpointRecord[] {
    return [...this.endpoints.values()].filter((e) => e.containerId === containerId);
  }

  /**
   * A container was renamed: its endpoints carry the new name, and the links of other
   * endpoints that named it (--link on user networks) follow it. One transaction;
   * returns the endpoints changed.
   */
  async renameContainer(containerId: string, oldName: string, newName: string): Promise<EndpointRecord[]> {
    const renamed = (): EndpointRecord[] => {
      const changed: EndpointRecord[] = [];
      for (const ep of this.endpoints.values()) {
        const links = ep.links?.map((l) => (l.target === oldName ? { ...l, target: newName } : l));
        const named = ep.containerId === containerId && ep.name !== newName;
        if (!named && !links?.some((l, i) => l !== ep.links![i])) continue;
        changed.push({ ...ep, ...(named ? { name: newName } : {}), ...(links ? { links } : {}) });
      }
      return changed;
    };
    // The keys of the endpoints it changes, so no join or leave of theirs runs meanwhile.
    const keys = [...new Set(renamed().flatMap((ep) => [networkKey(ep.networkId), containerKey(ep.containerId)]))];
    if (keys.length === 0) return [];
    return this.serial.run(keys, async () => {
      const changed = renamed().filter((ep) => keys.includes(networkKey(ep.networkId)) && keys.includes(containerKey(ep.containerId)));
      if (changed.length === 0) return [];
      await this.store.commit(changed.map((ep) => ENDPOINTS.put(ep.id, ep)));
      for (const ep of changed) this.endpoints.set(ep.id, ep);
      return changed;
    });
  }

  /** The namespace file of a container's sandbox (a spare taken at its first join, or its own). */
  sandboxPath(containerId: string): string {
    return this.sandboxes.path(containerId);
  }

  /** Docker's create-time endpoint checks; a network that does not exist (yet) is checked at start. */
  checkEndpointConfig(networkIdOrName: string, req: JoinRequest): void {
    let net: Network;
    try {
      net = this.find(networkIdOrName);
    } catch {
      return;
    }
    checkJoinRequest(net.record, req, []);
  }

  /**
   * Attach a container to a network: allocate, wire the kernel, persist (one
   * transaction for the endpoint and the network's IPAM). Failure leaves nothing.
   */
  async join(networkIdOrName: string, req: JoinRequest): Promise<EndpointRecord> {
    const id = this.find(networkIdOrName).record.id;
    if (this.scope?.get(id)) return this.swarm.join(networkIdOrName, id, req);
    return this.serial.run([networkKey(id), containerKey(req.containerId)], async () => {
      const net = this.get(id);
      const siblings = this.endpointsOf(req.containerId);
      checkJoinRequest(net.record, req, siblings);
      const exclusive = net.driver.oneEndpointOnly;
      if (exclusive !== undefined && [...this.endpoints.values()].some((e) => e.networkId === net.record.id)) throw conflict(exclusive);
      const planJoin = net.driver.planJoin;
      const built = buildEndpoint(net.record, req, siblings, net.capabilities);
      const pools = built.pools;
      const sandbox = planJoin ? await this.sandboxes.claim(req.containerId, !net.record.predefined) : undefined;
      const endpoint = built.endpoint;
      const record: NetworkRecord = { ...net.record, ipam: { ...net.record.ipam, pools } };
      // The endpoint is stored before it is wired: a crash in between leaves a record
      // whose (half-made) links reconcile removes or wires again by name, never an
      // unmarked link nobody knows about.
      await this.store.commit([
        ENDPOINTS.put(endpoint.id, endpoint),
        NETWORKS.put(record.id, record),
      ]);
      this.networks.set(record.id, { ...net, record });
      this.endpoints.set(endpoint.id, endpoint);
      if (planJoin && sandbox) {
        try {
          await this.kernel.sandboxes.apply(planJoin(endpoint, sandbox).steps, sandbox);
        } catch (e: unknown) {
          await this.kernel.sandboxes.undo(net.driver.planLeave?.(endpoint).steps ?? [], sandbox);
          await this.store.commit([ENDPOINTS.del(endpoint.id), NETWORKS.put(net.record.id, net.record)]);
          this.networks.set(net.record.id, net);
          this.endpoints.delete(endpoint.id);
          throw e;
        }
      }
      const fwEp = this.fwEndpoint(endpoint);
      if (fwEp && net.driver.firewall) await this.traffic.endpointJoined(fwEp, net.driver.firewall);
      this.event('connect', net.record, { container: req.containerId });
      return endpoint;
    });
  }

  /** Detach an endpoint: unwire, release its addresses, persist. Idempotent. */
  async leave(endpointId: EndpointId): Promise<void> {
    const ep = this.endpoints.get(endpointId);
    if (!ep) return;
    return this.serial.run([networkKey(ep.networkId), containerKey(ep.containerId)], async () => this.leaveNow(endpointId));
  }

  /**
   * Unwire and forget an endpoint. `sandboxGoing`: its namespace is removed next, which
   * takes the container's end of a veth with it, so the host end is only retired (down,
   * renamed, deleted in the background: the kernel takes 10-15 ms to unregister a veth).
   * A disconnect from a running container deletes it before answering.
   */
  private async leaveNow(endpointId: EndpointId, opts: { sandboxGoing?: boolean } = {}): Promise<void> {
    const ep = this.endpoints.get(endpointId);
    if (!ep) return;
    // Published ports forward to this endpoint's address: they go with it.
    if (this.traffic.publishedOn(ep.containerId) === ep.networkId) await this.traffic.unpublish(ep.containerId);
    const shared = this.scope?.get(ep.networkId);
    if (shared) return this.swarm.leave(shared, ep, opts);
    const net = this.networks.get(ep.networkId);
    const retire = opts.sandboxGoing && ep.hostIfName !== undefined;
    if (retire) await this.kernel.links.retire(ep.hostIfName!, (e) => this.config.log(`deleting ${ep.hostIfName}: ${messageOf(e)}`));
    const failures = net && !retire ? await this.kernel.sandboxes.undo(net.driver.planLeave?.(ep).steps ?? [], this.sandboxPath(ep.containerId)) : [];
    if (failures.length > 0) this.config.log(`leave ${ep.id}: ${failures.join('; ')}`);
    const ops: Op[] = [ENDPOINTS.del(ep.id)];
    let record: NetworkRecord | undefined;
    if (net) {
      record = { ...net.record, ipam: { ...net.record.ipam, pools: releaseEndpoint(net.record.ipam.pools, ep) } };
      ops.push(NETWORKS.put(record.id, record));
    }
    await this.store.commit(ops);
    if (net && record) this.networks.set(record.id, { ...net, record });
    this.endpoints.delete(ep.id);
    if (net) this.event('disconnect', net.record, { container: ep.containerId });
    const fwEp = this.fwEndpoint(ep);
    if (fwEp && net?.driver.firewall) this.traffic.endpointLeft(fwEp, net.driver.firewall);
    if (ep.gateway && !opts.sandboxGoing) await this.promoteGateway(ep.containerId);
  }

  /** The node joined a swarm (or reconnected to it): its shared networks become this controller's too. */
  async attachShared(shared: SharedNetworks): Promise<void> {
    await this.swarm.attach(shared);
  }

  /** The node's own endpoint on the swarm's ingress network (the routing mesh's), made again after each attach; none outside a swarm or without one. */
  async holdIngressEndpoint(previous?: string): Promise<IngressPlace | undefined> {
    return this.scope ? holdIngressEndpoint(this.scope, this.kernel, previous) : undefined;
  }

  /** The node's ingress endpoint goes (no service publishes an ingress port any more). Idempotent. */
  async dropIngressEndpoint(place: IngressPlace): Promise<void> {
    if (this.scope) await dropIngressEndpoint(this.scope, this.kernel, place);
  }

  /** `drain` runs, and is awaited, before another host's endpoint leaves this host's kernel (the services' VIPs let go of it first). */
  onRemoteDraining(drain: (c: RemoteChange) => Promise<void>): () => void {
    return this.swarm.onDraining(drain);
  }

  /** `shared` as the DNS follows it: a remote endpoint heard of once this host's kernel reaches it. */
  reachableRemotes(shared: SharedNetworks): Pick<SharedNetworks, 'networks' | 'remoteEndpoints' | 'watch'> {
    return this.swarm.reachableRemotes(shared);
  }

  /** The node is no longer connected to its swarm (`left`: for good, see SwarmNetworks.detach). */
  async detachShared(opts: { left?: boolean } = {}): Promise<void> {
    await this.swarm.detach(opts);
  }

  /**
   * The endpoint with the default route left a running container: the first other one
   * that can route out takes the role and the route, as Docker's sandbox picks a new
   * gateway endpoint (the engine then publishes the ports through it).
   */
  private async promoteGateway(containerId: string): Promise<void> {
    for (const ep of this.endpointsOf(containerId)) {
      const net = this.networks.get(ep.networkId);
      const route = net && !net.record.internal ? (net.driver.defaultRoute?.(ep) ?? []) : [];
      if (route.length === 0) continue;
      const promoted: EndpointRecord = { ...ep, gateway: true };
      await this.kernel.sandboxes.apply([{ in: 'sandbox', commands: route }], this.sandboxPath(containerId));
      await this.store.commit([ENDPOINTS.put(ep.id, promoted)]);
      this.endpoints.set(ep.id, promoted);
      return;
    }
  }

  /** Detach all of a container's endpoints and remove its namespace. Idempotent. */
  async removeSandbox(containerId: string): Promise<void> {
    // The publications' nft transaction and the unwiring are independent: run them together.
    const leaves = (async () => {
      for (const ep of this.endpointsOf(containerId).reverse()) {
        await this.serial.run([networkKey(ep.networkId), containerKey(containerId)], async () => this.leaveNow(ep.id, { sandboxGoing: true }));
      }
    })();
    await Promise.all([this.traffic.unpublish(containerId), leaves]);
    await this.serial.run([containerKey(containerId)], async () => this.sandboxes.remove(containerId));
  }

  /**
   * After a restart: containers not in `alive` lose their endpoints and namespaces;
   * namespace files nobody owns are removed.
   */
  async reconcileSandboxes(alive: ReadonlySet<string>): Promise<void> {
    // A dead container with no endpoint (--network none) still has its sandbox on record.
    const owners = [...[...this.endpoints.values()].map((e) => e.containerId), ...this.sandboxes.owners()];
    for (const id of new Set(owners.filter((o) => !alive.has(o)))) await this.removeSandbox(id);
    await this.sandboxes.sweep(alive);
    await this.traffic.start((id) => alive.has(id));
  }

  /**
   * For running containers after a restart: wire again every endpoint whose host side
   * is missing or half made (a crash between a join's two steps leaves the veth outside
   * its bridge), same addresses. One link listing for all of them.
   */
  async repairEndpoints(containerIds: readonly string[]): Promise<void> {
    const links = new Map((await this.kernel.links.list()).map((l) => [l.name, l]));
    for (const ep of containerIds.flatMap((id) => this.endpointsOf(id))) {
      const net = this.networks.get(ep.networkId) ?? this.scope?.get(ep.networkId);
      if (!ep.hostIfName || !net?.driver.planJoin) continue;
      const link = links.get(ep.hostIfName);
      if (link && (net.driver.hostSideWired?.(link) ?? true)) continue;
      const planJoin = net.driver.planJoin;
      await this.serial.run([networkKey(ep.networkId), containerKey(ep.containerId)], async () => {
        const sandbox = this.sandboxPath(ep.containerId);
        await this.kernel.sandboxes.undo(net.driver.planLeave?.(ep).steps ?? [], sandbox);
        await this.kernel.sandboxes.apply(planJoin(ep, sandbox).steps, sandbox);
      });
    }
  }

  /**
   * Publish a container's ports on its gateway endpoint of a bridge network (Docker
   * publishes through the network that gives the default route). Returns the allocated
   * mappings; none when the container has no such endpoint (host, none, internal).
   */
  async publish(containerId: string, requests: readonly PortSpec[]): Promise<PortSpec[]> {
    const ep = this.endpointsOf(containerId).find((e) => e.gateway && this.networks.get(e.networkId)?.driver.firewall);
    if (!ep || requests.length === 0) return [];
    const net = this.networks.get(ep.networkId)!;
    return this.traffic.publish(ep, requests, net.driver.hostBindingIpv4 ?? '0.0.0.0').catch((e: unknown) => {
      // libnetwork's words, and its kind: an internal error (500), the cause kept in the text.
      throw systemError(`driver failed programming external connectivity on endpoint ${ep.name} (${ep.id}): ${messageOf(e)}`);
    });
  }

  /** The allocated mappings of a running container. */
  publishedPorts(containerId: string): PortSpec[] {
    return this.traffic.mappingsOf(containerId);
  }

  /** Rewrite the firewall from the model (after someone flushed the ruleset). */
  async resyncFirewall(): Promise<void> {
    return this.traffic.sync();
  }

  async close(): Promise<void> {
    await this.traffic.close();
    await this.sandboxes.close();
    await this.kernel.links.retiredGone();
  }

  /** A network event with dockerd's attributes (LogNetworkEventWithAttributes): the network's name and driver. */
  private event(action: string, record: NetworkRecord, attributes: Record<string, string> = {}): void {
    (this.config.events ?? NO_EVENTS).emit('network', action, record.id, { ...attributes, name: record.name, type: record.driver });
  }

  private async add(req: CreateNetworkRequest, predefined: boolean): Promise<Network> {
    if (!predefined && [...PREDEFINED_NETWORKS, 'default'].includes(req.name)) {
      throw forbidden(`operation is not permitted on predefined ${req.name} network `);
    }
    if (!predefined && this.drivers.lookup(req.driver)?.capabilities.singleton) {
      throw forbidden(`only one instance of "${req.driver}" network is allowed`);
    }
    if ([...this.networks.values(), ...(this.scope?.all() ?? [])].some((n) => n.record.name === req.name)) {
      throw conflict(`network with name ${req.name} already exists`);
    }
    const driver = this.drivers.get(req.driver);
    const pools = driver.capabilities.usesIpam ? await poolsFor(this.kernel, req, [...this.networks.values()], this.config.addressPools) : [];
    const record: NetworkRecord = {
      id: newId() as NetworkId,
      name: req.name,
      driver: req.driver,
      created: nowRfc3339(),
      internal: req.internal,
      attachable: req.attachable,
      ingress: req.ingress,
      enableIPv6: req.enableIPv6,
      ipam: { driver: req.ipamDriver, options: req.ipamOptions, pools },
      options: req.options,
      labels: req.labels,
      predefined,
    };
    const handle = driver.validate(record);
    this.checkKernelNamesFree(handle);
    const fw = handle.firewall;
    try {
      // The bridge and the rules naming it are independent: make them together.
      await allOrFirstError([handle.ensure(!predefined), fw ? this.traffic.networkAdded(fw) : undefined]);
      if (fw) await this.traffic.bridgeReady(fw);
      await this.store.commit([NETWORKS.put(record.id, record)]);
    } catch (e: unknown) {
      if (handle.firewall) this.traffic.networkRemoved(handle.firewall);
      await handle.remove().catch((re: unknown) => this.config.log(`rollback of ${req.name} failed: ${String(re)}`));
      throw e;
    }
    const net = { record, driver: handle, capabilities: driver.capabilities };
    this.networks.set(record.id, net);
    return net;
  }

  /** A stored record with its driver's handle (its options validated again). */
  private validated(record: NetworkRecord): Network {
    const driver = this.drivers.get(record.driver);
    return { record, driver: driver.validate(record), capabilities: driver.capabilities };
  }

  private checkKernelNamesFree(handle: DriverNetwork): void {
    for (const n of this.networks.values()) {
      const clash = n.driver.kernelNames.find((k) => handle.kernelNames.includes(k));
      if (clash) throw conflict(`bridge name ${clash} is already in use by network ${n.record.name}`);
    }
  }
}

/** Wait for every task (undefined: none); then fail with the first failure, if any. */
async function allOrFirstError(tasks: readonly (Promise<void> | undefined)[]): Promise<void> {
  const results = await Promise.allSettled(tasks.filter((t): t is Promise<void> => t !== undefined));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
