/**
 * The overlay driver: one layer-2 segment across the hosts of a swarm. On each host that
 * has an endpoint on the network, a bridge holds the local containers and a VXLAN link
 * (`nolearning proxy`, the cluster's VNI and UDP port) carries frames to the others. The
 * kernel never floods to learn: every remote endpoint gets a static FDB entry (its MAC at
 * its host's address) and a permanent neighbour entry (its IP at its MAC, which the VXLAN
 * link's ARP proxy answers), written as the cluster store reports it; each remote host
 * with endpoints gets one all-zeros FDB entry for broadcasts. Containers route out through
 * docker_gwbridge, not the overlay (it has no gateway on the host).
 */
import { invalid } from '../../../errors.js';
import { OWNER_ALIAS } from '../../../kernel/links.js';
import type { EndpointRecord, NetworkRecord } from '../../model.js';
import type { RemoteEndpoint } from '../../shared.js';
import { LOCAL_NETWORK, type DriverContext, type DriverNetwork, type NetworkDriver } from '../driver.js';
import { kernelLacks } from '../../../kernel/features.js';
import { parseOverlayConfig, VNI_OPTION, VXLAN_OVERHEAD, type OverlayConfig } from './config.js';

export function overlayDriver(ctx: DriverContext): NetworkDriver {
  return {
    name: 'overlay',
    capabilities: { ...LOCAL_NETWORK, scope: 'swarm', routesOut: false, gatewayBridge: true },
    validate(net) {
      return overlayNetwork(parseOverlayConfig(net), net, ctx);
    },
    async removeOrphans(live) {
      const wanted = new Set(live.flatMap((n) => n.kernelNames));
      const orphans = (await ctx.kernel.links.list()).filter((l) => l.ownedByBerth && /^(ov|vx)-[0-9a-f]{6}$/.test(l.name) && !wanted.has(l.name));
      await Promise.all(orphans.map((l) => ctx.kernel.links.delete(l.name)));
    },
  };
}

function overlayNetwork(c: OverlayConfig, net: NetworkRecord, ctx: DriverContext): DriverNetwork {
  const name = net.name;
  const { links } = ctx.kernel;
  /** Remote endpoints programmed into this host's VXLAN link; hosts with endpoints, counted. */
  const peers = new Map<string, RemoteEndpoint>();
  const hosts = new Map<string, number>();
  const mtu = (): number => {
    const swarm = ctx.swarm?.();
    return c.mtu ?? (swarm ? swarm.underlayMtu - VXLAN_OVERHEAD : 1450);
  };
  return {
    displayOptions: { ...net.options, [VNI_OPTION]: String(c.vni) },
    kernelNames: [c.bridge, c.vxlan],
    async ensure() {
      const swarm = ctx.swarm?.();
      if (!swarm) throw invalid(`network ${name} is a swarm network: this node is not in a swarm`);
      if (c.encrypted && (await ctx.kernel.features()).esp === false) throw kernelLacks('esp', `cannot make encrypted overlay network ${name}`);
      if (c.encrypted) throw invalid(`encrypted overlay networks are not supported by berth yet (network ${name})`);
      const present = new Set((await links.list()).map((l) => l.name));
      const cmds: string[] = [];
      if (!present.has(c.bridge)) cmds.push(`link add name ${c.bridge} mtu ${mtu()} type bridge`, `link set dev ${c.bridge} alias ${OWNER_ALIAS} up`);
      if (!present.has(c.vxlan)) {
        cmds.push(
          `link add ${c.vxlan} mtu ${mtu()} type vxlan id ${c.vni} local ${swarm.addr} dstport ${swarm.dataPathPort} nolearning proxy`,
          `link set dev ${c.vxlan} master ${c.bridge} alias ${OWNER_ALIAS} up`,
        );
      }
      if (cmds.length > 0) await links.batch(cmds);
      // A VXLAN link made again (after a crash, say) starts empty: the known peers go back in.
      if (!present.has(c.vxlan) && peers.size > 0) await this.setPeers?.([...peers.values()], true);
    },
    async remove() {
      for (const l of [c.vxlan, c.bridge]) await links.delete(l);
      peers.clear();
      hosts.clear();
    },
    planJoin: (ep: EndpointRecord) => ({
      steps: [
        { in: 'sandbox', commands: [`link add ${ep.ifName!} mtu ${mtu()}${ep.mac ? ` address ${ep.mac}` : ''} type veth peer name ${ep.hostIfName!} mtu ${mtu()} netns ${process.pid}`, ...(ep.ipv4 ? [`addr add ${ep.ipv4.address}/${ep.ipv4.prefixLen} dev ${ep.ifName!}`] : []), `link set ${ep.ifName!} up`] },
        { in: 'host', commands: [`link set dev ${ep.hostIfName!} master ${c.bridge} alias ${OWNER_ALIAS} up`] },
      ],
    }),
    planLeave: (ep: EndpointRecord) => ({ steps: [{ in: 'host', commands: [`link del dev ${ep.hostIfName!}`] }] }),
    hostSideWired: (link) => link.master === c.bridge && link.up,
    /**
     * Make the VXLAN link's tables hold exactly `all` (or, `replace` false, add these): a
     * static FDB entry and neighbour entry per remote endpoint, one broadcast entry per host.
     */
    async setPeers(all: readonly RemoteEndpoint[], replace = false) {
      const next = new Map(all.map((p) => [p.endpointId, p]));
      const gone = replace ? [...peers.values()].filter((p) => !next.has(p.endpointId)) : [];
      const fresh = [...next.values()].filter((p) => !peers.has(p.endpointId) || replace);
      await this.dropPeers?.(gone);
      const fdb: string[] = [];
      const neigh: string[] = [];
      for (const p of fresh) {
        if (!peers.has(p.endpointId)) {
          const n = (hosts.get(p.node) ?? 0) + 1;
          hosts.set(p.node, n);
          if (n === 1) fdb.push(`fdb append 00:00:00:00:00:00 dev ${c.vxlan} dst ${p.node} self permanent`);
        }
        peers.set(p.endpointId, p);
        fdb.push(`fdb replace ${p.mac} dev ${c.vxlan} dst ${p.node} self permanent`);
        neigh.push(`neigh replace ${p.ipv4} lladdr ${p.mac} dev ${c.vxlan} nud permanent`);
      }
      if (fdb.length > 0) await links.bridgeBatch(fdb);
      if (neigh.length > 0) await links.batch(neigh);
    },
    async dropPeers(gone: readonly RemoteEndpoint[]) {
      const fdb: string[] = [];
      const neigh: string[] = [];
      for (const p of gone) {
        if (!peers.delete(p.endpointId)) continue;
        fdb.push(`fdb del ${p.mac} dev ${c.vxlan} dst ${p.node} self`);
        neigh.push(`neigh del ${p.ipv4} dev ${c.vxlan}`);
        const n = (hosts.get(p.node) ?? 1) - 1;
        if (n === 0) {
          hosts.delete(p.node);
          fdb.push(`fdb del 00:00:00:00:00:00 dev ${c.vxlan} dst ${p.node} self`);
        } else hosts.set(p.node, n);
      }
      // Entries already gone (a VXLAN link deleted meanwhile) are no error.
      for (const cmd of fdb) await links.bridgeBatch([cmd]).catch(() => undefined);
      for (const cmd of neigh) await links.batch([cmd]).catch(() => undefined);
    },
  };
}
