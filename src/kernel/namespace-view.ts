/**
 * A network namespace as the kernel holds it, read back for `berth topology`: every
 * interface (kind, MAC, MTU, addresses, bridge, the ifindex of a veth's other end, a
 * VXLAN link's VNI and a macvlan's parent) and the main table's routes. Two spawns of
 * `ip -j -d`, inside the namespace by nsenter when it is not the daemon's.
 */
import { runJson } from './exec.js';

export interface NsInterface {
  ifindex: number;
  name: string;
  /** The link's kind (veth, bridge, vxlan, macvlan…); undefined for plain devices (lo, a physical NIC). */
  kind: string | undefined;
  mac: string;
  mtu: number;
  up: boolean;
  /** The bridge it is a port of. */
  master: string | undefined;
  /** A veth's other end: its ifindex, and whether it lives in another namespace. */
  peer: { ifindex: number; otherNamespace: boolean } | undefined;
  /** A macvlan's or ipvlan's parent, by name (same namespace) or ifindex. */
  parent: string | undefined;
  alias: string | undefined;
  /** "10.0.0.2/24", IPv4 then IPv6, link-local IPv6 left out. */
  addresses: string[];
  vxlan: { vni: number; local: string | undefined; port: number | undefined } | undefined;
}

export interface NsRoute {
  dst: string;
  via: string | undefined;
  dev: string | undefined;
}

export interface NamespaceView {
  interfaces: NsInterface[];
  routes: NsRoute[];
}

interface IpAddrJson {
  ifindex: number;
  ifname: string;
  flags?: string[];
  mtu: number;
  address?: string;
  master?: string;
  link?: string;
  link_index?: number;
  link_netnsid?: number;
  ifalias?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number; local?: string; port?: number } };
  addr_info?: { family: string; local: string; prefixlen: number; scope?: string }[];
}

interface IpRouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
}

/** The namespace at `nsPath` (a namespace file), or the daemon's own when undefined. */
export async function readNamespace(nsPath?: string): Promise<NamespaceView> {
  const opts = nsPath ? { netns: nsPath } : {};
  const [addrs, routes] = await Promise.all([runJson<IpAddrJson>('ip', ['-j', '-d', 'addr', 'show'], opts), runJson<IpRouteJson>('ip', ['-j', 'route', 'show'], opts)]);
  return { interfaces: addrs.map(toInterface), routes: routes.map((r) => ({ dst: r.dst, via: r.gateway, dev: r.dev })) };
}

export function toInterface(a: IpAddrJson): NsInterface {
  const kind = a.linkinfo?.info_kind;
  const data = a.linkinfo?.info_data;
  return {
    ifindex: a.ifindex,
    name: a.ifname,
    kind,
    mac: a.address ?? '',
    mtu: a.mtu,
    up: (a.flags ?? []).includes('UP'),
    master: a.master,
    peer: kind === 'veth' && a.link_index !== undefined ? { ifindex: a.link_index, otherNamespace: a.link_netnsid !== undefined } : undefined,
    parent: kind !== 'veth' && (a.link !== undefined || a.link_index !== undefined) ? (a.link ?? `if${a.link_index!}`) : undefined,
    alias: a.ifalias,
    addresses: (a.addr_info ?? [])
      .filter((x) => !(x.family === 'inet6' && x.scope === 'link'))
      .sort((x, y) => (x.family === y.family ? 0 : x.family === 'inet' ? -1 : 1))
      .map((x) => `${x.local}/${x.prefixlen}`),
    vxlan: kind === 'vxlan' && data?.id !== undefined ? { vni: data.id, local: data.local, port: data.port } : undefined,
  };
}
