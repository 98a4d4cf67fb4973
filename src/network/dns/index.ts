/**
 * The embedded DNS server at 127.0.0.11 of every container on a user-defined network.
 *
 * Records: `addEndpoint` as a container starts on or connects to a network,
 * `removeEndpoint` as it disconnects, `detach` as it stops. Serving: `attach` opens
 * the container's sockets inside its namespace (see kernel/nssocket.ts) and serves them
 * from the daemon's event loop; the host's loopback nameservers are asked from the
 * daemon's own namespace (kernel/loopback-sockets.ts); `configure` follows changes of upstreams or of the
 * container's gateway. The default bridge has no embedded DNS: its endpoints are not
 * added here.
 */
import type * as net from 'node:net';
import { NetnsAgent, openSocketsInNetns } from '../../kernel/nssocket.js';
import { connectLoopbackTcp, openLoopbackUdp } from '../../kernel/loopback-sockets.js';
import { conflict } from '../../errors.js';
import { DnsDirectory, type DnsEndpoint } from './directory.js';
import { DEFAULT_TIMING, type DnsLog, type ForwardTiming } from './forwarder.js';
import { ContainerResolver, type ResolverSockets } from './server.js';
import { chooseUpstreams, RESOLVER_ADDRESS, type Upstream } from './upstreams.js';

export type { DnsEndpoint, DnsLink } from './directory.js';
export type { DnsLog, ForwardTiming } from './forwarder.js';
export { chooseUpstreams, nameserversOf, searchDomainsOf, RESOLVER_ADDRESS, type Upstream } from './upstreams.js';

export interface EmbeddedDnsOptions {
  log: DnsLog;
  /** The daemon's --dns addresses. */
  daemonUpstreams: readonly string[];
  /** The host's resolv.conf text: its nameservers are the last resort (loopback ones asked from the daemon's namespace). */
  hostResolvConf: string;
  /** Forwarding timeouts (default: next upstream after 2 s, SERVFAIL after 4 s). */
  timing?: ForwardTiming;
  /** Port of the upstream servers (53; tests use others). */
  upstreamPort?: number;
  /** For round-robin shuffles; injectable for tests. */
  random?: () => number;
}

export interface AttachOptions {
  /** The container's --dns addresses (empty: the daemon's, else the host's). */
  dns: readonly string[];
  /** True when the container is only on --internal networks: external names get SERVFAIL. */
  internal: boolean;
}

/** How long a helper for TCP upstream connections stays alive after its last use. */
const TCP_AGENT_IDLE_MS = 30_000;
/** How long a TCP connection to an upstream may take. */
const TCP_CONNECT_TIMEOUT_MS = 2000;

interface Attachment {
  nsPath: string;
  resolver: ContainerResolver | undefined;
  /** Set while the sockets are being opened; detach during it cancels. */
  opening: Promise<void> | undefined;
  tcpAgent: IdleAgent;
}

export class EmbeddedDns {
  readonly directory: DnsDirectory;
  private readonly attachments = new Map<string, Attachment>();
  /** Sockets opened ahead of time in namespaces not yet given to a container. */
  private readonly prepared = new Map<string, Promise<ResolverSockets>>();

  constructor(private readonly opts: EmbeddedDnsOptions) {
    this.directory = new DnsDirectory(opts.random);
  }

  /** Publish an endpoint's names (start, connect). Idempotent (replaces). */
  addEndpoint(ep: DnsEndpoint): void {
    this.directory.addEndpoint(ep);
  }

  /** Withdraw an endpoint's names (disconnect). Idempotent. */
  removeEndpoint(containerId: string, networkId: string): void {
    this.directory.removeEndpoint(containerId, networkId);
  }

  /**
   * Start the resolver of a container: bind 127.0.0.11:53 (UDP and TCP) and the upstream
   * sockets inside `nsPath` (whose lo must be up for queries to arrive) and serve them.
   * Must finish before the container's process starts; it does not depend on the
   * container's interfaces, so it can run alongside their setup. Costs one helper
   * process start (tens of ms) unless `prepare(nsPath)` ran before. Attaching an
   * attached container only reconfigures it.
   */
  async attach(containerId: string, nsPath: string, opts: AttachOptions): Promise<void> {
    const existing = this.attachments.get(containerId);
    if (existing !== undefined) {
      if (existing.nsPath !== nsPath) throw conflict(`embedded DNS of container ${containerId} is attached to ${existing.nsPath}`);
      await existing.opening;
      return this.configure(containerId, opts);
    }
    const att: Attachment = { nsPath, resolver: undefined, opening: undefined, tcpAgent: new IdleAgent(nsPath, TCP_AGENT_IDLE_MS) };
    this.attachments.set(containerId, att);
    att.opening = this.open(containerId, att, opts);
    try {
      await att.opening;
    } catch (e: unknown) {
      if (this.attachments.get(containerId) === att) this.attachments.delete(containerId);
      att.tcpAgent.close();
      throw e;
    } finally {
      att.opening = undefined;
    }
  }

  /**
   * Open the resolver's sockets in a namespace made ahead of time (a pool of ready
   * namespaces), so that `attach` to it later costs no helper process. Idempotent.
   * A failure surfaces at `attach`, which then tries again.
   */
  prepare(nsPath: string): void {
    if (this.prepared.has(nsPath)) return;
    const opening = openResolverSockets(nsPath);
    void opening.catch(() => {
      if (this.prepared.get(nsPath) === opening) this.prepared.delete(nsPath);
    });
    this.prepared.set(nsPath, opening);
  }

  /** Close the sockets prepared in a namespace that will not be used. Idempotent. */
  discard(nsPath: string): void {
    const opening = this.prepared.get(nsPath);
    this.prepared.delete(nsPath);
    void opening?.then(closeSockets, () => undefined);
  }

  private async open(containerId: string, att: Attachment, opts: AttachOptions): Promise<void> {
    const parked = this.prepared.get(att.nsPath);
    this.prepared.delete(att.nsPath);
    const sockets = (await parked?.catch(() => undefined)) ?? (await openResolverSockets(att.nsPath));
    if (this.attachments.get(containerId) !== att) {
      // Detached while opening.
      closeSockets(sockets);
      return;
    }
    att.resolver = new ContainerResolver({
      containerId,
      sockets,
      directory: this.directory,
      config: this.resolverConfig(opts),
      log: this.opts.log,
      forwarding: {
        timing: this.opts.timing ?? DEFAULT_TIMING,
        port: this.opts.upstreamPort ?? 53,
        connectTcp: (upstream, port) =>
          upstream.fromHost ? connectLoopbackTcp(upstream.address, port, TCP_CONNECT_TIMEOUT_MS) : att.tcpAgent.connect(upstream.address, port),
        openHostUdp: openLoopbackUdp,
      },
    });
  }

  /** Change a container's upstreams or forwarding. No-op for an unknown container. */
  configure(containerId: string, opts: AttachOptions): void {
    this.attachments.get(containerId)?.resolver?.configure(this.resolverConfig(opts));
  }

  /**
   * Stop a container's resolver (close its sockets) and withdraw all its names.
   * Idempotent; safe while `attach` is still opening.
   */
  detach(containerId: string): void {
    const att = this.attachments.get(containerId);
    this.attachments.delete(containerId);
    this.directory.removeContainer(containerId);
    att?.resolver?.close();
    att?.tcpAgent.close();
  }

  /** Whether a container's resolver is serving. */
  isAttached(containerId: string): boolean {
    return this.attachments.get(containerId)?.resolver !== undefined;
  }

  /** Stop every resolver and close prepared sockets (daemon shutdown). Names are kept. */
  close(): void {
    for (const att of this.attachments.values()) {
      att.resolver?.close();
      att.tcpAgent.close();
    }
    this.attachments.clear();
    for (const nsPath of [...this.prepared.keys()]) this.discard(nsPath);
  }

  private resolverConfig(opts: AttachOptions): { upstreams: Upstream[]; forward: boolean } {
    const upstreams = chooseUpstreams({ container: opts.dns, daemon: this.opts.daemonUpstreams, hostResolvConf: this.opts.hostResolvConf });
    return { upstreams, forward: !opts.internal };
  }
}

async function openResolverSockets(nsPath: string): Promise<ResolverSockets> {
  const [udp, tcp, upstream4, upstream6] = await openSocketsInNetns(nsPath, [
    { kind: 'udp4', address: RESOLVER_ADDRESS, port: 53 },
    { kind: 'tcp-listen', address: RESOLVER_ADDRESS, port: 53 },
    { kind: 'udp4', address: '0.0.0.0', port: 0 },
    // A namespace without IPv6 still gets a resolver; IPv6 upstreams then fail over.
    { kind: 'udp6', address: '::', port: 0, optional: true },
  ] as const);
  return { udp, tcp, upstream4, upstream6 };
}

function closeSockets(s: ResolverSockets): void {
  for (const u of [s.udp, s.upstream4, s.upstream6]) {
    try {
      u?.close();
    } catch {
      // already closed
    }
  }
  s.tcp.close();
}

/** A socket helper in one namespace, started on first use and stopped when idle. */
class IdleAgent {
  private agent: NetnsAgent | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly nsPath: string,
    private readonly idleMs: number,
  ) {}

  async connect(address: string, port: number): Promise<net.Socket> {
    if (this.agent === undefined || !this.agent.alive) this.agent = NetnsAgent.start(this.nsPath);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.close(), this.idleMs);
    this.timer.unref();
    const [sock] = await this.agent.open([{ kind: 'tcp-connect', address, port, timeoutMs: TCP_CONNECT_TIMEOUT_MS }] as const);
    return sock;
  }

  close(): void {
    clearTimeout(this.timer);
    this.agent?.close();
    this.agent = undefined;
  }
}
