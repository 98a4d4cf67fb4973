/**
 * The overlay driver: one layer-2 segment across the hosts of a swarm. On each host that
 * has an endpoint on the network, a VXLAN link (`nolearning proxy`, the cluster's VNI and
 * UDP port) carries frames to the others, and every local container's interface is a
 * macvlan of it (bridge mode: local containers reach each other through it too). Docker
 * puts a bridge and a veth pair between the container and the VXLAN link; berth does not:
 * a frame goes from the container's socket straight into the VXLAN link, and one arriving
 * goes from the VXLAN link straight to the container, with no bridge to cross (and none of
 * the bridge family's hooks) and no veth queue. That is the bare VXLAN pair's speed (see
 * BENCHMARKS.md). The host has a macvlan of its own on it too (`ov-…`, no address unless
 * the routing mesh or direct routing gives it one). On a node whose data path is in a
 * namespace of its own (cluster/data-path.ts) the VXLAN link is made there, so its UDP
 * socket lives there, off the host's netfilter, and then moved here like any other.
 *
 * The kernel never floods to learn: every remote endpoint gets a static FDB entry (its
 * MAC at its host's address) and a permanent neighbour entry (its IP at its MAC, which
 * the VXLAN link's ARP proxy answers), written as the cluster store reports it; each
 * remote host with endpoints gets one all-zeros FDB entry for broadcasts. Containers route
 * out through docker_gwbridge, not the overlay (it has no gateway on the host).
 *
 * With direct routing (berth's option, Flannel's DirectRouting), a remote endpoint whose
 * host shares this host's underlay segment gets no FDB entry: its neighbour entry gives
 * the host link's MAC, so the container hands the packet to the host, which routes it to
 * that host as it is (a /32 route via its address), where the network's subnet route on
 * the host link delivers it. No encapsulation, and so no VXLAN bytes to leave room for:
 * the network's links take the underlay's MTU, and each container's routes say which
 * packets still cross VXLAN (container-routes.ts). A smaller MSS cost routed traffic 7 %
 * of its throughput (bench/overlay.ts, path (e)).
 */
import { forbidden, invalid } from '../../../errors.js';
import { OWNER_ALIAS } from '../../../kernel/links.js';
import type { EndpointRecord, NetworkRecord } from '../../model.js';
import type { RemoteEndpoint } from '../../shared.js';
import { LOCAL_NETWORK, type DriverContext, type DriverNetwork, type NetworkDriver } from '../driver.js';
import { kernelLacks } from '../../../kernel/features.js';
import { kernelSays } from '../../../kernel/exec.js';
import { BERTH_ROUTE_PROTO } from '../../../kernel/routes.js';
import { ownNetnsPath } from '../../../kernel/netns.js';
import { cidrContains, parseCidr, tryParseCidr, tryParseIp } from '../../ipam/index.js';
import { ENCRYPTED_OPTION, parseOverlayConfig, VNI_OPTION, VXLAN_OVERHEAD, type OverlayConfig } from './config.js';
import { OverlayEncryption } from './encryption.js';
import { BROADCAST_MAC, reconcileTables, type Routed } from './peers.js';
import { ContainerRoutes, joinRoutes } from './container-routes.js';
import { planSublinkLeave } from '../sublink/sandbox.js';
import { planMacvlanLink } from '../macvlan/endpoint.js';

/** This driver's links: a VXLAN link and the host's macvlan of it per network, named after its VNI (config.ts). */
const LINK_NAMES = /^(ov|vx)-[0-9a-f]{6}$/;

export function overlayDriver(ctx: DriverContext): NetworkDriver {
  const encryption = new OverlayEncryption(ctx.kernel.xfrm);
  return {
    name: 'overlay',
    capabilities: { ...LOCAL_NETWORK, scope: 'swarm', routesOut: false, gatewayBridge: true, hostSideLink: false },
    validate(net) {
      return overlayNetwork(parseOverlayConfig(net), net, ctx, encryption);
    },
    async checkCreate(req) {
      if (ENCRYPTED_OPTION in req.options) await checkEsp(ctx, req.name);
    },
    linkNames: LINK_NAMES,
    async removeOrphans(live) {
      const wanted = new Set(live.flatMap((n) => n.kernelNames));
      const orphans = (await ctx.kernel.links.list()).filter((l) => l.ownedByBerth && LINK_NAMES.test(l.name) && !wanted.has(l.name));
      await Promise.all(orphans.map((l) => ctx.kernel.links.delete(l.name)));
      // Direct routes of networks this host no longer has (the links' own went with them).
      const kept = live.flatMap((n) => n.directRouted?.subnets ?? []).map(parseCidr);
      await dropRoutes(ctx, (dst) => !kept.some((s) => cidrContains(s, parseCidr(dst).network)));
    },
  };
}

/** Delete berth's routes (direct routing's) whose destination `doomed` picks. */
async function dropRoutes(ctx: DriverContext, doomed: (dst: string) => boolean): Promise<void> {
  const cmds = (await ctx.kernel.ownRoutes()).filter((r) => doomed(r.dst)).map((r) => `route del ${r.dst} proto ${BERTH_ROUTE_PROTO}`);
  for (const cmd of cmds) await ctx.kernel.links.batch([cmd]).catch(() => undefined);
}

/**
 * Make a VXLAN link in the data path's namespace, where its socket stays, and move it
 * here, in one process. One a failed move left there is in the way: it goes, and the
 * making is tried once more (no look beforehand: this is a first container's start path).
 */
async function makeInNamespace(ctx: DriverContext, netns: string, name: string, add: string): Promise<void> {
  const make = async (first: string[]): Promise<void> => ctx.kernel.sandboxes.apply([{ in: 'sandbox', commands: [...first, add, `link set dev ${name} netns ${ownNetnsPath()}`] }], netns);
  await make([]).catch(async (e: unknown) => {
    if (!kernelSays(e, 'exists')) throw e;
    await make([`link del dev ${name}`]);
  });
}

/** Encryption is IPsec's ESP: a kernel without it cannot carry an encrypted network (and nothing pretends to). */
async function checkEsp(ctx: DriverContext, name: string): Promise<void> {
  if ((await ctx.kernel.features()).esp !== true) throw kernelLacks('esp', `cannot create encrypted overlay network ${name}`);
}

function overlayNetwork(c: OverlayConfig, net: NetworkRecord, ctx: DriverContext, encryption: OverlayEncryption): DriverNetwork {
  const name = net.name;
  const { links } = ctx.kernel;
  /** Remote endpoints programmed into this host's VXLAN link; hosts with endpoints, counted. */
  const peers = new Map<string, RemoteEndpoint>();
  const hosts = new Map<string, number>();
  const subnets4 = net.ipam.pools.map((p) => p.subnet).filter((s) => !s.includes(':'));
  const inSubnets = (dst: string): boolean => subnets4.some((s) => cidrContains(parseCidr(s), parseCidr(dst).network));
  /** Direct routing: peers whose host shares this host's underlay segment are routed to it, without VXLAN. */
  const routed: Routed = {
    is: (p) => {
      const swarm = ctx.swarm?.();
      // A data path in a namespace of its own, here or there, is reached over VXLAN only.
      if (!c.directRouting || swarm?.dataPathNetns !== undefined || p.tunnelOnly === true) return false;
      const segment = tryParseCidr(swarm?.underlaySubnet ?? '');
      const host = tryParseIp(p.node);
      return segment !== undefined && host !== undefined && cidrContains(segment, host);
    },
    mac: c.hostMac,
  };
  const routeTo = (p: RemoteEndpoint): string => `route replace ${p.ipv4}/32 via ${p.node} proto ${BERTH_ROUTE_PROTO}`;
  const routeGone = (p: RemoteEndpoint): string => `route del ${p.ipv4}/32 proto ${BERTH_ROUTE_PROTO}`;
  /** What crosses VXLAN: the network's MTU, or the underlay's less VXLAN's bytes. */
  const tunnelMtu = (): number => {
    const swarm = ctx.swarm?.();
    return c.mtu ?? (swarm ? swarm.underlayMtu - VXLAN_OVERHEAD : 1450);
  };
  /** Routed packets carry no VXLAN: unless the network sets its MTU, its links take the underlay's (see the file comment); a node that routes nothing directly keeps VXLAN's. */
  const routesMtu = (): boolean => c.directRouting && c.mtu === undefined && ctx.swarm?.()?.dataPathNetns === undefined;
  const linkMtu = (): number => {
    const swarm = ctx.swarm?.();
    return routesMtu() && swarm ? swarm.underlayMtu : tunnelMtu();
  };
  const routedAddresses = (): Set<string> => new Set([...peers.values()].filter((p) => routed.is(p)).map((p) => p.ipv4));
  /** A directly routed network's routes inside its local containers (container-routes.ts). */
  const containerRoutes = new ContainerRoutes(ctx, net.id, name, (ip) => inSubnets(`${ip}/32`));
  /**
   * An encrypted network's IPsec follows the hosts it reaches: a new host's is programmed
   * before the first FDB entry sends it a frame, a gone host's removed after the last.
   */
  const hostsCame = async (before: ReadonlySet<string>): Promise<void> => {
    const swarm = ctx.swarm?.();
    if (!c.encrypted || !swarm) return;
    for (const h of hosts.keys()) if (!before.has(h)) await encryption.addHost(h, swarm);
  };
  const hostsWent = async (before: ReadonlySet<string>): Promise<void> => {
    if (!c.encrypted) return;
    for (const h of before) if (!hosts.has(h)) await encryption.removeHost(h);
  };
  return {
    displayOptions: { ...net.options, [VNI_OPTION]: String(c.vni) },
    kernelNames: [c.hostLink, c.vxlan],
    async ensure() {
      const swarm = ctx.swarm?.();
      if (!swarm) throw invalid(`network ${name} is a swarm network: this node is not in a swarm`);
      if (c.encrypted) {
        if (swarm.dataPathNetns !== undefined) throw invalid(`network ${name} is encrypted, and this node's VXLAN is in a namespace of its own (--data-path-addr with an address the host does not have): berth encrypts VXLAN sent from the host's own address only`);
        await checkEsp(ctx, name);
        if (swarm.networkKeys.length === 0) throw forbidden('encryption key is not present');
      }
      const present = new Map((await links.list()).map((l) => [l.name, l]));
      const cmds: string[] = [];
      // A berth before 2026-12 put a bridge here, with the VXLAN link as its port: it goes (its containers need a restart).
      const stale = present.get(c.hostLink)?.kind === 'bridge';
      if (stale) cmds.push(`link del dev ${c.hostLink}`);
      if (!present.has(c.vxlan)) {
        const add = `link add ${c.vxlan} mtu ${linkMtu()} type vxlan id ${c.vni} local ${swarm.addr} dstport ${swarm.dataPathPort} nolearning proxy`;
        // A data path in a namespace of its own: the link is made there, where its socket stays, and then comes here.
        if (swarm.dataPathNetns === undefined) cmds.push(add);
        else await makeInNamespace(ctx, swarm.dataPathNetns.path, c.vxlan, add);
        cmds.push(`link set dev ${c.vxlan} alias ${OWNER_ALIAS} up`);
      }
      // The host's own macvlan goes with its VXLAN link when that is deleted: made again with it.
      if (stale || !present.has(c.hostLink) || !present.has(c.vxlan)) {
        const mac = c.directRouting ? ` address ${c.hostMac}` : '';
        // No IPv6 link-local address: the host would send its neighbour discovery to every host of the network.
        cmds.push(`link add ${c.hostLink} link ${c.vxlan}${mac} type macvlan mode bridge`, `link set dev ${c.hostLink} addrgenmode none`, `link set dev ${c.hostLink} alias ${OWNER_ALIAS} up`);
      }
      // The routed peers' packets come to the host link's MAC; packets routed here leave by the subnet's route on it.
      if (c.directRouting) cmds.push(...subnets4.map((s) => `route replace ${s} dev ${c.hostLink} proto ${BERTH_ROUTE_PROTO}`));
      if (cmds.length > 0) await links.batch(cmds);
      // A VXLAN link made again (after a crash, say) starts empty: the known peers go back in.
      if (!present.has(c.vxlan) && peers.size > 0) await this.setPeers?.([...peers.values()], true);
    },
    async remove() {
      for (const l of [c.hostLink, c.vxlan]) await links.delete(l);
      if (c.directRouting) await dropRoutes(ctx, inSubnets);
      if (c.encrypted) for (const h of hosts.keys()) await encryption.removeHost(h);
      peers.clear();
      hosts.clear();
    },
    ...(c.encrypted ? { encryptedVni: c.vni } : {}),
    ...(c.directRouting ? { directRouted: { link: c.hostLink, subnets: subnets4 } } : {}),
    // A container's interface is a macvlan of the VXLAN link (its MTU the link's); the overlay carries no default route.
    planJoin: (ep: EndpointRecord, sandbox: string) => {
      const plan = planMacvlanLink(c.vxlan, 'bridge', ep, sandbox, 'none');
      if (!routesMtu()) return plan;
      const direct = [...peers.values()].filter((p) => routed.is(p));
      return { steps: [...plan.steps, { in: 'sandbox', commands: joinRoutes(ep, tunnelMtu(), direct) }] };
    },
    planLeave: (ep: EndpointRecord) => planSublinkLeave(ep),
    /**
     * Make the VXLAN link's tables hold exactly `all` (`replace`: compared with what the
     * kernel has, which a restart kept), or add these: a static FDB entry and neighbour
     * entry per remote endpoint, one broadcast entry per host.
     */
    async setPeers(all: readonly RemoteEndpoint[], replace = false) {
      const before = new Set(hosts.keys());
      if (replace) {
        const [fdb, neigh] = await Promise.all([links.fdb(c.vxlan), links.neighbours(c.vxlan)]);
        const cmds = reconcileTables(c.vxlan, all, { fdb, neigh }, routed);
        peers.clear();
        hosts.clear();
        for (const p of all) {
          peers.set(p.endpointId, p);
          if (!routed.is(p)) hosts.set(p.node, (hosts.get(p.node) ?? 0) + 1);
        }
        await hostsCame(before);
        if (cmds.fdb.length > 0) await links.bridgeBatch(cmds.fdb);
        const direct = all.filter((p) => routed.is(p));
        if (cmds.neigh.length > 0 || direct.length > 0) await links.batch([...cmds.neigh, ...direct.map(routeTo)]);
        if (c.directRouting) {
          const wanted = new Set(direct.map((p) => `${p.ipv4}/32`));
          await dropRoutes(ctx, (dst) => dst.endsWith('/32') && inSubnets(dst) && !wanted.has(dst));
        }
        if (routesMtu()) await containerRoutes.reconcile(direct);
        await hostsWent(before);
        return;
      }
      const fdb: string[] = [];
      const neigh: string[] = [];
      const direct = all.filter((p) => routed.is(p));
      // An address a routed peer had, now reached over VXLAN (a task replaced on another segment): the containers' route to it goes.
      const routedIps = routesMtu() ? routedAddresses() : new Set<string>();
      const rehomed = all.filter((p) => !routed.is(p) && routedIps.has(p.ipv4));
      for (const p of all) {
        if (routed.is(p)) {
          peers.set(p.endpointId, p);
          neigh.push(`neigh replace ${p.ipv4} lladdr ${c.hostMac} dev ${c.vxlan} nud permanent`, routeTo(p));
          continue;
        }
        if (!peers.has(p.endpointId)) {
          const n = (hosts.get(p.node) ?? 0) + 1;
          hosts.set(p.node, n);
          if (n === 1) fdb.push(`fdb append ${BROADCAST_MAC} dev ${c.vxlan} dst ${p.node} self permanent`);
        }
        peers.set(p.endpointId, p);
        fdb.push(`fdb replace ${p.mac} dev ${c.vxlan} dst ${p.node} self permanent`);
        neigh.push(`neigh replace ${p.ipv4} lladdr ${p.mac} dev ${c.vxlan} nud permanent`);
      }
      await hostsCame(before);
      if (fdb.length > 0) await links.bridgeBatch(fdb);
      if (neigh.length > 0) await links.batch(neigh);
      if (routesMtu()) await containerRoutes.set(direct, rehomed);
    },
    async dropPeers(gone: readonly RemoteEndpoint[]) {
      const before = new Set(hosts.keys());
      const fdb: string[] = [];
      const neigh: string[] = [];
      const leaving = gone.filter((p) => peers.delete(p.endpointId));
      // An address (and so its MAC) given to another endpoint meanwhile, a replacement task, keeps the entries it now needs.
      const heldIps = new Set([...peers.values()].map((p) => p.ipv4));
      const heldMacs = new Set([...peers.values()].map((p) => p.mac.toLowerCase()));
      for (const p of leaving) {
        const ipHeld = heldIps.has(p.ipv4);
        if (routed.is(p)) {
          if (!ipHeld) neigh.push(`neigh del ${p.ipv4} dev ${c.vxlan}`, routeGone(p));
          continue;
        }
        if (!heldMacs.has(p.mac.toLowerCase())) fdb.push(`fdb del ${p.mac} dev ${c.vxlan} dst ${p.node} self`);
        if (!ipHeld) neigh.push(`neigh del ${p.ipv4} dev ${c.vxlan}`);
        const n = (hosts.get(p.node) ?? 1) - 1;
        if (n === 0) {
          hosts.delete(p.node);
          fdb.push(`fdb del ${BROADCAST_MAC} dev ${c.vxlan} dst ${p.node} self`);
        } else hosts.set(p.node, n);
      }
      // Entries already gone (a VXLAN link deleted meanwhile) are no error.
      for (const cmd of fdb) await links.bridgeBatch([cmd]).catch(() => undefined);
      for (const cmd of neigh) await links.batch([cmd]).catch(() => undefined);
      if (routesMtu()) {
        const stillRouted = routedAddresses();
        await containerRoutes.set([], leaving.filter((p) => routed.is(p) && !stillRouted.has(p.ipv4)));
      }
      await hostsWent(before);
    },
  };
}
