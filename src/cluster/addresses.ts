/**
 * Where a node listens and what it advertises, by Docker's rules (daemon/cluster
 * listen_addr.go): an address or an interface name, with an optional port; with no
 * advertise address given, the one global IPv4 address of the host's interfaces, and
 * Docker's errors when there is none or more than one. Pure: the links are given.
 */
import { invalid } from '../errors.js';
import type { LinkInfo } from '../kernel/links.js';
import { cidrContains, lastAddress, tryParseCidr, tryParseIp } from '../network/ipam/index.js';

export const SWARM_PORT = 2377;

export interface HostPort {
  host: string;
  port: number;
}

/** "ip", "ip:port", "iface", "iface:port", "[v6]:port" into host and port (the port defaulting). */
export function splitHostPort(s: string, defaultPort: number): HostPort | undefined {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
  if (!m) return tryParseIp(s) ? { host: s, port: defaultPort } : undefined;
  const port = m[2] === undefined ? defaultPort : Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) return undefined;
  return { host: m[1]!, port };
}

/** The IPv4 address a host part names: itself, or the first global IPv4 address of the interface so named. */
function hostAddress(host: string, links: readonly LinkInfo[]): string | undefined {
  const ip = tryParseIp(host);
  if (ip) return ip.family === 4 && ip.value !== 0n ? host : undefined;
  return globalV4(links.find((l) => l.name === host))[0];
}

const globalV4 = (l: LinkInfo | undefined): string[] =>
  (l?.addresses ?? []).map((a) => a.split('/')[0]!).filter((a) => !a.includes(':') && !a.startsWith('127.') && !a.startsWith('169.254.'));

/** --listen-addr: where the join endpoint listens (0.0.0.0:2377 by default). */
export function resolveListenAddr(given: string, links: readonly LinkInfo[]): HostPort {
  const hp = splitHostPort(given === '' ? `0.0.0.0:${SWARM_PORT}` : given, SWARM_PORT);
  if (!hp) throw invalid(`could not parse listen address ${given}`);
  if (hp.host === '0.0.0.0') return hp;
  const ip = hostAddress(hp.host, links);
  if (!ip) throw invalid('listen address must be an IP address or network interface (with optional port number)');
  return { host: ip, port: hp.port };
}

/**
 * --advertise-addr, or the system's one address. The system's candidates are the up
 * interfaces' global IPv4 addresses, devices first (berth's own links never count); a
 * host whose interfaces are all virtual (a container, a test namespace) takes them all.
 */
export function resolveAdvertiseAddr(given: string, links: readonly LinkInfo[], listenPort: number): HostPort {
  if (given !== '') {
    const hp = splitHostPort(given, listenPort);
    const ip = hp && hostAddress(hp.host, links);
    if (!hp || !ip) throw invalid('advertise address must be a non-zero IP address or network interface (with optional port number)');
    return { host: ip, port: hp.port };
  }
  const usable = links.filter((l) => l.up && !l.ownedByBerth && l.name !== 'lo' && globalV4(l).length > 0);
  const devices = usable.filter((l) => l.kind === undefined);
  const candidates = (devices.length > 0 ? devices : usable).flatMap((l) => globalV4(l).map((ip) => ({ ip, link: l.name })));
  if (candidates.length === 0) throw invalid("could not find the system's IP address");
  if (candidates.length > 1) {
    const [a, b] = candidates as [{ ip: string; link: string }, { ip: string; link: string }];
    throw invalid(
      a.link === b.link
        ? `could not choose an IP address to advertise since this system has multiple addresses on interface ${a.link} (${a.ip} and ${b.ip})`
        : `could not choose an IP address to advertise since this system has multiple addresses on different interfaces (${a.ip} on ${a.link} and ${b.ip} on ${b.link})`,
    );
  }
  return { host: candidates[0]!.ip, port: listenPort };
}

/**
 * Where a node's VXLAN leaves and arrives (--data-path-addr). Docker's meaning: an address
 * of the host (or an interface's), which its VXLAN uses instead of the advertise address.
 * berth's: a free address of one of the host's own subnets, which berth gives to a network
 * namespace of its own holding only a macvlan of that interface, so the swarm's VXLAN
 * arrives and leaves there and crosses none of the host's netfilter hooks (the host's NAT
 * and conntrack cost every packet of a namespace that has them; see BENCHMARKS.md).
 */
export type DataPath =
  | { kind: 'host'; addr: string }
  | { kind: 'namespace'; addr: string; parent: string; prefixLength: number };

const BAD_DATA_PATH_ADDR = 'data path address must be a non-zero IP address or network interface (without a port number)';

/** --data-path-addr as berth serves it (undefined: none given, VXLAN uses the advertise address). */
export function resolveDataPathAddr(given: string, links: readonly LinkInfo[]): DataPath | undefined {
  if (given === '') return undefined;
  const ip = tryParseIp(given);
  if (!ip) {
    const named = hostAddress(given, links);
    if (named) return { kind: 'host', addr: named };
  }
  if (!ip || ip.family !== 4 || ip.value === 0n) throw invalid(BAD_DATA_PATH_ADDR);
  if (links.some((l) => globalV4(l).includes(given))) return { kind: 'host', addr: given };
  for (const l of links) {
    if (l.ownedByBerth || !l.up || l.name === 'lo') continue;
    for (const a of l.addresses) {
      const subnet = tryParseCidr(a);
      // Link-local subnets are no underlay: nothing routes them between hosts.
      if (!subnet || subnet.family !== 4 || subnet.prefix > 30 || a.startsWith('169.254.') || !cidrContains(subnet, ip)) continue;
      if (ip.value === subnet.network.value || ip.value === lastAddress(subnet).value) break;
      return { kind: 'namespace', addr: given, parent: l.name, prefixLength: subnet.prefix };
    }
  }
  throw invalid(`data path address ${given} is neither an address of this host nor a free address of one of its interfaces' subnets`);
}
