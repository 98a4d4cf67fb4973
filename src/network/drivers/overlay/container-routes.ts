/**
 * A directly routed network's routes inside its local containers. Its links have the
 * underlay's MTU (routed packets carry no VXLAN), so each container must be told which
 * packets still cross VXLAN: its subnet's route keeps VXLAN's MTU, and each routed peer
 * gets a /32 route of its own, at the link's. The routes follow the peers in every local
 * container; after a restart they are made exact against what the containers kept. A
 * container whose sandbox went meanwhile is skipped (never made).
 */
import { messageOf } from '../../../errors.js';
import { kernelSays } from '../../../kernel/exec.js';
import type { EndpointRecord } from '../../model.js';
import type { RemoteEndpoint } from '../../shared.js';
import type { DriverContext } from '../driver.js';
import { formatNetwork, makeCidr, parseIp, tryParseIp } from '../../ipam/index.js';

/** A container's own route to a routed peer: at its link's MTU. */
const peerRoute = (p: RemoteEndpoint, ifName: string): string => `route replace ${p.ipv4}/32 dev ${ifName} scope link`;

/** The kernel's routes of a joining container's subnets, made again with VXLAN's MTU, and its routes to the routed peers. */
export function joinRoutes(ep: EndpointRecord, tunnelMtu: number, routed: readonly RemoteEndpoint[]): string[] {
  const ifName = ep.ifName!;
  const subnet = (a: { address: string; prefixLen: number }): string => formatNetwork(makeCidr(parseIp(a.address), a.prefixLen));
  return [
    ...(ep.ipv4 ? [`route replace ${subnet(ep.ipv4)} dev ${ifName} proto kernel scope link src ${ep.ipv4.address} mtu ${tunnelMtu}`] : []),
    ...(ep.ipv6 ? [`route replace ${subnet(ep.ipv6)} dev ${ifName} proto kernel metric 256 mtu ${tunnelMtu}`] : []),
    ...routed.map((p) => peerRoute(p, ifName)),
  ];
}

export class ContainerRoutes {
  constructor(
    private readonly ctx: DriverContext,
    private readonly networkId: string,
    private readonly name: string,
    /** Whether an address is in the network's subnets (routes of other subnets are not the network's). */
    private readonly inSubnets: (ip: string) => boolean,
  ) {}

  /** Every local container routes the `routed` peers itself, and no longer the addresses of `unrouted` (gone, or now reached over VXLAN). */
  async set(routed: readonly RemoteEndpoint[], unrouted: readonly RemoteEndpoint[]): Promise<void> {
    if (routed.length > 0 || unrouted.length > 0) await this.each((ifName) => [...unrouted.map((p) => `route del ${p.ipv4}/32 dev ${ifName}`), ...routed.map((p) => peerRoute(p, ifName))]);
  }

  /** After a restart: each local container routes exactly `peers` itself (what it has is read first). */
  async reconcile(peers: readonly RemoteEndpoint[]): Promise<void> {
    const wanted = new Set(peers.map((p) => p.ipv4));
    await this.each(async (ifName, sandbox) => {
      const view = await this.ctx.kernel.readNamespace(sandbox).catch(() => undefined);
      if (!view) return [];
      // `ip -j route` writes a /32's destination without its prefix.
      const held = view.routes.filter((r) => r.dev === ifName && r.via === undefined).map((r) => r.dst.replace(/\/32$/, '')).filter((d) => tryParseIp(d)?.family === 4 && this.inSubnets(d));
      return [...held.filter((d) => !wanted.has(d)).map((d) => `route del ${d}/32 dev ${ifName}`), ...peers.map((p) => peerRoute(p, ifName))];
    });
  }

  /** The containers at once: one process each, none waiting for another's. */
  private async each(commands: (ifName: string, sandbox: string) => string[] | Promise<string[]>): Promise<void> {
    const local = this.ctx.localEndpoints?.(this.networkId) ?? [];
    await Promise.all(
      local.map(async (l) => {
        const cmds = await commands(l.ifName, l.sandbox);
        await this.ctx.kernel.sandboxes.amend(l.sandbox, cmds).catch((e: unknown) => {
          if (!kernelSays(e, 'missing')) this.ctx.log(`overlay ${this.name}: routes of a container: ${messageOf(e)}`);
        });
      }),
    );
  }
}
