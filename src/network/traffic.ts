/**
 * Traffic in and out of bridge networks: the nftables firewall kept equal to the model,
 * the kernel settings it needs, and published ports (allocation, host-port sockets,
 * DNAT elements). The controller calls it as networks, endpoints and publications come
 * and go; every change is one nft transaction.
 */
import { messageOf } from '../errors.js';
import type { Kernel } from '../kernel/port.js';
import type { SysctlSetting } from '../kernel/sysctl.js';
import type { KvStore } from '../store/kv.js';
import { PUBLICATIONS, UNDERLAY, UNDERLAY_KEY, type Publication } from './stored.js';
import { Serial } from '../util/serial.js';
import { globalSysctls, publicationsFor, type FirewallModel, type FwEndpoint, type FwNetwork, type FwPublication, type FwUnderlay } from './firewall/index.js';
import type { FirewallBackend } from './firewall/backend.js';
import type { EndpointRecord } from './model.js';
import {
  allocateAndReserve,
  checkServable,
  newPortAllocator,
  releasePorts,
  reserveHostPorts,
  restorePortAllocator,
  resolveHostIp,
  type PortAllocatorState,
  type PortSpec,
  type PublishTarget,
  type RelayScope,
  type Reservation,
} from './ports/index.js';


/** The controller's current networks and endpoints, as the firewall sees them. */
export interface TrafficSource {
  networks(): FwNetwork[];
  endpoints(): FwEndpoint[];
}

export class Traffic {
  private readonly publications = new Map<string, Publication>();
  private readonly reservations = new Map<string, Reservation>();
  private ports: PortAllocatorState = newPortAllocator();
  private readonly serial = new Serial();
  /** The swarm's VXLAN guard (undefined outside a swarm), changed one change at a time. */
  private underlay: FwUnderlay | undefined;
  private readonly underlaySerial = new Serial();
  /** Until start() has written the whole ruleset, changes only need to reach the model. */
  private started = false;
  /** What the host-port sockets relay beyond what the kernel cannot (the backend says). */
  private readonly relayScope: RelayScope;

  constructor(
    private readonly store: KvStore,
    private readonly source: TrafficSource,
    private readonly firewall: FirewallBackend,
    /** --br-netfilter: leave bridged frames going through the inet hooks. */
    private readonly opts: { kernel: Kernel; brNetfilter: boolean; log: (m: string) => void },
  ) {
    this.relayScope = firewall.relayScope;
  }

  model(): FirewallModel {
    return {
      networks: this.source.networks(),
      endpoints: this.source.endpoints(),
      publications: [...this.publications.values()].flatMap((p) => publicationsFor(p.networkId, p.containerId, p.mappings, p)),
      loopbackByProxy: this.relayScope === 'loopback',
      underlay: this.underlay,
    };
  }

  /** At start: restore publications, hold their host ports again, and write the whole ruleset. */
  async start(alive: (containerId: string) => boolean): Promise<void> {
    for (const p of (await PUBLICATIONS.load(this.store)).values()) {
      if (alive(p.containerId)) this.publications.set(p.containerId, p);
      else await this.store.commit([PUBLICATIONS.del(p.containerId)]);
    }
    this.underlay = (await UNDERLAY.load(this.store)).get(UNDERLAY_KEY);
    this.ports = restorePortAllocator([...this.publications.values()].map((p) => ({ owner: p.containerId, mappings: p.mappings })));
    for (const p of this.publications.values()) {
      try {
        this.reservations.set(p.containerId, await this.reserve(p.mappings, p));
      } catch (e: unknown) {
        this.opts.log(`ports of ${p.containerId.slice(0, 12)} could not be held again: ${messageOf(e)}`);
      }
    }
    await this.firewall.start();
    await this.sync();
    this.started = true;
  }

  /**
   * Rewrite berth's tables from the model (start, and whenever the kernel drifted).
   * Forwarding is switched on with the firewall off too (dockerd's --iptables=false
   * keeps --ip-forward); bridge netfilter settings are then the user's.
   */
  async sync(): Promise<void> {
    const model = this.model();
    const perBridge = model.networks.flatMap((n) => this.firewall.bridgeSysctls(n));
    await this.opts.kernel.sysctls.ensure([...this.globalSysctls(model.networks), ...perBridge]);
    await this.firewall.sync(model);
  }

  private globalSysctls(networks: readonly FwNetwork[]): SysctlSetting[] {
    return globalSysctls(networks, { brNetfilter: this.opts.brNetfilter || !this.firewall.enforcing });
  }

  /**
   * A network is being made: its rules and the host-wide settings it needs. Neither
   * needs its bridge, so this runs alongside the bridge's creation; `bridgeReady`
   * finishes the settings that live on the bridge.
   */
  async networkAdded(net: FwNetwork): Promise<void> {
    await this.opts.kernel.sysctls.ensure(this.globalSysctls([net]));
    if (this.started) await this.firewall.addNetwork(net, () => this.model());
  }

  /** The network's bridge exists now: its own settings (route_localnet, as the backend wants it). */
  async bridgeReady(net: FwNetwork): Promise<void> {
    await this.opts.kernel.sysctls.ensure(this.firewall.bridgeSysctls(net));
  }

  networkRemoved(net: FwNetwork): void {
    if (this.started) this.withdrawLater(this.firewall.removeNetwork(net, () => this.model()), 'network removal');
  }

  async endpointJoined(ep: FwEndpoint, net: FwNetwork): Promise<void> {
    if (this.started) await this.firewall.addEndpoint(ep, net, () => this.model());
  }

  endpointLeft(ep: FwEndpoint, net: FwNetwork): void {
    if (this.started) this.withdrawLater(this.firewall.removeEndpoint(ep, net, () => this.model()), 'endpoint removal');
  }

  /**
   * The swarm's VXLAN guard is now `next` (undefined: the node left its swarm). Stored
   * first, so a daemon that restarts writes it in its first ruleset, before it reaches
   * the cluster again: the swarm's nodes are never cut off, nor anyone else let in.
   */
  async setUnderlay(next: FwUnderlay | undefined): Promise<void> {
    return this.underlaySerial.run(async () => {
      const prev = this.underlay;
      if (JSON.stringify(prev) === JSON.stringify(next)) return;
      await this.store.commit([next ? UNDERLAY.put(UNDERLAY_KEY, next) : UNDERLAY.del(UNDERLAY_KEY)]);
      this.underlay = next;
      if (this.started) await this.firewall.changeUnderlay(prev, next, () => this.model());
    });
  }

  /**
   * Removals are not waited for. A transaction that deletes anything waits out an RCU
   * grace period in the kernel (10-40 ms here, against 3 ms for one that only adds),
   * and the elements of a gone bridge, endpoint or publication match no packet. The
   * firewall applies its changes in order, so a later addition of the same element
   * (a port published again at once) still comes after the deletion; after a crash, the
   * start renders the ruleset from the model anyway. A failure is logged: the firewall
   * has then already fallen back to rendering the whole model.
   */
  private withdrawLater(change: Promise<unknown>, what: string): void {
    change.catch((e: unknown) => this.opts.log(`firewall: ${what}: ${messageOf(e)}`));
  }

  /**
   * Publish a container's ports on one of its endpoints: refuse what nothing could serve
   * (ports/serving.ts), allocate host ports (Docker's conflict errors), hold them against
   * host processes (relaying where the kernel cannot), persist, add the DNAT elements.
   * All or nothing.
   */
  async publish(ep: EndpointRecord, requests: readonly PortSpec[], hostBindingIpv4: string): Promise<PortSpec[]> {
    return this.serial.run(async () => {
      if (requests.length === 0) return [];
      const target = { ipv4: ep.ipv4?.address, ipv6: ep.ipv6?.address };
      const resolved = requests.map((r) => ({ ...r, hostIp: resolveHostIp(r.hostIp, hostBindingIpv4) }));
      checkServable(resolved, target, this.relayScope);
      const got = await allocateAndReserve(this.ports, ep.containerId, resolved, target, {
        reserve: async (m, t) => this.reserve(m, t),
      });
      const pub: Publication = { containerId: ep.containerId, networkId: ep.networkId, mappings: got.mappings, ...target };
      try {
        await this.store.commit([PUBLICATIONS.put(ep.containerId, pub)]);
        this.publications.set(ep.containerId, pub);
        await this.firewall.addPublications(this.fw(pub), () => this.model());
      } catch (e: unknown) {
        this.publications.delete(ep.containerId);
        await got.reservation.release();
        await this.store.commit([PUBLICATIONS.del(ep.containerId)]).catch((re: unknown) => this.opts.log(`rollback of ports of ${ep.containerId.slice(0, 12)}: ${messageOf(re)}`));
        throw e;
      }
      this.ports = got.state;
      this.reservations.set(ep.containerId, got.reservation);
      return got.mappings;
    });
  }

  /** Withdraw a container's publications. Idempotent. */
  async unpublish(containerId: string): Promise<void> {
    return this.serial.run(async () => {
      const pub = this.publications.get(containerId);
      if (!pub) return;
      this.publications.delete(containerId);
      this.withdrawLater(this.firewall.removePublications(this.fw(pub), () => this.model()), 'unpublish');
      await this.reservations.get(containerId)?.release();
      this.reservations.delete(containerId);
      this.ports = releasePorts(this.ports, containerId);
      await this.store.commit([PUBLICATIONS.del(containerId)]);
    });
  }

  /** Hold host ports against host processes (relaying where the backend needs it). */
  private async reserve(mappings: readonly PortSpec[], target: PublishTarget): Promise<Reservation> {
    return reserveHostPorts((specs) => this.opts.kernel.holdHostPorts(specs), mappings, target, { scope: this.relayScope });
  }

  /** The network a container's ports are published through, if any. */
  publishedOn(containerId: string): string | undefined {
    return this.publications.get(containerId)?.networkId;
  }

  mappingsOf(containerId: string): PortSpec[] {
    return this.publications.get(containerId)?.mappings ?? [];
  }

  private fw(p: Publication): FwPublication[] {
    return publicationsFor(p.networkId, p.containerId, p.mappings, p);
  }

  /** Close held sockets (daemon shutdown). */
  async close(): Promise<void> {
    for (const r of this.reservations.values()) await r.release();
    await this.firewall.idle();
  }
}
