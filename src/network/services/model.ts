/**
 * Swarm services as the network layer sees them: what each node needs to balance a
 * service's virtual IPs and answer its names. The cluster keeps the services
 * (src/cluster/services/view.ts follows them into this seam); the endpoints of the
 * services' tasks come from the shared networks, tagged with their service.
 */

/** How a service's name resolves: to its virtual IP, or to its tasks' addresses. */
export type ServiceEndpointMode = 'vip' | 'dnsrr';

/** A published port of a service (its PublishedPort always filled). */
export interface ServicePort {
  protocol: 'tcp' | 'udp' | 'sctp';
  targetPort: number;
  publishedPort: number;
  mode: 'ingress' | 'host';
}

/** One service, as every node follows it. */
export interface ServiceView {
  id: string;
  name: string;
  endpointMode: ServiceEndpointMode;
  /** vip mode: its address on each network it is on (no prefix length). */
  vips: { networkId: string; addr: string }[];
  /** The networks it is on, with the aliases its name has there. */
  networks: { networkId: string; aliases: string[] }[];
  ports: ServicePort[];
}

/** What changed: anything of the services or of their tasks' wanted states. */
export interface SharedServicesListener {
  servicesChanged(): void;
}

/** The cluster's services, followed from the store (a node outside a swarm has none). */
export interface SharedServices {
  /** Every service now. */
  services(): ServiceView[];
  /**
   * Whether a task takes new connections: its agent has said its container runs (as
   * Docker enables a task's service binding once its container has started), and the
   * orchestrator still wants it running (false once it has decided to stop it: a
   * scale-down, an update), so its endpoint stops being a backend before its container
   * goes. A task the view does not know is taken as serving.
   */
  taskServing(taskId: string): boolean;
  /** Hear of changes; returns the way to stop hearing. */
  watch(listener: SharedServicesListener): () => void;
}

/** An endpoint that may be a backend: a local or a remote one, on a shared network. */
export interface BackendEndpoint {
  networkId: string;
  ipv4: string;
  service?: { id: string; name: string; taskId?: string };
}

/** A service on one network, derived: its names, its VIP there, its backends there. */
export interface NetworkService {
  id: string;
  name: string;
  aliases: string[];
  endpointMode: ServiceEndpointMode;
  /** vip mode: the service's address on this network. */
  vip: string | undefined;
  /** The running tasks' addresses on this network, sorted (every node derives the same order). */
  backends: string[];
}
