/** Routes of the daemon's namespace, read so new subnets avoid the host's networks. */
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

export async function listRoutes(families: readonly (4 | 6)[]): Promise<RouteInfo[]> {
  const lists = await Promise.all(families.map((f) => runJson<IpRouteJson>('ip', ['-json', `-${f}`, 'route', 'show'])));
  return lists
    .flat()
    .filter((r) => r.dst !== 'default')
    .map((r) => ({ dst: r.dst.includes('/') ? r.dst : `${r.dst}/${r.dst.includes(':') ? 128 : 32}`, dev: r.dev }));
}
