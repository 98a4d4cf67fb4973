/**
 * The services' virtual IPs on this node: in every local container namespace on a
 * network that carries services, berth's VIP table (vip-rules.ts) kept equal to what the
 * cluster says, re-derived from scratch at every change (derive.ts) and applied as the
 * difference per namespace: a replica change is one transaction per namespace on that
 * network, touching that service's chain only. A namespace seen for the first time
 * (a container joining, or every one after a restart) gets its whole table replaced, so
 * nothing is left over or doubled. A backend that goes takes its UDP flows with it in
 * those namespaces (conntrack), so no datagram follows a flow to a task that is gone.
 */
import { messageOf } from '../../errors.js';
import type { Kernel } from '../../kernel/port.js';
import { Serial } from '../../util/serial.js';
import type { EndpointRecord } from '../model.js';
import type { SharedNetworks } from '../shared.js';
import type { IngressPlace } from '../ingress-endpoint.js';
import { ingressModel, servicesByNetwork } from './derive.js';
import { IngressMesh } from './ingress.js';
import type { BackendEndpoint, NetworkService, SharedServices } from './model.js';
import { vipChain, vipChangesScript, vipTableScript, type VipEntry } from './vip-rules.js';

export interface ServiceBalancerDeps {
  kernel: Pick<Kernel, 'nft' | 'conntrack' | 'holdHostPorts'>;
  /** Make the node's own endpoint on the ingress network (when a service first publishes an ingress port, and after each attach), at `previous` if it can (none: no routing mesh on this node). */
  ingressEndpoint?(previous?: string): Promise<IngressPlace | undefined>;
  /** The node's ingress endpoint goes: no service publishes an ingress port any more. */
  dropIngressEndpoint?(place: IngressPlace): Promise<void>;
  /** This node's endpoints on shared networks. */
  localEndpoints(): EndpointRecord[];
  /** The namespace file of a local container. */
  sandboxPath(containerId: string): string;
  /** Hears the services of every network after each change (the DNS's service names). */
  derived?(byNetwork: ReadonlyMap<string, NetworkService[]>): void;
  log(msg: string): void;
}

type Programmed = Map<string, VipEntry>;

export class ServiceBalancer {
  private shared: SharedNetworks | undefined;
  private services: SharedServices | undefined;
  private unwatch: (() => void)[] = [];
  /** Containers stopping: no longer backends, their namespaces about to go. */
  private readonly stopping = new Set<string>();
  /** Namespace file -> what its table holds, as last applied. */
  private readonly programmed = new Map<string, Programmed>();
  private readonly queue = new Serial();
  private pending: Promise<void> | undefined;
  private readonly mesh: IngressMesh;
  private place: IngressPlace | undefined;
  private lastIngressAddress: string | undefined;

  constructor(private readonly deps: ServiceBalancerDeps) {
    this.mesh = new IngressMesh({ kernel: deps.kernel, log: deps.log });
  }

  /** The node reached its swarm (again): follow its services and endpoints, and program every namespace. */
  async attach(shared: SharedNetworks): Promise<void> {
    this.detach();
    this.shared = shared;
    this.services = shared.services;
    const changed = (): void => void this.sync();
    this.unwatch.push(shared.watch({ networksChanged: changed, remoteChanged: changed }));
    if (this.services) this.unwatch.push(this.services.watch({ servicesChanged: changed }));
    // A reconnect gave back the claims no container holds: the endpoint is made again (at its address if still free).
    this.lastIngressAddress = this.place?.address ?? this.lastIngressAddress;
    this.place = undefined;
    await this.sync();
  }

  /** The node left its swarm: the routing mesh goes from it (its table, its held ports). */
  async leave(): Promise<void> {
    this.detach();
    this.place = undefined;
    this.lastIngressAddress = undefined;
    await this.queue.run(async () => this.mesh.clear());
  }

  /** The swarm is out of reach: stop following it. The kernel keeps what it has (containers run on; a reattach reconciles). */
  detach(): void {
    for (const stop of this.unwatch) stop();
    this.unwatch = [];
    this.shared = undefined;
    this.services = undefined;
  }

  /** A local container started (or was found running) on shared networks: its namespace programmed, and it a backend where it is one. */
  async started(containerId: string): Promise<void> {
    this.stopping.delete(containerId);
    if (this.shared) await this.sync();
  }

  /** A local container is stopping: it stops being a backend before its endpoints go. */
  async stopped(containerId: string): Promise<void> {
    if (!this.shared) return;
    this.stopping.add(containerId);
    await this.sync();
  }

  /** Re-derive everything and apply what differs. Calls that arrive while one waits share it. */
  async sync(): Promise<void> {
    if (!this.shared) return;
    if (this.pending) return this.pending;
    const next = this.queue.run(async () => {
      if (this.pending === next) this.pending = undefined;
      await this.reconcile();
    });
    this.pending = next;
    return next;
  }

  private async reconcile(): Promise<void> {
    await this.followIngress();
    const local = this.deps.localEndpoints().filter((e) => !this.stopping.has(e.containerId));
    const byNetwork = this.derive(local);
    this.deps.derived?.(byNetwork);
    const wanted = new Map<string, Programmed>();
    for (const ep of local) {
      const ns = this.deps.sandboxPath(ep.containerId);
      const entries = wanted.get(ns) ?? new Map<string, VipEntry>();
      for (const s of byNetwork.get(ep.networkId) ?? []) {
        if (s.vip !== undefined) entries.set(vipChain(s.id, ep.networkId), { chain: vipChain(s.id, ep.networkId), vip: s.vip, backends: s.backends });
      }
      wanted.set(ns, entries);
    }
    const work = [...wanted].map(async ([ns, entries]) => this.program(ns, entries));
    for (const ns of this.programmed.keys()) {
      if (wanted.has(ns)) continue;
      const leaving = [...this.stopping].some((id) => this.deps.sandboxPath(id) === ns);
      this.programmed.delete(ns);
      // A container still running but on no shared network now keeps no table; a stopping one's namespace is going anyway.
      if (!leaving) work.push(this.deps.kernel.nft.applyIn(ns, vipTableScript([])).catch(() => undefined));
    }
    // Only a node with its ingress endpoint has a mesh (and touches its own namespace's table).
    if (this.place) work.push(this.mesh.apply(ingressModel(this.services ?? NO_SERVICES, [...local.flatMap((e) => backendOf(e, false)), ...(this.shared?.remoteEndpoints() ?? []).map((e) => ({ ...e, remote: true }))], this.place)));
    await Promise.all(work);
    const all = this.deps.localEndpoints();
    for (const id of this.stopping) if (!all.some((e) => e.containerId === id)) this.stopping.delete(id);
  }

  /** The node's ingress endpoint exists while some service publishes an ingress port. */
  private async followIngress(): Promise<void> {
    const wanted = (this.services?.services() ?? []).some((s) => s.ports.some((p) => p.mode === 'ingress'));
    if (wanted && !this.place && this.deps.ingressEndpoint) {
      this.place = await this.deps.ingressEndpoint(this.lastIngressAddress).catch((e: unknown) => {
        this.deps.log(`the node's ingress endpoint: ${messageOf(e)}`);
        return undefined;
      });
    } else if (!wanted && this.place) {
      const place = this.place;
      this.place = undefined;
      this.lastIngressAddress = undefined;
      await this.mesh.clear();
      await this.deps.dropIngressEndpoint?.(place).catch((e: unknown) => this.deps.log(`the node's ingress endpoint: ${messageOf(e)}`));
    }
  }

  private derive(local: readonly EndpointRecord[]): Map<string, NetworkService[]> {
    if (!this.services || !this.shared) return new Map();
    const endpoints: BackendEndpoint[] = [...local.flatMap((e) => backendOf(e, false)), ...this.shared.remoteEndpoints()];
    return servicesByNetwork(this.services, endpoints);
  }

  private async program(ns: string, entries: Programmed): Promise<void> {
    const before = this.programmed.get(ns);
    const script = before === undefined || entries.size === 0 ? (before?.size === 0 && entries.size === 0 ? '' : vipTableScript([...entries.values()])) : vipChangesScript(before, entries);
    try {
      if (script !== '') await this.deps.kernel.nft.applyIn(ns, script);
      this.programmed.set(ns, entries);
    } catch (e: unknown) {
      // Replaced whole at the next change.
      this.programmed.delete(ns);
      this.deps.log(`service VIPs in ${ns}: ${messageOf(e)}`);
      return;
    }
    const gone = removedBackends(before, entries);
    if (gone.length > 0) await this.deps.kernel.conntrack.forget(ns, 'udp', gone).catch((e: unknown) => this.deps.log(`service VIPs in ${ns}: forgetting flows: ${messageOf(e)}`));
  }

}

const NO_SERVICES = { services: () => [], taskServing: () => true };

/** A local endpoint as a possible backend (none without an IPv4 address). */
function backendOf(e: EndpointRecord, remote: boolean): (BackendEndpoint & { remote: boolean })[] {
  return e.ipv4 ? [{ networkId: e.networkId, ipv4: e.ipv4.address, remote, ...(e.service ? { service: e.service } : {}) }] : [];
}

/** Backend addresses that `before` balanced to and `after` no longer does. */
export function removedBackends(before: Programmed | undefined, after: Programmed): string[] {
  if (!before) return [];
  const kept = new Set([...after.values()].flatMap((e) => e.backends));
  return [...new Set([...before.values()].flatMap((e) => e.backends))].filter((b) => !kept.has(b)).sort();
}
