/**
 * The contract between the controller and a network driver. A driver validates a
 * network's raw options once into its own typed configuration (private to the
 * driver) and hands back a handle whose methods only read that configuration.
 */
import type { LinkInfo } from '../../kernel/links.js';
import type { Kernel } from '../../kernel/port.js';
import type { PlanStep } from '../../kernel/wiring.js';
import type { FwNetwork } from '../firewall/model.js';
import type { CreateNetworkRequest, EndpointRecord, NetworkRecord } from '../model.js';
import type { RemoteEndpoint, SwarmPlace } from '../shared.js';

/** What a driver gets from the daemon when it is built. */
export interface DriverContext {
  /** The host's swarm underlay, while it is in a swarm (overlay networks need it). */
  swarm?: () => SwarmPlace | undefined;
  /** The kernel drivers make and remove their objects in (the real one, or a unit test's fake). */
  kernel: Kernel;
  /** The kernel bridge for the default network (berth0, or -b). */
  defaultBridge: { name: string; external: boolean };
  /** MTU used when a network does not set com.docker.network.driver.mtu. */
  defaultMtu: number;
  /** Warnings about kernel work that goes on after an operation returned. */
  log: (message: string) => void;
  /** This host's endpoints on a network: each container's sandbox and its interface there (shared networks' peers touch their routes). */
  localEndpoints?: (networkId: string) => readonly { sandbox: string; ifName: string }[];
}

/**
 * What differs between drivers, as data: the rest of the daemon asks these, never a
 * driver's name (a test holds that line), so a new driver touches only its own folder
 * and the registry.
 */
export interface DriverCapabilities {
  /** As inspect shows it: 'local' networks live on one host, 'swarm' ones across a cluster. */
  readonly scope: 'local' | 'swarm';
  /** Networks take IPAM subnets (bridge, macvlan: yes; host, null: no). */
  readonly usesIpam: boolean;
  /** Only the predefined network of this driver exists ("host", "none"); another is refused. */
  readonly singleton: boolean;
  /** Endpoints get an interface of their own, with addresses and a MAC (not host's, not null's). */
  readonly endpointInterface: boolean;
  /** Published ports are reported for its endpoints (docker port, inspect's Ports): Docker's bridge only. */
  readonly reportsPorts: boolean;
  /** Inspect's EnableIPv4 of a network without subnets (the host's network carries IPv4; none does not). */
  readonly ipv4WithoutSubnets: boolean;
  /** Its endpoint is the daemon's own namespace: a container of host mode is on it and cannot leave it. */
  readonly hostNamespace: boolean;
  /**
   * Docker's refusal when a container is connected to a network of this driver, or a
   * container on one is connected to another; undefined: connect is allowed.
   */
  readonly connectRefusal?: string;
  /** Its endpoints can carry the container's default route (an overlay's cannot). */
  readonly routesOut: boolean;
  /** A container on it reaches the outside through docker_gwbridge (Docker's overlay). */
  readonly gatewayBridge: boolean;
  /**
   * Its endpoints have a link of their own in the host's namespace, the host end of a veth
   * pair (named in the endpoint record, repaired after a restart if it is missing); a
   * macvlan or ipvlan endpoint, an overlay's included, is born in the sandbox and has none.
   */
  readonly hostSideLink: boolean;
}

/** The capabilities of an ordinary local network driver; each driver states how it differs. */
export const LOCAL_NETWORK: DriverCapabilities = {
  scope: 'local',
  usesIpam: true,
  singleton: false,
  endpointInterface: true,
  reportsPorts: false,
  ipv4WithoutSubnets: true,
  hostNamespace: false,
  routesOut: true,
  gatewayBridge: false,
  hostSideLink: true,
};

/** Whether a link berth marked belongs to another driver, whose networks may not be known yet: a sweep spares it. */
export type OtherDriversLinks = (name: string) => boolean;

export interface NetworkDriver {
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  /**
   * Validate the network's options and return its handle. Pure: no kernel work.
   * Called at create (before anything is stored) and for every stored network at
   * start. Throws InvalidParameter with Docker's wording for bad options.
   */
  validate(net: NetworkRecord): DriverNetwork;
  /**
   * Called once at start with every network of this driver: remove kernel objects
   * this driver made that belong to none of them (crash leftovers). Optional.
   */
  removeOrphans?(live: readonly DriverNetwork[], others: OtherDriversLinks): Promise<void>;
  /**
   * The names this driver's links take, when their networks may be unknown at start (a
   * swarm's, known once the node reaches its swarm): other drivers' sweeps spare them.
   */
  readonly linkNames?: RegExp;
  /**
   * Shared networks, whose links come only with their first endpoint: what the request
   * needs of this host's kernel, checked at create before anything is stored. Optional.
   */
  checkCreate?(req: CreateNetworkRequest): Promise<void>;
}

export interface DriverNetwork {
  /** Options as inspect shows them: the user's plus the ones the driver derived. */
  readonly displayOptions: Record<string, string>;
  /** Kernel names this network owns (e.g. its bridge), for orphan detection. */
  readonly kernelNames: readonly string[];
  /** What the firewall must do for this network (bridge networks); none for the others. */
  readonly firewall?: FwNetwork;
  /** Set when the network takes one endpoint at a time: the refusal a second one gets. */
  readonly oneEndpointOnly?: string;
  /** Default host address of published ports (com.docker.network.bridge.host_binding_ipv4). */
  readonly hostBindingIpv4?: string;
  /**
   * Make the kernel match the network. Idempotent: used by create and by reconcile.
   * `fresh`: the network was just created, so its objects are most likely absent (a
   * driver may then try to make them without looking first).
   */
  ensure(fresh?: boolean): Promise<void>;
  /** Remove the network's kernel objects. Idempotent: already gone is success. */
  remove(): Promise<void>;
  /**
   * The iproute2 commands that wire an endpoint into its sandbox, as data (the
   * controller runs them, fusing spawns). Pure. Undefined for drivers whose
   * endpoints have no interface (host, null). `sandbox` is the path of the sandbox's
   * namespace file, for host commands that send a link into it (`netns PATH`); it
   * exists once a sandbox step has run.
   */
  planJoin?(ep: EndpointRecord, sandbox: string): WiringPlan;
  /**
   * Sandbox commands that make this (already wired) endpoint the container's default
   * route, when the endpoint that had it leaves. Pure. Undefined: it cannot route out.
   */
  defaultRoute?(ep: EndpointRecord): string[];
  /** The commands that undo planJoin; each must succeed when the object is already gone. */
  planLeave?(ep: EndpointRecord): WiringPlan;
  /**
   * Whether an endpoint's host-side link, as the kernel has it, is fully wired (a join
   * cut short by a crash may have made it but not finished it). Pure. Default: it exists.
   */
  hostSideWired?(link: LinkInfo): boolean;
  /**
   * Shared networks: make this host's kernel know exactly these remote endpoints
   * (`replace`), or add them. Idempotent.
   */
  setPeers?(peers: readonly RemoteEndpoint[], replace?: boolean): Promise<void>;
  /** Shared networks: forget these remote endpoints. Idempotent. */
  dropPeers?(peers: readonly RemoteEndpoint[]): Promise<void>;
  /**
   * Shared networks whose traffic is encrypted: the VNI whose VXLAN the firewall marks
   * for the IPsec policies and refuses in cleartext.
   */
  readonly encryptedVni?: number;
  /**
   * Shared networks routed directly to hosts on the same underlay segment (their links
   * at the underlay's MTU: `berth doctor` judges them so).
   */
  readonly directRouted?: true;
}

/** Ordered steps of iproute2 batch commands, each run in the host or the sandbox namespace (kernel/wiring.ts). */
export interface WiringPlan {
  steps: PlanStep[];
}
