/**
 * The controller's side of shared (swarm-scope) networks while the node is in a swarm:
 * the shared networks validated by their driver, which of them this host instantiates
 * (those with a local endpoint: their links exist here and know the other hosts'
 * endpoints), and after an attach the repair of what a restart left: instances remade,
 * orphan links swept, this host's endpoints published again, addresses it no longer
 * holds given back.
 */
import { messageOf } from '../errors.js';
import { Serial } from '../util/serial.js';
import type { Network } from './network.js';
import type { FwUnderlay } from './firewall/model.js';
import type { EndpointRecord, NetworkId, NetworkRecord } from './model.js';
import type { RemoteChange, RemoteEndpoint, SharedNetworks } from './shared.js';

export interface SwarmScopeDeps {
  /** A shared network's record with its driver's handle. */
  validate(record: NetworkRecord): Network;
  /** This host's endpoints on a network. */
  localEndpoints(networkId: NetworkId): EndpointRecord[];
  /** Sweep the links of shared networks this host no longer instantiates (the overlay driver's orphans). */
  sweep(live: readonly Network[]): Promise<void>;
  /** The swarm's nodes or networks changed: the firewall's VXLAN guard follows. */
  underlayChanged(): void;
  /**
   * Hears of another host's endpoint once this host's kernel reaches it, and of one gone
   * before the kernel forgets it: what the DNS follows, so that a name never resolves
   * before its address answers (a first ARP that finds no neighbour entry is asked
   * again only a second later).
   */
  reachable?: (c: RemoteChange) => void;
  /**
   * Another host's endpoint is about to leave this host's kernel: what must stop sending to
   * it first (the services' VIPs and routing mesh) does, before its FDB and neighbour
   * entries go, so no new connection is balanced to an address that no longer answers.
   */
  draining?: (c: RemoteChange) => Promise<void>;
  log: (m: string) => void;
}

export class SwarmScope {
  private readonly nets = new Map<NetworkId, Network>();
  /**
   * The networks this host has an instance of (from the start of its making to its
   * removal), with the handle that made it and the queue its kernel changes go through:
   * a remote endpoint that arrives while the instance is being made is applied after the
   * full listing, not lost, and a removal never overtakes an addition.
   */
  private readonly live = new Map<NetworkId, { net: Network; queue: Serial }>();
  private readonly unwatch: () => void;
  /** Networks this host keeps an instance of without a container on them (the ingress network: the node's own endpoint there). */
  private readonly pinned = new Set<NetworkId>();
  /** Per remote endpoint, how many changes were heard: a removal waiting to drain is dropped only if none came after it. */
  private readonly changeSeq = new Map<string, number>();

  constructor(
    readonly shared: SharedNetworks,
    private readonly deps: SwarmScopeDeps,
    /** The pins of the scope this one replaces (a reconnect): their instances are kept, not swept. */
    pinned: Iterable<NetworkId> = [],
  ) {
    for (const id of pinned) this.pinned.add(id);
    this.refresh();
    this.unwatch = shared.watch({
      networksChanged: () => {
        this.refresh();
        deps.underlayChanged();
      },
      membersChanged: () => deps.underlayChanged(),
      remoteChanged: (c) => this.remoteChanged(c),
    });
  }

  private refresh(): void {
    const seen = new Set<NetworkId>();
    for (const r of this.shared.networks()) {
      seen.add(r.id);
      const known = this.nets.get(r.id);
      if (known && JSON.stringify(known.record) === JSON.stringify(r)) continue;
      try {
        this.nets.set(r.id, this.deps.validate(r));
      } catch (e: unknown) {
        this.deps.log(`swarm network ${r.name}: ${messageOf(e)}`);
      }
    }
    for (const id of this.nets.keys()) if (!seen.has(id)) this.nets.delete(id);
  }

  get(id: string): Network | undefined {
    return this.nets.get(id as NetworkId);
  }

  all(): Network[] {
    return [...this.nets.values()];
  }

  /** What `network ls` shows: a manager every shared network; a worker those it instantiates, and ingress. */
  visible(): Network[] {
    return this.all().filter((n) => this.shared.manager || n.record.ingress || this.instantiated(n));
  }

  /** Whether this host has (or is making) its instance of the network. */
  instantiated(n: Network): boolean {
    return this.live.has(n.record.id);
  }

  /** The first local endpoint is coming: this host's links for the network, knowing every remote endpoint. */
  async instantiate(n: Network): Promise<void> {
    const instance = { net: n, queue: new Serial() };
    this.live.set(n.record.id, instance);
    await instance.queue.run(async () => {
      await n.driver.ensure();
      await n.driver.setPeers?.(this.remoteOn(n.record.id), true);
    });
  }

  /** The networks pinned here. */
  pins(): NetworkId[] {
    return [...this.pinned];
  }

  /** Keep this host's instance of a network whether or not a container is on it; made now if missing. Idempotent. */
  async pin(n: Network): Promise<void> {
    this.pinned.add(n.record.id);
    if (!this.instantiated(n)) await this.instantiate(n);
  }

  /** No longer kept for its own sake: the instance goes unless a local container is on the network. Idempotent. */
  async unpin(n: Network): Promise<void> {
    this.pinned.delete(n.record.id);
    if (this.deps.localEndpoints(n.record.id).length === 0) await this.release(n);
  }

  /** The last local endpoint went (or the first never came): this host's instance goes, unless pinned. Idempotent. */
  async release(n: Network): Promise<void> {
    const instance = this.live.get(n.record.id);
    if (!instance || this.pinned.has(n.record.id)) return;
    this.live.delete(n.record.id);
    await instance.queue.run(async () => instance.net.driver.remove());
  }

  private remoteOn(networkId: string): RemoteEndpoint[] {
    return this.shared.remoteEndpoints().filter((e) => e.networkId === networkId);
  }

  private remoteChanged(c: RemoteChange): void {
    const told = (): void => this.deps.reachable?.(c);
    const key = c.endpoint.endpointId;
    const seq = (this.changeSeq.get(key) ?? 0) + 1;
    this.changeSeq.set(key, seq);
    if (c.kind === 'removed') {
      told();
      void this.drainThenDrop(c, seq);
      return;
    }
    const instance = this.live.get(c.endpoint.networkId as NetworkId);
    if (!instance) return told();
    const applied = instance.queue.run(async () => instance.net.driver.setPeers?.([c.endpoint])).catch((e: unknown) => this.deps.log(`overlay peers: ${messageOf(e)}`));
    void applied.then(told);
  }

  /**
   * A remote endpoint's entries go only once what sends to it has let go (`draining`),
   * awaited outside the network's queue: draining may itself wait on that queue (the
   * balancer making or dropping the node's ingress endpoint). An endpoint that came back
   * meanwhile keeps its entries.
   */
  private async drainThenDrop(c: RemoteChange, seq: number): Promise<void> {
    const key = c.endpoint.endpointId;
    await this.deps.draining?.(c).catch((e: unknown) => this.deps.log(`draining ${c.endpoint.name}: ${messageOf(e)}`));
    if (this.changeSeq.get(key) !== seq) return;
    this.changeSeq.delete(key);
    const instance = this.live.get(c.endpoint.networkId as NetworkId);
    await instance?.queue.run(async () => instance.net.driver.dropPeers?.([c.endpoint])).catch((e: unknown) => this.deps.log(`overlay peers: ${messageOf(e)}`));
  }

  /**
   * After the node (re)connects: every shared network with local endpoints made and
   * programmed again, orphan links swept, local endpoints published (a restart dropped
   * them with the old lease), addresses no local endpoint holds given back.
   */
  async sync(local: readonly EndpointRecord[]): Promise<void> {
    const live = this.all().filter((n) => this.pinned.has(n.record.id) || this.deps.localEndpoints(n.record.id).length > 0);
    for (const n of live) await this.instantiate(n).catch((e: unknown) => this.deps.log(`swarm network ${n.record.name}: ${messageOf(e)}`));
    await this.deps.sweep(live);
    const mine = local.filter((e) => this.nets.has(e.networkId));
    for (const ep of mine) await this.shared.publish(ep).catch((e: unknown) => this.deps.log(`publishing ${ep.name}: ${messageOf(e)}`));
    await this.shared.releaseStale(new Set(mine.flatMap((e) => (e.ipv4 ? [`ipam/${e.networkId}/${e.ipv4.address}`] : []))));
  }

  /** The firewall's VXLAN guard for this swarm: its data-path port, its nodes, its encrypted networks' VNIs. */
  underlay(): FwUnderlay {
    const vnis = this.all().flatMap((n) => (n.driver.encryptedVni === undefined ? [] : [n.driver.encryptedVni]));
    const netns = this.shared.local.dataPathNetns;
    return { vxlanPorts: [this.shared.local.dataPathPort], members: this.shared.members(), encryptedVnis: [...new Set(vnis)].sort((a, b) => a - b), ...(netns ? { netns } : {}) };
  }

  close(): void {
    this.unwatch();
  }
}
