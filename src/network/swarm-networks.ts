/**
 * The swarm's shared networks on this node: attaching to them when the node joins or
 * reconnects (docker_gwbridge made, the VXLAN guard set, endpoints synced), a node's
 * endpoints on them, and their creation and removal: what the controller does for a
 * network of swarm scope. An address is
 * taken cluster-wide (no other host can hold it), this host's instance of the network is
 * made with its first endpoint and goes with its last, and every endpoint is told to the
 * other hosts. A join that fails leaves nothing, here or in the cluster.
 */
import { conflict, forbidden, messageOf, notFound } from '../errors.js';
import type { Kernel } from '../kernel/port.js';
import type { KvStore } from '../store/kv.js';
import type { KeyedSerial } from '../util/serial.js';
import type { Network } from './network.js';
import { buildEndpoint, checkJoinRequest } from './endpoints.js';
import type { CreateNetworkRequest, EndpointId, EndpointRecord, JoinRequest, NetworkId, NetworkRecord } from './model.js';
import type { Sandboxes } from './sandboxes.js';
import { ENDPOINTS } from './stored.js';
import { SwarmScope } from './swarm-scope.js';
import type { RemoteChange, SharedNetworks } from './shared.js';
import type { FwUnderlay } from './firewall/index.js';

/** Docker's bridge network for the outside traffic of containers on overlay networks. */
export const GWBRIDGE = 'docker_gwbridge';
const GWBRIDGE_REQUEST: CreateNetworkRequest = {
  name: GWBRIDGE,
  driver: 'bridge',
  internal: false,
  attachable: false,
  ingress: false,
  enableIPv6: false,
  ipamDriver: 'default',
  ipamOptions: null,
  subnets: [],
  options: { 'com.docker.network.bridge.name': GWBRIDGE, 'com.docker.network.bridge.enable_icc': 'false', 'com.docker.network.bridge.enable_ip_masquerade': 'true' },
  labels: {},
};

const NOT_SWARM_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

/** The serial keys of a network's and a container's work (the controller's). */
export const networkKey = (id: string): string => `network/${id}`;
export const containerKey = (id: string): string => `container/${id}`;

/** What the controller lends: its store, kernel, sandboxes, locks, endpoints and events. */
export interface SwarmNetworksDeps {
  store: KvStore;
  kernel: Kernel;
  sandboxes: Sandboxes;
  serial: KeyedSerial;
  /** The controller's endpoints, changed in place. */
  endpoints: Map<EndpointId, EndpointRecord>;
  /** Names of this node's local networks (a swarm network may not take one). */
  localNames(): string[];
  /** The driver's checks of a create request, before anything is stored. */
  checkCreate(req: CreateNetworkRequest): Promise<void>;
  validated(record: NetworkRecord): Network;
  endpointsOf(containerId: string): EndpointRecord[];
  endpointCount(id: NetworkId): number;
  sandboxPath(containerId: string): string;
  event(action: string, record: NetworkRecord, attributes?: Record<string, string>): void;
  endpointsOn(id: NetworkId): EndpointRecord[];
  /** A local network by name (docker_gwbridge). */
  localNetwork(name: string): Network | undefined;
  createLocal(req: CreateNetworkRequest): Promise<void>;
  removeLocal(id: NetworkId): Promise<void>;
  /** Sweep the overlay driver's links of networks this host no longer instantiates. */
  sweepOverlay(live: readonly Network[]): Promise<void>;
  /** The firewall's VXLAN guard follows the swarm's nodes (undefined: no swarm). */
  setUnderlay(u: FwUnderlay | undefined): Promise<void>;
  /** Containers' endpoints wired again where a crash left them loose. */
  repairEndpoints(containerIds: readonly string[]): Promise<void>;
  log(msg: string): void;
}

export class SwarmNetworks {
  /** The swarm's networks as this node sees them, while it is in a swarm. */
  scope: SwarmScope | undefined;
  /** Who follows the remote endpoints this host's kernel reaches (the DNS), across re-attaches. */
  private readonly reachableListeners = new Set<(c: RemoteChange) => void>();
  /** What stops sending to a remote endpoint before the kernel forgets it (SwarmScope's `draining`). */
  private readonly drainers = new Set<(c: RemoteChange) => Promise<void>>();

  constructor(private readonly deps: SwarmNetworksDeps) {}

  /** The node joined a swarm (or reconnected to it): its shared networks become the controller's too. */
  async attach(shared: SharedNetworks): Promise<void> {
    const previous = this.scope;
    previous?.close();
    const scope = (this.scope = new SwarmScope(shared, {
      validate: (r) => this.deps.validated(r),
      localEndpoints: (id) => this.deps.endpointsOn(id),
      sweep: async (live) => this.deps.sweepOverlay(live),
      underlayChanged: () => void this.deps.setUnderlay(scope.underlay()).catch((e: unknown) => this.deps.log(`firewall: the swarm's VXLAN guard: ${messageOf(e)}`)),
      reachable: (c) => this.reachableListeners.forEach((l) => l(c)),
      draining: async (c) => void (await Promise.all([...this.drainers].map(async (d) => d(c)))),
      log: this.deps.log,
    }, previous?.pins()));
    await this.deps.setUnderlay(scope.underlay());
    if (!this.deps.localNetwork(GWBRIDGE)) {
      await this.deps.createLocal(GWBRIDGE_REQUEST).catch((e: unknown) => this.deps.log(`${GWBRIDGE}: ${messageOf(e)}`));
    }
    await scope.sync([...this.deps.endpoints.values()]);
    // Containers that ran on while the daemon was away: their endpoints wired again where a crash left them loose.
    const onShared = [...this.deps.endpoints.values()].filter((e) => scope.get(e.networkId)).map((e) => e.containerId);
    await this.deps.repairEndpoints([...new Set(onShared)]).catch((e: unknown) => this.deps.log(`repairing endpoints on swarm networks: ${messageOf(e)}`));
  }

  /** `drain` runs, and is awaited, before a remote endpoint leaves this host's kernel; returns its removal. */
  onDraining(drain: (c: RemoteChange) => Promise<void>): () => void {
    this.drainers.add(drain);
    return () => this.drainers.delete(drain);
  }

  /**
   * `shared` as the DNS follows it: its networks and remote endpoints, but an added remote
   * endpoint heard of only once this host's kernel reaches it (SwarmScope's `reachable`).
   */
  reachableRemotes(shared: SharedNetworks): Pick<SharedNetworks, 'networks' | 'remoteEndpoints' | 'watch'> {
    return {
      networks: () => shared.networks(),
      remoteEndpoints: () => shared.remoteEndpoints(),
      watch: (listener) => {
        const stop = shared.watch({ networksChanged: () => listener.networksChanged(), remoteChanged: () => undefined });
        const relay = (c: RemoteChange): void => listener.remoteChanged(c);
        this.reachableListeners.add(relay);
        return () => {
          stop();
          this.reachableListeners.delete(relay);
        };
      },
    };
  }

  /**
   * The node is no longer connected to its swarm: its shared networks are gone from here
   * (their links with their last endpoints). `left`: it left the swarm for good, so the
   * firewall's VXLAN guard goes too (a daemon shutting down keeps it for its restart).
   */
  async detach(opts: { left?: boolean } = {}): Promise<void> {
    const scope = this.scope;
    this.scope = undefined;
    scope?.close();
    if (opts.left) await this.deps.setUnderlay(undefined);
    for (const n of scope?.all() ?? []) if (this.deps.endpointCount(n.record.id) === 0) await n.driver.remove().catch(() => undefined);
    const gw = this.deps.localNetwork(GWBRIDGE);
    if (gw && this.deps.endpointCount(gw.record.id) === 0) await this.deps.removeLocal(gw.record.id).catch((e: unknown) => this.deps.log(`${GWBRIDGE}: ${messageOf(e)}`));
  }


  async create(req: CreateNetworkRequest): Promise<Network> {
    const scope = this.scope;
    if (!scope) throw forbidden(NOT_SWARM_MANAGER);
    if (this.deps.localNames().includes(req.name)) throw conflict(`network with name ${req.name} already exists`);
    await this.deps.checkCreate(req);
    const record = await scope.shared.create(req, (r) => void this.deps.validated(r));
    const net = this.deps.validated(record);
    this.deps.event('create', record);
    return net;
  }

  async remove(id: string): Promise<void> {
    const scope = this.scope!;
    const net = scope.get(id)!;
    if (this.deps.endpointCount(net.record.id) > 0) {
      throw forbidden(`error while removing network: network ${net.record.name} id ${net.record.id} has active endpoints`);
    }
    await scope.shared.remove(id);
    await net.driver.remove().catch(() => undefined);
    this.deps.event('destroy', net.record);
  }

  /**
   * A container's endpoint on a shared network: the address taken cluster-wide (no other
   * host can have it), this host's instance of the network made if it is the first, the
   * endpoint stored, wired, and told to the other hosts. Failure leaves nothing.
   */
  async join(ref: string, id: NetworkId, req: JoinRequest): Promise<EndpointRecord> {
    const scope = this.scope!;
    return this.deps.serial.run([networkKey(id), containerKey(req.containerId)], async () => {
      const net = scope.get(id);
      if (!net) throw notFound(`network ${ref} not found`);
      if (!net.record.attachable && !req.task) throw forbidden(`Could not attach to network ${ref}: rpc error: code = PermissionDenied desc = network ${ref} not manually attachable`);
      const siblings = this.deps.endpointsOf(req.containerId);
      checkJoinRequest(net.record, req, siblings);
      const first = !scope.instantiated(net);
      if (first) await scope.instantiate(net);
      let claimed: string | undefined;
      let endpoint: EndpointRecord | undefined;
      const sandbox = await this.deps.sandboxes.claim(req.containerId, true);
      try {
        claimed = (await scope.shared.claimAddress(net.record, req.ipv4, req.containerId)).address;
        endpoint = buildEndpoint(net.record, { ...req, ipv4: claimed }, siblings, net.capabilities).endpoint;
        await this.deps.store.commit([ENDPOINTS.put(endpoint.id, endpoint)]);
        this.deps.endpoints.set(endpoint.id, endpoint);
        await this.deps.kernel.sandboxes.apply(net.driver.planJoin!(endpoint, sandbox).steps, sandbox);
        await scope.shared.publish(endpoint);
      } catch (e: unknown) {
        const undo = (what: string) => (u: unknown) => this.deps.log(`undoing a join of ${net.record.name}: ${what}: ${messageOf(u)}`);
        if (endpoint) {
          await this.deps.kernel.sandboxes.undo(net.driver.planLeave?.(endpoint).steps ?? [], sandbox).catch(undo('links'));
          await scope.shared.withdraw(endpoint).catch(undo('publication'));
          await this.deps.store.commit([ENDPOINTS.del(endpoint.id)]).catch(undo('record'));
          this.deps.endpoints.delete(endpoint.id);
        }
        if (claimed) await scope.shared.releaseAddress(net.record, claimed).catch(undo('address'));
        if (first) await scope.release(net).catch(undo('network links'));
        throw e;
      }
      this.deps.event('connect', net.record, { container: req.containerId });
      return endpoint;
    });
  }

  /** Leave a shared network: unwired, withdrawn from the other hosts, its address given back; the last one takes this host's instance. */
  async leave(net: Network, ep: EndpointRecord, opts: { sandboxGoing?: boolean }): Promise<void> {
    const scope = this.scope!;
    const log = (what: string) => (e: unknown) => this.deps.log(`leaving ${net.record.name}: ${what}: ${messageOf(e)}`);
    await scope.shared.withdraw(ep).catch(log('publication'));
    if (opts.sandboxGoing && ep.hostIfName) await this.deps.kernel.links.retire(ep.hostIfName, log('link'));
    else await this.deps.kernel.sandboxes.undo(net.driver.planLeave?.(ep).steps ?? [], this.deps.sandboxPath(ep.containerId)).catch(log('links'));
    await this.deps.store.commit([ENDPOINTS.del(ep.id)]);
    this.deps.endpoints.delete(ep.id);
    if (ep.ipv4) await scope.shared.releaseAddress(net.record, ep.ipv4.address).catch(log('address'));
    if (this.deps.endpointCount(net.record.id) === 0) await scope.release(net).catch(log('network links'));
    this.deps.event('disconnect', net.record, { container: ep.containerId });
  }
}
