/**
 * Swarm-scope networks on the cluster store: what the network controller sees through
 * the SharedNetworks seam (network/shared.ts) while this node is in a swarm.
 *
 * Keys: networks/<id> (the record, its VNI among its options), network-names/<name> and
 * vni/<n> (taken once, in the same transaction as the record: two managers can never
 * give one name or VNI twice), ipam/<network>/<ip> (an address, taken in a transaction
 * that fails if another host has it), endpoints/<network>/<endpoint> (a host's endpoint,
 * bound to that host's lease: a host that dies takes its endpoints with it),
 * keys/network (the data path's keys for encrypted networks, made by the first manager).
 * Every node lists them and the nodes' addresses (nodes/<id>: the only VXLAN sources it
 * accepts), then follows the store from that revision, listing again until it can.
 */
import { randomBytes } from 'node:crypto';
import { conflict, forbidden, invalid, messageOf, notFound } from '../errors.js';
import { FIRST_VNI, MAX_VNI, parseVniList, vniInRange, VNI_OPTION } from '../network/drivers/overlay/config.js';
import { KEY_BYTES } from '../network/drivers/overlay/xfrm-plan.js';
import { allocate, allocateSubnet, cidrsOverlap, createPools, formatNetwork, parseCidr, predefinedPool, tryParseIp, type Cidr } from '../network/ipam/index.js';
import type { CreateNetworkRequest, EndpointAddress, EndpointRecord, EndpointService, NetworkId, NetworkRecord } from '../network/model.js';
import type { NetworkKey, RemoteChange, RemoteEndpoint, SharedListener, SharedNetworks } from '../network/shared.js';
import type { EtcdStore, WatchEvent } from '../store/etcd.js';
import type { Json } from '../store/kv.js';
import { ClusterServices } from './services/view.js';
import { NODES } from './stored.js';
import { newSwarmId } from './tokens.js';
import { relistUntilDone } from './relist.js';

const NOT_MANAGER = 'This node is not a swarm manager. Use "docker swarm init" or "docker swarm join" to connect this node to swarm and try again.';

export interface ClusterNetworksOptions {
  store: EtcdStore;
  nodeId: string;
  manager: boolean;
  /** This host's place on the underlay (the data path's keys come from the store). */
  local: Omit<SharedNetworks['local'], 'networkKeys'>;
  /** The swarm's address pools (--default-addr-pool) and subnet size. */
  pools: { bases: string[]; size: number };
  /** Puts a key bound to this node's lease. */
  putLeased(key: string, value: Json): Promise<void>;
  log: (m: string) => void;
}

export class ClusterNetworks implements SharedNetworks {
  private readonly records = new Map<string, NetworkRecord>();
  private readonly remote = new Map<string, RemoteEndpoint>();
  /** The data path's keys (encrypted networks), the primary first. */
  private keys: NetworkKey[] = [];
  /** Node ID -> its VTEP (its data-path address, else its advertise address). */
  private readonly nodes = new Map<string, string>();
  private readonly listeners = new Set<SharedListener>();
  private stopWatch: (() => Promise<void>) | undefined;
  private closed = false;
  /** The swarm's services, followed beside the networks (their VIPs and backends on them). */
  services: ClusterServices | undefined;

  private constructor(private readonly o: ClusterNetworksOptions) {}

  get local(): SharedNetworks['local'] {
    return { ...this.o.local, networkKeys: this.keys };
  }

  get manager(): boolean {
    return this.o.manager;
  }

  /** List what the store holds, then follow it; a manager makes the ingress network if the swarm has none. */
  static async open(o: ClusterNetworksOptions): Promise<ClusterNetworks> {
    const c = new ClusterNetworks(o);
    await c.relist();
    c.services = await ClusterServices.open(o.store, o.log);
    if (o.manager && c.keys.length === 0) await c.makeKeys();
    if (o.manager && ![...c.records.values()].some((r) => r.ingress)) {
      await c.make({ ...INGRESS, subnets: [] }, true).catch((e: unknown) => o.log(`swarm: ingress network: ${messageOf(e)}`));
    }
    return c;
  }

  /** Everything again, then a watch from that revision; a watch that cannot resume starts this over. */
  private async relist(): Promise<void> {
    const stop = this.stopWatch;
    this.stopWatch = undefined;
    await stop?.().catch(() => undefined);
    const rev = await this.o.store.revision();
    const nets = await this.o.store.list('networks/');
    this.records.clear();
    for (const v of nets.values()) {
      const r = v as unknown as NetworkRecord;
      this.records.set(r.id, r);
    }
    const before = new Map(this.remote);
    this.remote.clear();
    for (const [key, v] of await this.o.store.list('endpoints/')) this.takeEndpoint(key, v);
    this.nodes.clear();
    for (const [key, v] of await this.o.store.list(NODES.kind.prefix)) this.takeNode(key, v);
    this.keys = readKeys(await this.o.store.get(KEYS));
    this.stopWatch = await this.o.store.watch('', rev, (e) => this.apply(e), (e) => {
      this.o.log(`swarm: the store's watch ended (${messageOf(e)}); listing again`);
      void relistUntilDone('swarm: relist', async () => this.relist(), () => this.closed, (m) => this.o.log(m));
    });
    this.notify({ networksChanged: true, membersChanged: true });
    for (const [id, ep] of before) if (!this.remote.has(id)) this.notify({ remote: { kind: 'removed', endpoint: ep } });
    for (const [id, ep] of this.remote) if (!before.has(id)) this.notify({ remote: { kind: 'added', endpoint: ep } });
  }

  private apply(e: WatchEvent): void {
    if (e.key === KEYS) {
      this.keys = e.kind === 'put' ? readKeys(e.value) : [];
    } else if (e.key.startsWith(NODES.kind.prefix)) {
      const before = this.members().join();
      if (e.kind === 'put') this.takeNode(e.key, e.value);
      else this.nodes.delete(e.key.slice(NODES.kind.prefix.length));
      if (this.members().join() !== before) this.notify({ membersChanged: true });
    } else if (e.key.startsWith('networks/')) {
      if (e.kind === 'put') this.records.set((e.value as unknown as NetworkRecord).id, e.value as unknown as NetworkRecord);
      else this.records.delete(e.key.slice('networks/'.length));
      this.notify({ networksChanged: true });
    } else if (e.key.startsWith('endpoints/')) {
      const id = e.key.split('/')[2] ?? '';
      if (e.kind === 'put') {
        const ep = this.takeEndpoint(e.key, e.value);
        if (ep) this.notify({ remote: { kind: 'added', endpoint: ep } });
      } else {
        const ep = this.remote.get(id);
        this.remote.delete(id);
        if (ep) this.notify({ remote: { kind: 'removed', endpoint: ep } });
      }
    }
  }

  /** The swarm's first data-path key (a manager makes it if the swarm has none; two managers racing keep the first). */
  private async makeKeys(): Promise<void> {
    const keys: NetworkKey[] = [{ key: randomBytes(KEY_BYTES).toString('hex'), tag: 1 }];
    try {
      await this.o.store.commitIf([KEYS], [{ put: KEYS, value: { keys } as unknown as Json }]);
      this.keys = keys;
    } catch {
      this.keys = readKeys(await this.o.store.get(KEYS));
    }
  }

  /** A stored endpoint of another node, kept; this node's own are not remote. */
  private takeEndpoint(key: string, v: Json): RemoteEndpoint | undefined {
    const ep = v as unknown as RemoteEndpoint & { nodeId: string };
    if (ep.nodeId === this.o.nodeId) return undefined;
    const remote: RemoteEndpoint = { networkId: ep.networkId, endpointId: ep.endpointId, containerId: ep.containerId, name: ep.name, aliases: ep.aliases, ipv4: ep.ipv4, mac: ep.mac, node: ep.node, ...(ep.tunnelOnly === true ? { tunnelOnly: true } : {}), ...(ep.service ? { service: serviceTag(ep.service) } : {}) };
    this.remote.set(key.split('/')[2] ?? ep.endpointId, remote);
    return remote;
  }

  /** A node record's address, kept (a record that does not read as one is logged and skipped). */
  private takeNode(key: string, v: Json): void {
    try {
      const node = NODES.kind.check(v);
      // Its VTEP: where its VXLAN comes from.
      const vtep = node.dataPathAddr !== undefined && tryParseIp(node.dataPathAddr) !== undefined ? node.dataPathAddr : node.addr;
      if (vtep !== '') this.nodes.set(key.slice(NODES.kind.prefix.length), vtep);
    } catch (e: unknown) {
      this.o.log(`swarm: ${key}: ${messageOf(e)}`);
    }
  }

  private notify(what: { networksChanged?: boolean; remote?: RemoteChange; membersChanged?: boolean }): void {
    for (const l of this.listeners) {
      try {
        if (what.membersChanged) l.membersChanged?.();
        if (what.networksChanged) l.networksChanged();
        if (what.remote) l.remoteChanged(what.remote);
      } catch (e: unknown) {
        this.o.log(`swarm: ${messageOf(e)}`);
      }
    }
  }

  networks(): NetworkRecord[] {
    return [...this.records.values()].sort((a, b) => (a.created < b.created ? -1 : 1));
  }

  watch(listener: SharedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  members(): string[] {
    return [...new Set(this.nodes.values())].sort();
  }

  remoteEndpoints(): RemoteEndpoint[] {
    return [...this.remote.values()];
  }

  async create(req: CreateNetworkRequest, check: (record: NetworkRecord) => void): Promise<NetworkRecord> {
    if (!this.o.manager) throw forbidden(NOT_MANAGER);
    if (req.ingress) throw forbidden('berth makes the ingress network itself: it cannot be made by hand');
    return this.make(req, false, check);
  }

  /**
   * A new swarm network: its subnet from the swarm's pools (or as asked), the lowest free
   * VNI (or the one asked), all in one transaction, once `check` accepts the record.
   */
  private async make(req: CreateNetworkRequest, ingress: boolean, check: (record: NetworkRecord) => void = () => undefined): Promise<NetworkRecord> {
    if ([...this.records.values()].some((r) => r.name === req.name)) throw conflict(`network with name ${req.name} already exists`);
    if (req.enableIPv6) throw invalid('berth overlay networks are IPv4 only');
    const taken = [...this.records.values()].flatMap((r) => r.ipam.pools.map((p) => parseCidr(p.subnet)));
    const subnets = req.subnets.filter((s) => s.subnet !== undefined);
    const chosen: { subnet: string; gateway?: string; ipRange?: string; auxAddresses: Record<string, string> }[] =
      subnets.length > 0
        ? subnets.map((s) => ({ subnet: s.subnet!, ...(s.gateway ? { gateway: s.gateway } : {}), ...(s.ipRange ? { ipRange: s.ipRange } : {}), auxAddresses: s.auxAddresses }))
        : [{ subnet: formatNetwork(this.freeSubnet(taken)), auxAddresses: {} }];
    const pools = createPools(chosen);
    for (const p of pools) if (taken.some((t) => cidrsOverlap(t, parseCidr(p.subnet)))) throw forbidden(`invalid pool request: Pool overlaps with other one on this address space`);
    // One VXLAN per network: the first VNI asked (Docker's is per subnet), checked as Docker's allocator does.
    const asked = req.options[VNI_OPTION] === undefined ? undefined : parseVniList(req.options[VNI_OPTION])[0];
    const refused = (why: string): string => `could not assign vxlan id ${asked} to pool ${pools[0]?.subnet ?? ''}: ${why}`;
    if (asked !== undefined && !vniInRange(asked)) throw invalid(refused('bit does not belong to the sequence'));
    for (let attempt = 0; attempt < 16; attempt++) {
      const vni = asked ?? this.freeVni(ingress);
      const record: NetworkRecord = {
        id: newSwarmId() as NetworkId,
        name: req.name,
        driver: 'overlay',
        created: new Date().toISOString(),
        internal: req.internal,
        attachable: req.attachable,
        ingress,
        enableIPv6: false,
        ipam: { driver: req.ipamDriver, options: req.ipamOptions, pools },
        options: { ...req.options, [VNI_OPTION]: String(vni) },
        labels: req.labels,
        predefined: false,
      };
      check(record);
      try {
        await this.o.store.commitIf([`network-names/${req.name}`, `vni/${vni}`], [
          { put: `network-names/${req.name}`, value: record.id },
          { put: `vni/${vni}`, value: record.id },
          { put: `networks/${record.id}`, value: record as unknown as Json },
        ]);
        this.records.set(record.id, record);
        return record;
      } catch (e: unknown) {
        if (await this.o.store.get(`network-names/${req.name}`)) throw conflict(`network with name ${req.name} already exists`);
        if (asked !== undefined) throw conflict(refused('requested bit is already allocated'));
        if (attempt === 15) throw e;
        await this.relist();
      }
    }
    throw conflict('could not allocate a VXLAN ID');
  }

  private freeSubnet(taken: readonly Cidr[]): Cidr {
    return allocateSubnet(this.o.pools.bases.map((b) => predefinedPool(b, this.o.pools.size)), taken, 4);
  }

  /** The ingress network takes 4096; the others the lowest free above. */
  private freeVni(ingress: boolean): number {
    const used = new Set([...this.records.values()].map((r) => Number(r.options[VNI_OPTION])));
    for (let v = ingress ? FIRST_VNI : FIRST_VNI + 1; v <= MAX_VNI; v++) if (!used.has(v)) return v;
    throw conflict('no VXLAN ID is free');
  }

  async remove(id: string): Promise<void> {
    if (!this.o.manager) throw forbidden(NOT_MANAGER);
    const r = this.records.get(id);
    if (!r) throw notFound(`network ${id} not found`);
    const eps = await this.o.store.list(`endpoints/${id}/`);
    if (eps.size > 0) throw forbidden(`error while removing network: network ${r.name} id ${r.id} has active endpoints`);
    const ips = await this.o.store.list(`ipam/${id}/`);
    await this.o.store.commit([
      { del: `networks/${id}` },
      { del: `network-names/${r.name}` },
      { del: `vni/${r.options[VNI_OPTION] ?? ''}` },
      ...[...ips.keys()].map((k) => ({ del: k })),
    ]);
    this.records.delete(id);
  }

  async claimAddress(net: NetworkRecord, requested: string | undefined, containerId: string): Promise<EndpointAddress> {
    const pool = net.ipam.pools.find((p) => !p.subnet.includes(':'));
    if (!pool) throw invalid(`network ${net.name} has no IPv4 subnet`);
    const taken = new Set((await this.o.store.list(`ipam/${net.id}/`)).keys());
    const prefixLen = parseCidr(pool.subnet).prefix;
    for (let attempt = 0; attempt < 64; attempt++) {
      const allocated = [...taken].map((k) => k.slice(`ipam/${net.id}/`.length)).sort();
      const { address } = allocate({ ...pool, allocated }, requested);
      const key = addressKey(net.id, address);
      try {
        await this.o.store.commitIf([key], [{ put: key, value: { node: this.o.nodeId, container: containerId } }]);
        return { address, prefixLen, gateway: pool.gateway };
      } catch (e: unknown) {
        if (requested !== undefined) throw conflict(`Address already in use`);
        if (!/already taken/.test(messageOf(e))) throw e;
        taken.add(key);
      }
    }
    throw conflict(`could not find an available IP on network ${net.name}`);
  }

  async releaseAddress(net: NetworkRecord, address: string): Promise<void> {
    await this.o.store.commit([{ del: addressKey(net.id, address) }]);
  }

  /**
   * This node's claims that no local endpoint holds any more (a container gone while
   * berthd was down). A service's virtual IPs are no endpoint's: they stay.
   */
  async releaseStale(kept: ReadonlySet<string>): Promise<void> {
    const stale: string[] = [];
    for (const [key, v] of await this.o.store.list('ipam/')) {
      const claim = v as { node?: string; container?: string };
      if (claim.node === this.o.nodeId && !kept.has(key) && !claim.container?.startsWith(VIP_HOLDER)) stale.push(key);
    }
    if (stale.length > 0) await this.o.store.commit(stale.map((k) => ({ del: k })));
  }

  async publish(ep: EndpointRecord): Promise<void> {
    if (!ep.ipv4 || !ep.mac) return;
    await this.o.putLeased(`endpoints/${ep.networkId}/${ep.id}`, {
      networkId: ep.networkId,
      endpointId: ep.id,
      containerId: ep.containerId,
      name: ep.name,
      aliases: ep.aliases,
      ipv4: ep.ipv4.address,
      mac: ep.mac,
      node: this.o.local.addr,
      ...(this.o.local.dataPathNetns ? { tunnelOnly: true } : {}),
      nodeId: this.o.nodeId,
      ...(ep.service ? { service: serviceTag(ep.service) as unknown as Json } : {}),
    });
  }

  async withdraw(ep: EndpointRecord): Promise<void> {
    await this.o.store.commit([{ del: `endpoints/${ep.networkId}/${ep.id}` }]);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    await this.stopWatch?.();
    await this.services?.close();
  }
}

/** ipam/<network>/<address>: an address taken on a shared network. */
export function addressKey(networkId: string, address: string): string {
  return `ipam/${networkId}/${address}`;
}

/** What a service's virtual IP claim names as its holder (`service:<id>`), so no sweep takes it for a lost container's. */
export const VIP_HOLDER = 'service:';

/** An endpoint's service as published: only its known fields. */
function serviceTag(s: EndpointService): EndpointService {
  return { id: s.id, name: s.name, ...(s.taskId ? { taskId: s.taskId } : {}) };
}

/** keys/network: the data path's keys, `{ keys: [{ key, tag }] }`, the primary first. */
const KEYS = 'keys/network';

function readKeys(v: Json | undefined): NetworkKey[] {
  const keys = (v as { keys?: unknown } | undefined)?.keys;
  if (!Array.isArray(keys)) return [];
  return keys.filter((k): k is NetworkKey => typeof (k as NetworkKey).key === 'string' && typeof (k as NetworkKey).tag === 'number');
}

/** Docker's ingress network, made with the swarm. */
const INGRESS: Omit<CreateNetworkRequest, 'subnets'> = {
  name: 'ingress',
  driver: 'overlay',
  internal: false,
  attachable: false,
  ingress: true,
  enableIPv6: false,
  ipamDriver: 'default',
  ipamOptions: null,
  options: {},
  labels: {},
};
