/**
 * Networks shared by the hosts of a swarm (Docker's swarm scope): their records, their
 * addresses and their endpoints live in the cluster store, so any host sees them and no
 * two hosts hand out one address. The network controller asks this seam for them while
 * the node is in a swarm (src/cluster/networks.ts implements it); a node outside a swarm
 * has none.
 */
import type { SharedServices } from './services/model.js';
import type { CreateNetworkRequest, EndpointAddress, EndpointRecord, EndpointService, NetworkRecord } from './model.js';

/** A key of the swarm's data path (encrypted overlay networks), as the cluster keeps it. */
export interface NetworkKey {
  /** 16 bytes (AES-128), hex. */
  key: string;
  /** Its tag (Docker: the Lamport time it was made at): it goes into the SPIs. */
  tag: number;
}

/** This host's place on a swarm's underlay. */
export interface SwarmPlace {
  /** Its VTEP: the address its VXLAN leaves from (the advertise address, or --data-path-addr). */
  addr: string;
  /** The namespace its VXLAN socket lives in, when not the host's (cluster/data-path.ts): its file and identity. */
  dataPathNetns?: { path: string; identity: string };
  dataPathPort: number;
  underlayMtu: number;
  /** The link VXLAN leaves by (direct routing's frames too). */
  underlayLink?: string;
  /** The underlay link's own subnet ("10.99.0.11/24"): hosts on it share its segment (direct routing). */
  underlaySubnet?: string;
  /** The swarm's keys for encrypted networks, the primary first (empty: none yet). */
  networkKeys: readonly NetworkKey[];
}

/** Another host's endpoint on a shared network, as this host programs its kernel and DNS for it. */
export interface RemoteEndpoint {
  networkId: string;
  endpointId: string;
  containerId: string;
  /** The container's name, its hostname and aliases (DNS). */
  name: string;
  aliases: string[];
  ipv4: string;
  mac: string;
  /** The host it lives on: its underlay address (the VTEP). */
  node: string;
  /** Its host's VTEP is in a namespace of its own (cluster/data-path.ts): reached over VXLAN only, never routed directly. */
  tunnelOnly?: boolean;
  /** A swarm task's endpoint: the service it is a backend of. */
  service?: EndpointService;
}

/** What changed among the remote endpoints. */
export type RemoteChange = { kind: 'added'; endpoint: RemoteEndpoint } | { kind: 'removed'; endpoint: RemoteEndpoint };

/** What hears of the shared networks' changes. */
export interface SharedListener {
  networksChanged(): void;
  remoteChanged(c: RemoteChange): void;
  /** The swarm's nodes (their addresses) changed: a join, a node removed. */
  membersChanged?(): void;
}

export interface SharedNetworks {
  /** This host's place on the underlay: its VTEP address, the VXLAN port, the underlay's MTU, the data path's keys. */
  readonly local: SwarmPlace;
  /** The swarm's services (their VIPs, names and ports), when the cluster keeps any. */
  readonly services?: SharedServices;
  /** Whether this node is a manager (it sees every shared network, and may create them). */
  readonly manager: boolean;
  /** Every shared network as the cluster holds it now. */
  networks(): NetworkRecord[];
  /**
   * Hear of changes: the set of shared networks (a create or rm on any manager) and the
   * other hosts' endpoints. Returns the way to stop hearing.
   */
  watch(listener: SharedListener): () => void;
  /**
   * Make a network cluster-wide: managers only (others get Docker's 403). `check` (the
   * driver's validation) sees the record first: what it refuses is never stored.
   */
  create(req: CreateNetworkRequest, check: (record: NetworkRecord) => void): Promise<NetworkRecord>;
  /** Remove a shared network; refused while any host has an endpoint on it. */
  remove(id: string): Promise<void>;
  /** Take an address on a shared network, the requested one or a free one; Conflict if another host has it. */
  claimAddress(net: NetworkRecord, requested: string | undefined, containerId: string): Promise<EndpointAddress>;
  /** Give an address back. Idempotent. */
  releaseAddress(net: NetworkRecord, address: string): Promise<void>;
  /** Tell the other hosts of this host's endpoint (bound to this host's lease: it goes if the host dies). */
  publish(ep: EndpointRecord): Promise<void>;
  /** Withdraw it. Idempotent. */
  withdraw(ep: EndpointRecord): Promise<void>;
  /** The underlay addresses of the swarm's nodes, this one's included: the only hosts whose VXLAN is accepted. */
  members(): string[];
  /** The other hosts' endpoints now. */
  remoteEndpoints(): RemoteEndpoint[];
  /** Give back this host's addresses that none of `kept` (ipam/<network>/<ip> keys) holds: after a restart. */
  releaseStale(kept: ReadonlySet<string>): Promise<void>;
}
