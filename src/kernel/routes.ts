/** Routes of the daemon's namespace, read so new subnets avoid the host's networks. */
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { runJson } from './exec.js';

export interface RouteInfo {
  /** Destination in CIDR form ("10.0.0.0/8"); "default" routes are left out. */
  dst: string;
  dev: string | undefined;
}

interface IpRouteJson {
  dst: string;
  dev?: string;
}

/** A route of the daemon's namespace to `dst` through the gateway `via`. */
export interface GatewayRoute {
  dst: string;
  via: string | undefined;
}

interface IpGatewayRouteJson {
  dst: string;
  gateway?: string;
}

/** The IPv4 routes through a gateway out of `dev` ("default" included), as `ip route` takes them back. */
export async function listGatewayRoutes(dev: string): Promise<GatewayRoute[]> {
  const rows = await runJson<IpGatewayRouteJson>('ip', ['-json', '-4', 'route', 'show', 'dev', dev]);
  return rows.filter((r) => r.gateway !== undefined).map((r) => ({ dst: r.dst, via: r.gateway }));
}

/**
 * The main table's routes of these families. IPv4 comes from /proc/net/route (the same
 * table `ip -4 route show` prints, without a spawn, which is most of a network create's
 * own time); IPv6 from `ip`, as /proc/net/ipv6_route mixes in the local table.
 */
export async function listRoutes(families: readonly (4 | 6)[]): Promise<RouteInfo[]> {
  const lists = await Promise.all(
    families.map(async (f) => (f === 4 ? parseProcNetRoute(await readFile('/proc/net/route', 'utf8')) : ipRoutes(f))),
  );
  return lists.flat();
}

async function ipRoutes(family: 4 | 6): Promise<RouteInfo[]> {
  const rows = await runJson<IpRouteJson>('ip', ['-json', `-${family}`, 'route', 'show']);
  return rows
    .filter((r) => r.dst !== 'default')
    .map((r) => ({ dst: r.dst.includes('/') ? r.dst : `${r.dst}/${r.dst.includes(':') ? 128 : 32}`, dev: r.dev }));
}

/**
 * /proc/net/route: one line per route after a header, `Iface Destination Gateway Flags
 * RefCnt Use Metric Mask ...`, addresses as 8 hex digits of the network-order word read
 * in host order. "*" as Iface is a route without a device (unreachable, blackhole).
 */
export function parseProcNetRoute(text: string, littleEndian = endianness() === 'LE'): RouteInfo[] {
  const out: RouteInfo[] = [];
  for (const line of text.split('\n').slice(1)) {
    const [iface, dest, , , , , , mask] = line.trim().split(/\s+/);
    if (!iface || !dest || !mask) continue;
    const bytes = (hex: string): number[] => {
      const b = [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16));
      return littleEndian ? b.reverse() : b;
    };
    const prefix = bytes(mask).reduce((n, b) => n + b.toString(2).replaceAll('0', '').length, 0);
    if (prefix === 0) continue; // the default route
    out.push({ dst: `${bytes(dest).join('.')}/${prefix}`, dev: iface === '*' ? undefined : iface });
  }
  return out;
}
