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
 * With direct routing (berth's option, beyond Flannel's DirectRouting), a remote endpoint
 * whose host shares this host's underlay segment gets no FDB entry: tc filters move its
 * frames between the VXLAN link and the underlay link as they are, with no encapsulation
 * and no host IP stack or netfilter on the way (direct-path.ts). With no VXLAN bytes to
 * leave room for, the network's links take the underlay's MTU, and each container's
 * routes say which packets still cross VXLAN (container-routes.ts). A smaller MSS cost
 * routed traffic 7 % of its throughput (bench/overlay.ts, path (e)).
 */
import { forbidden, invalid } from '../../../errors.js';
import { OWNER_ALIAS } from '../../../kernel/links.js';
import type { EndpointRecord, NetworkRecord } from '../../model.js';
import type { RemoteEndpoint } from '../../shared.js';
import { LOCAL_NETWORK, type DriverContext, type DriverNetwork, type NetworkDriver } from '../driver.js';
import { kernelLacks } from '../../../kernel/features.js';
import { kernelSays } from '../../../kernel/exec.js';
import { ownNetnsPath } from '../../../kernel/netns.js';
import { cidrContains, parseCidr, tryParseCidr, tryParseIp } from '../../ipam/index.js';
import { ENCRYPTED_OPTION, parseOverlayConfig, VNI_OPTION, VXLAN_OVERHEAD, type OverlayConfig } from './config.js';
import { OverlayEncryption } from './encryption.js';
import { BROADCAST_MAC, reconcileTables, type Routed } from './peers.js';
import { ContainerRoutes, joinRoutes } from './container-routes.js';
import { DirectPath, receiveStray } from './direct-path.js';
import { ReceivingFilters } from './receiving.js';
import { ADMISSION_TABLES, admissionScript, admissionTable, admit, refuse, type Admitted } from './admission.js';
import { planSublinkLeave } from '../sublink/sandbox.js';
import { planMacvlanLink } from '../macvlan/endpoint.js';

/** This driver's links: a VXLAN link and the host's macvlan of it per network, named after its VNI (config.ts). */
const LINK_NAMES = /^(ov|vx)-[0-9a-f]{6}$/;

export function overlayDriver(ctx: DriverContext): NetworkDriver {
  const encryption = new OverlayEncryption(ctx.kernel.xfrm);
  const receiving = new ReceivingFilters(ctx);
  return {
    name: 'overlay',
    capabilities: { ...LOCAL_NETWORK, scope: 'swarm', routesOut: false, gatewayBridge: true, hostSideLink: false },
    validate(net) {
      return overlayNetwork(parseOverlayConfig(net), net, ctx, encryption, receiving);
    },
    async checkCreate(req) {
      if (ENCRYPTED_OPTION in req.options) await checkEsp(ctx, req.name);
    },
    linkNames: LINK_NAMES,
    async removeOrphans(live) {
      const wanted = new Set(live.flatMap((n) => n.kernelNames));
      const orphans = (await ctx.kernel.links.list()).filter((l) => l.ownedByBerth && LINK_NAMES.test(l.name) && !wanted.has(l.name));
      await Promise.all(orphans.map((l) => ctx.kernel.links.delete(l.name)));
      // Receiving filters of direct routing whose network this host no longer has (its VXLAN link went with the rest).
      const underlay = ctx.swarm?.()?.underlayLink;
      if (underlay) await receiving.drop(underlay, (have) => receiveStray(wanted, underlay, have));
      // Only a live directly routed network keeps one (a table left on a link name would police the next network of that VNI).
      const admitting = new Set(live.filter((n) => n.directRouted).flatMap((n) => n.kernelNames.filter((l) => l.startsWith('vx-')).map(admissionTable)));
      const stray = (await ctx.kernel.nft.listTables()).filter((t) => t.family === 'netdev' && ADMISSION_TABLES.test(t.name) && !admitting.has(t.name));
      for (const t of stray) await ctx.kernel.nft.deleteTable('netdev', t.name);
      // Routes a berth before 2026-12-07 made for direct routing (proto 179): routing mesh traffic would follow them.
      await ctx.kernel.links.batch(['route flush proto 179']).catch(() => undefined);
    },
  };
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

function overlayNetwork(c: OverlayConfig, net: NetworkRecord, ctx: DriverContext, encryption: OverlayEncryption, receiving: ReceivingFilters): DriverNetwork {
  const name = net.name;
  const { links } = ctx.kernel;
  /** Remote endpoints programmed into this host's VXLAN link; hosts with endpoints, counted. */
  const peers = new Map<string, RemoteEndpoint>();
  const hosts = new Map<string, number>();
  const subnets4 = net.ipam.pools.map((p) => p.subnet).filter((s) => !s.includes(':'));
  const inSubnets = (dst: string): boolean => subnets4.some((s) => cidrContains(parseCidr(s), parseCidr(dst).network));
  const direct = c.directRouting ? new DirectPath(c.vxlan, subnets4) : undefined;
  /** The underlay link filters were put on: what is taken down goes from there, even once the node is out of its swarm (leaving, its networks go after it). */
  let filtered: string | undefined;
  /** The underlay link direct routing sends by, when this node routes directly: a data path in a namespace of its own is reached over VXLAN only. */
  const directVia = (): string | undefined => {
    const swarm = ctx.swarm?.();
    return direct !== undefined && swarm?.dataPathNetns === undefined ? swarm?.underlayLink : undefined;
  };
  /** Direct routing: peers whose host shares this host's underlay segment are sent to it without VXLAN (direct-path.ts). */
  const routed: Routed = (p) => {
    if (directVia() === undefined || p.tunnelOnly === true) return false;
    const segment = tryParseCidr(ctx.swarm?.()?.underlaySubnet ?? '');
    const host = tryParseIp(p.node);
    return segment !== undefined && host !== undefined && cidrContains(segment, host);
  };
  /** Where this network's filters and MACs are on the underlay: where they were put, or else where they would go. */
  const placed = (): string | undefined => filtered ?? directVia();
  const tc = ctx.kernel.tc;
  /** Delete sending filters, each whatever became of the others (one already gone, or its link, is no error). */
  const stopAll = async (cmds: readonly string[]): Promise<void> => tc.batch(cmds, true).catch(() => undefined);
  const admitted = (ps: Iterable<RemoteEndpoint>): Admitted[] => [...ps].map((p) => ({ mac: p.mac, ipv4: p.ipv4, routed: routed(p) }));
  /** Take these peers out of the admission table, unless a remaining peer needs their elements. */
  const refuseAll = async (gone: readonly RemoteEndpoint[]): Promise<void> => {
    if (!direct || placed() === undefined) return;
    for (const cmd of refuse(c.vxlan, admitted(gone), admitted(peers.values()))) await ctx.kernel.nft.apply(cmd).catch(() => undefined);
  };
  const receive = async (d: DirectPath, underlay: string): Promise<void> => {
    filtered = underlay;
    await receiving.ensure(d, underlay);
  };
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
  const routedAddresses = (): Set<string> => new Set([...peers.values()].filter(routed).map((p) => p.ipv4));
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
        // No IPv6 link-local address: the host would send its neighbour discovery to every host of the network.
        cmds.push(`link add ${c.hostLink} link ${c.vxlan} type macvlan mode bridge`, `link set dev ${c.hostLink} addrgenmode none`, `link set dev ${c.hostLink} alias ${OWNER_ALIAS} up`);
      }
      if (cmds.length > 0) await links.batch(cmds);
      // A new VXLAN link starts with no filters; the underlay's receiving ones may be there already (a restart).
      const underlay = directVia();
      if (direct && underlay !== undefined && !present.has(c.vxlan)) {
        await tc.batch(direct.sendTables());
        // Who may send in, before anything is handed up from the underlay.
        await ctx.kernel.nft.apply(admissionScript(c.vxlan, admitted(peers.values())));
        await receive(direct, underlay);
      }
      // A VXLAN link made again (after a crash, say) starts empty: the known peers go back in.
      if (!present.has(c.vxlan) && peers.size > 0) await this.setPeers?.([...peers.values()], true);
    },
    async remove() {
      // Before the VXLAN link: a receiving filter left redirecting to nothing drops what it matches.
      const underlay = placed();
      if (direct && underlay !== undefined) await receiving.drop(underlay, (have) => direct.receiveGone(underlay, have));
      filtered = undefined;
      // First, whatever becomes of the links: left behind, it would police the next network of this VNI.
      if (direct) await ctx.kernel.nft.deleteTable('netdev', admissionTable(c.vxlan));
      for (const l of [c.hostLink, c.vxlan]) await links.delete(l);
      if (c.encrypted) for (const h of hosts.keys()) await encryption.removeHost(h);
      peers.clear();
      hosts.clear();
    },
    ...(c.encrypted ? { encryptedVni: c.vni } : {}),
    ...(c.directRouting ? { directRouted: true as const } : {}),
    // A container's interface is a macvlan of the VXLAN link (its MTU the link's); the overlay carries no default route.
    planJoin: (ep: EndpointRecord, sandbox: string) => {
      const plan = planMacvlanLink(c.vxlan, 'bridge', ep, sandbox, 'none');
      const steps = [...plan.steps];
      if (routesMtu()) steps.push({ in: 'sandbox', commands: joinRoutes(ep, tunnelMtu(), [...peers.values()].filter(routed)) });
      // Routed peers' frames arrive addressed to the container's MAC: the underlay link's NIC must take them.
      const underlay = directVia();
      if (underlay !== undefined && ep.mac) steps.push({ in: 'host-fdb', commands: [`fdb replace ${ep.mac} dev ${underlay} self permanent`] });
      return { steps };
    },
    planLeave: (ep: EndpointRecord) => {
      const underlay = placed();
      const plan = planSublinkLeave(ep);
      return underlay !== undefined && ep.mac ? { steps: [...plan.steps, { in: 'host-fdb', commands: [`fdb del ${ep.mac} dev ${underlay} self`] }] } : plan;
    },
    /**
     * Make the VXLAN link's tables hold exactly `all` (`replace`: compared with what the
     * kernel has, which a restart kept), or add these: a static FDB entry and neighbour
     * entry per remote endpoint, one broadcast entry per host; a routed peer's sending
     * filter instead of its FDB entry.
     */
    async setPeers(all: readonly RemoteEndpoint[], replace = false) {
      const before = new Set(hosts.keys());
      const underlay = directVia();
      if (replace) {
        const [fdb, neigh, sending] = await Promise.all([links.fdb(c.vxlan), links.neighbours(c.vxlan), underlay === undefined ? [] : tc.filters(c.vxlan, 'egress')]);
        const cmds = reconcileTables(c.vxlan, all, { fdb, neigh }, routed);
        peers.clear();
        hosts.clear();
        for (const p of all) {
          peers.set(p.endpointId, p);
          if (!routed(p)) hosts.set(p.node, (hosts.get(p.node) ?? 0) + 1);
        }
        await hostsCame(before);
        if (cmds.fdb.length > 0) await links.bridgeBatch(cmds.fdb);
        const routedPeers = all.filter(routed);
        // The filters before the neighbour entries: a frame to a routed peer's MAC that none redirects would go into VXLAN.
        if (direct && underlay !== undefined) {
          await ctx.kernel.nft.apply(admissionScript(c.vxlan, admitted(all)));
          await tc.batch(direct.reconcileSending(routedPeers.map((p) => p.ipv4), underlay, sending));
          await receive(direct, underlay);
        }
        if (cmds.neigh.length > 0) await links.batch(cmds.neigh);
        if (routesMtu()) await containerRoutes.reconcile(routedPeers);
        await hostsWent(before);
        return;
      }
      const fdb: string[] = [];
      const neigh: string[] = [];
      const sending: string[] = [];
      const routedPeers = all.filter(routed);
      // An address a routed peer had, now reached over VXLAN (a task replaced on another segment): its filter and the containers' route to it go.
      const routedIps = routedAddresses();
      const rehomed = all.filter((p) => !routed(p) && routedIps.has(p.ipv4));
      // An endpoint known before under another MAC or address (an ingress endpoint claiming anew): its old element goes.
      const replaced = all.flatMap((p) => {
        const old = peers.get(p.endpointId);
        return old && (old.mac !== p.mac || old.ipv4 !== p.ipv4) ? [old] : [];
      });
      for (const p of all) {
        if (direct && underlay !== undefined && routed(p)) {
          peers.set(p.endpointId, p);
          sending.push(...direct.send(p.ipv4, underlay));
          neigh.push(`neigh replace ${p.ipv4} lladdr ${p.mac} dev ${c.vxlan} nud permanent`);
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
      // A table flushed behind berthd's back (nft flush ruleset) is made whole again rather than stop the peers' programming.
      if (direct && underlay !== undefined) await ctx.kernel.nft.apply(admit(c.vxlan, admitted(all))).catch(async () => ctx.kernel.nft.apply(admissionScript(c.vxlan, admitted(peers.values()))));
      if (fdb.length > 0) await links.bridgeBatch(fdb);
      // Filters before neighbour entries, as above.
      if (direct) await stopAll(rehomed.flatMap((p) => direct.stop(p.ipv4)));
      if (sending.length > 0) await tc.batch(sending);
      if (neigh.length > 0) await links.batch(neigh);
      await refuseAll(replaced);
      if (routesMtu()) await containerRoutes.set(routedPeers, rehomed);
    },
    async dropPeers(gone: readonly RemoteEndpoint[]) {
      const before = new Set(hosts.keys());
      const fdb: string[] = [];
      const neigh: string[] = [];
      const sending: string[] = [];
      // As this host programmed them (an endpoint's MAC or address may have changed since the cluster said it).
      const leaving = gone.flatMap((p) => {
        const known = peers.get(p.endpointId);
        peers.delete(p.endpointId);
        return known ? [known] : [];
      });
      // An address (and so its MAC) given to another endpoint meanwhile, a replacement task, keeps the entries it now needs.
      const heldIps = new Set([...peers.values()].map((p) => p.ipv4));
      const heldMacs = new Set([...peers.values()].map((p) => p.mac.toLowerCase()));
      for (const p of leaving) {
        const ipHeld = heldIps.has(p.ipv4);
        if (routed(p)) {
          if (!ipHeld) {
            neigh.push(`neigh del ${p.ipv4} dev ${c.vxlan}`);
            sending.push(...(direct?.stop(p.ipv4) ?? []));
          }
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
      await stopAll(sending);
      // What a remaining peer (a replacement task with the same MAC and address) still needs stays.
      await refuseAll(leaving);
      if (routesMtu()) {
        const stillRouted = routedAddresses();
        await containerRoutes.set([], leaving.filter((p) => routed(p) && !stillRouted.has(p.ipv4)));
      }
      await hostsWent(before);
    },
  };
}
